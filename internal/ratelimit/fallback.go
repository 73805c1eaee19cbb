package ratelimit

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/eventmanager/eventmanager/internal/ratelimit/rules"
)

// Fallback counts in primary (Redis) and, while primary fails, in process: the service keeps
// limiting, per instance, instead of failing requests or letting them all through. While primary is
// down it is tried again at most once per probeEvery, by one request, and used again as soon as it
// answers. The outage is logged once when it starts and once when it ends.
type Fallback struct {
	primary  Limiter
	local    Limiter
	log      *slog.Logger
	now      func() time.Time
	onLocal  func() // counts a request decided in process because primary failed
	mu       sync.Mutex
	down     bool
	probeAt  time.Time
	probing  bool
	failures int
}

// probeEvery bounds how often a request waits on an unreachable primary.
const probeEvery = time.Second

// NewFallback returns a limiter over primary that falls back to local. onLocal (may be nil) is
// called for every request decided by local because primary was unreachable.
func NewFallback(primary, local Limiter, log *slog.Logger, onLocal func()) *Fallback {
	if log == nil {
		log = slog.Default()
	}
	if onLocal == nil {
		onLocal = func() {}
	}
	return &Fallback{primary: primary, local: local, log: log, now: time.Now, onLocal: onLocal}
}

// Degraded reports whether requests are counted in process now.
func (f *Fallback) Degraded() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.down
}

// Allow never fails while local does not.
func (f *Fallback) Allow(ctx context.Context, key string, l rules.Limit) (Decision, error) {
	if f.usePrimary() {
		d, err := f.primary.Allow(ctx, key, l)
		if err == nil {
			f.up()
			return d, nil
		}
		switch {
		case ctx.Err() != nil: // the client went away: not Redis's fault
			f.endProbe()
			return f.local.Allow(ctx, key, l)
		case errors.Is(err, ErrBusy):
			// Every connection to Redis is in use this instant: no outage, so not counted as a
			// fallback either (the metric is alerted on as "Redis unreachable").
			f.endProbe()
			return f.local.Allow(ctx, key, l)
		default:
			f.fail(err)
		}
	}
	f.onLocal()
	return f.local.Allow(ctx, key, l)
}

// usePrimary is true while primary is up, and for one request per probeEvery while it is down.
func (f *Fallback) usePrimary() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.down {
		return true
	}
	if f.probing || f.now().Before(f.probeAt) {
		return false
	}
	f.probing = true
	return true
}

// endProbe lets another request probe: this one told nothing about Redis.
func (f *Fallback) endProbe() {
	f.mu.Lock()
	f.probing = false
	f.mu.Unlock()
}

func (f *Fallback) up() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		f.log.Info("rate limits: Redis is reachable again; counting in Redis", "failed_probes", f.failures)
	}
	f.down, f.probing, f.failures = false, false, 0
}

func (f *Fallback) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.down {
		f.log.Warn("rate limits: Redis is unreachable; counting in process until it returns", "error", err.Error())
	}
	f.down, f.probing = true, false
	f.failures++
	f.probeAt = f.now().Add(probeEvery)
}
