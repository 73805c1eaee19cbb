package ratelimit

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/ratelimit/rules"
	"github.com/eventmanager/eventmanager/internal/redistest"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

func newRedis(t *testing.T, url string) *Redis {
	t.Helper()
	r, err := NewRedis(url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// Two instances (two clients, as two processes would have) share one Redis: together they get the
// configured allowance, not twice it.
func TestRedisTwoInstancesShareOneLimit(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	a, b := newRedis(t, srv.URL()), newRedis(t, srv.URL())
	l := rules.Limit{PerMinute: 1, PerHour: 100, Burst: 20} // refills one a minute: nothing comes back during the test
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for _, inst := range []*Redis{a, b} {
		for range 5 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 10 {
					d, err := inst.Allow(context.Background(), "shared", l)
					if err != nil {
						t.Error(err)
						return
					}
					if d.Allowed {
						allowed.Add(1)
					}
				}
			}()
		}
	}
	wg.Wait()
	require.EqualValues(t, 20, allowed.Load(), "100 requests over two instances, burst 20")

	d, err := a.Allow(context.Background(), "shared", l)
	require.NoError(t, err)
	require.False(t, d.Allowed)
	require.Equal(t, 0, d.Remaining)
	require.Equal(t, 20, d.Limit)
	require.InDelta(t, time.Minute.Seconds(), d.RetryAfter.Seconds(), 1)
}

// The script counts as the process does: same decisions, remaining and limits for a sequence.
func TestRedisMatchesMemory(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	r := newRedis(t, srv.URL())
	m := NewMemory(nil)
	l := rules.Limit{PerMinute: 10, PerHour: 12, Burst: 4}
	for i := range 8 {
		dr, err := r.Allow(context.Background(), "seq", l)
		require.NoError(t, err)
		dm, _ := m.Allow(context.Background(), "seq", l)
		require.Equal(t, dm.Allowed, dr.Allowed, "request %d", i)
		require.Equal(t, dm.Remaining, dr.Remaining, "request %d", i)
		require.Equal(t, dm.Limit, dr.Limit, "request %d", i)
	}
}

// Redis stopped mid-run: requests keep being decided, in process, the outage is logged once and
// counted; after Redis restarts the next probe uses it again.
func TestFallbackWhileRedisIsDown(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	ctx := context.Background()
	var logs bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(&syncWriter{w: &logs, mu: &mu}, nil))
	metrics := NewMetrics(nil)
	clk := &clock{now: time.Now()}
	f := NewFallback(newRedis(t, srv.URL()), NewMemory(clk.Now), log, metrics.Fallback)
	f.now = clk.Now
	l := rules.Limit{PerMinute: 600, PerHour: 10000, Burst: 1000}
	inRedis := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer inRedis.Close()

	d, err := f.Allow(ctx, "k", l)
	require.NoError(t, err)
	require.True(t, d.Allowed)
	require.False(t, f.Degraded())
	require.EqualValues(t, 1, inRedis.Exists(ctx, "rl:{k}:m").Val(), "counted in Redis")

	srv.Stop()
	for i := range 50 {
		d, err := f.Allow(ctx, "k", l)
		require.NoError(t, err, "request %d while Redis is down", i)
		require.True(t, d.Allowed)
	}
	require.True(t, f.Degraded())
	require.Equal(t, 50.0, counterValue(t, metrics.fallbacks))
	mu.Lock()
	require.Equal(t, 1, strings.Count(logs.String(), "Redis is unreachable"), "logged once")
	mu.Unlock()

	srv.Start() // same port, empty (no persistence)
	// Within probeEvery nobody waits on Redis again.
	_, _ = f.Allow(ctx, "k", l)
	require.True(t, f.Degraded())
	clk.Add(probeEvery)
	d, err = f.Allow(ctx, "k", l)
	require.NoError(t, err)
	require.True(t, d.Allowed)
	require.False(t, f.Degraded(), "Redis is used again")
	require.EqualValues(t, 1, inRedis.Exists(ctx, "rl:{k}:m").Val(), "counted in Redis again")
	mu.Lock()
	require.Contains(t, logs.String(), "Redis is reachable again")
	mu.Unlock()
}

type syncWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// failing is a limiter that fails with err.
type failing struct{ err error }

func (f failing) Allow(context.Context, string, rules.Limit) (Decision, error) {
	return Decision{}, f.err
}

// A busy pool or a cancelled client is no outage, and never leaves the probe stuck.
func TestFallbackBusyAndCancelledAreNoOutage(t *testing.T) {
	t.Parallel()
	l := rules.Limit{PerMinute: 60, PerHour: 600, Burst: 10}
	f := NewFallback(failing{ErrBusy}, NewMemory(nil), slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	d, err := f.Allow(context.Background(), "k", l)
	require.NoError(t, err)
	require.True(t, d.Allowed)
	require.False(t, f.Degraded())

	clk := &clock{now: time.Now()}
	f = NewFallback(failing{errors.New("connection refused")}, NewMemory(nil), slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	f.now = clk.Now
	_, _ = f.Allow(context.Background(), "k", l)
	require.True(t, f.Degraded())
	clk.Add(probeEvery)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _ = f.Allow(ctx, "k", l) // the probe's client has gone
	require.True(t, f.usePrimary(), "the next request may probe again")
}
