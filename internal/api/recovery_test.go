package api_test

import (
	"context"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/config"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/localpg"
	"github.com/stretchr/testify/require"
)

// While the database is down, requests get 503 DB_UNAVAILABLE; when it is back, the service serves
// again by itself, with no restart of its own. Runs its own PostgreSQL, to stop it freely.
func TestRecoversWhenDatabaseReturns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg := newStoppableDatabase(t, "recovery")
	e := newEnvWith(t, pg.settings)
	tok := e.tenant("phoenix")
	require.Equal(t, http.StatusOK, e.do("GET", "/api/v1/events", tok, nil).status)

	require.NoError(t, pg.Stop(ctx))
	r := e.do("GET", "/api/v1/events", tok, nil)
	require.Equal(t, http.StatusServiceUnavailable, r.status, string(r.body))
	code, _ := r.errorCode(t)
	require.Equal(t, "DB_UNAVAILABLE", code)
	require.Equal(t, http.StatusServiceUnavailable, e.do("GET", "/readyz", "", nil).status)

	pg.restart(t)
	back := time.Now()
	require.Eventually(t, func() bool {
		return e.do("GET", "/api/v1/events", tok, nil).status == http.StatusOK
	}, 5*time.Second, 100*time.Millisecond)
	t.Logf("serving again %s after the database came back", time.Since(back).Round(time.Millisecond))
	// Probes share one answer for a second: ready again within that.
	require.Eventually(t, func() bool {
		return e.do("GET", "/readyz", "", nil).status == http.StatusOK
	}, 5*time.Second, 100*time.Millisecond)
}

// stoppableDatabase is a migrated database on a PostgreSQL of the test's own, which the test may
// stop and start again on the same port (the shared test cluster must keep running for the others).
type stoppableDatabase struct {
	*localpg.Server
	opts     localpg.Options
	settings config.Database // connect_timeout 1 s, pool_timeout 2 s: failures answer fast
}

func newStoppableDatabase(t *testing.T, name string) *stoppableDatabase {
	t.Helper()
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "eventmanager-"+name+"-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	opts := localpg.Options{DataDir: dir + "/pg", ServerSettings: map[string]string{"fsync": "off"}}
	pg, err := localpg.Start(ctx, opts)
	require.NoError(t, err)
	s := &stoppableDatabase{Server: pg, opts: opts}
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	require.NoError(t, pg.EnsureDatabase(ctx, name))
	url := pg.URL(name)
	require.NoError(t, db.MigrateUp(ctx, url, nil))
	s.settings, err = config.ParseDatabaseURL(url + "&connect_timeout=1&pool_timeout=2")
	require.NoError(t, err)
	return s
}

// restart starts the stopped PostgreSQL again on its port.
func (s *stoppableDatabase) restart(t *testing.T) {
	t.Helper()
	s.opts.Port = s.Port()
	pg, err := localpg.Start(context.Background(), s.opts)
	require.NoError(t, err)
	s.Server = pg
}
