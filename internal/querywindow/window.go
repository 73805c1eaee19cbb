package querywindow

import (
	"math"
	"math/bits"
	"sync"
	"time"

	"github.com/eventmanager/eventmanager/internal/db"
)

// The rolling window is a ring of slots per class, each slot a fixed-bucket histogram of the
// queries that ended in one 10-second interval. A read merges the slots of the last 5 minutes;
// a write finds its slot from the clock and clears it when it still holds an interval that has
// left the window. So the window holds between 4 min 50 s and 5 min of queries, and costs neither
// a goroutine nor any work while no queries run.
const (
	// Length is how far back the rolling window reaches.
	Length      = windowSlots * slotWidth
	windowSlots = 30
	slotWidth   = 10 * time.Second
)

// Buckets are log-linear in microseconds, as in HDR histograms: exact below 16 µs, then 16 buckets
// per power of two. A bucket is at most 1/16 of its lower bound wide, and a quantile is reported
// as the middle of its bucket, so it is within 3.2 % of the true value (of a sample that was
// observed: the quantile itself is the nearest-rank one). Durations of 2^26 µs (67 s) and more
// share the last bucket. 368 buckets of 4 bytes: 1.5 KB per slot, 180 KB for the whole window.
const (
	subBits     = 4
	subBuckets  = 1 << subBits
	maxExponent = 26 // first power of two (in µs) that is not resolved any more
	bucketCount = subBuckets * (maxExponent - subBits + 1)
)

// Window keeps the query latencies of the last five minutes per class. It is safe for concurrent
// use; the zero value is not usable, call New.
type Window struct {
	// clock returns the time in nanoseconds since the Unix epoch. It reads the monotonic clock
	// (time.Since): half the cost of time.Now, and immune to the wall clock being set.
	clock   func() int64
	classes [classCount]classWindow
}

// classCount is the number of rings: db.Simple to db.Report, which are consecutive.
const classCount = int(db.Report-db.Simple) + 1

type classWindow struct {
	// A mutex per class: a write is a few nanoseconds of work, and queries of different classes
	// never wait for each other.
	mu    sync.Mutex
	slots [windowSlots]slot
}

type slot struct {
	interval int64 // which 10-second interval since the Unix epoch the slot holds
	count    uint32
	timeouts uint32
	buckets  [bucketCount]uint32
}

// New returns an empty window.
func New() *Window {
	start := time.Now()
	base := start.UnixNano()
	return &Window{clock: func() int64 { return base + int64(time.Since(start)) }}
}

func (w *Window) ring(c db.Class) *classWindow {
	if !c.Valid() {
		return nil
	}
	return &w.classes[c-db.Simple]
}

// Observe records one query of class c that took d; timedOut says it reached its deadline.
func (w *Window) Observe(c db.Class, d time.Duration, timedOut bool) {
	cw := w.ring(c)
	if cw == nil {
		return
	}
	interval := w.clock() / int64(slotWidth)
	b := bucketOf(d)
	cw.mu.Lock()
	s := &cw.slots[interval%windowSlots]
	if s.interval != interval {
		*s = slot{interval: interval}
	}
	s.count++
	if timedOut {
		s.timeouts++
	}
	s.buckets[b]++
	cw.mu.Unlock()
}

// Latency is what the window knows about one class.
type Latency struct {
	Count    uint64 // queries that ended in the window
	Timeouts uint64 // of which reached their class deadline
	// Nearest-rank percentiles, within 3.2 %; zero when Count is zero.
	P50, P95, P99 time.Duration
}

// Latency returns the counts and percentiles of class c over the window.
func (w *Window) Latency(c db.Class) Latency {
	cw := w.ring(c)
	if cw == nil {
		return Latency{}
	}
	now := w.clock() / int64(slotWidth)
	var (
		merged [bucketCount]uint64
		l      Latency
	)
	cw.mu.Lock()
	for i := range cw.slots {
		s := &cw.slots[i]
		if s.count == 0 || s.interval > now || s.interval <= now-windowSlots {
			continue
		}
		l.Count += uint64(s.count)
		l.Timeouts += uint64(s.timeouts)
		for b, n := range s.buckets {
			merged[b] += uint64(n)
		}
	}
	cw.mu.Unlock()
	if l.Count == 0 {
		return l
	}
	l.P50 = quantile(&merged, l.Count, 0.50)
	l.P95 = quantile(&merged, l.Count, 0.95)
	l.P99 = quantile(&merged, l.Count, 0.99)
	return l
}

// quantile returns the nearest-rank q-quantile of the n samples in buckets.
func quantile(buckets *[bucketCount]uint64, n uint64, q float64) time.Duration {
	rank := uint64(math.Ceil(q * float64(n)))
	rank = max(rank, 1)
	var seen uint64
	for b, c := range buckets {
		seen += c
		if seen >= rank {
			return bucketMiddle(b)
		}
	}
	return bucketMiddle(bucketCount - 1)
}

// bucketOf returns the bucket of duration d.
func bucketOf(d time.Duration) int {
	us := d.Microseconds()
	if us < subBuckets {
		return int(max(us, 0))
	}
	e := bits.Len64(uint64(us)) - 1 // us is in [2^e, 2^(e+1))
	if e >= maxExponent {
		return bucketCount - 1
	}
	sub := int(us>>(e-subBits)) - subBuckets
	return subBuckets*(e-subBits+1) + sub
}

// bucketMiddle is the duration in the middle of bucket b.
func bucketMiddle(b int) time.Duration {
	group, sub := b/subBuckets, b%subBuckets
	if group == 0 {
		return time.Duration(b) * time.Microsecond
	}
	width := int64(1) << (group - 1)
	lower := int64(subBuckets+sub) << (group - 1)
	return time.Duration(lower*1000 + width*500) // µs to ns, plus half the width
}
