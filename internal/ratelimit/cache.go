package ratelimit

import (
	"context"
	"sync"
	"time"

	"github.com/eventmanager/eventmanager/internal/ratelimit/rules"
	"golang.org/x/sync/singleflight"
)

// Source loads limits from the database. Row-level security shows a tenant's rows only in its
// scope, so loads are per tenant.
type Source interface {
	// TenantLimits loads tenant id's limits; found is false when no such tenant exists.
	TenantLimits(ctx context.Context, tenantID string) (l rules.TenantLimits, found bool, err error)
	// TenantLimitsBySlug is rules.TenantLimits for the tenant of a slug (sign-in).
	TenantLimitsBySlug(ctx context.Context, slug string) (l rules.TenantLimits, found bool, err error)
	// GlobalLimits loads the global rows only.
	GlobalLimits(ctx context.Context) ([]rules.Config, error)
}

// Cache keeps rules.TenantLimits in process so that a request costs no query. Entries are dropped by
// Invalidate (a NOTIFY from any instance, or this instance's own admin change) and, as a safety
// net for a missed notification, after maxAge.
type Cache struct {
	src    Source
	maxAge time.Duration
	now    func() time.Time

	mu      sync.RWMutex
	gen     uint64 // bumped by every invalidation: a load that started before it is not kept
	tenants map[string]cacheEntry
	slugs   map[string]string // slug → tenant id, for sign-in
	global  *cacheEntry       // the global rows, for unknown tenants
	loads   singleflight.Group
}

type cacheEntry struct {
	limits   rules.TenantLimits
	loadedAt time.Time
}

// DefaultMaxAge bounds how long a cached entry lives if a notification is lost.
const DefaultMaxAge = 5 * time.Minute

// NewCache returns an empty cache over src.
func NewCache(src Source, maxAge time.Duration) *Cache {
	if maxAge <= 0 {
		maxAge = DefaultMaxAge
	}
	return &Cache{src: src, maxAge: maxAge, now: time.Now, tenants: map[string]cacheEntry{}, slugs: map[string]string{}}
}

// Tenant returns the limits of tenant id, loading them on a miss (one load at a time per tenant).
func (c *Cache) Tenant(ctx context.Context, id string) (rules.TenantLimits, error) {
	c.mu.RLock()
	e, ok := c.tenants[id]
	c.mu.RUnlock()
	if ok && c.now().Sub(e.loadedAt) < c.maxAge {
		return e.limits, nil
	}
	v, err, _ := c.loads.Do("id:"+id, func() (any, error) {
		gen := c.generation()
		l, found, err := c.src.TenantLimits(context.WithoutCancel(ctx), id)
		if err != nil {
			return rules.TenantLimits{}, err
		}
		if !found { // deleted meanwhile: the global rows, not cached under the id
			return c.globalLimits(ctx)
		}
		c.store(gen, l, "")
		return l, nil
	})
	if err != nil {
		return rules.TenantLimits{}, err
	}
	return v.(rules.TenantLimits), nil
}

// TenantBySlug returns the limits of the tenant of slug; for a slug of no tenant, the global rows
// with an empty TenantID. Unknown slugs are not cached (they would let a client fill the memory);
// their load is one simple query, as the sign-in that follows.
func (c *Cache) TenantBySlug(ctx context.Context, slug string) (rules.TenantLimits, error) {
	c.mu.RLock()
	id, ok := c.slugs[slug]
	c.mu.RUnlock()
	if ok {
		return c.Tenant(ctx, id)
	}
	v, err, _ := c.loads.Do("slug:"+slug, func() (any, error) {
		gen := c.generation()
		l, found, err := c.src.TenantLimitsBySlug(context.WithoutCancel(ctx), slug)
		if err != nil {
			return rules.TenantLimits{}, err
		}
		if !found {
			return c.globalLimits(ctx)
		}
		c.store(gen, l, slug)
		return l, nil
	})
	if err != nil {
		return rules.TenantLimits{}, err
	}
	return v.(rules.TenantLimits), nil
}

func (c *Cache) globalLimits(ctx context.Context) (rules.TenantLimits, error) {
	c.mu.RLock()
	g := c.global
	c.mu.RUnlock()
	if g != nil && c.now().Sub(g.loadedAt) < c.maxAge {
		return g.limits, nil
	}
	gen := c.generation()
	cfgs, err := c.src.GlobalLimits(context.WithoutCancel(ctx))
	if err != nil {
		return rules.TenantLimits{}, err
	}
	l := rules.TenantLimits{Configs: cfgs}
	c.mu.Lock()
	if c.gen == gen {
		c.global = &cacheEntry{limits: l, loadedAt: c.now()}
	}
	c.mu.Unlock()
	return l, nil
}

func (c *Cache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// store keeps l unless an invalidation came after its load started: the load may have read the
// rows before the change.
func (c *Cache) store(gen uint64, l rules.TenantLimits, slug string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	c.tenants[l.TenantID] = cacheEntry{limits: l, loadedAt: c.now()}
	if slug != "" {
		c.slugs[slug] = l.TenantID
	}
}

// Invalidate drops the entries a change of tenantID's rows (or its tier or slug) affects: that
// tenant's, or every entry for a global row (tenantID ""), which every tenant falls back to.
func (c *Cache) Invalidate(tenantID string) {
	if tenantID == "" {
		c.Flush()
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.tenants, tenantID)
	for s, id := range c.slugs {
		if id == tenantID {
			delete(c.slugs, s)
		}
	}
}

// Flush drops everything: after a global change, or when notifications may have been missed.
func (c *Cache) Flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.tenants = map[string]cacheEntry{}
	c.slugs = map[string]string{}
	c.global = nil
}
