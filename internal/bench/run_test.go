package bench_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/eventmanager/eventmanager/internal/bench"
	"github.com/stretchr/testify/require"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Failures are counted by kind: the status and the error code of the envelope, a 503 without
// Retry-After apart (the overload check refuses it), and 2xx answers are not failures.
func TestHTTPFailureKinds(t *testing.T) {
	t.Parallel()
	answers := []func(http.ResponseWriter){
		func(w http.ResponseWriter) { w.WriteHeader(http.StatusOK) },
		func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error":{"code":"DB_POOL_TIMEOUT","message":"busy"}}`))
		},
		func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error":{"code":"DB_POOL_TIMEOUT","message":"busy"}}`))
		},
		func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"error":{"code":"INTERNAL","message":"internal error"}}`))
		},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answers[len(r.URL.Path)-1](w) // "/", "//", "///", "////"
	}))
	t.Cleanup(srv.Close)
	w := bench.Workload{Name: bench.EndpointEvents, Target: func(i uint64, base string, t *vegeta.Target) {
		path := ""
		for range i%4 + 1 {
			path += "/"
		}
		*t = vegeta.Target{Method: http.MethodGet, URL: base + path}
	}}
	rows, err := bench.RunHTTP(context.Background(), srv.URL, bench.Step{Scenario: "read", Workload: w, Concurrency: 2, Requests: 40})
	require.NoError(t, err)
	require.Len(t, rows, 1)
	require.EqualValues(t, 40, rows[0].Requests)
	require.EqualValues(t, 30, rows[0].Failed)
	require.Equal(t, map[string]int{
		"503 DB_POOL_TIMEOUT":                     10,
		"503 DB_POOL_TIMEOUT without Retry-After": 10,
		"500 INTERNAL":                            10,
	}, rows[0].Errors)
}
