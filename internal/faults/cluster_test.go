package faults_test

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/localpg"
	"github.com/stretchr/testify/require"
)

// privateCluster is a PostgreSQL of one test's own, which the test may stop, restart and fill up
// without disturbing the other tests of the binary (they use dbtest's cluster).
//
// The server is localpg's child process, not a pg_ctl-managed one: `pg_ctl restart -m fast` would
// start a postmaster that is no longer our child (no parent-death signal, not reaped by us). A
// restart here is what pg_ctl does with -m fast: a fast shutdown (SIGINT: sessions are terminated,
// open transactions rolled back, a shutdown checkpoint written), then a start on the same port and
// socket.
type privateCluster struct {
	opts localpg.Options

	mu sync.Mutex
	pg *localpg.Server
}

// clusterDatabase is the service's database on a private cluster, owned by localpg.OwnerRole.
const clusterDatabase = "faults"

// newPrivateCluster starts a cluster with the settings (fsync stays off: the faults here stop
// PostgreSQL cleanly or not at all, so the OS cache survives them) and a migrated database.
func newPrivateCluster(t *testing.T, settings map[string]string) *privateCluster {
	t.Helper()
	ctx := context.Background()
	// Not dbtest's prefix: its clean-up of stale folders would take this one for stale while the
	// restart test holds the server down (no lock, no postmaster.pid).
	dir, err := os.MkdirTemp("", "eventmanager-faults-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	// When the tests run as root the server runs as the postgres user, which must pass through here.
	require.NoError(t, os.Chmod(dir, 0o755))
	all := map[string]string{"fsync": "off"}
	maps.Copy(all, settings)
	c := &privateCluster{opts: localpg.Options{DataDir: filepath.Join(dir, "data"), ServerSettings: all}}
	c.pg, err = localpg.Start(ctx, c.opts)
	require.NoError(t, err)
	c.opts.Port = c.pg.Port() // later starts come back on the same port, so the service's URL holds
	t.Cleanup(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := c.pg.Stop(ctx); err != nil {
			t.Errorf("stop private cluster: %v", err)
		}
	})
	// As the service's private PostgreSQL is set up: the owner role owns the database and runs the
	// migrations; the service's role owns nothing.
	require.NoError(t, c.pg.EnsureServiceRoles(ctx))
	require.NoError(t, c.pg.EnsureDatabaseOwnedBy(ctx, clusterDatabase, localpg.OwnerRole))
	require.NoError(t, db.MigrateUp(ctx, c.urlAs(clusterDatabase, localpg.OwnerRole), nil))
	return c
}

// serviceURL is the database's URL as the service's ordinary role (row-level security applies).
func (c *privateCluster) serviceURL() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pg.URLAs(clusterDatabase, localpg.ServiceRole)
}

// urlAs is the URL of a database of the cluster as any role (the socket trusts every role).
func (c *privateCluster) urlAs(database, role string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pg.URLAs(database, role)
}

// adminURL is the database's URL as the superuser.
func (c *privateCluster) adminURL() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pg.URL(clusterDatabase)
}

// restartAfter does a fast restart that keeps the server down for hold, so that the outage is long
// enough to be seen by the load, and returns when the server accepts connections again. stopped is
// when the fast shutdown began, back when the server was ready again.
func (c *privateCluster) restartAfter(t *testing.T, hold time.Duration) (stopped, back time.Time) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	stopped = time.Now()
	require.NoError(t, c.pg.Stop(ctx))
	time.Sleep(hold - time.Since(stopped))
	pg, err := localpg.Start(ctx, c.opts)
	require.NoError(t, err)
	back = time.Now()
	c.pg = pg
	return stopped, back
}
