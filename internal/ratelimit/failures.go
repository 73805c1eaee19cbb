package ratelimit

import (
	"context"
	"sync"
	"time"

	"github.com/eventmanager/eventmanager/internal/ratelimit/rules"
)

// Failures limits failed credential checks per client address, so that a flood of bogus tokens
// cannot keep the pool busy with lookups. Failures are counted in the limiter (Redis, shared by the
// instances, or in process); once an address has used up its allowance, Blocked refuses it in
// process until its Retry-After has passed, before any database lookup.
type Failures struct {
	limiter Limiter
	limit   rules.Limit
	now     func() time.Time

	mu      sync.Mutex
	blocked map[string]time.Time // address → refused until
}

// maxBlocked bounds the addresses remembered as blocked; past it, expired ones are dropped, then
// arbitrary ones (a client with that many addresses is not stopped by one per address anyway).
const maxBlocked = 10000

// NewFailures returns a limiter of perMinute failures per address (bursts of as many).
func NewFailures(limiter Limiter, perMinute int) *Failures {
	return &Failures{limiter: limiter, limit: rules.Limit{PerMinute: perMinute, PerHour: perMinute * 60, Burst: perMinute},
		now: time.Now, blocked: make(map[string]time.Time)}
}

// Blocked reports whether address is refused now, and for how long.
func (f *Failures) Blocked(address string) (time.Duration, bool) {
	f.mu.Lock()
	until, ok := f.blocked[address]
	f.mu.Unlock()
	if !ok {
		return 0, false
	}
	if left := until.Sub(f.now()); left > 0 {
		return left, true
	}
	return 0, false
}

// Fail counts one failed check of address. It reports whether the address is over its allowance
// and for how long it is refused; a limiter error counts as allowed (the check already happened).
func (f *Failures) Fail(ctx context.Context, address string) (time.Duration, bool) {
	d, err := f.limiter.Allow(ctx, "auth-failures|ip:"+address, f.limit)
	if err != nil || d.Allowed {
		return 0, false
	}
	now := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.blocked[address]; !ok && len(f.blocked) >= maxBlocked {
		for a, until := range f.blocked {
			if !until.After(now) {
				delete(f.blocked, a)
			}
		}
		for a := range f.blocked {
			if len(f.blocked) < maxBlocked {
				break
			}
			delete(f.blocked, a)
		}
	}
	f.blocked[address] = now.Add(d.RetryAfter)
	return d.RetryAfter, true
}

// Limiter is where the enforcer counts, for limits of other kinds to count in the same place.
func (e *Enforcer) Limiter() Limiter { return e.limiter }
