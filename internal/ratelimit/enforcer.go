package ratelimit

import (
	"context"
	"log/slog"
	"strings"

	"github.com/eventmanager/eventmanager/internal/ratelimit/rules"
)

// Enforcer decides requests: it resolves the configuration from the cache and counts in the limiter.
type Enforcer struct {
	cache   *Cache
	limiter Limiter
	metrics *Metrics
	log     *slog.Logger
}

// NewEnforcer returns an enforcer. metrics may be nil (not counted).
func NewEnforcer(cache *Cache, limiter Limiter, metrics *Metrics, log *slog.Logger) *Enforcer {
	if metrics == nil {
		metrics = NewMetrics(nil)
	}
	if log == nil {
		log = slog.Default()
	}
	return &Enforcer{cache: cache, limiter: limiter, metrics: metrics, log: log}
}

// Cache is the enforcer's configuration cache (the admin API invalidates it after a change).
func (e *Enforcer) Cache() *Cache { return e.cache }

// Result is a decided request. Limited is false when no configuration applies (no headers).
type Result struct {
	Decision
	Limited bool
	Tier    string
	Match   rules.Match
}

// Check decides one request of a signed-in user on a route pattern. The bucket is per user: a
// configuration sets the limits of each user it applies to, and an endpoint-specific one counts
// that endpoint apart from the rest.
func (e *Enforcer) Check(ctx context.Context, tenantID, userID, endpoint string) (Result, error) {
	tl, err := e.cache.Tenant(ctx, tenantID)
	if err != nil {
		return Result{}, err
	}
	m, ok := rules.Resolve(tl.Configs, rules.Subject{TenantID: tenantID, UserID: userID, Endpoint: endpoint, Tier: tl.Tier}, false)
	if !ok {
		return Result{Tier: tl.Tier}, nil
	}
	key := bucketKey(m.Config, "u", tenantID+"/"+userID)
	if m.Config.Endpoint != "" {
		key += "|" + endpoint
	}
	d, err := e.limiter.Allow(ctx, key, m.Config.Limit())
	if err != nil {
		return Result{}, err
	}
	e.metrics.observe(tl.Tier, endpoint, d.Allowed)
	return Result{Decision: d, Limited: true, Tier: tl.Tier, Match: m}, nil
}

// CheckSignIn decides a sign-in attempt on route before its password is checked: per client IP,
// per tenant and per account (rules.SignInBuckets), stopping at the first bucket that refuses. The
// answer reports the refusing bucket, or the one with the fewest requests left.
func (e *Enforcer) CheckSignIn(ctx context.Context, route, slug, email, ip string) (Result, error) {
	tl, err := e.cache.TenantBySlug(ctx, slug)
	if err != nil {
		return Result{}, err
	}
	// An unknown slug still gets a tenant bucket of its own, so that guessing slugs is slow too.
	tenantKey := tl.TenantID
	if tenantKey == "" {
		tenantKey = "slug:" + slug
	}
	signIn := rules.SignInBuckets(route)
	buckets := []struct{ endpoint, kind, id string }{
		{signIn.IP, "ip", ip},
		{signIn.Tenant, "t", tenantKey},
		{signIn.Account, "a", tenantKey + "/" + email},
	}
	var res Result
	res.Tier = tl.Tier
	for _, b := range buckets {
		m, ok := rules.Resolve(tl.Configs, rules.Subject{TenantID: tl.TenantID, Endpoint: b.endpoint, Tier: tl.Tier}, true)
		if !ok {
			continue
		}
		d, err := e.limiter.Allow(ctx, bucketKey(m.Config, b.kind, b.id), m.Config.Limit())
		if err != nil {
			return Result{}, err
		}
		if !res.Limited || !d.Allowed || d.Remaining < res.Remaining {
			res.Decision, res.Match, res.Limited = d, m, true
		}
		if !d.Allowed {
			break
		}
	}
	if res.Limited {
		e.metrics.observe(tl.Tier, route, res.Allowed)
	}
	return res, nil
}

// bucketKey names a bucket: the configuration (its own limits; a new row starts full) and who is
// counted.
func bucketKey(c rules.Config, kind, id string) string {
	var b strings.Builder
	b.Grow(len(c.ID) + len(kind) + len(id) + 2)
	b.WriteString(c.ID)
	b.WriteByte('|')
	b.WriteString(kind)
	b.WriteByte(':')
	b.WriteString(id)
	return b.String()
}
