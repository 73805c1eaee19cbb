package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/cli"
	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/eventmanager/eventmanager/internal/testproc"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// subprocessEnv makes the test binary act as the eventmanager command (see TestMain), so that tests
// can run real separate processes without building the binary.
const subprocessEnv = "EVENTMANAGER_TEST_AS_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(subprocessEnv) == "1" {
		os.Exit(cli.Main(context.Background(), os.Args[1:], cli.Env{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}))
	}
	dbtest.Main(m)
}

// run runs the command in process with only the given environment variables.
func run(t *testing.T, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = cli.Main(context.Background(), args, cli.Env{Stdout: &out, Stderr: &errOut, Getenv: func(k string) string { return vars[k] }})
	return code, out.String(), errOut.String()
}

func TestBadConfigurationExitsWithOneLine(t *testing.T) {
	t.Parallel()
	const base = "postgresql://event_manager:dittibop@localhost:5432/event_manager?schema=public"
	cases := []struct{ url, param string }{
		{base + "&connection_limit=ten", "connection_limit"},
		{base + "&connection_limit=-1", "connection_limit"},
		{base + "&connection_limit=0", "connection_limit"},
		{base + "&connection_limit=10001", "connection_limit"},
		{base + "&pool_timeout=-5", "pool_timeout"},
		{base + "&pool_timeout=soon", "pool_timeout"},
		{base + "&connect_timeout=x", "connect_timeout"},
		{base + "&pgbouncer=maybe", "pgbouncer"},
		{base + "&conection_limit=10", "conection_limit"},
		{"mysql://event_manager:dittibop@localhost/x", "DATABASE_URL"},
	}
	for _, c := range cases {
		t.Run(c.param, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := run(t, map[string]string{"DATABASE_URL": c.url}, "serve")
			require.Equal(t, 2, code, stderr)
			require.Empty(t, stdout)
			require.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %q", stderr)
			require.Contains(t, stderr, c.param)
			require.NotContains(t, stderr, "dittibop")
		})
	}
	code, _, stderr := run(t, map[string]string{"PORT": "http"}, "serve")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, "PORT")
}

func TestWrongPasswordNeverPrinted(t *testing.T) {
	t.Parallel()
	srv := dbtest.Server(t)
	if srv == nil {
		t.Skip("needs the private test cluster (TEST_DATABASE_URL is set)")
	}
	dbtest.NewDatabase(t)
	const secret = "Sup3r-Secret-Passw0rd"
	url := srv.TCPURL("postgres", "postgres", secret) + "&connect_timeout=1&pool_timeout=1"
	code, stdout, stderr := run(t, map[string]string{"DATABASE_URL": url, "DB_STARTUP_WAIT": "1s", "PORT": strconv.Itoa(testproc.FreePort(t))}, "serve")
	require.Equal(t, 1, code, stderr)
	require.Contains(t, stderr, "not reachable")
	require.Contains(t, stderr, "***")
	require.NotContains(t, stdout+stderr, secret)
}

func TestServeGivesUpOnUnreachableDatabase(t *testing.T) {
	t.Parallel()
	port := testproc.FreePort(t)
	start := time.Now()
	code, _, stderr := run(t, map[string]string{
		"DATABASE_URL":    "postgresql://u:pw@127.0.0.1:" + strconv.Itoa(port) + "/x?connect_timeout=1",
		"DB_STARTUP_WAIT": "2s", "PORT": strconv.Itoa(testproc.FreePort(t)),
	}, "serve")
	require.Equal(t, 1, code)
	require.Less(t, time.Since(start), 5*time.Second)
	require.Contains(t, stderr, "retrying")
	require.Contains(t, stderr, "not reachable after 2s")
}

func TestHelpAndVersion(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"serve", "--help"}, {"migrate", "--help"}, {"help"}} {
		code, stdout, stderr := run(t, nil, args...)
		require.Equal(t, 0, code, args)
		require.Contains(t, stdout+stderr, "Usage", args)
	}
	code, stdout, _ := run(t, nil, "version")
	require.Equal(t, 0, code)
	require.Contains(t, stdout, "eventmanager")
	code, _, _ = run(t, nil, "frobnicate")
	require.Equal(t, 2, code)
}

func TestMigrateUpDownUp(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"DATABASE_URL": dbtest.NewEmptyDatabase(t)}
	code, stdout, stderr := run(t, vars, "migrate", "up")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "applied")
	code, stdout, _ = run(t, vars, "migrate", "status")
	require.Equal(t, 0, code)
	require.NotContains(t, stdout, "pending")

	code, stdout, stderr = run(t, vars, "migrate", "down")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "rolled back")
	code, stdout, _ = run(t, vars, "migrate", "status")
	require.Equal(t, 0, code)
	require.Contains(t, stdout, "pending")

	code, _, stderr = run(t, vars, "migrate", "up")
	require.Equal(t, 0, code, stderr)
	code, _, stderr = run(t, vars, "migrate", "redo")
	require.Equal(t, 0, code, stderr)
	require.Equal(t, 1, countTables(t, vars["DATABASE_URL"], "audit_logs"))
}

func countTables(t *testing.T, url, name string) int {
	conn, err := pgx.Connect(context.Background(), url)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	var n int
	require.NoError(t, conn.QueryRow(context.Background(), `SELECT count(*) FROM pg_tables WHERE tablename = $1`, name).Scan(&n))
	return n
}

// Four processes migrating the same database at once apply each migration exactly once.
func TestConcurrentMigrationsApplyOnce(t *testing.T) {
	t.Parallel()
	url := dbtest.NewEmptyDatabase(t)
	var wg sync.WaitGroup
	outputs := make([]string, 4)
	errs := make([]error, 4)
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "migrate", "up")
			cmd.Env = append(os.Environ(), subprocessEnv+"=1", "DATABASE_URL="+url)
			out, err := cmd.CombinedOutput()
			outputs[i], errs[i] = string(out), err
		}()
	}
	wg.Wait()
	applied := 0
	for i := range 4 {
		require.NoError(t, errs[i], outputs[i])
		applied += strings.Count(outputs[i], "applied ")
	}
	conn, err := pgx.Connect(context.Background(), url)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	var rows, versions int
	require.NoError(t, conn.QueryRow(context.Background(),
		`SELECT count(*), count(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0`).Scan(&rows, &versions))
	require.Equal(t, versions, rows, "a migration was recorded twice")
	require.Equal(t, versions, applied, "each migration applied by exactly one process")
}

// On shutdown, a request in flight finishes and gets its answer; new connections are refused.
func TestShutdownLetsSlowRequestFinish(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(time.Second)
		fmt.Fprint(w, "finished")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cli.ServeHTTP(ctx, ln, mux, 30*time.Second, discardLogger()) }()

	type result struct {
		body string
		err  error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			res <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		res <- result{body: string(b), err: err}
	}()
	<-started
	stop() // as SIGTERM does
	r := <-res
	require.NoError(t, r.err)
	require.Equal(t, "finished", r.body)
	require.NoError(t, <-done)
	_, err = net.DialTimeout("tcp", ln.Addr().String(), time.Second)
	require.Error(t, err, "the listener is closed after shutdown")
}
