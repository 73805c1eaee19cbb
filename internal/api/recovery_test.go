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
	dir, err := os.MkdirTemp("", "eventmanager-recovery-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	opts := localpg.Options{DataDir: dir + "/pg", ServerSettings: map[string]string{"fsync": "off"}}
	pg, err := localpg.Start(ctx, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = pg.Stop(context.Background()) })
	require.NoError(t, pg.EnsureDatabase(ctx, "recovery"))
	url := pg.URL("recovery")
	require.NoError(t, db.MigrateUp(ctx, url, nil))
	settings, err := config.ParseDatabaseURL(url + "&connect_timeout=1&pool_timeout=2")
	require.NoError(t, err)
	e := newEnvWith(t, settings)
	tok := e.tenant("phoenix")
	require.Equal(t, http.StatusOK, e.do("GET", "/api/v1/events", tok, nil).status)

	require.NoError(t, pg.Stop(ctx))
	r := e.do("GET", "/api/v1/events", tok, nil)
	require.Equal(t, http.StatusServiceUnavailable, r.status, string(r.body))
	code, _ := r.errorCode(t)
	require.Equal(t, "DB_UNAVAILABLE", code)
	require.Equal(t, http.StatusServiceUnavailable, e.do("GET", "/readyz", "", nil).status)

	opts.Port = pg.Port()
	pg2, err := localpg.Start(ctx, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = pg2.Stop(context.Background()) })
	back := time.Now()
	require.Eventually(t, func() bool {
		return e.do("GET", "/api/v1/events", tok, nil).status == http.StatusOK
	}, 5*time.Second, 100*time.Millisecond)
	t.Logf("serving again %s after the database came back", time.Since(back).Round(time.Millisecond))
	require.Equal(t, http.StatusOK, e.do("GET", "/readyz", "", nil).status)
}
