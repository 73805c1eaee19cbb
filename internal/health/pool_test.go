package health_test

import (
	"context"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/health"
	"github.com/stretchr/testify/require"
)

func TestPoolSamplerSummary(t *testing.T) {
	t.Parallel()
	s := health.NewPoolSampler(4)
	avg, peak, n := s.Summary()
	require.Zero(t, n)
	require.Zero(t, avg)
	require.Zero(t, peak)
	for _, u := range []float64{1, 0.2, 0.4, 0.6, 0.8} { // the first falls out of the ring
		s.Record(u)
	}
	avg, peak, n = s.Summary()
	require.Equal(t, 4, n)
	require.InDelta(t, 0.5, avg, 1e-9)
	require.InDelta(t, 0.8, peak, 1e-9)
}

// A busy average warns and a past peak fails, although the pool is idle now.
func TestPoolHistoryWarnsAndFails(t *testing.T) {
	t.Parallel()
	d, _ := open(t, 10)
	ctx := context.Background()

	busy := health.NewPoolSampler(10)
	for range 10 {
		busy.Record(0.8)
	}
	p := check(t, health.New(d, nil, health.Thresholds{}).WithPoolSampler(busy).Run(ctx), "pool")
	require.Equal(t, health.Warn, p.Status, "%+v", p)

	spike := health.NewPoolSampler(10)
	spike.Record(0.95)
	for range 9 {
		spike.Record(0)
	}
	p = check(t, health.New(d, nil, health.Thresholds{}).WithPoolSampler(spike).Run(ctx), "pool")
	require.Equal(t, health.Fail, p.Status, "%+v", p)

	quiet := health.NewPoolSampler(10)
	quiet.Record(0.1)
	p = check(t, health.New(d, nil, health.Thresholds{}).WithPoolSampler(quiet).Run(ctx), "pool")
	require.Equal(t, health.OK, p.Status, "%+v", p)
}

func TestPoolSamplerRun(t *testing.T) {
	t.Parallel()
	d, _ := open(t, 10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	conn, err := d.Pool().Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	s := health.NewPoolSampler(100)
	go s.Run(ctx, d, 5*time.Millisecond)
	require.Eventually(t, func() bool {
		_, peak, n := s.Summary()
		return n > 0 && peak >= 0.1
	}, 2*time.Second, 5*time.Millisecond)
}
