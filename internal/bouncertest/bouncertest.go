// Package bouncertest starts a private PgBouncer for tests, in transaction mode (the mode the
// service supports behind pgbouncer=true), in front of a test database: on a free loopback port, in
// a folder of its own, stopped at the end of the test. It never touches a PgBouncer the machine
// runs.
//
// PgBouncer logs in to PostgreSQL as the role of the database URL it was given, whatever user a
// client names (auth_type any), so tests connect with the URL that URL returns, without a password.
// The machine's pgbouncer (Debian's package) is used; `make test` installs it
// (scripts/ensure-deps.sh --test). Without it the test is skipped, or fails when CI is set: a skip
// there would hide that nothing ran through PgBouncer.
package bouncertest

import (
	"bytes"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/testproc"
	"github.com/jackc/pgx/v5"
)

// Options configures Start.
type Options struct {
	// PoolSize is default_pool_size: the most server connections PgBouncer opens to the database.
	// 0 means 20.
	PoolSize int
}

// Bouncer is one pgbouncer process in front of one database.
type Bouncer struct {
	port     int
	database string
	dir      string
	poolSize int

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	out  bytes.Buffer // pgbouncer's log (stderr)
}

// binary finds pgbouncer: on PATH, or where Debian puts it (/usr/sbin is not on every PATH).
func binary() (string, error) {
	if p, err := exec.LookPath("pgbouncer"); err == nil {
		return p, nil
	}
	const debian = "/usr/sbin/pgbouncer"
	if _, err := os.Stat(debian); err != nil {
		return "", fmt.Errorf("pgbouncer not found on PATH nor at %s", debian)
	}
	return debian, nil
}

// Start runs PgBouncer in transaction mode in front of the database that dbURL (a URL of
// dbtest.NewDatabase) names, logging in as dbURL's role, and stops it when the test ends.
func Start(t testing.TB, dbURL string, opts Options) *Bouncer {
	t.Helper()
	bin, err := binary()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%v: `make test` installs it with scripts/ensure-deps.sh --test", err)
		}
		t.Skipf("%v: run `make test-deps` to run the tests through PgBouncer", err)
	}
	upstream, err := pgx.ParseConfig(dbURL)
	if err != nil {
		t.Fatalf("bouncertest: %v", err)
	}
	b := &Bouncer{port: testproc.FreePort(t), database: upstream.Database, poolSize: opts.PoolSize}
	if b.poolSize <= 0 {
		b.poolSize = 20
	}
	// Not t.TempDir: when the tests run as root, pgbouncer runs as the postgres user (it refuses
	// root), which must read the configuration.
	if b.dir, err = os.MkdirTemp("", "eventmanager-pgbouncer-"); err != nil {
		t.Fatalf("bouncertest: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(b.dir) })
	if err := os.Chmod(b.dir, 0o755); err != nil {
		t.Fatalf("bouncertest: %v", err)
	}
	ini := filepath.Join(b.dir, "pgbouncer.ini")
	if err := os.WriteFile(ini, []byte(b.config(upstream)), 0o644); err != nil {
		t.Fatalf("bouncertest: %v", err)
	}
	args := []string{ini}
	if os.Geteuid() == 0 {
		args = []string{"-u", "postgres", ini}
	}
	b.cmd = exec.Command(bin, args...)
	b.cmd.SysProcAttr = testproc.SysProcAttr()
	b.cmd.Stdout, b.cmd.Stderr = &lockedWriter{b: b}, &lockedWriter{b: b}
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("bouncertest: start pgbouncer: %v", err)
	}
	b.done = make(chan struct{})
	go func() { _ = b.cmd.Wait(); close(b.done) }()
	t.Cleanup(func() {
		select {
		case <-b.done:
			// A crash drops every client at once; the test must not pass over it.
			t.Errorf("bouncertest: pgbouncer exited during the test")
		default:
		}
		b.stop()
		if t.Failed() {
			t.Logf("pgbouncer's log:\n%s", b.Log())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", b.addr(), time.Second)
		if err == nil {
			c.Close()
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("bouncertest: pgbouncer on %s did not listen: %v\n%s", b.addr(), err, b.Log())
		}
		select {
		case <-b.done:
			t.Fatalf("bouncertest: pgbouncer exited at start:\n%s", b.Log())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// config is pgbouncer.ini. Transaction mode with the pool size asked for and no reserve, so that
// the server never sees more than PoolSize connections from it.
func (b *Bouncer) config(upstream *pgx.ConnConfig) string {
	target := []string{"host=" + upstream.Host, "port=" + strconv.Itoa(int(upstream.Port)),
		"dbname=" + upstream.Database, "user=" + upstream.User}
	if upstream.Password != "" {
		target = append(target, "password="+upstream.Password)
	}
	lines := []string{
		"[databases]",
		b.database + " = " + strings.Join(target, " "),
		"[pgbouncer]",
		"listen_addr = 127.0.0.1",
		"listen_port = " + strconv.Itoa(b.port),
		"unix_socket_dir =",
		"auth_type = any",
		"pool_mode = transaction",
		"default_pool_size = " + strconv.Itoa(b.poolSize),
		"min_pool_size = 0",
		"reserve_pool_size = 0",
		"max_client_conn = 5000",
		// Transaction mode resets nothing between clients: the service must not rely on session state.
		"server_reset_query =",
		"server_check_delay = 0",
		"logfile =",
		"pidfile =",
		"log_connections = 0",
		"log_disconnections = 0",
	}
	return strings.Join(lines, "\n") + "\n"
}

// URL is the database's URL through PgBouncer, with pgbouncer=true, for config.ParseDatabaseURL;
// a test may append "&connection_limit=N".
func (b *Bouncer) URL() string {
	u := url.URL{Scheme: "postgresql", User: url.User("bouncertest"), Host: b.addr(), Path: "/" + b.database,
		RawQuery: "sslmode=disable&pgbouncer=true"}
	return u.String()
}

// PoolSize is the most server connections this PgBouncer opens.
func (b *Bouncer) PoolSize() int { return b.poolSize }

// Log is what pgbouncer wrote so far, for failure messages.
func (b *Bouncer) Log() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.out.String()
}

func (b *Bouncer) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(b.port)) }

// stop ends pgbouncer at once (SIGINT: immediate shutdown) and waits for it.
func (b *Bouncer) stop() {
	_ = b.cmd.Process.Signal(os.Interrupt)
	select {
	case <-b.done:
	case <-time.After(5 * time.Second):
		_ = b.cmd.Process.Kill()
		<-b.done
	}
}

// lockedWriter appends to the Bouncer's log under its lock: stdout and stderr are copied by two
// goroutines.
type lockedWriter struct{ b *Bouncer }

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.b.mu.Lock()
	defer w.b.mu.Unlock()
	return w.b.out.Write(p)
}

