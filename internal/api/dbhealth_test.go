package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/config"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/eventmanager/eventmanager/internal/health"
	"github.com/eventmanager/eventmanager/internal/querywindow"
	"github.com/stretchr/testify/require"
)

// noTraffic is a query window that saw no queries: the health tests judge the database alone.
func noTraffic(db.Class) querywindow.Latency { return querywindow.Latency{} }

func TestDatabaseHealth(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withHealth(health.Thresholds{}, nil, noTraffic))
	admin := e.tenant("healthy")
	judge := e.addUser("healthy", auth.Judge)
	operator := e.addUser("healthy", auth.SuperAdmin)

	r := e.do("GET", "/api/v1/admin/database/health", operator, nil)
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
	for _, n := range []string{"connectivity", "pool", "latency.standard", "query_timeout_rate", "index_hit_ratio", "connections",
		"invalid_indexes", "sequential_scans", "dead_tuples", "database_size"} {
		require.True(t, names[n], "missing check %s in %s", n, r.body)
	}

	r = e.do("GET", "/api/v1/admin/database/health", judge, nil)
	require.Equal(t, http.StatusForbidden, r.status, string(r.body))
	// The report shows every tenant's tables and other sessions: not for a tenant's ADMIN.
	r = e.do("GET", "/api/v1/admin/database/health", admin, nil)
	require.Equal(t, http.StatusForbidden, r.status, string(r.body))
	r = e.do("GET", "/api/v1/admin/database/health", "", nil)
	require.Equal(t, http.StatusUnauthorized, r.status, string(r.body))
}

// A report whose database cannot be reached is unhealthy: 503 with the report, connectivity failed.
// The checker watches a database that does not exist while the API's own (for the token) works.
func TestDatabaseHealthUnhealthyIs503(t *testing.T) {
	t.Parallel()
	settings, err := config.ParseDatabaseURL(dbtest.ServiceURL(t, dbtest.NewDatabase(t)))
	require.NoError(t, err)
	nowhere, err := config.ParseDatabaseURL("postgres://nobody@127.0.0.1:1/nowhere?connect_timeout=1&pool_timeout=2")
	require.NoError(t, err)
	down, err := db.Open(nowhere, db.Options{Timeouts: testTimeouts})
	require.NoError(t, err)
	t.Cleanup(down.Close)
	e := newEnv(t, withSettings(settings), withHealth(health.Thresholds{}, down, noTraffic))
	e.tenant("unhealthy")
	operator := e.addUser("unhealthy", auth.SuperAdmin)

	r := e.do("GET", "/api/v1/admin/database/health", operator, nil)
	require.Equal(t, http.StatusServiceUnavailable, r.status, string(r.body))
	body := r.json(t)
	require.Equal(t, "unhealthy", body["status"], string(r.body))
	for _, c := range body["checks"].([]any) {
		if m := c.(map[string]any); m["name"] == "connectivity" {
			require.Equal(t, "fail", m["status"], m)
			require.Contains(t, m["explanation"], "database not reachable")
		}
	}
}

// With the database stopped, the health route answers 503 promptly: the administrator's token
// cannot be checked, so the answer is the error envelope DB_UNAVAILABLE (see databaseHealthRoutes),
// not 401 and not a hang. Once the database is back, the report is 200 healthy again, with no
// restart of the service. Runs its own PostgreSQL, to stop it freely.
func TestDatabaseHealthWhileDatabaseIsDown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg := newStoppableDatabase(t, "health")
	settings := pg.settings
	// Default thresholds, no injection: on this fresh database every check is ok because the checks
	// that depend on traffic (the hit ratios) do not judge under 10000 block accesses, and the
	// table checks under 10000 rows. If the machine's own noise ever made this flaky, inject
	// thresholds here and say so.
	e := newEnv(t, withSettings(settings), withHealth(health.Thresholds{}, nil, noTraffic))
	e.tenant("lazarus")
	operator := e.addUser("lazarus", auth.SuperAdmin)
	r := e.do("GET", "/api/v1/admin/database/health", operator, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, "healthy", r.json(t)["status"], string(r.body))

	require.NoError(t, pg.Stop(ctx))
	start := time.Now()
	r = e.do("GET", "/api/v1/admin/database/health", operator, nil)
	took := time.Since(start)
	require.Equal(t, http.StatusServiceUnavailable, r.status, string(r.body))
	code, _ := r.errorCode(t)
	require.Equal(t, "DB_UNAVAILABLE", code)
	require.NotEmpty(t, r.header.Get("Retry-After"))
	// The bound the settings promise: connect_timeout (1 s) within pool_timeout (2 s).
	require.Less(t, took, settings.PoolTimeout+time.Second, "answered after %s", took)
	t.Logf("503 after %s with the database stopped", took.Round(time.Millisecond))
	r = e.do("GET", "/api/v1/admin/database/metrics", operator, nil)
	require.Equal(t, http.StatusServiceUnavailable, r.status, string(r.body))

	pg.restart(t)
	require.Eventually(t, func() bool {
		r = e.do("GET", "/api/v1/admin/database/health", operator, nil)
		return r.status == http.StatusOK
	}, 10*time.Second, 100*time.Millisecond)
	require.Equal(t, "healthy", r.json(t)["status"], string(r.body))
}

func TestDatabaseMetrics(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withHealth(health.Thresholds{}, nil, noTraffic))
	admin := e.tenant("metered")
	judge := e.addUser("metered", auth.Judge)
	operator := e.addUser("metered", auth.SuperAdmin)
	require.Equal(t, http.StatusOK, e.do("GET", "/api/v1/events", admin, nil).status)

	var body map[string]any
	// Index scans show once the API's connections have flushed their statistics (at most every second).
	require.Eventually(t, func() bool {
		r := e.do("GET", "/api/v1/admin/database/metrics", operator, nil)
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		body = r.json(t)
		return len(body["index_usage"].(map[string]any)["most_scanned"].([]any)) > 0
	}, 5*time.Second, 100*time.Millisecond, "%v", body)

	tables := body["largest_tables"].([]any)
	require.NotEmpty(t, tables)
	require.LessOrEqual(t, len(tables), health.StatsLimit)
	prev := -1.0
	seen := map[string]bool{}
	for _, x := range tables {
		tb := x.(map[string]any)
		size := tb["total_bytes"].(float64)
		require.Positive(t, size, tb)
		require.NotEmpty(t, tb["total_pretty"], tb)
		require.InDelta(t, size, tb["table_bytes"].(float64)+tb["toast_bytes"].(float64)+tb["indexes_bytes"].(float64), 0, tb)
		if prev >= 0 {
			require.LessOrEqual(t, size, prev, "largest first")
		}
		prev = size
		seen[tb["table"].(string)] = true
	}
	require.True(t, seen["users"], "%v", tables)

	indexes := body["largest_indexes"].([]any)
	require.NotEmpty(t, indexes)
	require.LessOrEqual(t, len(indexes), health.StatsLimit)
	for _, x := range indexes {
		ix := x.(map[string]any)
		require.Positive(t, ix["bytes"].(float64), ix)
		require.NotEmpty(t, ix["table"], ix)
	}
	for _, x := range body["index_usage"].(map[string]any)["most_scanned"].([]any) {
		require.Positive(t, x.(map[string]any)["scans"].(float64), x)
	}
	for _, x := range body["index_usage"].(map[string]any)["unused"].([]any) {
		ix := x.(map[string]any)
		require.Zero(t, ix["scans"].(float64), ix)
		require.False(t, ix["unique"].(bool), ix)
	}

	pool := body["pool"].(map[string]any)
	require.Positive(t, pool["max_connections"].(float64))
	require.Positive(t, pool["acquires_total"].(float64))
	require.Contains(t, pool, "empty_acquires_total")
	require.Contains(t, pool, "canceled_acquires_total")
	require.Contains(t, pool, "acquire_duration_seconds_total")
	require.Equal(t, 0.0, pool["timeouts_total"], "wired to the metrics' pool timeouts")
	require.NotEmpty(t, body["collected_at"])

	r := e.do("GET", "/api/v1/admin/database/metrics", judge, nil)
	require.Equal(t, http.StatusForbidden, r.status, string(r.body))
	r = e.do("GET", "/api/v1/admin/database/metrics", admin, nil)
	require.Equal(t, http.StatusForbidden, r.status, "every tenant's table sizes: not for a tenant's ADMIN")
	r = e.do("GET", "/api/v1/admin/database/metrics", "", nil)
	require.Equal(t, http.StatusUnauthorized, r.status, string(r.body))
}

// Without a checker the routes do not exist.
func TestDatabaseHealthLeftOutWithoutChecker(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.tenant("nochecker")
	operator := e.addUser("nochecker", auth.SuperAdmin)
	for _, path := range []string{"/api/v1/admin/database/health", "/api/v1/admin/database/metrics"} {
		r := e.do("GET", path, operator, nil)
		require.Equal(t, http.StatusNotFound, r.status, string(r.body))
	}
}
