package bench_test

import (
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/bench"
	"github.com/stretchr/testify/require"
)

// A sample of wrk's stdout: its own report, then the line of the script's done().
const wrkSample = `Running 10s test @ http://127.0.0.1:41234/api/v1/events
  2 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    11.20ms    2.31ms  58.01ms   80.00%
    Req/Sec     2.24k   120.00     2.50k    70.00%
  Latency Distribution
     50%   11.00ms
     75%   12.10ms
     90%   13.90ms
     99%   17.80ms
  44731 requests in 10.01s, 612.34MB read
  Non-2xx or 3xx responses: 9
Requests/sec:   4468.73
Transfer/sec:     61.17MB
EVENTMANAGER_WRK {"requests":44731,"duration_us":10010000,"bytes":642088960,"p50_us":11003,"p95_us":14912,"p99_us":17801,"max_us":58010,"errors":{"connect":0,"read":2,"write":0,"status":9,"timeout":1},"failures":{"503 DB_POOL_TIMEOUT":5,"500 INTERNAL":3}}
`

func TestParseWrkOutput(t *testing.T) {
	t.Parallel()
	r, err := bench.ParseWrkOutput([]byte(wrkSample))
	require.NoError(t, err)
	require.EqualValues(t, 44731, r.Requests)
	require.InDelta(t, 10.01, r.Seconds, 1e-9)
	require.InDelta(t, 11.003, r.P50MS, 1e-9)
	require.InDelta(t, 14.912, r.P95MS, 1e-9)
	require.InDelta(t, 17.801, r.P99MS, 1e-9)
	require.InDelta(t, 58.01, r.MaxMS, 1e-9)
	require.Equal(t, map[string]int{
		"503 DB_POOL_TIMEOUT": 5,
		"500 INTERNAL":        3,
		"status >= 400":       1, // counted by wrk, not named by the script
		"transport: read":     2,
		"transport: timeout":  1,
	}, r.Errors)
	require.EqualValues(t, 12, r.Failed)
	// Throughput counts the 2xx answers: wrk's requests less its 9 status errors.
	require.InDelta(t, float64(44731-9)/10.01, r.RPS, 1e-6)

	clean, err := bench.ParseWrkOutput([]byte(`EVENTMANAGER_WRK {"requests":100,"duration_us":2000000,"bytes":1,"p50_us":1,"p95_us":2,"p99_us":3,"max_us":4,"errors":{"connect":0,"read":0,"write":0,"status":0,"timeout":0},"failures":{}}`))
	require.NoError(t, err)
	require.Nil(t, clean.Errors)
	require.Zero(t, clean.Failed)
	require.InDelta(t, 50, clean.RPS, 1e-9)

	_, err = bench.ParseWrkOutput([]byte("unable to connect to 127.0.0.1:1 Connection refused\n"))
	require.Error(t, err)
}

// wrkOrSkip is wrk's path, or skips the test.
func wrkOrSkip(t *testing.T) string {
	t.Helper()
	p := bench.WrkPath()
	if p == "" {
		t.Skip("wrk is not on PATH (apt-get install wrk, or make bench installs it): the wrk driver is not tested")
	}
	return p
}

// The script cycles through the workload's paths, sends its headers, and names failures as
// vegeta's driver does.
func TestWrkScript(t *testing.T) {
	t.Parallel()
	wrk := wrkOrSkip(t)
	var (
		mu   sync.Mutex
		hits = map[string]int{}
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.RequestURI()]++
		mu.Unlock()
		switch {
		case r.Header.Get("Authorization") != `Bearer t"k\x`:
			w.WriteHeader(http.StatusUnauthorized)
		case r.URL.Path == "/busy":
			if r.URL.Query().Get("retry") != "" {
				w.Header().Set("Retry-After", "1")
			}
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error":{"code":"DB_POOL_TIMEOUT","message":"busy"}}`))
		default:
			_, _ = w.Write([]byte(`{"data":[]}`))
		}
	}))
	t.Cleanup(srv.Close)
	w := bench.Workload{Name: bench.EndpointResults, Paths: []string{"/a", "/b?x=1", "/busy?retry=1", "/busy"},
		Header: http.Header{"Authorization": {`Bearer t"k\x`}}}
	rows, err := bench.RunWrk(context.Background(), wrk, srv.URL, bench.Step{Scenario: "read", Workload: w, Concurrency: 4, Duration: time.Second})
	require.NoError(t, err)
	require.Len(t, rows, 1)
	r := rows[0]
	require.Equal(t, bench.DriverWrk, r.Driver)
	require.Equal(t, bench.ModeAPI, r.Mode)
	require.Positive(t, r.Requests)
	require.Positive(t, r.BenchCPUCores, "wrk's CPU is counted")
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, hits, 4, "every path is asked for: %v", hits)
	for p, n := range hits {
		require.InDelta(t, float64(r.Requests)/4, n, float64(r.Requests)/10+10, "%s: the paths are asked for in turn", p)
	}
	require.Equal(t, []string{"503 DB_POOL_TIMEOUT", "503 DB_POOL_TIMEOUT without Retry-After"}, slices.Sorted(maps.Keys(r.Errors)))
	require.InDelta(t, float64(r.Requests)/2, float64(r.Failed), float64(r.Requests)/10+10)
}
