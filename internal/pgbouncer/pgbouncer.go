// Package pgbouncer runs a private PgBouncer in transaction mode (the mode the service supports
// behind pgbouncer=true) in front of one database, for the tests (through bouncertest) and for
// `eventmanager bench --pgbouncer`. It uses the machine's pgbouncer (Debian's package) and never
// touches a PgBouncer the machine runs.
//
// PgBouncer logs in to PostgreSQL as the role of the upstream connection string, whatever user a
// client names (auth_type any): it listens on 127.0.0.1 only.
package pgbouncer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/eventmanager/eventmanager/internal/testproc"
	"github.com/jackc/pgx/v5"
)

// debianPath is where Debian installs pgbouncer; /usr/sbin is not on every user's PATH.
const debianPath = "/usr/sbin/pgbouncer"

// Binary finds pgbouncer: on PATH, or where Debian puts it.
func Binary() (string, error) {
	if p, err := exec.LookPath("pgbouncer"); err == nil {
		return p, nil
	}
	if _, err := os.Stat(debianPath); err != nil {
		return "", fmt.Errorf("pgbouncer not found on PATH nor at %s", debianPath)
	}
	return debianPath, nil
}

// Options configures Start.
type Options struct {
	// Upstream is the database's connection string (anything pgx parses): PgBouncer connects to
	// its host and port, as its user, with its password.
	Upstream string
	// Port is the TCP port on 127.0.0.1 to listen on.
	Port int
	// Dir is a folder for pgbouncer.ini; it must exist. When this process runs as root,
	// pgbouncer runs as the postgres user (it refuses root), which must be able to read it.
	Dir string
	// PoolSize is default_pool_size: the most server connections PgBouncer opens. 0 means 20.
	PoolSize int
}

// Process is one running pgbouncer.
type Process struct {
	port     int
	database string
	poolSize int

	cmd  *exec.Cmd
	done chan struct{}
	mu   sync.Mutex
	out  bytes.Buffer // pgbouncer's log (it logs to stderr)
}

// Start writes the configuration, starts pgbouncer and waits until it listens.
func Start(ctx context.Context, opts Options) (*Process, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	upstream, err := pgx.ParseConfig(opts.Upstream)
	if err != nil {
		return nil, fmt.Errorf("pgbouncer: upstream: %w", err)
	}
	p := &Process{port: opts.Port, database: upstream.Database, poolSize: opts.PoolSize, done: make(chan struct{})}
	if p.poolSize <= 0 {
		p.poolSize = 20
	}
	ini := filepath.Join(opts.Dir, "pgbouncer.ini")
	if err := os.WriteFile(ini, []byte(p.config(upstream)), 0o644); err != nil {
		return nil, fmt.Errorf("pgbouncer: %w", err)
	}
	args := []string{ini}
	if os.Geteuid() == 0 {
		args = []string{"-u", "postgres", ini}
	}
	p.cmd = exec.Command(bin, args...)
	p.cmd.SysProcAttr = testproc.SysProcAttr()
	p.cmd.Stdout, p.cmd.Stderr = logWriter{p}, logWriter{p}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("pgbouncer: start: %w", err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", p.addr(), time.Second)
		if err == nil {
			c.Close()
			return p, nil
		}
		if time.Now().After(deadline) {
			p.Stop()
			return nil, fmt.Errorf("pgbouncer on %s did not listen: %w\n%s", p.addr(), err, p.Log())
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("pgbouncer exited at start:\n%s", p.Log())
		case <-ctx.Done():
			p.Stop()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// config is pgbouncer.ini: transaction mode with the pool size asked for and no reserve, so that
// the server never sees more than PoolSize connections from it.
func (p *Process) config(upstream *pgx.ConnConfig) string {
	target := []string{"host=" + upstream.Host, "port=" + strconv.Itoa(int(upstream.Port)),
		"dbname=" + upstream.Database, "user=" + upstream.User}
	if upstream.Password != "" {
		target = append(target, "password="+upstream.Password)
	}
	lines := []string{
		"[databases]",
		p.database + " = " + strings.Join(target, " "),
		"[pgbouncer]",
		"listen_addr = 127.0.0.1",
		"listen_port = " + strconv.Itoa(p.port),
		"unix_socket_dir =",
		"auth_type = any",
		"pool_mode = transaction",
		"default_pool_size = " + strconv.Itoa(p.poolSize),
		"min_pool_size = 0",
		"reserve_pool_size = 0",
		"max_client_conn = 5000", // the bench's thousand clients and more
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
// "&connection_limit=N" may be appended.
func (p *Process) URL() string {
	u := url.URL{Scheme: "postgresql", User: url.User("pgbouncer"), Host: p.addr(), Path: "/" + p.database,
		RawQuery: "sslmode=disable&pgbouncer=true"}
	return u.String()
}

// Exited reports whether pgbouncer has stopped (a crash drops every client at once).
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Log is what pgbouncer wrote so far.
func (p *Process) Log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

func (p *Process) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port)) }

// errStopTimeout is returned by Stop when pgbouncer had to be killed.
var errStopTimeout = errors.New("pgbouncer did not stop within 5 s of SIGTERM and was killed")

// Stop ends pgbouncer and waits for it. SIGTERM is PgBouncer's immediate shutdown (SIGINT would
// wait for its clients to finish). It is idempotent.
func (p *Process) Stop() error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		return errStopTimeout
	}
}

// logWriter appends to the Process's log under its lock: stdout and stderr are copied by two
// goroutines.
type logWriter struct{ p *Process }

func (w logWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.out.Write(b)
}
