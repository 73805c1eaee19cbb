package querywindow

import (
	"math/rand/v2"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/stretchr/testify/require"
)

// Every duration lands in a bucket whose middle is within 1/32 of it (exactly, below 16 µs), and
// buckets grow with the duration.
func TestBuckets(t *testing.T) {
	t.Parallel()
	prev := -1
	for us := int64(0); us < 1<<maxExponent; us = us + 1 + us/97 {
		d := time.Duration(us) * time.Microsecond
		b := bucketOf(d)
		require.GreaterOrEqual(t, b, prev, "buckets must not go down at %s", d)
		require.Less(t, b, bucketCount)
		prev = b
		mid := bucketMiddle(b)
		if us < subBuckets {
			require.Equal(t, d, mid)
			continue
		}
		require.InEpsilon(t, float64(d), float64(mid), 1.0/32+1e-9, "%s in bucket %d (middle %s)", d, b, mid)
	}
	require.Equal(t, bucketCount-1, bucketOf(time.Hour))
	require.Equal(t, 0, bucketOf(-time.Second))
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }
func newClock() *clock               { return &clock{t: time.Unix(1_800_000_000, 0)} }
func windowAt(c *clock) *Window      { return &Window{clock: func() int64 { return c.now().UnixNano() }} }
func ms(n float64) time.Duration     { return time.Duration(n * float64(time.Millisecond)) }
func near(t *testing.T, want, got time.Duration) {
	t.Helper()
	require.InEpsilon(t, float64(want), float64(got), 0.033, "want about %s, got %s", want, got)
}

// The percentiles of a known sample are within the documented 3.2 %.
func TestWindowPercentiles(t *testing.T) {
	t.Parallel()
	c := newClock()
	w := windowAt(c)
	// 1 ms .. 1000 ms, shuffled, spread over a minute.
	values := make([]time.Duration, 1000)
	for i := range values {
		values[i] = ms(float64(i + 1))
	}
	rand.Shuffle(len(values), func(i, j int) { values[i], values[j] = values[j], values[i] })
	for i, v := range values {
		w.Observe(db.Standard, v, i%100 == 0)
		if i%20 == 0 {
			c.add(time.Second)
		}
	}
	l := w.Latency(db.Standard)
	require.EqualValues(t, 1000, l.Count)
	require.EqualValues(t, 10, l.Timeouts)
	near(t, ms(500), l.P50)
	near(t, ms(950), l.P95)
	near(t, ms(990), l.P99)
	// Other classes are untouched.
	require.Zero(t, w.Latency(db.Simple).Count)
	require.Zero(t, w.Latency(db.Simple).P99)
}

// The window forgets what is older than five minutes, slot by slot.
func TestWindowRolls(t *testing.T) {
	t.Parallel()
	c := newClock()
	w := windowAt(c)
	for range 100 {
		w.Observe(db.Simple, ms(100), false) // old and slow
	}
	c.add(2 * time.Minute)
	for range 100 {
		w.Observe(db.Simple, ms(1), false) // recent and fast
	}
	l := w.Latency(db.Simple)
	require.EqualValues(t, 200, l.Count)
	near(t, ms(100), l.P99)

	c.add(3*time.Minute + slotWidth) // the first batch has left the window
	l = w.Latency(db.Simple)
	require.EqualValues(t, 100, l.Count)
	near(t, ms(1), l.P99)

	c.add(2 * time.Minute)
	require.Zero(t, w.Latency(db.Simple).Count)

	// A slot is reused for a new interval: the old counts are gone.
	for range 3 {
		w.Observe(db.Simple, ms(7), false)
	}
	l = w.Latency(db.Simple)
	require.EqualValues(t, 3, l.Count)
	near(t, ms(7), l.P50)
}

// The window holds from 4 min 50 s to 5 min of queries, depending on where in its 10 s slot "now" is.
func TestWindowEdges(t *testing.T) {
	t.Parallel()
	c := newClock() // at the start of a slot
	w := windowAt(c)
	w.Observe(db.Report, time.Second, false)
	c.add(Length - time.Nanosecond)
	require.EqualValues(t, 1, w.Latency(db.Report).Count)
	c.add(time.Nanosecond)
	require.Zero(t, w.Latency(db.Report).Count)
}

func TestWindowIgnoresUnknownClass(t *testing.T) {
	t.Parallel()
	w := New()
	w.Observe(db.Class(0), time.Second, false)
	w.Observe(db.Class(200), time.Second, false)
	require.Zero(t, w.Latency(db.Class(0)).Count)
	for _, c := range db.Classes() {
		require.Zero(t, w.Latency(c).Count)
	}
}

// Writers and readers at once, for the race detector; nothing is lost.
func TestWindowConcurrent(t *testing.T) {
	t.Parallel()
	w := New()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				w.Observe(db.Classes()[g%4], time.Duration(i)*time.Microsecond, false)
				if i%100 == 0 {
					_ = w.Latency(db.Classes()[(g+1)%4])
				}
			}
		})
	}
	wg.Wait()
	var total uint64
	for _, c := range db.Classes() {
		total += w.Latency(c).Count
	}
	// The run takes milliseconds: every observation is still in the window.
	require.EqualValues(t, 8000, total)
}

// Against the exact nearest-rank percentile of a skewed (log-normal-like) sample.
func TestWindowAgainstExact(t *testing.T) {
	t.Parallel()
	w := New()
	r := rand.New(rand.NewPCG(1, 2))
	sample := make([]time.Duration, 5000)
	for i := range sample {
		sample[i] = time.Duration(float64(time.Millisecond) * (0.2 + r.ExpFloat64()*r.ExpFloat64()*20))
		w.Observe(db.Complex, sample[i], false)
	}
	sort.Slice(sample, func(i, j int) bool { return sample[i] < sample[j] })
	exact := func(q float64) time.Duration { return sample[int(q*float64(len(sample)))-1] }
	l := w.Latency(db.Complex)
	near(t, exact(0.50), l.P50)
	near(t, exact(0.95), l.P95)
	near(t, exact(0.99), l.P99)
}

func BenchmarkWindowObserve(b *testing.B) {
	w := New()
	for i := 0; b.Loop(); i++ {
		w.Observe(db.Standard, time.Duration(i%5000)*time.Microsecond, false)
	}
}

func BenchmarkWindowObserveParallel(b *testing.B) {
	w := New()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			w.Observe(db.Standard, time.Duration(i%5000)*time.Microsecond, false)
			i++
		}
	})
}

// A read of a full window: 30 slots to merge.
func BenchmarkWindowLatency(b *testing.B) {
	c := newClock()
	w := windowAt(c)
	for i := range 30_000 {
		w.Observe(db.Standard, time.Duration(i%5000)*time.Microsecond, false)
		if i%1000 == 999 {
			c.add(slotWidth)
		}
	}
	c.add(-slotWidth)
	if n := w.Latency(db.Standard).Count; n != 30_000 {
		b.Fatalf("window holds %d, want 30000", n)
	}
	for b.Loop() {
		_ = w.Latency(db.Standard)
	}
}
