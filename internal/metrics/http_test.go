package metrics_test

import (
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

// Requests land in one series per route and code, unknown paths in "unmatched", and the totals
// split client and server errors.
func TestHTTPObserve(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	h := metrics.NewHTTP(reg)

	h.ObserveRequest("GET /api/v1/events", 200, 3*time.Millisecond)
	h.ObserveRequest("GET /api/v1/events", 200, 7*time.Millisecond)
	h.ObserveRequest("GET /api/v1/events", 503, time.Second)
	h.ObserveRequest("GET /api/v1/events/{id}", 404, time.Millisecond)
	// Three probes of unknown paths (/wp-admin, /.env, ...): dispatch found no pattern.
	for range 3 {
		h.ObserveRequest("", 404, time.Millisecond)
	}
	h.ObserveRequest("", 405, time.Millisecond)
	h.ObserveRequest("GET /odd", 42, time.Millisecond)

	requests := func(route, code string) float64 {
		m := find(t, reg, "eventmanager_http_requests_total", map[string]string{"route": route, "code": code})
		require.NotNil(t, m, "%s %s", route, code)
		return m.GetCounter().GetValue()
	}
	require.EqualValues(t, 2, requests("GET /api/v1/events", "200"))
	require.EqualValues(t, 1, requests("GET /api/v1/events", "503"))
	require.EqualValues(t, 1, requests("GET /api/v1/events/{id}", "404"))
	require.EqualValues(t, 3, requests("unmatched", "404"))
	require.EqualValues(t, 1, requests("unmatched", "405"))
	require.EqualValues(t, 1, requests("GET /odd", "other"))

	hist := find(t, reg, "eventmanager_http_request_duration_seconds", map[string]string{"route": "GET /api/v1/events"}).GetHistogram()
	require.EqualValues(t, 3, hist.GetSampleCount())
	require.InDelta(t, 1.010, hist.GetSampleSum(), 1e-9)
	require.EqualValues(t, 4, find(t, reg, "eventmanager_http_request_duration_seconds", map[string]string{"route": "unmatched"}).GetHistogram().GetSampleCount())

	// Series: 6 route×code counters and 4 route histograms, whatever paths were asked for.
	require.Equal(t, 6, testutil.CollectAndCount(reg, "eventmanager_http_requests_total"))
	require.Equal(t, 4, testutil.CollectAndCount(reg, "eventmanager_http_request_duration_seconds"))

	require.Equal(t, metrics.HTTPTotals{Requests: 9, ClientErrors: 5, ServerErrors: 1}, h.Totals())

	problems, err := testutil.GatherAndLint(reg)
	require.NoError(t, err)
	require.Empty(t, problems)
}

// Concurrent requests lose no count (run with -race).
func TestHTTPConcurrent(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	h := metrics.NewHTTP(reg)
	routes := []string{"GET /a", "GET /b", ""}
	done := make(chan struct{})
	for g := range 6 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 500 {
				h.ObserveRequest(routes[(g+i)%len(routes)], 200+300*(i%2), time.Millisecond)
			}
		}()
	}
	for range 6 {
		<-done
	}
	require.Equal(t, metrics.HTTPTotals{Requests: 3000, ServerErrors: 1500}, h.Totals())
	require.EqualValues(t, 500, find(t, reg, "eventmanager_http_requests_total",
		map[string]string{"route": "GET /a", "code": "200"}).GetCounter().GetValue())
}

func BenchmarkHTTPObserve(b *testing.B) {
	h := metrics.NewHTTP(prometheus.NewRegistry())
	for b.Loop() {
		h.ObserveRequest("GET /api/v1/events/{id}", 200, time.Millisecond)
	}
}
