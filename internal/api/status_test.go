package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/health"
	"github.com/eventmanager/eventmanager/internal/statuspage"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
)

// connectivityRuns is how many times the health checker has run its first database check.
func (e *env) connectivityRuns() uint64 {
	e.t.Helper()
	m := find(e.t, e.registry, "eventmanager_db_query_duration_seconds", map[string]string{"operation": "health.connectivity"})
	if m == nil {
		return 0
	}
	return m.GetHistogram().GetSampleCount()
}

func TestStatusData(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withHealth(health.Thresholds{}, nil, nil))
	admin := e.tenant("status")
	judge := e.addUser("status", auth.Judge)
	operator := e.addUser("status", auth.SuperAdmin)
	e.listEvents(admin, "")
	e.do("GET", "/no/such/path", "", nil)

	r := e.do("GET", "/api/v1/admin/status/data", operator, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, "no-store", r.header.Get("Cache-Control"))
	body := r.json(t)
	require.Contains(t, body, "time")

	pool := body["pool"].(map[string]any)
	for _, k := range []string{"acquired", "idle", "total", "max", "utilisation", "acquire_count", "acquire_seconds", "waited_count", "canceled_acquires"} {
		require.Contains(t, pool, k)
	}
	require.Positive(t, pool["max"])
	require.Positive(t, pool["acquire_count"])

	latency := body["latency"].([]any)
	require.Len(t, latency, 4)
	classes := map[string]map[string]any{}
	for _, l := range latency {
		m := l.(map[string]any)
		classes[m["class"].(string)] = m
		for _, k := range []string{"count", "timeouts", "p50_ms", "p95_ms", "p99_ms"} {
			require.Contains(t, m, k)
		}
	}
	require.Positive(t, classes["simple"]["count"], "sign-in and token checks are simple queries")
	require.Positive(t, classes["standard"]["p95_ms"], "the event list is a standard query")

	// The requests before this one, counted by the middleware: sign-ins, the list, the unknown path.
	requests := body["requests"].(map[string]any)
	require.GreaterOrEqual(t, requests["requests"], float64(4))
	require.GreaterOrEqual(t, requests["client_errors"], float64(1))
	require.EqualValues(t, 0, requests["server_errors"])

	// The verdict depends on the machine's speed (the latency checks); the report is there in full.
	report := body["health"].(map[string]any)
	require.Contains(t, []any{"healthy", "degraded", "unhealthy"}, report["status"])
	checks := map[string]string{}
	for _, c := range report["checks"].([]any) {
		m := c.(map[string]any)
		checks[m["name"].(string)] = m["status"].(string)
		require.NotEmpty(t, m["explanation"])
	}
	require.Equal(t, "ok", checks["connectivity"], string(r.body))
	require.Contains(t, checks, "pool")
	require.Contains(t, checks, "latency.simple")

	r = e.do("GET", "/api/v1/admin/status/data", judge, nil)
	require.Equal(t, http.StatusForbidden, r.status, string(r.body))
	r = e.do("GET", "/api/v1/admin/status/data", admin, nil)
	require.Equal(t, http.StatusForbidden, r.status, "the whole platform's figures: not for a tenant's ADMIN")
	r = e.do("GET", "/api/v1/admin/status/data", "", nil)
	require.Equal(t, http.StatusUnauthorized, r.status, string(r.body))
	code, _ := r.errorCode(t)
	require.Equal(t, "UNAUTHENTICATED", code)
}

// Pages polling every 2 s share one run of the health checks per 5 s instead of one run each.
func TestStatusDataCachesHealth(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withHealth(health.Thresholds{}, nil, nil))
	e.tenant("cache")
	operator := e.addUser("cache", auth.SuperAdmin)
	before := e.connectivityRuns()
	start := time.Now()
	for range 8 {
		r := e.do("GET", "/api/v1/admin/status/data", operator, nil)
		require.Equal(t, http.StatusOK, r.status, string(r.body))
	}
	// Eight polls take well under a second: one run, or one more per 5 s that they took on a
	// loaded machine.
	const ttl = 5 * time.Second
	runs := e.connectivityRuns() - before
	require.GreaterOrEqual(t, runs, uint64(1))
	require.LessOrEqual(t, runs, 1+uint64(time.Since(start)/ttl), "health checks run per poll")
}

func TestStatusPageServed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withHealth(health.Thresholds{}, nil, nil))
	for _, c := range []struct{ path, contentType, contains string }{
		{"/admin/status", "text/html; charset=utf-8", `<script src="/admin/status/status.js"`},
		{"/admin/status/status.js", "text/javascript; charset=utf-8", "/api/v1/admin/status/data"},
		{"/admin/status/status.css", "text/css; charset=utf-8", ".banner"},
	} {
		r := e.do("GET", c.path, "", nil)
		require.Equal(t, http.StatusOK, r.status, c.path)
		require.Equal(t, c.contentType, r.header.Get("Content-Type"), c.path)
		require.Equal(t, statuspage.ContentSecurityPolicy, r.header.Get("Content-Security-Policy"), c.path)
		require.Equal(t, "nosniff", r.header.Get("X-Content-Type-Options"), c.path)
		require.Equal(t, "DENY", r.header.Get("X-Frame-Options"), c.path)
		require.Contains(t, string(r.body), c.contains, c.path)
	}
	csp := statuspage.ContentSecurityPolicy
	require.Contains(t, csp, "default-src 'self'")
	require.Contains(t, csp, "script-src 'self'")
	require.NotContains(t, csp, "unsafe-inline")

	// No inline script or style in the page: the policy would block it.
	page := string(e.do("GET", "/admin/status", "", nil).body)
	require.NotContains(t, page, "<script>")
	require.NotContains(t, page, "style=")
	require.NotContains(t, page, "<style")
	require.Equal(t, 1, strings.Count(page, "<script"))

	for _, p := range []string{"/admin/status/nope.js", "/admin/status/statuspage.go", "/admin/status/x.png"} {
		r := e.do("GET", p, "", nil)
		require.Equal(t, http.StatusNotFound, r.status, p)
		code, _ := r.errorCode(t)
		require.Equal(t, "NOT_FOUND", code)
	}
}

// The request metrics carry the route pattern, never the path: ids and unknown paths do not make
// new series.
func TestHTTPMetricsByRoute(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withHealth(health.Thresholds{}, nil, nil))
	admin := e.tenant("routes")
	for _, id := range []string{"0b0e4c1e-4a58-4d2c-9c55-3c1f6f0e0a01", "0b0e4c1e-4a58-4d2c-9c55-3c1f6f0e0a02"} {
		r := e.do("GET", "/api/v1/events/"+id, admin, nil)
		require.Equal(t, http.StatusNotFound, r.status)
	}
	e.do("GET", "/wp-login.php", "", nil)
	e.do("GET", "/.env", "", nil)
	e.do("DELETE", "/healthz", "", nil) // 405: the path exists with GET only

	count := func(route, code string) float64 {
		m := find(t, e.registry, "eventmanager_http_requests_total", map[string]string{"route": route, "code": code})
		require.NotNil(t, m, "%s %s", route, code)
		return m.GetCounter().GetValue()
	}
	require.EqualValues(t, 2, count("GET /api/v1/events/{id}", "404"))
	require.EqualValues(t, 2, count("unmatched", "404"))
	require.EqualValues(t, 1, count("unmatched", "405"))
	require.EqualValues(t, 1, count("POST /api/v1/auth/login", "200"))
	h := find(t, e.registry, "eventmanager_http_request_duration_seconds", map[string]string{"route": "GET /api/v1/events/{id}"})
	require.EqualValues(t, 2, h.GetHistogram().GetSampleCount())

	// And /metrics shows them.
	text := string(e.do("GET", "/metrics", "", nil).body)
	require.Contains(t, text, `eventmanager_http_requests_total{code="404",route="GET /api/v1/events/{id}"} 2`)
	require.NotContains(t, text, "wp-login")
}

// find returns the metric of family name whose labels include want, or nil.
func find(t *testing.T, g prometheus.Gatherer, name string, want map[string]string) *dto.Metric {
	t.Helper()
	families, err := g.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			matches := true
			for k, v := range want {
				matches = matches && labels[k] == v
			}
			if matches {
				return m
			}
		}
	}
	return nil
}
