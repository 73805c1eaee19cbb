package ratelimit

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestFailuresBlockAnAddressPastItsAllowance(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &clock{now: t0}
	f := NewFailures(NewMemory(clk.Now), 6) // one failure every 10 s, bursts of 6
	f.now = clk.Now
	for i := range 6 {
		_, blocked := f.Blocked("192.0.2.1")
		require.False(t, blocked)
		_, over := f.Fail(ctx, "192.0.2.1")
		require.False(t, over, "failure %d is within the burst", i+1)
	}
	retry, over := f.Fail(ctx, "192.0.2.1")
	require.True(t, over)
	require.Equal(t, 10*time.Second, retry)
	left, blocked := f.Blocked("192.0.2.1")
	require.True(t, blocked)
	require.Equal(t, 10*time.Second, left)
	_, blocked = f.Blocked("192.0.2.2")
	require.False(t, blocked, "another address is not affected")

	clk.Add(10 * time.Second)
	_, blocked = f.Blocked("192.0.2.1")
	require.False(t, blocked, "after Retry-After")
	_, over = f.Fail(ctx, "192.0.2.1")
	require.False(t, over, "one more failure has come back")
}

// A flood from many addresses keeps at most maxBlocked of them in memory.
func TestFailuresRememberABoundedNumberOfAddresses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := NewFailures(NewMemory(nil), 1)
	for i := range maxBlocked + 500 {
		addr := "10." + strconv.Itoa(i>>16&255) + "." + strconv.Itoa(i>>8&255) + "." + strconv.Itoa(i&255)
		f.Fail(ctx, addr)
		_, over := f.Fail(ctx, addr)
		require.True(t, over)
	}
	f.mu.Lock()
	n := len(f.blocked)
	f.mu.Unlock()
	require.LessOrEqual(t, n, maxBlocked)
}
