package bench_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/api"
	"github.com/eventmanager/eventmanager/internal/bench"
	"github.com/eventmanager/eventmanager/internal/config"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/eventmanager/eventmanager/internal/seed"
	"github.com/eventmanager/eventmanager/internal/store"
	"github.com/stretchr/testify/require"
)

// BenchmarkEventsList serves GET /api/v1/events in process, with the server's middleware and a
// JSON request log (to io.Discard), at 50 concurrent callers; "ceiling" makes the events query
// alone without HTTP, "ceiling+token" the token check and then the query, as the bench's two
// ceiling rows do. It is the profile target of docs/performance.md:
//
//	go test -run '^$' -bench 'BenchmarkEventsList/api' -benchtime 20000x -cpuprofile cpu.out ./internal/bench/
//	go tool pprof -top cpu.out
//
// The load generator (net/http's client) shares the process: its frames are in the profile too.
func BenchmarkEventsList(b *testing.B) {
	ctx := context.Background()
	url := dbtest.NewDatabase(b)
	_, err := seed.Run(ctx, url, seed.Options{Scale: seed.Scales["small"], Seed: 1})
	require.NoError(b, err)
	settings, err := config.ParseDatabaseURL(url)
	require.NoError(b, err)
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	d, err := db.Open(settings, db.Options{Timeouts: config.QueryTimeouts{Simple: time.Second, Standard: 5 * time.Second,
		Complex: 15 * time.Second, Report: 30 * time.Second}, Logger: logger})
	require.NoError(b, err)
	b.Cleanup(d.Close)
	st := store.New(d)
	f, err := bench.PrepareTenant(ctx, st, d, seed.TenantSlug("small", 1, 0), 0)
	require.NoError(b, err)
	w := f.Workloads(st, 0)[bench.EndpointEvents]
	srv := httptest.NewServer(api.New(api.Deps{DB: d, Store: st, TokenTTL: time.Hour, Logger: logger}).Handler())
	b.Cleanup(srv.Close)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 100}}
	const callers = 50

	b.Run("api", func(b *testing.B) {
		defer reportCPU(b)()
		b.SetParallelism(callers / max(1, testingProcs()))
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/events", nil)
				req.Header.Set("Authorization", "Bearer "+f.AdminToken)
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		})
	})
	// The bench's two ceilings: the events query alone (its SQL and tenant setting in one batch),
	// and the same after the token check.
	for _, c := range []struct {
		name  string
		check bool
	}{{"ceiling", false}, {"ceiling+token", true}} {
		b.Run(c.name, func(b *testing.B) {
			defer reportCPU(b)()
			b.SetParallelism(callers / max(1, testingProcs()))
			b.RunParallel(func(pb *testing.PB) {
				ctx := db.WithRequestID(ctx, "bench")
				for pb.Next() {
					if c.check {
						if err := w.Check(ctx, 0); err != nil {
							b.Error(err)
							return
						}
					}
					if _, err := w.Call(ctx, 0); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

func testingProcs() int { return runtime.GOMAXPROCS(0) }

// reportCPU adds the process's CPU time per operation (cpu-us/op) to the benchmark: on a shared
// machine, wall time per operation moves with the neighbours; the CPU the process spends on one
// request does much less. It counts this process only (server, client, pgx), not PostgreSQL.
func reportCPU(b *testing.B) func() {
	before, err := bench.ReadUsage(os.Getpid())
	require.NoError(b, err)
	return func() {
		after, err := bench.ReadUsage(os.Getpid())
		require.NoError(b, err)
		b.ReportMetric(float64((after.CPU-before.CPU).Microseconds())/float64(b.N), "cpu-us/op")
	}
}
