package rules

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const (
	tenantA  = "aaaaaaaa-0000-0000-0000-000000000001"
	tenantB  = "bbbbbbbb-0000-0000-0000-000000000002"
	userA    = "aaaaaaaa-0000-0000-0000-0000000000a1"
	userA2   = "aaaaaaaa-0000-0000-0000-0000000000a2"
	events   = "GET /api/v1/events"
	contests = "GET /api/v1/contests"
)

var t0 = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)

// sixLevels has one row of each level for tenantA/userA/events, plus rows that must never apply.
func sixLevels() []Config {
	cfg := func(id, tenant, user, endpoint, tier string) Config {
		return Config{ID: id, TenantID: tenant, UserID: user, Endpoint: endpoint, Tier: tier, PerMinute: 1, PerHour: 1, Burst: 1, Enabled: true, CreatedAt: t0}
	}
	return []Config{
		cfg("tier", "", "", "", "standard"),
		cfg("tier-free", "", "", "", "free"),
		cfg("endpoint", "", "", events, ""),
		cfg("tenant", tenantA, "", "", ""),
		cfg("user", tenantA, userA, "", ""),
		cfg("tenant+endpoint", tenantA, "", events, ""),
		cfg("user+endpoint", tenantA, userA, events, ""),
		// Never for tenantA/userA/events:
		cfg("other-tenant", tenantB, "", events, ""),
		cfg("other-user", tenantA, userA2, events, ""),
		cfg("other-endpoint", tenantA, userA, contests, ""),
		cfg("endpoint-for-free", "", "", events, "free"),
	}
}

func TestResolveOrderWithAllSixLevels(t *testing.T) {
	t.Parallel()
	subject := Subject{TenantID: tenantA, UserID: userA, Endpoint: events, Tier: "standard"}
	want := []struct {
		id    string
		level Level
	}{
		{"user+endpoint", LevelUserEndpoint},
		{"tenant+endpoint", LevelTenantEndpoint},
		{"user", LevelUser},
		{"tenant", LevelTenant},
		{"endpoint", LevelEndpoint},
		{"tier", LevelTier},
	}
	cfgs := sixLevels()
	// Remove the winner one level at a time: the next level must win.
	for i, w := range want {
		m, ok := Resolve(cfgs, subject, false)
		require.True(t, ok)
		require.Equal(t, w.id, m.Config.ID, "step %d", i)
		require.Equal(t, w.level, m.Level)
		require.Equal(t, 6-i, m.Candidates)
		cands := Candidates(cfgs, subject, false)
		require.Equal(t, w.id, cands[0].ID)
		require.Len(t, cands, 6-i)
		cfgs = without(cfgs, w.id)
	}
	_, ok := Resolve(cfgs, subject, false)
	require.False(t, ok, "only rows of other tenants, users, endpoints and tiers remain")

	// Disabled rows do not count.
	cfgs = sixLevels()
	for i := range cfgs {
		if cfgs[i].ID == "user+endpoint" {
			cfgs[i].Enabled = false
		}
	}
	m, _ := Resolve(cfgs, subject, false)
	require.Equal(t, "tenant+endpoint", m.Config.ID)
}

func TestResolveTiesByPriorityThenNewest(t *testing.T) {
	t.Parallel()
	s := Subject{TenantID: tenantA, UserID: userA, Endpoint: events, Tier: "free"}
	old := Config{ID: "old", Endpoint: events, Enabled: true, Priority: 5, CreatedAt: t0}
	newer := Config{ID: "newer", Endpoint: events, Enabled: true, Priority: 5, CreatedAt: t0.Add(time.Hour)}
	low := Config{ID: "low-newest", Endpoint: events, Enabled: true, Priority: 1, CreatedAt: t0.Add(2 * time.Hour)}
	m, _ := Resolve([]Config{old, low, newer}, s, false)
	require.Equal(t, "newer", m.Config.ID)
	m, _ = Resolve([]Config{old, low}, s, false)
	require.Equal(t, "old", m.Config.ID)
	require.Contains(t, m.Reason(), "priority")
}

func TestResolveEndpointOnlyIgnoresGeneralRows(t *testing.T) {
	t.Parallel()
	cfgs := sixLevels()
	s := Subject{TenantID: tenantA, Endpoint: SignInBuckets("POST /api/v1/auth/login").IP, Tier: "standard"}
	_, ok := Resolve(cfgs, s, true)
	require.False(t, ok, "the tier and tenant rows must not become a sign-in bucket")
	m, ok := Resolve(cfgs, s, false)
	require.True(t, ok)
	require.Equal(t, "tenant", m.Config.ID)
}

func without(cfgs []Config, id string) []Config {
	var out []Config
	for _, c := range cfgs {
		if c.ID != id {
			out = append(out, c)
		}
	}
	return out
}

// A tenant's row may allow at most what the global rows allow for its endpoint; the first count
// above is named.
func TestAboveCeiling(t *testing.T) {
	t.Parallel()
	signIn := SignInBuckets("POST /login")
	tl := TenantLimits{TenantID: tenantA, Tier: "standard", Configs: []Config{
		{ID: "tier", Tier: "standard", PerMinute: 60, PerHour: 1000, Burst: 20, Enabled: true, CreatedAt: t0},
		{ID: "ip", Endpoint: signIn.IP, PerMinute: 5, PerHour: 50, Burst: 5, Enabled: true, CreatedAt: t0},
		{ID: "own", TenantID: tenantA, PerMinute: 1, PerHour: 1, Burst: 1, Enabled: true, CreatedAt: t0},
	}}
	tests := []struct {
		name  string
		c     Config
		field string
		max   int
	}{
		{"within the tier", Config{TenantID: tenantA, PerMinute: 60, PerHour: 1000, Burst: 20}, "", 0},
		{"burst above the tier", Config{TenantID: tenantA, PerMinute: 60, PerHour: 1000, Burst: 21}, "burst", 20},
		{"per_minute first", Config{TenantID: tenantA, PerMinute: 61, PerHour: 2000, Burst: 21}, "per_minute", 60},
		{"sign-in bucket by its own row", Config{TenantID: tenantA, Endpoint: signIn.IP, PerMinute: 5, PerHour: 51, Burst: 5}, "per_hour", 50},
	}
	for _, tt := range tests {
		ex, above := AboveCeiling(tl, tt.c, signIn)
		require.Equal(t, tt.field != "", above, tt.name)
		require.Equal(t, tt.field, ex.Field, tt.name)
		require.Equal(t, tt.max, ex.Max, tt.name)
	}
	_, above := AboveCeiling(TenantLimits{TenantID: tenantA}, Config{TenantID: tenantA, PerMinute: 1e6}, signIn)
	require.False(t, above, "no global row: no ceiling")
}
