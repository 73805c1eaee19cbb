// Package bouncertest starts a private PgBouncer (package pgbouncer, transaction mode) in front of
// a test database: on a free loopback port, in a folder of its own, stopped at the end of the
// test. Tests connect with the URL that URL returns, without a password.
//
// The machine's pgbouncer (Debian's package) is used; `make test` installs it
// (scripts/ensure-deps.sh --test). Without it the test is skipped, or fails when CI is set: a skip
// there would hide that nothing ran through PgBouncer.
package bouncertest

import (
	"context"
	"os"
	"testing"

	"github.com/eventmanager/eventmanager/internal/pgbouncer"
	"github.com/eventmanager/eventmanager/internal/testproc"
)

// Options configures Start.
type Options struct {
	// PoolSize is default_pool_size: the most server connections PgBouncer opens to the database.
	// 0 means 20.
	PoolSize int
}

// Bouncer is one pgbouncer process in front of one test database.
type Bouncer struct{ *pgbouncer.Process }

// Start runs PgBouncer in transaction mode in front of the database that dbURL (a URL of
// dbtest.NewDatabase) names, logging in as dbURL's role, and stops it when the test ends. A test
// whose PgBouncer died before the end fails.
func Start(t testing.TB, dbURL string, opts Options) *Bouncer {
	t.Helper()
	if _, err := pgbouncer.Binary(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%v: `make test` installs it with scripts/ensure-deps.sh --test", err)
		}
		t.Skipf("%v: run `make test-deps` to run the tests through PgBouncer", err)
	}
	// Not t.TempDir: when the tests run as root, pgbouncer runs as the postgres user, which must
	// read the configuration.
	dir, err := os.MkdirTemp("", "eventmanager-pgbouncer-")
	if err != nil {
		t.Fatalf("bouncertest: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatalf("bouncertest: %v", err)
	}
	p, err := pgbouncer.Start(context.Background(), pgbouncer.Options{Upstream: dbURL, Port: testproc.FreePort(t), Dir: dir, PoolSize: opts.PoolSize})
	if err != nil {
		t.Fatalf("bouncertest: %v", err)
	}
	t.Cleanup(func() {
		if p.Exited() {
			t.Errorf("bouncertest: pgbouncer exited during the test")
		}
		_ = p.Stop()
		if t.Failed() {
			t.Logf("pgbouncer's log:\n%s", p.Log())
		}
	})
	return &Bouncer{p}
}
