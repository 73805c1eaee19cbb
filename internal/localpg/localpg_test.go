package localpg

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"
)

// testSettings trade durability for speed: these clusters are thrown away.
var testSettings = map[string]string{"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}

func startServer(t *testing.T, dataDir string, extra map[string]string) *Server {
	t.Helper()
	settings := map[string]string{}
	for k, v := range testSettings {
		settings[k] = v
	}
	for k, v := range extra {
		settings[k] = v
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := Start(ctx, Options{DataDir: dataDir, ServerSettings: settings, Logger: testLogger(t)})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Stop(context.Background())) })
	return s
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func connect(t *testing.T, connString string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, connString)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func TestServerLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// t.TempDir's parents are 0700: as root this also checks that Start lets the postgres user through.
	dataDir := filepath.Join(t.TempDir(), "var", "postgres")
	s := startServer(t, dataDir, map[string]string{"max_connections": "42"})
	require.Equal(t, dataDir, s.DataDir())
	require.Equal(t, dataDir, s.SocketDir())
	port := s.Port()

	conn := connect(t, s.URL("postgres"))
	var maxConns string
	require.NoError(t, conn.QueryRow(ctx, "SHOW max_connections").Scan(&maxConns))
	require.Equal(t, "42", maxConns)
	var encoding, collate string
	require.NoError(t, conn.QueryRow(ctx,
		"SELECT pg_encoding_to_char(encoding), datcollate FROM pg_database WHERE datname = 'postgres'").Scan(&encoding, &collate))
	require.Equal(t, "UTF8", encoding)
	require.Contains(t, []string{"C.UTF-8", "C.utf8", "C"}, collate)

	t.Run("EnsureDatabase", func(t *testing.T) {
		require.NoError(t, s.EnsureDatabase(ctx, "Mixed Case"))
		require.NoError(t, s.EnsureDatabase(ctx, "Mixed Case"))
		c := connect(t, s.URL("Mixed Case"))
		_, err := c.Exec(ctx, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('survives')")
		require.NoError(t, err)
	})

	t.Run("TCPNeedsPassword", func(t *testing.T) {
		_, err := conn.Exec(ctx, "ALTER ROLE postgres PASSWORD 'right'")
		require.NoError(t, err)
		c := connect(t, s.TCPURL("postgres", "postgres", "right"))
		var addr string
		require.NoError(t, c.QueryRow(ctx, "SELECT host(inet_client_addr())").Scan(&addr))
		require.Equal(t, "127.0.0.1", addr)

		_, err = pgx.Connect(ctx, s.TCPURL("postgres", "postgres", "wrong"))
		var pgErr *pgconn.PgError
		require.ErrorAs(t, err, &pgErr)
		require.Equal(t, "28P01", pgErr.Code) // invalid_password

		_, err = pgx.Connect(ctx, s.TCPURL("postgres", "postgres", ""))
		require.Error(t, err)
	})

	t.Run("SecondStartRefused", func(t *testing.T) {
		_, err := Start(ctx, Options{DataDir: dataDir})
		require.ErrorIs(t, err, ErrInUse)
		require.EqualError(t, err, fmt.Sprintf(
			"data folder %s is in use by another eventmanager process (pid %d)", dataDir, os.Getpid()))
		locked, err := Locked(dataDir)
		require.NoError(t, err)
		require.True(t, locked)
		// The refused start must not have disturbed the running server.
		require.NoError(t, conn.Ping(ctx))
	})

	t.Run("Restart", func(t *testing.T) {
		pid := s.PID()
		require.NotZero(t, pid)
		require.NoError(t, s.Restart(ctx))
		require.NotEqual(t, pid, s.PID())
		require.Equal(t, port, s.Port())
		require.Error(t, conn.Ping(ctx), "connections do not survive a restart")
		conn = connect(t, s.URL("postgres"))
		require.NoError(t, conn.Ping(ctx))
	})

	t.Run("RestartAfterCrash", func(t *testing.T) {
		// SIGQUIT is an immediate shutdown: no checkpoint, so the next start runs crash recovery. (SIGKILL
		// would orphan the server's children, which a container whose init does not reap leaves as zombies.)
		require.NoError(t, syscall.Kill(s.PID(), syscall.SIGQUIT))
		require.Eventually(t, func() bool { return s.PID() == 0 }, 10*time.Second, 10*time.Millisecond)
		require.NoError(t, s.Restart(ctx))
		conn = connect(t, s.URL("postgres"))
		require.NoError(t, conn.Ping(ctx))
	})

	t.Run("StopAndStartReusesCluster", func(t *testing.T) {
		require.NoError(t, s.Stop(ctx))
		require.NoError(t, s.Stop(ctx), "Stop is idempotent")
		require.Zero(t, s.PID())
		require.Error(t, s.Restart(ctx))
		locked, err := Locked(dataDir)
		require.NoError(t, err)
		require.False(t, locked)

		s2 := startServer(t, dataDir, nil)
		require.Equal(t, port, s2.Port(), "the remembered port is reused while free")
		var v string
		c := connect(t, s2.URL("Mixed Case"))
		require.NoError(t, c.QueryRow(ctx, "SELECT v FROM kept").Scan(&v))
		require.Equal(t, "survives", v)
		var maxConns string
		require.NoError(t, c.QueryRow(ctx, "SHOW max_connections").Scan(&maxConns))
		require.Equal(t, "100", maxConns, "settings come from Options, not from the previous run")
	})
}

func TestConcurrentStopIsSafe(t *testing.T) {
	t.Parallel()
	s := startServer(t, filepath.Join(t.TempDir(), "pg"), nil)
	errs := make(chan error, 4)
	for range 4 {
		go func() { errs <- s.Stop(context.Background()) }()
	}
	for range 4 {
		require.NoError(t, <-errs)
	}
}

// A postmaster left running on the folder (here started by hand with pg_ctl) is stopped, and a
// postmaster.pid naming an unrelated live process is treated as stale.
func TestLeftoverPostmaster(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dataDir := filepath.Join(t.TempDir(), "pg")
	s := startServer(t, dataDir, nil)
	port := s.Port()
	require.NoError(t, s.Stop(ctx))

	// Start a postmaster the Server does not manage (as pg_ctl would, but as our child so that the test
	// can reap it).
	manual := s.command(ctx, "postgres", "-D", dataDir, "-p", strconv.Itoa(port), "-k", dataDir, "-c", "listen_addresses=")
	require.NoError(t, manual.Start())
	manualDone := make(chan error, 1)
	go func() { manualDone <- manual.Wait() }()
	leftover := manual.Process.Pid
	require.Eventually(t, func() bool {
		return readPID(filepath.Join(dataDir, "postmaster.pid")) == leftover
	}, 30*time.Second, 10*time.Millisecond)
	require.Equal(t, yes, postmasterOf(leftover, dataDir))

	s2 := startServer(t, dataDir, nil)
	require.NotEqual(t, leftover, s2.PID())
	select {
	case <-manualDone:
	case <-time.After(10 * time.Second):
		t.Fatal("the leftover postmaster is still running")
	}
	require.NoError(t, connect(t, s2.URL("postgres")).Ping(ctx))
	require.NoError(t, s2.Stop(ctx))

	// Simulate a crash whose pid was reused by an unrelated process (this test binary).
	pidFile := filepath.Join(dataDir, "postmaster.pid")
	require.NoError(t, os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"+dataDir+"\n"), 0o600))
	require.Equal(t, no, postmasterOf(os.Getpid(), dataDir))
	s3 := startServer(t, dataDir, nil)
	require.NoError(t, connect(t, s3.URL("postgres")).Ping(ctx))
}

func TestLongPathUsesShortSocketDir(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), strings.Repeat("long-folder-name-", 6), "pg")
	s := startServer(t, dataDir, nil)
	require.True(t, strings.HasPrefix(s.SocketDir(), "/tmp/eventmanager-pgsock-"), s.SocketDir())
	require.NoError(t, connect(t, s.URL("postgres")).Ping(context.Background()))
	require.NoError(t, s.Stop(context.Background()))
	_, err := os.Stat(s.SocketDir())
	require.ErrorIs(t, err, os.ErrNotExist, "Stop removes the socket folder it created")
}

func TestRefusesFolderWithOtherFiles(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dataDir, "notes.txt"), []byte("mine"), 0o600))
	_, err := Start(context.Background(), Options{DataDir: dataDir})
	require.ErrorContains(t, err, "is not empty but holds no PostgreSQL cluster")
	_, err = os.Stat(filepath.Join(dataDir, "notes.txt"))
	require.NoError(t, err, "the folder's files are left alone")
	// Eventually: a child process that another parallel test forks at that instant holds a copy of
	// the lock's descriptor until its exec closes it (close-on-exec), a few milliseconds at most.
	require.Eventually(t, func() bool {
		locked, err := Locked(dataDir)
		require.NoError(t, err)
		return !locked
	}, 2*time.Second, 10*time.Millisecond, "a failed Start releases the lock")
}

func TestRejectsReservedSettings(t *testing.T) {
	t.Parallel()
	_, err := Start(context.Background(), Options{DataDir: t.TempDir(), ServerSettings: map[string]string{"port": "1"}})
	require.ErrorContains(t, err, `may not set "port"`)
}

func TestURLs(t *testing.T) {
	t.Parallel()
	s := &Server{sockDir: "/tmp/odd dir/with%and?", port: 54321}
	cfg, err := pgx.ParseConfig(s.URL("my db"))
	require.NoError(t, err)
	require.Equal(t, "/tmp/odd dir/with%and?", cfg.Host)
	require.Equal(t, uint16(54321), cfg.Port)
	require.Equal(t, "postgres", cfg.User)
	require.Equal(t, "my db", cfg.Database)

	cfg, err = pgx.ParseConfig(s.TCPURL("db", "app user", "p@ss:/word"))
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1", cfg.Host)
	require.Equal(t, uint16(54321), cfg.Port)
	require.Equal(t, "app user", cfg.User)
	require.Equal(t, "p@ss:/word", cfg.Password)
	require.Nil(t, cfg.TLSConfig)
}

func TestFindBinaries(t *testing.T) {
	dir, err := FindBinaries()
	if errors.Is(err, ErrNoBinaries) {
		t.Fatalf("PostgreSQL binaries are needed for these tests: %v", err)
	}
	require.NoError(t, err)
	require.True(t, hasBinaries(dir))

	// With nothing on PATH and no system folders, the error tells how to install.
	t.Setenv("PATH", t.TempDir())
	saved := systemBinDirs
	systemBinDirs = []string{filepath.Join(t.TempDir(), "*", "bin")}
	t.Cleanup(func() { systemBinDirs = saved })
	_, err = FindBinaries()
	require.ErrorIs(t, err, ErrNoBinaries)
	require.EqualError(t, err, "PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or in "+
		"/usr/lib/postgresql/*/bin: install them with `apt-get install postgresql` (Debian/Ubuntu)")
}

func TestVersionOrder(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		dir  string
		want []int
	}{
		{"/usr/lib/postgresql/15/bin", []int{15}},
		{"/usr/lib/postgresql/9.6/bin", []int{9, 6}},
		{"/usr/pgsql-16/bin", []int{16}},
	} {
		require.Equal(t, tc.want, versionOf(tc.dir), tc.dir)
	}
	require.Positive(t, compareVersions([]int{15}, []int{9, 6}))
	require.Positive(t, compareVersions([]int{10}, []int{9}))
}
