package ratelimit

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/ratelimit/rules"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

const (
	tenantA = "aaaaaaaa-0000-0000-0000-000000000001"
	tenantB = "bbbbbbbb-0000-0000-0000-000000000002"
	userA   = "aaaaaaaa-0000-0000-0000-0000000000a1"
	userA2  = "aaaaaaaa-0000-0000-0000-0000000000a2"
	events  = "GET /api/v1/events"
)

// signInRoute is any route: the enforcer takes it from its caller.
const signInRoute = "POST /sign-in"

var signIn = rules.SignInBuckets(signInRoute)

var t0 = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)

// tierRow is a tier default, for tests that count the cache's loads.
func tierRow() []rules.Config {
	return []rules.Config{{ID: "tier", Tier: "standard", PerMinute: 1, PerHour: 1, Burst: 1, Enabled: true, CreatedAt: t0}}
}

// fakeSource serves fixed rows and counts its loads.
type fakeSource struct {
	mu    sync.Mutex
	cfgs  []rules.Config
	tier  string
	loads atomic.Int64
	// during, if set, runs inside a load (to race an invalidation with it).
	during func()
}

func (f *fakeSource) TenantLimits(_ context.Context, id string) (rules.TenantLimits, bool, error) {
	f.loads.Add(1)
	f.mu.Lock()
	l := rules.TenantLimits{TenantID: id, Tier: f.tier, Configs: append([]rules.Config(nil), f.cfgs...)}
	during := f.during
	f.mu.Unlock()
	if during != nil {
		during()
	}
	return l, true, nil
}

func (f *fakeSource) TenantLimitsBySlug(ctx context.Context, slug string) (rules.TenantLimits, bool, error) {
	if slug != "acme" {
		cfgs, _ := f.GlobalLimits(ctx)
		return rules.TenantLimits{Configs: cfgs}, false, nil
	}
	return f.TenantLimits(ctx, tenantA)
}

func (f *fakeSource) GlobalLimits(context.Context) ([]rules.Config, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []rules.Config
	for _, c := range f.cfgs {
		if c.TenantID == "" {
			out = append(out, c)
		}
	}
	return out, nil
}

func (f *fakeSource) set(cfgs []rules.Config) {
	f.mu.Lock()
	f.cfgs = cfgs
	f.mu.Unlock()
}

func signInRows(ip, tenant, account int) []rules.Config {
	return []rules.Config{
		{ID: "ip", Endpoint: signIn.IP, PerMinute: 1, PerHour: 100, Burst: ip, Enabled: true},
		{ID: "tenant", Endpoint: signIn.Tenant, PerMinute: 1, PerHour: 100, Burst: tenant, Enabled: true},
		{ID: "account", Endpoint: signIn.Account, PerMinute: 1, PerHour: 100, Burst: account, Enabled: true},
		{ID: "tier", Tier: "standard", PerMinute: 1, PerHour: 100, Burst: 1, Enabled: true},
	}
}

func TestSignInBucketsPerIPTenantAndAccount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := &fakeSource{tier: "standard", cfgs: signInRows(100, 5, 2)}
	e := NewEnforcer(NewCache(src, 0), NewMemory(func() time.Time { return t0 }), nil, nil)
	try := func(slug, email, ip string) Result {
		r, err := e.CheckSignIn(ctx, signInRoute, slug, email, ip)
		require.NoError(t, err)
		require.True(t, r.Limited)
		return r
	}
	// Per account: 2.
	require.True(t, try("acme", "a@x", "10.0.0.1").Allowed)
	require.True(t, try("acme", "a@x", "10.0.0.2").Allowed)
	r := try("acme", "a@x", "10.0.0.3")
	require.False(t, r.Allowed, "a third attempt on the account, from another address")
	require.Equal(t, "account", r.Match.Config.ID)
	// Per tenant: 5 attempts in all (2 counted above, one refused by the account bucket counted too).
	require.True(t, try("acme", "b@x", "10.0.0.4").Allowed)
	require.True(t, try("acme", "c@x", "10.0.0.5").Allowed)
	r = try("acme", "d@x", "10.0.0.6")
	require.False(t, r.Allowed)
	require.Equal(t, "tenant", r.Match.Config.ID)
	// Another tenant (an unknown slug has a bucket of its own) is not affected.
	require.True(t, try("other", "a@x", "10.0.0.7").Allowed)

	// Per IP, across tenants and accounts.
	src.set(signInRows(2, 100, 100))
	e.Cache().Flush()
	require.True(t, try("x1", "a@x", "192.0.2.1").Allowed)
	require.True(t, try("x2", "b@x", "192.0.2.1").Allowed)
	r = try("x3", "c@x", "192.0.2.1")
	require.False(t, r.Allowed)
	require.Equal(t, "ip", r.Match.Config.ID)
	require.True(t, try("x3", "c@x", "192.0.2.2").Allowed)
}

func TestCacheLoadsOnceAndInvalidates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := &fakeSource{tier: "standard", cfgs: tierRow()}
	c := NewCache(src, time.Hour)
	for range 100 {
		_, err := c.Tenant(ctx, tenantA)
		require.NoError(t, err)
	}
	require.EqualValues(t, 1, src.loads.Load(), "cached after the first load")
	c.Invalidate(tenantB)
	_, _ = c.Tenant(ctx, tenantA)
	require.EqualValues(t, 1, src.loads.Load(), "another tenant's change keeps tenantA's entry")
	c.Invalidate(tenantA)
	_, _ = c.Tenant(ctx, tenantA)
	require.EqualValues(t, 2, src.loads.Load())
	c.Invalidate("") // a global row changed: every tenant falls back to it
	_, _ = c.Tenant(ctx, tenantA)
	require.EqualValues(t, 3, src.loads.Load())
}

// A load that overlaps an invalidation may have read the rows before the change: it is used once
// but not kept.
func TestCacheDropsALoadThatRacedAnInvalidation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := &fakeSource{tier: "standard", cfgs: tierRow()}
	c := NewCache(src, time.Hour)
	src.during = func() { c.Invalidate(tenantA) }
	_, err := c.Tenant(ctx, tenantA)
	require.NoError(t, err)
	src.mu.Lock()
	src.during = nil
	src.mu.Unlock()
	_, _ = c.Tenant(ctx, tenantA)
	_, _ = c.Tenant(ctx, tenantA)
	require.EqualValues(t, 2, src.loads.Load(), "the raced load was not cached; the next one is")
}

func TestCheckCountsByTierEndpointAndDecision(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := &fakeSource{tier: "free", cfgs: []rules.Config{
		{ID: "free", Tier: "free", PerMinute: 1, PerHour: 10, Burst: 2, Enabled: true},
	}}
	m := NewMetrics(prometheus.NewRegistry())
	e := NewEnforcer(NewCache(src, 0), NewMemory(func() time.Time { return t0 }), m, nil)
	for range 3 {
		r, err := e.Check(ctx, tenantA, userA, events)
		require.NoError(t, err)
		require.True(t, r.Limited)
		require.Equal(t, "free", r.Tier)
	}
	require.Equal(t, 2.0, testutil.ToFloat64(m.requests.WithLabelValues("free", events, "allowed")))
	require.Equal(t, 1.0, testutil.ToFloat64(m.requests.WithLabelValues("free", events, "rejected")))
	// Another user has a bucket of their own.
	r, _ := e.Check(ctx, tenantA, userA2, events)
	require.True(t, r.Allowed)
}
