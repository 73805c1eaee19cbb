package dbtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/localpg"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// EnvURL names the environment variable that points the tests at an existing server.
const EnvURL = "TEST_DATABASE_URL"

const (
	// tempPrefix names the temporary folders of throwaway clusters, so that folders left by crashed
	// runs can be found and removed.
	tempPrefix   = "eventmanager-pg-"
	setupTimeout = 3 * time.Minute
	opTimeout    = time.Minute
	// staleAfter keeps cleanup away from folders that a starting test binary has not locked yet.
	staleAfter = time.Minute
)

// clusterSettings trade durability for speed (the cluster is thrown away) and allow many connections,
// since every parallel test opens its own pool.
var clusterSettings = map[string]string{
	"fsync":              "off",
	"synchronous_commit": "off",
	"full_page_writes":   "off",
	"max_connections":    "300",
}

var (
	mainCalled atomic.Bool

	// envMu guards env, envErr and tornDown. Setup runs with it held, so a teardown started by a signal
	// waits for a cluster that is still starting instead of leaking it.
	envMu    sync.Mutex
	env      *environment
	envErr   error
	tornDown bool

	// templateMu guards the template fields; it is never held while taking envMu.
	templateMu   sync.Mutex
	templateName string
	templateErr  error

	// createMu serialises CREATE DATABASE: a clone fails while another session uses its template.
	createMu sync.Mutex
)

// On TEST_DATABASE_URL's server the owner of the test databases and the service role have names of
// their own, so that the tests never change the password of a real "eventmanager" role there.
const (
	sharedServerRole    = "eventmanager_test"
	sharedServerService = "eventmanager_test_service"
)

// environment is the server that this test binary's databases live on.
type environment struct {
	server  *localpg.Server // nil when TEST_DATABASE_URL is used
	tempDir string          // the throwaway cluster's folder
	baseURL string          // superuser URL of the maintenance database
	admin   *pgxpool.Pool   // connections to baseURL for CREATE and DROP DATABASE
	// role owns every test database, runs the migrations and is what NewDatabase's URLs connect
	// as: an ordinary role (NOSUPERUSER, NOBYPASSRLS), subject to row-level security (FORCE).
	role         string
	rolePassword string // "" on the throwaway cluster, whose Unix socket trusts every role
	// service is the role ServiceURL connects as: a member of the migrations' group role
	// localpg.AppRole, owning nothing, as the service's own role is.
	service         string
	servicePassword string
}

// Main runs the tests of a package that uses dbtest and must be called from its TestMain. The server
// is started (or TEST_DATABASE_URL connected to) lazily, by the first test that asks for a database;
// after the tests Main drops the template, stops the cluster and removes its folder, also when the run
// is interrupted with SIGINT or SIGTERM. A failed clean-up fails the run.
func Main(m *testing.M) {
	mainCalled.Store(true)
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig, ok := <-signals
		if !ok {
			return
		}
		fmt.Fprintf(os.Stderr, "dbtest: %v: removing the test databases\n", sig)
		if err := teardown(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
		os.Exit(1)
	}()
	code := m.Run()
	signal.Stop(signals)
	close(signals)
	if err := teardown(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// NewDatabase returns the URL of a new database holding the migrated schema, for the exclusive use of
// the test, and drops it when the test ends. The URL connects as the database's owner, an ordinary
// role (neither superuser nor BYPASSRLS) as the service's is, so that row-level security applies; the
// superuser's URL of the same database is AdminURL. The URL always has a query string, so a test may
// append "&connection_limit=1".
func NewDatabase(t testing.TB) string {
	t.Helper()
	e := mustEnv(t)
	tmpl, err := migratedTemplate(e)
	if err != nil {
		t.Fatal(err)
	}
	return e.newDatabase(t, tmpl)
}

// NewEmptyDatabase is like NewDatabase but the database has no schema at all (cloned from template0),
// for tests of the migrations themselves. It is owned by the same ordinary role, which its URL
// connects as.
func NewEmptyDatabase(t testing.TB) string {
	t.Helper()
	return mustEnv(t).newDatabase(t, "template0")
}

// AdminURL returns a superuser's URL of the database that dbURL (a URL from NewDatabase or
// NewEmptyDatabase) points at, for tests that must see past row-level security or do what only a
// superuser may. It has a query string too.
func AdminURL(t testing.TB, dbURL string) string {
	t.Helper()
	cfg, err := pgx.ParseConfig(dbURL)
	if err != nil {
		t.Fatalf("dbtest: AdminURL: %v", err)
	}
	return mustEnv(t).urlFor(cfg.Database)
}

// Role returns the name of the ordinary role that owns the test databases and that NewDatabase's
// URLs connect as.
func Role(t testing.TB) string {
	t.Helper()
	return mustEnv(t).role
}

// Server returns the throwaway cluster of this test binary, starting it if needed, or nil when the
// tests run against TEST_DATABASE_URL. Tests that restart or inspect the server skip when it is nil.
func Server(t testing.TB) *localpg.Server {
	t.Helper()
	return mustEnv(t).server
}

func mustEnv(t testing.TB) *environment {
	t.Helper()
	if !mainCalled.Load() {
		// Without Main nobody stops the cluster or drops the template at the end.
		t.Fatal("dbtest: the package's TestMain must call dbtest.Main: func TestMain(m *testing.M) { dbtest.Main(m) }")
	}
	envMu.Lock()
	defer envMu.Unlock()
	if tornDown {
		t.Fatal("dbtest: used after the tests finished")
	}
	if env == nil && envErr == nil {
		env, envErr = setup()
	}
	if envErr != nil {
		// Not a skip: a machine without PostgreSQL must not pass the database tests silently.
		t.Fatal(envErr)
	}
	return env
}

func setup() (*environment, error) {
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	if connString := os.Getenv(EnvURL); connString != "" {
		if _, err := withDatabase(connString, "postgres"); err != nil {
			return nil, fmt.Errorf("dbtest: %s: %w", EnvURL, err)
		}
		admin, err := newAdminPool(ctx, connString)
		if err != nil {
			return nil, fmt.Errorf("dbtest: %s: %w", EnvURL, err)
		}
		e := &environment{baseURL: connString, admin: admin, role: sharedServerRole, rolePassword: rolePassword(connString, "owner"),
			service: sharedServerService, servicePassword: rolePassword(connString, "service")}
		err = localpg.EnsureRoleAt(ctx, connString, e.role, e.rolePassword)
		if err == nil {
			err = localpg.EnsureRoleAt(ctx, connString, e.service, e.servicePassword)
		}
		if err == nil {
			err = localpg.EnsureAppRoleAt(ctx, connString, e.service)
		}
		if err != nil {
			admin.Close()
			return nil, fmt.Errorf("dbtest: %s: %w", EnvURL, err)
		}
		return e, nil
	}
	removeStaleClusters()
	dir, err := os.MkdirTemp("", tempPrefix)
	if err != nil {
		return nil, fmt.Errorf("dbtest: %w", err)
	}
	// When the tests run as root the server runs as the postgres user, which must pass through here.
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("dbtest: %w", err)
	}
	server, err := localpg.Start(ctx, localpg.Options{DataDir: filepath.Join(dir, "data"), ServerSettings: clusterSettings})
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("dbtest: start the test cluster (or set %s): %w", EnvURL, err)
	}
	e := &environment{server: server, tempDir: dir, baseURL: server.URL("postgres"), role: localpg.OwnerRole, service: localpg.ServiceRole}
	if e.admin, err = newAdminPool(ctx, e.baseURL); err != nil {
		e.close()
		return nil, fmt.Errorf("dbtest: %w", err)
	}
	if err := server.EnsureServiceRoles(ctx); err != nil {
		e.close()
		return nil, fmt.Errorf("dbtest: %w", err)
	}
	return e, nil
}

func newAdminPool(ctx context.Context, connString string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		return nil, err
	}
	// Creations are serialised; drops at the end of parallel tests may overlap a little.
	cfg.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// migratedTemplate creates and migrates the template database the first time it is asked for.
func migratedTemplate(e *environment) (string, error) {
	templateMu.Lock()
	defer templateMu.Unlock()
	if templateName != "" || templateErr != nil {
		return templateName, templateErr
	}
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	// Unique per process: test binaries of several packages may share TEST_DATABASE_URL's server.
	name := fmt.Sprintf("eventmanager_tmpl_%d_%s", os.Getpid(), randomSuffix())
	templateErr = func() error {
		if err := e.exec(ctx, "CREATE DATABASE "+ident(name)+" OWNER "+ident(e.role)); err != nil {
			return fmt.Errorf("dbtest: create template database: %w", err)
		}
		// Migrated as the owner role, as the service migrates its own database: the tables are
		// the role's, and FORCE ROW LEVEL SECURITY binds it all the same.
		if err := db.MigrateUp(ctx, e.ownerURLFor(name), nil); err != nil {
			e.drop(ctx, name)
			return fmt.Errorf("dbtest: migrate template database: %w", err)
		}
		// A stray session on the template would make every clone fail; now none can open.
		if err := e.exec(ctx, "ALTER DATABASE "+ident(name)+" WITH ALLOW_CONNECTIONS false"); err != nil {
			e.drop(ctx, name)
			return fmt.Errorf("dbtest: lock template database: %w", err)
		}
		return nil
	}()
	if templateErr == nil {
		templateName = name
	}
	return templateName, templateErr
}

func (e *environment) newDatabase(t testing.TB, template string) string {
	t.Helper()
	name := databaseName(t.Name())
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	createMu.Lock()
	// CREATE DATABASE waits up to 5 s for sessions that are just leaving the template (the migration's
	// connection closes asynchronously on the server side).
	err := e.exec(ctx, "CREATE DATABASE "+ident(name)+" TEMPLATE "+ident(template)+" OWNER "+ident(e.role))
	createMu.Unlock()
	if err != nil {
		t.Fatalf("dbtest: create database %s from %s: %v", name, template, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		if err := e.drop(ctx, name); err != nil {
			t.Errorf("dbtest: %v", err)
		}
	})
	return e.ownerURLFor(name)
}

// ServiceURL returns the URL of the database that dbURL (a URL from NewDatabase) points at, as the
// service's role: it owns nothing and has only what the migrations grant the group role
// localpg.AppRole (no DDL, no TRUNCATE, audit_logs INSERT and SELECT only). Tests of what the
// service does use it, so that a missing grant fails them as it would fail the service. It has a
// query string too.
func ServiceURL(t testing.TB, dbURL string) string {
	t.Helper()
	cfg, err := pgx.ParseConfig(dbURL)
	if err != nil {
		t.Fatalf("dbtest: ServiceURL: %v", err)
	}
	e := mustEnv(t)
	return e.urlAs(cfg.Database, e.service, e.servicePassword)
}

// OwnerURL returns the URL of the database that dbURL (a URL of NewDatabase or ServiceURL) points
// at, as the owner role: the URL NewDatabase returned.
func OwnerURL(t testing.TB, dbURL string) string {
	t.Helper()
	cfg, err := pgx.ParseConfig(dbURL)
	if err != nil {
		t.Fatalf("dbtest: OwnerURL: %v", err)
	}
	return mustEnv(t).ownerURLFor(cfg.Database)
}

// ServiceRole returns the name of the role that ServiceURL's URLs connect as.
func ServiceRole(t testing.TB) string {
	t.Helper()
	return mustEnv(t).service
}

func (e *environment) exec(ctx context.Context, sql string) error {
	_, err := e.admin.Exec(ctx, sql)
	return err
}

// drop removes a database, ending the sessions that tests left open on it.
func (e *environment) drop(ctx context.Context, name string) error {
	if err := e.exec(ctx, "DROP DATABASE IF EXISTS "+ident(name)+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

// ownerURLFor is the URL of the named database on this environment's server, as the owner role.
func (e *environment) ownerURLFor(name string) string { return e.urlAs(name, e.role, e.rolePassword) }

// urlAs is the URL of the named database on this environment's server, as role.
func (e *environment) urlAs(name, role, password string) string {
	if e.server != nil {
		return e.server.URLAs(name, role)
	}
	u, _ := url.Parse(e.urlFor(name)) // checked by setup
	u.User = url.UserPassword(role, password)
	return u.String()
}

// rolePassword is the password of the owner role (or the service role: label) on
// TEST_DATABASE_URL's server. It is derived from the superuser's password, so that every test
// binary sharing the server sets the same one (a random one per binary would lock the others out)
// and nobody without the superuser's password knows it.
func rolePassword(connString, label string) string {
	secret := os.Getenv("PGPASSWORD")
	if u, err := url.Parse(connString); err == nil {
		if p, ok := u.User.Password(); ok {
			secret = p
		}
	}
	sum := sha256.Sum256([]byte("eventmanager test role\x00" + label + "\x00" + secret))
	return hex.EncodeToString(sum[:16])
}

// urlFor is the superuser's URL of the named database on this environment's server.
func (e *environment) urlFor(name string) string {
	if e.server != nil {
		return e.server.URL(name)
	}
	u, _ := withDatabase(e.baseURL, name) // checked by setup
	return u
}

// close stops what setup started; it is the caller's to drop the template first.
func (e *environment) close() error {
	if e.admin != nil {
		e.admin.Close()
	}
	if e.server == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	err := e.server.Stop(ctx)
	if rmErr := os.RemoveAll(e.tempDir); rmErr != nil {
		err = errors.Join(err, rmErr)
	}
	return err
}

// teardown drops the template and stops the cluster. Safe to call more than once.
func teardown() error {
	envMu.Lock()
	defer envMu.Unlock()
	if tornDown {
		return nil
	}
	tornDown = true
	if env == nil {
		return nil
	}
	var errs []error
	templateMu.Lock()
	name := templateName
	templateMu.Unlock()
	// Only a shared server needs the template dropped; a throwaway cluster goes as a whole.
	if name != "" && env.server == nil {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		errs = append(errs, env.drop(ctx, name))
		cancel()
	}
	errs = append(errs, env.close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("dbtest: clean up: %w", err)
	}
	return nil
}

// removeStaleClusters deletes the folders of throwaway clusters whose test binary died without
// cleaning up (a test timeout panics past Main's clean-up). Their servers are gone already: the kernel
// stops a localpg server when its parent dies. Folders still locked or recently created are kept.
func removeStaleClusters() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), tempPrefix+"*"))
	for _, dir := range dirs {
		info, err := os.Stat(dir)
		if err != nil || !info.IsDir() || time.Since(info.ModTime()) < staleAfter {
			continue
		}
		dataDir := filepath.Join(dir, "data")
		if locked, err := localpg.Locked(dataDir); err != nil || locked {
			continue
		}
		if _, err := os.Stat(filepath.Join(dataDir, "postmaster.pid")); err == nil {
			continue // a server may still run there; leave it to a human
		}
		_ = os.RemoveAll(dir)
	}
}

// withDatabase returns the URL connString pointing at database name instead. The result always has
// a query string, so that tests may append "&name=value" as they do to the throwaway cluster's URLs;
// a URL without one gets an application_name, which also tells test sessions apart on a shared server.
func withDatabase(connString, name string) (string, error) {
	u, err := url.Parse(connString)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		// Do not echo the value: it holds a password.
		return "", errors.New("not a postgres:// or postgresql:// URL")
	}
	u.Path, u.RawPath = "/"+name, ""
	if u.RawQuery == "" {
		u.RawQuery = "application_name=eventmanager_test"
	}
	return u.String(), nil
}

// databaseName makes a unique, valid database name that shows which test owns it (handy when looking
// at a shared server): lowercase letters, digits and underscores, at most 63 bytes.
func databaseName(testName string) string {
	var b strings.Builder
	b.WriteString("test_")
	underscore := true
	for _, r := range strings.ToLower(testName) {
		if b.Len() >= 40 {
			break
		}
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			underscore = false
		} else if !underscore {
			b.WriteByte('_')
			underscore = true
		}
	}
	if !underscore {
		b.WriteByte('_')
	}
	b.WriteString(randomSuffix())
	return b.String()
}

func randomSuffix() string {
	return fmt.Sprintf("%010x", rand.Uint64()&(1<<40-1))
}

func ident(name string) string { return pgx.Identifier{name}.Sanitize() }
