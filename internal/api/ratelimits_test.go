package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/api"
	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/bouncertest"
	"github.com/eventmanager/eventmanager/internal/config"
	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/eventmanager/eventmanager/internal/pglisten"
	"github.com/eventmanager/eventmanager/internal/ratelimit"
	"github.com/eventmanager/eventmanager/internal/ratelimit/rules"
	"github.com/eventmanager/eventmanager/internal/redistest"
	"github.com/eventmanager/eventmanager/internal/store"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

const meRoute = "GET /api/v1/auth/me"

// header reads one of the RateLimit-* headers as a number; -1 when absent.
func (r response) rl(name string) int {
	v := r.header.Get(name)
	if v == "" {
		return -1
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return -2
	}
	return n
}

func (e *env) createRateLimit(token string, body map[string]any) map[string]any {
	e.t.Helper()
	r := e.do("POST", "/api/v1/admin/rate-limits", token, body)
	require.Equal(e.t, http.StatusCreated, r.status, string(r.body))
	return r.json(e.t)
}

func TestRateLimitHeadersAndRefusalAfterBurst(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.tenant("rl-burst")

	// The seeded tier "standard" applies to every tenant by default: headers on allowed answers.
	r := e.do("GET", "/api/v1/events", tok, nil)
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, 120, r.rl("RateLimit-Limit"), "standard tier burst")
	require.Greater(t, r.rl("RateLimit-Remaining"), 100)
	require.GreaterOrEqual(t, r.rl("RateLimit-Reset"), 1)

	// A user+endpoint row for /me: bursts of 3, one a minute.
	me := e.userID(tok)
	e.createRateLimit(tok, map[string]any{"user_id": me, "endpoint": meRoute, "per_minute": 1, "per_hour": 10, "burst": 3})
	for i := range 3 {
		r := e.do("GET", "/api/v1/auth/me", tok, nil)
		require.Equal(t, http.StatusOK, r.status, "request %d", i+1)
		require.Equal(t, 3, r.rl("RateLimit-Limit"))
		require.Equal(t, 2-i, r.rl("RateLimit-Remaining"))
		require.Equal(t, 60*(i+1), r.rl("RateLimit-Reset"), "a minute per request to come back")
	}
	r = e.do("GET", "/api/v1/auth/me", tok, nil)
	require.Equal(t, http.StatusTooManyRequests, r.status)
	code, _ := r.errorCode(t)
	require.Equal(t, "RATE_LIMITED", code)
	require.Equal(t, 3, r.rl("RateLimit-Limit"))
	require.Equal(t, 0, r.rl("RateLimit-Remaining"))
	require.Equal(t, 180, r.rl("RateLimit-Reset"))
	retry, err := strconv.Atoi(r.header.Get("Retry-After"))
	require.NoError(t, err)
	require.InDelta(t, 60, retry, 1)

	// Other routes count in the tier's bucket, not in /me's.
	r = e.do("GET", "/api/v1/events", tok, nil)
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, 120, r.rl("RateLimit-Limit"))

	// Probes are not limited.
	for _, p := range []string{"/healthz", "/readyz"} {
		r := e.do("GET", p, "", nil)
		require.Equal(t, -1, r.rl("RateLimit-Limit"), p)
	}
}

func TestSignInLimitedPerAccountBeforeThePasswordCheck(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.tenant("rl-signin")
	e.addUser("rl-signin", auth.Judge)
	bad := map[string]string{"tenant": "rl-signin", "email": "admin@rl-signin.test", "password": "wrong password"}
	tok := e.login("rl-signin", "admin@rl-signin.test")
	// The tenant's own sign-in limit per account: 3 attempts, then one a minute (a new row starts a
	// new bucket; the seeded one, 10 then one every 6 s, would refill during a slow test run).
	e.createRateLimit(tok, map[string]any{"endpoint": "POST /api/v1/auth/login", "per_minute": 1, "per_hour": 10, "burst": 3})
	for i := range 3 {
		r := e.do("POST", "/api/v1/auth/login", "", bad)
		require.Equal(t, http.StatusUnauthorized, r.status, "attempt %d", i+1)
		require.Equal(t, 3, r.rl("RateLimit-Limit"))
		require.Equal(t, 2-i, r.rl("RateLimit-Remaining"))
	}
	r := e.do("POST", "/api/v1/auth/login", "", bad)
	require.Equal(t, http.StatusTooManyRequests, r.status, string(r.body))
	require.NotEmpty(t, r.header.Get("Retry-After"))
	// The right password does not help: the account is refused before the check.
	good := map[string]string{"tenant": "rl-signin", "email": "admin@rl-signin.test", "password": testPassword}
	require.Equal(t, http.StatusTooManyRequests, e.do("POST", "/api/v1/auth/login", "", good).status)
	// Another account of the tenant, from the same address, still signs in.
	e.login("rl-signin", "judge@rl-signin.test")
}

func TestSignInLimitedPerIPAndPerTenant(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.tenant("rl-ip")
	tid := e.tenantID("rl-ip")
	superTok := e.addUser("rl-ip", auth.SuperAdmin)
	// SUPER_ADMIN reads and changes the global per-IP bucket; an ADMIN may do neither.
	require.Equal(t, http.StatusForbidden, e.do("GET", "/api/v1/admin/rate-limits?scope=global", admin, nil).status)
	list := e.do("GET", "/api/v1/admin/rate-limits?scope=global", superTok, nil)
	require.Equal(t, http.StatusOK, list.status)
	var page struct {
		Data []rules.Config `json:"data"`
	}
	require.NoError(t, json.Unmarshal(list.body, &page))
	var ipRow, tenantRow string
	for _, c := range page.Data {
		if c.Tier != "" {
			continue // the internal tier's own sign-in rows
		}
		switch c.Endpoint {
		case "POST /api/v1/auth/login#ip":
			ipRow = c.ID
		case "POST /api/v1/auth/login#tenant":
			tenantRow = c.ID
		}
	}
	require.NotEmpty(t, ipRow)
	require.NotEmpty(t, tenantRow)
	r := e.do("PATCH", "/api/v1/admin/rate-limits/"+ipRow, admin, map[string]any{"burst": 2})
	require.Equal(t, http.StatusForbidden, r.status, "an ADMIN may not change a global row")
	require.Equal(t, http.StatusForbidden, e.do("GET", "/api/v1/admin/rate-limits/"+ipRow, admin, nil).status, "nor read one")
	require.Equal(t, http.StatusForbidden, e.do("DELETE", "/api/v1/admin/rate-limits/"+ipRow, admin, nil).status, "nor delete one")
	require.Equal(t, http.StatusOK, e.do("GET", "/api/v1/admin/rate-limits/"+ipRow, superTok, nil).status)

	// Burst 5, one a minute: two sign-ins from this address are already counted (e.tenant, addUser).
	r = e.do("PATCH", "/api/v1/admin/rate-limits/"+ipRow, superTok, map[string]any{"burst": 5, "per_minute": 1})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	// The tenant bucket: a tenant+endpoint row for this tenant only.
	e.createRateLimit(superTok, map[string]any{"tenant_id": tid, "endpoint": "POST /api/v1/auth/login#tenant", "per_minute": 1, "per_hour": 10, "burst": 50})

	// Attempts from this address, each for another account, are refused within the burst of 5
	// (the two earlier sign-ins were counted at the old rate, so exactly how many is left depends on it).
	refused := 0
	for i := range 6 {
		r := e.do("POST", "/api/v1/auth/login", "", map[string]string{"tenant": "rl-ip", "email": "nobody" + strconv.Itoa(i) + "@rl-ip.test", "password": "x"})
		if r.status == http.StatusTooManyRequests {
			refused = i
			break
		}
		require.Equal(t, http.StatusUnauthorized, r.status)
	}
	require.NotZero(t, refused, "the address is refused within its burst")
	require.LessOrEqual(t, refused, 5)
	r = e.do("POST", "/api/v1/auth/login", "", map[string]string{"tenant": "other", "email": "a@b.test", "password": "x"})
	require.Equal(t, http.StatusTooManyRequests, r.status, "the address is limited across tenants")

	// Audited, with the values before and after.
	var n int
	require.NoError(t, e.db.Pool().QueryRow(context.Background(),
		`SELECT count(*) FROM audit_logs WHERE action = 'rate_limit.updated' AND entity_id = $1 AND data->'before'->>'burst' = '60' AND data->'after'->>'burst' = '5'`,
		ipRow).Scan(&n))
	require.Equal(t, 1, n)
}

func TestRateLimitAdminValidationAndAccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.tenant("rl-admin")
	e.tenant("rl-other")
	otherAdmin := e.login("rl-other", "admin@rl-other.test")
	otherUser := e.userID(otherAdmin)
	otherTenant := e.tenantID("rl-other")

	cases := []struct {
		body  map[string]any
		code  string
		field string
	}{
		{map[string]any{"per_minute": 0, "per_hour": 10, "burst": 1}, "VALIDATION_FAILED", "per_minute"},
		{map[string]any{"per_minute": 1, "per_hour": -1, "burst": 1}, "VALIDATION_FAILED", "per_hour"},
		{map[string]any{"per_minute": 1, "per_hour": 10, "burst": 0}, "VALIDATION_FAILED", "burst"},
		{map[string]any{"per_minute": 20, "per_hour": 10, "burst": 1}, "VALIDATION_FAILED", "per_hour"},
		{map[string]any{"per_minute": 1}, "VALIDATION_FAILED", "per_minute"},
		{map[string]any{"endpoint": "GET /api/v1/nope", "per_minute": 1, "per_hour": 10, "burst": 1}, "VALIDATION_FAILED", "endpoint"},
		{map[string]any{"endpoint": "/api/v1/events", "per_minute": 1, "per_hour": 10, "burst": 1}, "VALIDATION_FAILED", "endpoint"},
		{map[string]any{"tier": "gold", "per_minute": 1, "per_hour": 10, "burst": 1}, "VALIDATION_FAILED", "tier"},
		{map[string]any{"user_id": "x", "per_minute": 1, "per_hour": 10, "burst": 1}, "VALIDATION_FAILED", "user_id"},
		// Sign-in is not counted per user.
		{map[string]any{"user_id": otherUser, "endpoint": "POST /api/v1/auth/login", "per_minute": 1, "per_hour": 10, "burst": 1}, "VALIDATION_FAILED", "user_id"},
		// Past the integer columns: a 400 naming the field, not a 500 from the driver.
		{map[string]any{"per_minute": 3e9, "per_hour": 3e9, "burst": 1}, "VALIDATION_FAILED", "per_minute"},
		{map[string]any{"per_minute": 1, "per_hour": 3e9, "burst": 1}, "VALIDATION_FAILED", "per_hour"},
		{map[string]any{"per_minute": 1, "per_hour": 10, "burst": 3e9}, "VALIDATION_FAILED", "burst"},
		{map[string]any{"per_minute": 1, "per_hour": 10, "burst": 1, "priority": 3e9}, "VALIDATION_FAILED", "priority"},
		// A user of another tenant: the composite foreign key refuses it.
		{map[string]any{"user_id": otherUser, "per_minute": 1, "per_hour": 10, "burst": 1}, "INVALID_REFERENCE", "user_id"},
	}
	for _, c := range cases {
		r := e.do("POST", "/api/v1/admin/rate-limits", admin, c.body)
		want := http.StatusBadRequest
		if c.code == "INVALID_REFERENCE" {
			want = http.StatusConflict
		}
		require.Equal(t, want, r.status, "%v: %s", c.body, r.body)
		code, field := r.errorCode(t)
		require.Equal(t, c.code, code, "%v", c.body)
		require.Equal(t, c.field, field, "%v", c.body)
	}

	// ADMIN: not global, not another tenant.
	r := e.do("POST", "/api/v1/admin/rate-limits", admin, map[string]any{"global": true, "endpoint": "GET /api/v1/events", "per_minute": 1, "per_hour": 10, "burst": 1})
	require.Equal(t, http.StatusForbidden, r.status)
	r = e.do("POST", "/api/v1/admin/rate-limits", admin, map[string]any{"tenant_id": otherTenant, "per_minute": 1, "per_hour": 10, "burst": 1})
	require.Equal(t, http.StatusForbidden, r.status)
	require.Equal(t, http.StatusForbidden, e.do("GET", "/api/v1/admin/rate-limits?tenant_id="+otherTenant, admin, nil).status)
	judge := e.addUser("rl-admin", auth.Judge)
	require.Equal(t, http.StatusForbidden, e.do("GET", "/api/v1/admin/rate-limits", judge, nil).status)

	// CRUD of the tenant's own row.
	c := e.createRateLimit(admin, map[string]any{"endpoint": "GET /api/v1/events", "per_minute": 100, "per_hour": 1000, "burst": 10, "priority": 2})
	id := c["id"].(string)
	require.Equal(t, e.tenantID("rl-admin"), c["tenant_id"])
	r = e.do("POST", "/api/v1/admin/rate-limits", admin, map[string]any{"endpoint": "GET /api/v1/events", "per_minute": 100, "per_hour": 1000, "burst": 10})
	require.Equal(t, http.StatusConflict, r.status, "one row per scope")
	r = e.do("GET", "/api/v1/admin/rate-limits/"+id, admin, nil)
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, http.StatusNotFound, e.do("GET", "/api/v1/admin/rate-limits/"+id, otherAdmin, nil).status, "invisible to another tenant")
	r = e.do("PATCH", "/api/v1/admin/rate-limits/"+id, admin, map[string]any{"per_hour": 50})
	require.Equal(t, http.StatusBadRequest, r.status, "per_hour below the stored per_minute")
	r = e.do("PATCH", "/api/v1/admin/rate-limits/"+id, admin, map[string]any{"burst": 20, "enabled": false})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, 20.0, r.json(t)["burst"])
	require.Equal(t, false, r.json(t)["enabled"])
	r = e.do("GET", "/api/v1/admin/rate-limits", admin, nil)
	require.Equal(t, http.StatusOK, r.status)
	var page struct {
		Data []rules.Config `json:"data"`
	}
	require.NoError(t, json.Unmarshal(r.body, &page))
	require.Len(t, page.Data, 1, "the tenant's row only: the global rows are the operator's")
	require.Equal(t, id, page.Data[0].ID)
	require.Equal(t, http.StatusNoContent, e.do("DELETE", "/api/v1/admin/rate-limits/"+id, admin, nil).status)
	require.Equal(t, http.StatusNotFound, e.do("GET", "/api/v1/admin/rate-limits/"+id, admin, nil).status)
	var actions []string
	ctx := context.Background()
	tx, err := e.db.Pool().Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	_, err = tx.Exec(ctx, `SELECT set_config('app.tenant_id', $1, true)`, e.tenantID("rl-admin"))
	require.NoError(t, err)
	rows, err := tx.Query(ctx, `SELECT action FROM audit_logs WHERE entity_id = $1 ORDER BY created_at`, id)
	require.NoError(t, err)
	for rows.Next() {
		var a string
		require.NoError(t, rows.Scan(&a))
		actions = append(actions, a)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{"rate_limit.created", "rate_limit.updated", "rate_limit.deleted"}, actions)
}

func TestEffectiveRateLimitExplainsTheChoice(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.tenant("rl-eff")
	me := e.userID(tok)
	tid := e.tenantID("rl-eff")
	endpoint := "GET /api/v1/events"
	get := func(q string) map[string]any {
		r := e.do("GET", "/api/v1/admin/rate-limits/effective?"+q, tok, nil)
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		return r.json(t)
	}
	q := "user_id=" + me + "&endpoint=" + "GET%20/api/v1/events"
	eff := get(q)
	require.Equal(t, "standard", eff["tier"])
	require.Equal(t, "tier", eff["applies"].(map[string]any)["level"])

	e.createRateLimit(tok, map[string]any{"per_minute": 5, "per_hour": 50, "burst": 5})
	e.createRateLimit(tok, map[string]any{"user_id": me, "per_minute": 6, "per_hour": 60, "burst": 6})
	e.createRateLimit(tok, map[string]any{"endpoint": endpoint, "per_minute": 7, "per_hour": 70, "burst": 7})
	e.createRateLimit(tok, map[string]any{"user_id": me, "endpoint": endpoint, "per_minute": 8, "per_hour": 80, "burst": 8})
	eff = get(q)
	applies := eff["applies"].(map[string]any)
	require.Equal(t, "user+endpoint", applies["level"])
	require.Equal(t, 8.0, applies["burst"])
	var levels []string
	for _, c := range eff["candidates"].([]any) {
		levels = append(levels, c.(map[string]any)["level"].(string))
	}
	require.Equal(t, []string{"user+endpoint", "tenant+endpoint", "user", "tenant", "tier"}, levels)
	require.Contains(t, eff["reason"], "user+endpoint")
	require.Equal(t, tid, eff["tenant_id"])

	// Unknown endpoint patterns are refused.
	r := e.do("GET", "/api/v1/admin/rate-limits/effective?endpoint=GET%20/x", tok, nil)
	require.Equal(t, http.StatusBadRequest, r.status)
}

// newLimitedInstanceWith is one API server with the production rate limiter: cache, NOTIFY
// listener, and the counters of limiter.
func newLimitedInstanceWith(t *testing.T, url string, limiter ratelimit.Limiter) (*env, <-chan struct{}) {
	t.Helper()
	return newLimitedInstanceVia(t, bouncertest.Direct, url, limiter)
}

// newLimitedInstanceVia is newLimitedInstanceWith with the pool connected directly or through
// PgBouncer (mode); the listener always connects directly, as DIRECT_DATABASE_URL does.
func newLimitedInstanceVia(t *testing.T, mode bouncertest.Mode, url string, limiter ratelimit.Limiter) (*env, <-chan struct{}) {
	t.Helper()
	direct, err := config.ParseDatabaseURL(url)
	require.NoError(t, err)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	listening := make(chan struct{}, 1)
	e := newEnv(t, onDatabase(url), viaMode(mode), withDeps(func(e *env, d *api.Deps) {
		cache := ratelimit.NewCache(e.store, time.Hour) // only a notification can refresh it within the test
		l := pglisten.New(direct.ConnString, log)
		ratelimit.Listen(l, cache)
		l.OnListen = func() {
			select {
			case listening <- struct{}{}:
			default:
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { l.Run(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		d.Logger, d.RateLimits = log, ratelimit.NewEnforcer(cache, limiter, nil, log)
	}))
	return e, listening
}

// An admin change on one instance is enforced by another within a second (NOTIFY).
func TestRateLimitChangeReachesOtherInstanceWithinASecond(t *testing.T) {
	t.Parallel()
	bouncertest.Run(t, testRateLimitChangeReachesOtherInstanceWithinASecond)
}

func testRateLimitChangeReachesOtherInstanceWithinASecond(t *testing.T, mode bouncertest.Mode) {
	url := dbtest.ServiceURL(t, dbtest.NewDatabase(t))
	a, la := newLimitedInstanceVia(t, mode, url, ratelimit.NewMemory(nil))
	b, lb := newLimitedInstanceVia(t, mode, url, ratelimit.NewMemory(nil))
	<-la
	<-lb
	tok := a.tenant("rl-notify")
	me := a.userID(tok)
	// b caches the tenant's limits: the standard tier.
	r := b.do("GET", "/api/v1/auth/me", tok, nil)
	require.Equal(t, 120, r.rl("RateLimit-Limit"))

	waitLimit := func(want int) time.Duration {
		start := time.Now()
		for {
			r := b.do("GET", "/api/v1/auth/me", tok, nil)
			if r.rl("RateLimit-Limit") == want {
				return time.Since(start)
			}
			require.Less(t, time.Since(start), time.Second, "instance b still applies limit %d", r.rl("RateLimit-Limit"))
			time.Sleep(10 * time.Millisecond)
		}
	}
	a.createRateLimit(tok, map[string]any{"user_id": me, "endpoint": meRoute, "per_minute": 100, "per_hour": 1000, "burst": 77})
	t.Logf("new row enforced by b after %s", waitLimit(77))

	// A tenant's tier change is a change of its limits too.
	require.NoError(t, a.store.SetTenantRateLimitTier(context.Background(), store.Actor{}, a.tenantID("rl-notify"), "free"))
	r = b.do("GET", "/api/v1/events", tok, nil)
	start := time.Now()
	for r.rl("RateLimit-Limit") != 20 {
		require.Less(t, time.Since(start), time.Second, "tier change not seen by b")
		time.Sleep(10 * time.Millisecond)
		r = b.do("GET", "/api/v1/events", tok, nil)
	}

	// The listeners' connections are cut: they reconnect by themselves and notifications flow again.
	admin, err := pgx.Connect(context.Background(), dbtest.AdminURL(t, url))
	require.NoError(t, err)
	defer admin.Close(context.Background())
	var cut int
	require.NoError(t, admin.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND query LIKE 'LISTEN %'`).Scan(&cut))
	require.Equal(t, 2, cut)
	<-la
	<-lb
	require.Equal(t, 20, b.do("GET", "/api/v1/events", tok, nil).rl("RateLimit-Limit"), "b caches the tenant again")
	// (Within the free tier: an ADMIN may only lower limits.)
	a.createRateLimit(tok, map[string]any{"user_id": me, "per_minute": 50, "per_hour": 500, "burst": 15})
	r = b.do("GET", "/api/v1/events", tok, nil)
	start = time.Now()
	for r.rl("RateLimit-Limit") != 15 {
		require.Less(t, time.Since(start), time.Second, "change after the reconnection not seen by b")
		time.Sleep(10 * time.Millisecond)
		r = b.do("GET", "/api/v1/events", tok, nil)
	}
}

func TestSetRateLimitTier(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.tenant("rl-tier")
	super := e.addUser("rl-tier", auth.SuperAdmin)
	tid := e.tenantID("rl-tier")
	require.Equal(t, http.StatusForbidden, e.do("PUT", "/api/v1/tenants/"+tid+"/rate-limit-tier", admin, map[string]string{"tier": "internal"}).status)
	r := e.do("PUT", "/api/v1/tenants/"+tid+"/rate-limit-tier", super, map[string]string{"tier": "gold"})
	require.Equal(t, http.StatusBadRequest, r.status)
	r = e.do("PUT", "/api/v1/tenants/"+tid+"/rate-limit-tier", super, map[string]string{"tier": "internal"})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	// Applied at once on this instance.
	require.Equal(t, 1000000, e.do("GET", "/api/v1/events", admin, nil).rl("RateLimit-Limit"))
	// The internal tier signs in by the thousand from one address and one tenant (load tests), but
	// one account's password is guessed as slowly as on every tier: 10 attempts, then 429.
	for i := range 15 {
		email := fmt.Sprintf("user%d@rl-tier.test", i)
		r := e.do("POST", "/api/v1/auth/login", "", map[string]string{"tenant": "rl-tier", "email": email, "password": "wrong"})
		require.Equal(t, http.StatusUnauthorized, r.status, "account %d", i+1)
	}
	// (The account's bucket already holds the sign-in that made its token.)
	refusedAt := 0
	for i := range 11 {
		r := e.do("POST", "/api/v1/auth/login", "", map[string]string{"tenant": "rl-tier", "email": "admin@rl-tier.test", "password": "wrong"})
		if r.status == http.StatusTooManyRequests {
			refusedAt = i + 1
			break
		}
		require.Equal(t, http.StatusUnauthorized, r.status, "attempt %d", i+1)
	}
	require.NotZero(t, refusedAt, "11 wrong passwords for one account were not refused")
	r = e.do("PUT", "/api/v1/tenants/00000000-0000-0000-0000-000000000000/rate-limit-tier", super, map[string]string{"tier": "free"})
	require.Equal(t, http.StatusNotFound, r.status)
}

// Two service instances on one database and one real Redis: together they allow what the row
// allows. Redis then stops mid-run: both keep serving, with in-process limits, and use Redis again
// once it is back.
func TestTwoInstancesShareOneRedisLimitAndSurviveItsOutage(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t)
	url := dbtest.ServiceURL(t, dbtest.NewDatabase(t))
	fallbacks := make([]*ratelimit.Fallback, 2)
	envs := make([]*env, 2)
	for i := range envs {
		rd, err := ratelimit.NewRedis(rs.URL())
		require.NoError(t, err)
		t.Cleanup(func() { _ = rd.Close() })
		fallbacks[i] = ratelimit.NewFallback(rd, ratelimit.NewMemory(nil), slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
		var listening <-chan struct{}
		envs[i], listening = newLimitedInstanceWith(t, url, fallbacks[i])
		<-listening
	}
	a, b := envs[0], envs[1]
	tok := a.tenant("rl-redis")
	me := a.userID(tok)
	a.createRateLimit(tok, map[string]any{"user_id": me, "endpoint": meRoute, "per_minute": 1, "per_hour": 100, "burst": 10})
	// b learns of the row by NOTIFY; until then it answers with the tier's limit.
	deadline := time.Now().Add(time.Second)
	for b.do("GET", "/api/v1/auth/me", tok, nil).rl("RateLimit-Limit") != 10 {
		require.True(t, time.Now().Before(deadline))
		time.Sleep(10 * time.Millisecond)
	}
	// b's probe above took one request of the shared bucket.
	ok := 1
	for i := range 30 {
		r := envs[i%2].do("GET", "/api/v1/auth/me", tok, nil)
		switch r.status {
		case http.StatusOK:
			ok++
		case http.StatusTooManyRequests:
		default:
			t.Fatalf("status %d: %s", r.status, r.body)
		}
	}
	require.Equal(t, 10, ok, "the two instances together allow the row's burst, not twice it")

	// Redis stops: requests are served and limited in each process.
	rs.Stop()
	for i := range 6 {
		r := envs[i%2].do("GET", "/api/v1/events", tok, nil)
		require.Equal(t, http.StatusOK, r.status, "request %d while Redis is down: %s", i, r.body)
		require.Greater(t, r.rl("RateLimit-Limit"), 0)
	}
	require.True(t, fallbacks[0].Degraded())
	require.True(t, fallbacks[1].Degraded())

	// Redis is back: within a probe interval (1 s) each instance counts there again.
	rs.Start()
	deadline = time.Now().Add(3 * time.Second)
	for fallbacks[0].Degraded() || fallbacks[1].Degraded() {
		require.True(t, time.Now().Before(deadline), "still counting in process after Redis returned")
		for _, e := range envs {
			require.Equal(t, http.StatusOK, e.do("GET", "/api/v1/events", tok, nil).status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A tenant ADMIN may only lower limits: above the tenant's tier (or the global sign-in rows) is
// refused, naming the field; a SUPER_ADMIN may raise them.
func TestAdminMayOnlyLowerLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.tenant("rl-ceiling")
	super := e.addUser("rl-ceiling", auth.SuperAdmin)
	refused := func(tok, method, path string, body map[string]any, field string) {
		t.Helper()
		r := e.do(method, path, tok, body)
		require.Equal(t, http.StatusForbidden, r.status, string(r.body))
		code, f := r.errorCode(t)
		require.Equal(t, "ABOVE_TIER_LIMIT", code)
		require.Equal(t, field, f)
	}
	// The standard tier: 600 a minute, 20 000 an hour, burst 120.
	refused(admin, "POST", "/api/v1/admin/rate-limits", map[string]any{"per_minute": 601, "per_hour": 20000, "burst": 120}, "per_minute")
	refused(admin, "POST", "/api/v1/admin/rate-limits", map[string]any{"endpoint": "GET /api/v1/events", "per_minute": 600, "per_hour": 20001, "burst": 120}, "per_hour")
	refused(admin, "POST", "/api/v1/admin/rate-limits", map[string]any{"per_minute": 600, "per_hour": 20000, "burst": 121}, "burst")
	// Sign-in per account: the global row's 10 a minute.
	refused(admin, "POST", "/api/v1/admin/rate-limits", map[string]any{"endpoint": "POST /api/v1/auth/login", "per_minute": 11, "per_hour": 60, "burst": 10}, "per_minute")

	// Lowering is fine; raising it again by PATCH is not.
	c := e.createRateLimit(admin, map[string]any{"per_minute": 300, "per_hour": 10000, "burst": 60})
	path := "/api/v1/admin/rate-limits/" + c["id"].(string)
	refused(admin, "PATCH", path, map[string]any{"burst": 500}, "burst")
	require.Equal(t, http.StatusOK, e.do("PATCH", path, admin, map[string]any{"burst": 30}).status)
	// A SUPER_ADMIN gives the tenant more room.
	r := e.do("PATCH", path, super, map[string]any{"per_minute": 5000, "per_hour": 100000, "burst": 500})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	r = e.do("POST", "/api/v1/admin/rate-limits", super, map[string]any{"endpoint": "GET /api/v1/events", "per_minute": 9000, "per_hour": 100000, "burst": 900})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
}
