// Package rules holds the rows of rate_limit_configs and decides which one applies to a request
// (Resolve). It needs nothing beyond the standard library, so the store reads and writes the rows
// without the counting machinery of package ratelimit (go-redis, Prometheus) coming along.
package rules

import (
	"sort"
	"strings"
	"time"
)

// Config is one row of rate_limit_configs. Empty strings are SQL NULL: "any".
type Config struct {
	ID        string    `json:"id"`
	TenantID  string    `json:"tenant_id,omitempty"`
	UserID    string    `json:"user_id,omitempty"`
	Endpoint  string    `json:"endpoint,omitempty"`
	Tier      string    `json:"tier,omitempty"`
	PerMinute int       `json:"per_minute"`
	PerHour   int       `json:"per_hour"`
	Burst     int       `json:"burst"`
	Enabled   bool      `json:"enabled"`
	Priority  int       `json:"priority"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Limit is what a configuration allows one key: a sustained rate per minute with bursts of up to
// Burst requests, and at most PerHour requests per hour.
type Limit struct {
	PerMinute int
	PerHour   int
	Burst     int
}

// TenantLimits is what resolution needs about one tenant: its tier and every enabled configuration
// that may apply to it (its own rows and the global rows). For an unknown tenant (a sign-in with a
// slug that names none) only the global rows, and no tier.
type TenantLimits struct {
	TenantID string
	Tier     string
	Configs  []Config
}

// Limit returns the counting parameters of the configuration.
func (c Config) Limit() Limit {
	return Limit{PerMinute: c.PerMinute, PerHour: c.PerHour, Burst: c.Burst}
}

// Level is how specific a configuration is; a lower level wins.
type Level int

// The levels, most specific first.
const (
	LevelUserEndpoint Level = iota + 1
	LevelTenantEndpoint
	LevelUser
	LevelTenant
	LevelEndpoint
	LevelTier
)

var levelNames = [...]string{"", "user+endpoint", "tenant+endpoint", "user", "tenant", "endpoint", "tier"}

func (l Level) String() string {
	if l < LevelUserEndpoint || l > LevelTier {
		return "none"
	}
	return levelNames[l]
}

// LevelOf places a row: by which of tenant, user and endpoint it names.
func (c Config) LevelOf() Level {
	switch {
	case c.UserID != "" && c.Endpoint != "":
		return LevelUserEndpoint
	case c.TenantID != "" && c.Endpoint != "":
		return LevelTenantEndpoint
	case c.UserID != "":
		return LevelUser
	case c.TenantID != "":
		return LevelTenant
	case c.Endpoint != "":
		return LevelEndpoint
	}
	return LevelTier
}

// Subject is what a request is limited as.
type Subject struct {
	TenantID string
	UserID   string // "" when nobody is signed in (sign-in)
	Endpoint string // the route pattern, e.g. "GET /api/v1/events"
	Tier     string // the tenant's rate_limit_tier
}

// matches reports whether c applies to s. A row's tier narrows it to the tenants of that tier; on a
// tier default it is what the row is for.
func (c Config) matches(s Subject) bool {
	return c.Enabled &&
		(c.TenantID == "" || c.TenantID == s.TenantID) &&
		(c.UserID == "" || c.UserID == s.UserID) &&
		(c.Endpoint == "" || c.Endpoint == s.Endpoint) &&
		(c.Tier == "" || c.Tier == s.Tier)
}

// SignIn names the buckets that limit sign-in before the password is checked, each configured
// under an endpoint of its own: Account, the sign-in route itself, per account (tenant and email);
// IP, the route and "#ip", per client address; Tenant, the route and "#tenant", per tenant. The
// API names the route; the rows of rate_limit_configs name these endpoints.
type SignIn struct{ Account, IP, Tenant string }

// SignInBuckets returns the bucket endpoints of the sign-in route.
func SignInBuckets(route string) SignIn {
	return SignIn{Account: route, IP: route + "#ip", Tenant: route + "#tenant"}
}

// Endpoints lists the three endpoints.
func (s SignIn) Endpoints() []string { return []string{s.Account, s.IP, s.Tenant} }

// Has reports whether endpoint is one of the three.
func (s SignIn) Has(endpoint string) bool {
	return endpoint == s.Account || endpoint == s.IP || endpoint == s.Tenant
}

// Match is the configuration that applies to a subject, and why.
type Match struct {
	Config Config
	Level  Level
	// Candidates is how many enabled configurations applied to the subject; the winner is the
	// most specific, then the highest priority, then the newest.
	Candidates int
}

// Reason explains the choice in one sentence, for GET /effective.
func (m Match) Reason() string {
	var b strings.Builder
	b.WriteString("most specific matching configuration: level ")
	b.WriteString(m.Level.String())
	if m.Candidates > 1 {
		b.WriteString(" (order: user+endpoint, tenant+endpoint, user, tenant, endpoint, tier; then priority, then newest)")
	}
	return b.String()
}

// better reports whether a should win over b, both matching.
func better(a, b Config) bool {
	la, lb := a.LevelOf(), b.LevelOf()
	if la != lb {
		return la < lb
	}
	if a.Priority != b.Priority {
		return a.Priority > b.Priority
	}
	if !a.CreatedAt.Equal(b.CreatedAt) {
		return a.CreatedAt.After(b.CreatedAt)
	}
	return a.ID > b.ID // any stable order, so every instance picks the same row
}

// Resolve returns the configuration that applies to s among cfgs; false when none does (the
// request is not limited). With endpointOnly, only rows that name s.Endpoint count: the sign-in
// buckets, which must not fall back to a tier's general limit.
func Resolve(cfgs []Config, s Subject, endpointOnly bool) (Match, bool) {
	var m Match
	for _, c := range cfgs {
		if !c.matches(s) || endpointOnly && c.Endpoint == "" {
			continue
		}
		if m.Candidates == 0 || better(c, m.Config) {
			m.Config = c
		}
		m.Candidates++
	}
	if m.Candidates == 0 {
		return Match{}, false
	}
	m.Level = m.Config.LevelOf()
	return m, true
}

// Candidates lists the enabled configurations that apply to s, the winner first, in the order
// Resolve ranks them: for GET /effective, which shows why one applies.
func Candidates(cfgs []Config, s Subject, endpointOnly bool) []Config {
	var out []Config
	for _, c := range cfgs {
		if c.matches(s) && !(endpointOnly && c.Endpoint == "") {
			out = append(out, c)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return better(out[i], out[j]) })
	return out
}

// Ceiling is what applies to endpoint for tenant tl by the global rows alone (the tier default, a
// global endpoint row, the sign-in rows), ignoring the tenant's own: the most a tenant ADMIN may
// allow, since only a SUPER_ADMIN may raise limits above the tenant's tier. False when no global
// row applies. endpointOnly is as for Resolve (true for the sign-in buckets).
func Ceiling(tl TenantLimits, endpoint string, endpointOnly bool) (Config, bool) {
	var global []Config
	for _, c := range tl.Configs {
		if c.TenantID == "" && c.UserID == "" {
			global = append(global, c)
		}
	}
	m, ok := Resolve(global, Subject{TenantID: tl.TenantID, Endpoint: endpoint, Tier: tl.Tier}, endpointOnly)
	return m.Config, ok
}

// Excess is a value of a configuration above its ceiling.
type Excess struct {
	Field string // per_minute, per_hour or burst
	Max   int
	// Ceiling is the global row that sets the maximum, and Tier the tenant's tier.
	Ceiling Config
	Tier    string
}

// AboveCeiling reports the first of c's counts (per_minute, per_hour, burst) that allows more
// than the global rows do for c's endpoint in tenant tl (see Ceiling): only a SUPER_ADMIN may raise
// limits above a tenant's tier. signIn names the sign-in buckets. False when c is within it, or
// when no global row applies.
func AboveCeiling(tl TenantLimits, c Config, signIn SignIn) (Excess, bool) {
	ceiling, ok := Ceiling(tl, c.Endpoint, signIn.Has(c.Endpoint))
	if !ok {
		return Excess{}, false
	}
	for _, v := range []struct {
		field      string
		value, max int
	}{{"per_minute", c.PerMinute, ceiling.PerMinute}, {"per_hour", c.PerHour, ceiling.PerHour}, {"burst", c.Burst, ceiling.Burst}} {
		if v.value > v.max {
			return Excess{Field: v.field, Max: v.max, Ceiling: ceiling, Tier: tl.Tier}, true
		}
	}
	return Excess{}, false
}
