package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/ratelimit"
	"github.com/eventmanager/eventmanager/internal/ratelimit/rules"
	"github.com/eventmanager/eventmanager/internal/redistest"
)

// staticLimits is a ratelimit.Source of fixed rows: the seeded tiers and a few tenant rows.
type staticLimits struct{ cfgs []rules.Config }

func (s staticLimits) TenantLimits(_ context.Context, id string) (rules.TenantLimits, bool, error) {
	return rules.TenantLimits{TenantID: id, Tier: "internal", Configs: s.cfgs}, true, nil
}
func (s staticLimits) TenantLimitsBySlug(ctx context.Context, slug string) (rules.TenantLimits, bool, error) {
	return s.TenantLimits(ctx, slug)
}
func (s staticLimits) GlobalLimits(context.Context) ([]rules.Config, error) { return s.cfgs, nil }

const (
	benchTenant = "11111111-1111-1111-1111-111111111111"
	benchUser   = "22222222-2222-2222-2222-222222222222"
)

func benchConfigs() []rules.Config {
	var cfgs []rules.Config
	for i, tier := range []string{"free", "standard", "premium", "enterprise", "internal"} {
		cfgs = append(cfgs, rules.Config{ID: "tier-" + tier, Tier: tier, PerMinute: 60000000, PerHour: 2000000000, Burst: 1000000000 * (i + 1), Enabled: true})
	}
	for _, e := range []string{"GET /api/v1/events", "POST /api/v1/scores", signInRoute} {
		cfgs = append(cfgs, rules.Config{ID: "ep-" + e, Endpoint: e, PerMinute: 100, PerHour: 1000, Burst: 10, Enabled: true})
		cfgs = append(cfgs, rules.Config{ID: "tep-" + e, TenantID: benchTenant, Endpoint: e, PerMinute: 100, PerHour: 1000, Burst: 10, Enabled: true})
	}
	return cfgs
}

// benchMiddleware measures what s.rateLimited adds to a request that has passed the token check:
// resolution from the warm cache, one limiter call, the RateLimit-* headers. The handler does nothing.
func benchMiddleware(b *testing.B, limiter ratelimit.Limiter) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s := &Server{log: log, limits: ratelimit.NewEnforcer(ratelimit.NewCache(staticLimits{benchConfigs()}, 0), limiter, ratelimit.NewMetrics(nil), log)}
	h := s.rateLimited(func(w http.ResponseWriter, r *http.Request) {})
	var users atomic.Int64
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		// One user per goroutine, as concurrent clients are: no false sharing of one bucket.
		req := httptest.NewRequest("GET", "/api/v1/auth/me", nil)
		req.Pattern = "GET /api/v1/auth/me"
		p := auth.Principal{TenantID: benchTenant, UserID: benchUser + strconv.FormatInt(users.Add(1), 10), Role: auth.Admin}
		req = req.WithContext(context.WithValue(req.Context(), principalKey{}, p))
		w := &discardWriter{h: http.Header{}}
		for pb.Next() {
			h(w, req)
			if w.code != 0 {
				b.Fatalf("refused: %d", w.code)
			}
		}
	})
	b.StopTimer()
	// CPU time of the whole process per request: on a shared machine wall time per request
	// includes waiting for a CPU; this does not.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type discardWriter struct {
	h    http.Header
	code int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(c int)           { d.code = c }

func BenchmarkRateLimitMiddleware(b *testing.B) {
	b.Run("in-process", func(b *testing.B) { benchMiddleware(b, ratelimit.NewMemory(nil)) })
	b.Run("redis", func(b *testing.B) {
		srv := redistest.Start(b)
		rd, err := ratelimit.NewRedis(srv.URL())
		if err != nil {
			b.Fatal(err)
		}
		defer rd.Close()
		benchMiddleware(b, rd)
	})
}
