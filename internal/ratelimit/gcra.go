package ratelimit

import (
	"context"
	"time"

	"github.com/eventmanager/eventmanager/internal/ratelimit/rules"
)

// Decision is the answer for one request, with what the RateLimit-* headers report: the bucket
// closest to empty (the minute bucket, rules.Limit = Burst, or the hour bucket, rules.Limit = PerHour).
type Decision struct {
	Allowed    bool
	Limit      int
	Remaining  int
	Reset      time.Duration // until the reported bucket is full again
	RetryAfter time.Duration // when refused: until a request would be allowed
}

// Limiter counts requests per key. Allow takes one request from key's buckets if both allow it,
// atomically. Implementations are safe for concurrent use.
type Limiter interface {
	Allow(ctx context.Context, key string, l rules.Limit) (Decision, error)
}

// The counting is GCRA (the generic cell rate algorithm), a token bucket kept as one number per
// bucket: the theoretical arrival time (TAT) of the next request at the sustained rate. A request
// at now is allowed when max(TAT, now) + interval - now <= interval × capacity; it then moves TAT
// to max(TAT, now) + interval. A key whose TAT is in the past holds a full bucket, so it need not
// be stored. Times are whole microseconds so that the Redis script (Lua numbers are doubles) counts
// exactly as the process does.

// bucket is one GCRA bucket: interval between requests at the sustained rate, and capacity.
type bucket struct {
	interval int64 // µs
	capacity int64
}

// buckets are the minute bucket (capacity Burst) and the hour bucket (capacity PerHour). An
// interval is at least 1 µs: rates above 60 million a minute count as 60 million.
func buckets(l rules.Limit) [2]bucket {
	return [2]bucket{
		{interval: max(int64(time.Minute/time.Microsecond)/int64(max(l.PerMinute, 1)), 1), capacity: int64(max(l.Burst, 1))},
		{interval: max(int64(time.Hour/time.Microsecond)/int64(max(l.PerHour, 1)), 1), capacity: int64(max(l.PerHour, 1))},
	}
}

// take decides one request against both buckets with their stored TATs (µs; 0 = full). It returns
// the new TATs, which the caller stores only when the request is allowed.
func take(now int64, l rules.Limit, tats [2]int64) (Decision, [2]int64) {
	bs := buckets(l)
	var (
		next    [2]int64
		d       = Decision{Allowed: true, Remaining: -1}
		retryUs int64
	)
	for i, b := range bs {
		tat := max(tats[i], now)
		next[i] = tat + b.interval
		horizon := b.interval * b.capacity
		if used := next[i] - now; used > horizon {
			d.Allowed = false
			retryUs = max(retryUs, used-horizon)
		}
	}
	// Report the bucket with fewest requests left (after this one, when allowed).
	for i, b := range bs {
		tat := next[i]
		if !d.Allowed {
			tat = max(tats[i], now)
		}
		remaining := max((b.interval*b.capacity-(tat-now))/b.interval, 0)
		if d.Remaining < 0 || int(remaining) < d.Remaining {
			d.Remaining, d.Limit = int(remaining), int(b.capacity)
			d.Reset = time.Duration(tat-now) * time.Microsecond
		}
	}
	d.RetryAfter = time.Duration(retryUs) * time.Microsecond
	return d, next
}
