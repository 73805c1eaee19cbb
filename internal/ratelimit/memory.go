package ratelimit

import (
	"context"
	"hash/maphash"
	"sync"
	"time"

	"github.com/eventmanager/eventmanager/internal/ratelimit/rules"
)

// Memory counts in process: the limit of one instance. It is the limiter without REDIS_URL and the
// fallback when Redis is unreachable.
type Memory struct {
	now    func() time.Time
	seed   maphash.Seed
	shards [64]memoryShard
}

type memoryShard struct {
	mu        sync.Mutex
	tats      map[string][2]int64
	lastSweep int64
}

// sweepEvery is how often a shard drops keys whose buckets are full again (they count as absent).
const sweepEvery = int64(time.Minute / time.Microsecond)

// NewMemory returns an in-process limiter. now is the clock (time.Now when nil); tests pass their own.
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	m := &Memory{now: now, seed: maphash.MakeSeed()}
	for i := range m.shards {
		m.shards[i].tats = make(map[string][2]int64)
	}
	return m
}

// Allow never fails.
func (m *Memory) Allow(_ context.Context, key string, l rules.Limit) (Decision, error) {
	now := m.now().UnixMicro()
	sh := &m.shards[maphash.String(m.seed, key)%uint64(len(m.shards))]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	d, next := take(now, l, sh.tats[key])
	if d.Allowed {
		sh.tats[key] = next
	}
	if now-sh.lastSweep > sweepEvery {
		sh.lastSweep = now
		for k, t := range sh.tats {
			if t[0] <= now && t[1] <= now {
				delete(sh.tats, k)
			}
		}
	}
	return d, nil
}

// Len is the number of keys held, for tests of the sweep.
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		m.shards[i].mu.Lock()
		n += len(m.shards[i].tats)
		m.shards[i].mu.Unlock()
	}
	return n
}
