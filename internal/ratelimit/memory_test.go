package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/ratelimit/rules"
	"github.com/stretchr/testify/require"
)

// clock is a settable time for tests of refill: no sleeps.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestMemoryBurstThenRefusedThenRefill(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &clock{now: t0}
	m := NewMemory(clk.Now)
	l := rules.Limit{PerMinute: 60, PerHour: 1000, Burst: 5} // one request a second, bursts of 5

	for i := range 5 {
		d, err := m.Allow(ctx, "k", l)
		require.NoError(t, err)
		require.True(t, d.Allowed, "request %d of the burst", i+1)
		require.Equal(t, 5, d.Limit)
		require.Equal(t, 4-i, d.Remaining)
	}
	d, _ := m.Allow(ctx, "k", l)
	require.False(t, d.Allowed, "the 6th request at the same instant")
	require.Equal(t, 0, d.Remaining)
	require.Equal(t, time.Second, d.RetryAfter)
	require.Equal(t, 5*time.Second, d.Reset, "five requests take five seconds to come back")

	// Another key is not affected.
	d, _ = m.Allow(ctx, "other", l)
	require.True(t, d.Allowed)

	// 999 ms later still refused; at 1 s exactly one more.
	clk.Add(999 * time.Millisecond)
	d, _ = m.Allow(ctx, "k", l)
	require.False(t, d.Allowed)
	require.Equal(t, time.Millisecond, d.RetryAfter)
	clk.Add(time.Millisecond)
	d, _ = m.Allow(ctx, "k", l)
	require.True(t, d.Allowed)
	require.Equal(t, 0, d.Remaining)
	d, _ = m.Allow(ctx, "k", l)
	require.False(t, d.Allowed)

	// After 5 s the bucket is full again: a whole burst passes.
	clk.Add(5 * time.Second)
	for range 5 {
		d, _ = m.Allow(ctx, "k", l)
		require.True(t, d.Allowed)
	}
	d, _ = m.Allow(ctx, "k", l)
	require.False(t, d.Allowed)
}

func TestMemoryHourLimit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &clock{now: t0}
	m := NewMemory(clk.Now)
	l := rules.Limit{PerMinute: 600, PerHour: 20, Burst: 100} // the hour limit binds
	for range 20 {
		d, _ := m.Allow(ctx, "k", l)
		require.True(t, d.Allowed)
	}
	d, _ := m.Allow(ctx, "k", l)
	require.False(t, d.Allowed)
	require.Equal(t, 20, d.Limit, "the hour bucket is the one reported")
	require.Equal(t, 3*time.Minute, d.RetryAfter, "20 an hour: one every 3 minutes")
	clk.Add(3 * time.Minute)
	d, _ = m.Allow(ctx, "k", l)
	require.True(t, d.Allowed)
}

func TestMemorySweepsFullBuckets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &clock{now: t0}
	m := NewMemory(clk.Now)
	l := rules.Limit{PerMinute: 60, PerHour: 3600, Burst: 5}
	for i := range 1000 {
		_, _ = m.Allow(ctx, fmt.Sprintf("old-%d", i), l)
	}
	require.Equal(t, 1000, m.Len())
	clk.Add(2 * time.Minute) // every bucket full again, and a sweep is due
	// 1000 new keys touch every one of the 64 shards (all but certainly), each sweeping once.
	for i := range 1000 {
		_, _ = m.Allow(ctx, fmt.Sprintf("new-%d", i), l)
	}
	require.Equal(t, 1000, m.Len(), "the old keys, whose buckets are full, are dropped")
}

func TestMemoryConcurrentAllowsExactlyTheBurst(t *testing.T) {
	t.Parallel()
	m := NewMemory(func() time.Time { return t0 })
	l := rules.Limit{PerMinute: 1, PerHour: 1000, Burst: 50}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		allowed int
	)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				d, _ := m.Allow(context.Background(), "k", l)
				if d.Allowed {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	require.Equal(t, 50, allowed)
}
