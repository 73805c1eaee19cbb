package api_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/api"
	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/config"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/eventmanager/eventmanager/internal/health"
	"github.com/eventmanager/eventmanager/internal/store"
	"github.com/stretchr/testify/require"
)

// newHealthEnv is newEnv with the database health checker wired in.
func newHealthEnv(t *testing.T) *env {
	t.Helper()
	settings, err := config.ParseDatabaseURL(dbtest.NewDatabase(t))
	require.NoError(t, err)
	d, err := db.Open(settings, db.Options{Timeouts: testTimeouts})
	require.NoError(t, err)
	t.Cleanup(d.Close)
	st := store.New(d)
	lat := func(db.Class) health.Latency { return health.Latency{} }
	s := api.New(api.Deps{DB: d, Store: st, TokenTTL: time.Hour, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Health: health.New(d, lat, health.Thresholds{})})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, db: d, store: st}
}

func TestDatabaseHealth(t *testing.T) {
	t.Parallel()
	e := newHealthEnv(t)
	admin := e.tenant("healthy")
	judge := e.addUser("healthy", auth.Judge)

	r := e.do("GET", "/api/v1/admin/database/health", admin, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	body := r.json(t)
	require.Equal(t, "healthy", body["status"], string(r.body))
	checks, ok := body["checks"].([]any)
	require.True(t, ok)
	names := map[string]bool{}
	for _, c := range checks {
		m := c.(map[string]any)
		names[m["name"].(string)] = true
		require.Equal(t, "ok", m["status"], m)
		require.NotEmpty(t, m["explanation"])
		require.Contains(t, m, "threshold")
		require.Contains(t, m, "value")
	}
	for _, n := range []string{"connectivity", "pool", "latency.standard", "query_timeout_rate", "index_hit_ratio", "connections", "invalid_indexes", "database_size"} {
		require.True(t, names[n], "missing check %s in %s", n, r.body)
	}

	r = e.do("GET", "/api/v1/admin/database/health", judge, nil)
	require.Equal(t, http.StatusForbidden, r.status, string(r.body))
	r = e.do("GET", "/api/v1/admin/database/health", "", nil)
	require.Equal(t, http.StatusUnauthorized, r.status, string(r.body))
}

// Without a checker the route does not exist.
func TestDatabaseHealthLeftOutWithoutChecker(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	admin := e.tenant("nochecker")
	r := e.do("GET", "/api/v1/admin/database/health", admin, nil)
	require.Equal(t, http.StatusNotFound, r.status, string(r.body))
}
