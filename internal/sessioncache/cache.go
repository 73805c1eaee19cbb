// Package sessioncache keeps the sessions this instance has verified, so that a request's token
// check costs no database round trip in the steady state.
//
// Entries are keyed by the token's SHA-256 and hold the principal the database returned. They are
// dropped on every instance by NOTIFY on Channel (migration 00008: a session ended, a user's role,
// active flag, password, email, name or judge link changed, a tenant was deactivated), and after a
// short TTL in case a notification is lost. While the LISTEN connection is down the cache is not
// used at all (fail closed: every check goes to the database), since a revocation could be missed.
// Failed checks are never cached: a flood of bad tokens cannot grow the cache.
package sessioncache

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/pglisten"
)

// Channel is the NOTIFY channel of migration 00008's triggers. The payload is "u:<user id>" or
// "t:<tenant id>"; anything else flushes the whole cache.
const Channel = "auth_sessions"

// Defaults of Options.
const (
	DefaultSize = 10000
	DefaultTTL  = 30 * time.Second
)

// Source verifies a session in the database: the principal of a valid, unexpired session whose
// user and tenant are active, with the session's expiry, or an error (db.ErrNotFound when the
// token is no valid session).
type Source interface {
	SessionByHash(ctx context.Context, tokenHash []byte) (auth.Principal, time.Time, error)
}

// Options size the cache.
type Options struct {
	// Size is the most entries kept (0: DefaultSize); past it, an arbitrary entry makes room.
	Size int
	// TTL is how long a verified session is trusted without asking the database again; 0 turns
	// the cache off.
	TTL time.Duration
}

// Cache is safe for concurrent use.
type Cache struct {
	src  Source
	size int
	ttl  time.Duration
	now  func() time.Time
	live func() bool

	mu      sync.RWMutex
	gen     uint64 // bumped by every invalidation: a load that started before it is not kept
	entries map[string]entry
}

type entry struct {
	p        auth.Principal
	expires  time.Time // the session's own expiry
	storedAt time.Time
}

// New returns a cache over src. It serves nothing until UseListener names a live invalidation
// channel: without one, every check goes to src.
func New(src Source, o Options) *Cache {
	if o.Size <= 0 {
		o.Size = DefaultSize
	}
	return &Cache{src: src, size: o.Size, ttl: o.TTL, now: time.Now, live: func() bool { return false },
		entries: make(map[string]entry)}
}

// Listen has l keep the cache current (each notification on Channel; a flush whenever some may
// have been missed) and makes the cache serve entries only while l is listening. Call it before
// l.Run and before the cache is used.
func (c *Cache) Listen(l *pglisten.Listener) {
	l.Handle(Channel, pglisten.Handler{Notify: c.Invalidate, Resync: c.Flush})
	c.UseListener(l)
}

// UseListener makes the cache serve entries only while l reports that notifications reach it.
func (c *Cache) UseListener(l interface{ Listening() bool }) { c.live = l.Listening }

// Authenticate returns the principal of token, from the cache or from the database.
func (c *Cache) Authenticate(ctx context.Context, token string) (auth.Principal, error) {
	h := auth.HashToken(token)
	if p, ok := c.Get(h); ok {
		return p, nil
	}
	return c.Load(ctx, h)
}

// Get returns the cached principal of a token hash, if the cache may be trusted and holds it.
func (c *Cache) Get(tokenHash []byte) (auth.Principal, bool) {
	if c.ttl <= 0 || !c.live() {
		return auth.Principal{}, false
	}
	c.mu.RLock()
	e, ok := c.entries[string(tokenHash)]
	c.mu.RUnlock()
	if !ok {
		return auth.Principal{}, false
	}
	now := c.now()
	if !now.Before(e.expires) || now.Sub(e.storedAt) >= c.ttl {
		return auth.Principal{}, false
	}
	return e.p, true
}

// Load verifies a token hash in the database and keeps the answer if it is a valid session, the
// invalidation channel was live throughout and nothing was invalidated meanwhile (the load may have
// read the rows before the change).
func (c *Cache) Load(ctx context.Context, tokenHash []byte) (auth.Principal, error) {
	gen, live := c.generation(), c.ttl > 0 && c.live()
	p, expires, err := c.src.SessionByHash(ctx, tokenHash)
	if err != nil || !live {
		return p, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return p, nil
	}
	key := string(tokenHash)
	if _, ok := c.entries[key]; !ok && len(c.entries) >= c.size {
		c.evictOne()
	}
	c.entries[key] = entry{p: p, expires: expires, storedAt: c.now()}
	return p, nil
}

// evictOne drops an expired entry if the first few looked at hold one, else an arbitrary one (map
// iteration starts at a random place). The caller holds mu.
func (c *Cache) evictOne() {
	now := c.now()
	var victim string
	looked := 0
	for k, e := range c.entries {
		victim = k
		if !now.Before(e.expires) || now.Sub(e.storedAt) >= c.ttl {
			break
		}
		if looked++; looked == 8 {
			break
		}
	}
	delete(c.entries, victim)
}

func (c *Cache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// Forget drops one token at once, on the instance that ended its session (the notification
// follows for the others).
func (c *Cache) Forget(tokenHash []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.entries, string(tokenHash))
}

// Invalidate handles one notification: it drops the entries of a user ("u:<id>") or of a tenant
// ("t:<id>"); any other payload drops everything.
func (c *Cache) Invalidate(payload string) {
	kind, id, _ := strings.Cut(payload, ":")
	if id == "" || kind != "u" && kind != "t" {
		c.Flush()
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for k, e := range c.entries {
		if kind == "u" && e.p.UserID == id || kind == "t" && e.p.TenantID == id {
			delete(c.entries, k)
		}
	}
}

// Flush drops everything: when notifications may have been missed.
func (c *Cache) Flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.entries = make(map[string]entry)
}

// Len is the number of entries held.
func (c *Cache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}
