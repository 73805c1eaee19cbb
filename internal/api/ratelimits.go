package api

import (
	"math"
	"net/http"
	"slices"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/ratelimit/rules"
	"github.com/eventmanager/eventmanager/internal/store"
)

// The admin API of rate limits: SUPER_ADMIN for any tenant and for the global rows (of no tenant:
// the tiers and the sign-in limits of the whole platform), ADMIN for their own tenant's rows only.
// ?tenant_id= names the tenant (default: the caller's). The effective limit of the ADMIN's own
// tenant still names the global row that applies to it: that is the tenant's own limit.

type rateLimitTierRequest struct {
	Tier string `json:"tier"`
}

// setRateLimitTier puts a tenant on a tier (SUPER_ADMIN): its default limits. Audited.
func (s *Server) setRateLimitTier(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req rateLimitTierRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if !slices.Contains(RateLimitTiers, req.Tier) {
		return invalid("tier", "must be one of free, standard, premium, enterprise, internal")
	}
	if err := s.store.SetTenantRateLimitTier(r.Context(), s.actor(r), id, req.Tier); err != nil {
		return err
	}
	s.rateLimitsChanged(id)
	writeJSON(w, http.StatusOK, map[string]string{"tenant_id": id, "rate_limit_tier": req.Tier})
	return nil
}

// RateLimitTiers are the tiers of tenants.rate_limit_tier (migration 00005).
var RateLimitTiers = []string{"free", "standard", "premium", "enterprise", "internal"}

// rateLimitTenant is the tenant a request acts on: ?tenant_id= or the caller's; another tenant
// only for SUPER_ADMIN.
func rateLimitTenant(r *http.Request) (string, error) {
	p := principal(r.Context())
	id, err := uuidQuery(r, "tenant_id")
	if err != nil {
		return "", err
	}
	if id == "" || id == p.TenantID {
		return p.TenantID, nil
	}
	if !auth.IsOperator(p.Role) {
		return "", errForbidden
	}
	return id, nil
}

type rateLimitCursor struct {
	ID string `json:"i"`
}

func (s *Server) listRateLimits(w http.ResponseWriter, r *http.Request) error {
	tenantID, err := rateLimitTenant(r)
	if err != nil {
		return err
	}
	var f store.RateLimitFilter
	return servePage(w, r, func() error { return rateLimitFilter(r, &f) },
		func(c *rateLimitCursor) bool { return isUUID(c.ID) },
		func(limit int, after *rateLimitCursor) ([]rules.Config, error) {
			f.Limit = limit
			if after != nil {
				f.AfterID = after.ID
			}
			return s.store.ListRateLimits(r.Context(), tenantID, f)
		},
		func(c rules.Config) rateLimitCursor { return rateLimitCursor{ID: c.ID} })
}

// rateLimitFilter reads ?scope= into f: all the rows the caller may see, or (SUPER_ADMIN) the
// global ones only.
func rateLimitFilter(r *http.Request, f *store.RateLimitFilter) error {
	operator := auth.IsOperator(principal(r.Context()).Role)
	switch r.URL.Query().Get("scope") {
	case "", "all":
		f.TenantOnly = !operator
	case "global":
		if !operator {
			return errForbidden
		}
		f.GlobalOnly = true
	default:
		return invalid("scope", "must be all or global")
	}
	return nil
}

// rateLimitTarget is the tenant acting and the {id} of a route on one configuration.
func rateLimitTarget(r *http.Request) (tenantID, id string, err error) {
	if tenantID, err = rateLimitTenant(r); err != nil {
		return "", "", err
	}
	id, err = pathID(r, "id")
	return tenantID, id, err
}

func (s *Server) getRateLimit(w http.ResponseWriter, r *http.Request) error {
	tenantID, id, err := rateLimitTarget(r)
	if err != nil {
		return err
	}
	c, err := s.store.GetRateLimit(r.Context(), tenantID, id)
	if err != nil {
		return err
	}
	if c.TenantID == "" && !auth.IsOperator(principal(r.Context()).Role) {
		return errForbidden
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

type rateLimitRequest struct {
	TenantID  string `json:"tenant_id"` // "" : the caller's tenant (or ?tenant_id=)
	Global    bool   `json:"global"`    // a row of no tenant: SUPER_ADMIN only
	UserID    string `json:"user_id"`
	Endpoint  string `json:"endpoint"`
	Tier      string `json:"tier"`
	PerMinute *int   `json:"per_minute"`
	PerHour   *int   `json:"per_hour"`
	Burst     *int   `json:"burst"`
	Enabled   *bool  `json:"enabled"` // default true
	Priority  int    `json:"priority"`
}

func (s *Server) createRateLimit(w http.ResponseWriter, r *http.Request) error {
	var req rateLimitRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	tenantID, err := s.rateLimitOwner(r, req)
	if err != nil {
		return err
	}
	c, err := s.newRateLimit(req, tenantID)
	if err != nil {
		return err
	}
	ceiling, err := s.tierCeiling(r, c.TenantID)
	if err != nil {
		return err
	}
	if ceiling != nil {
		if ex, above := rules.AboveCeiling(*ceiling, c, signIn); above {
			return store.AboveTierLimit(ex)
		}
	}
	out, err := s.store.CreateRateLimit(r.Context(), s.actor(r), c)
	if err != nil {
		return err
	}
	s.rateLimitsChanged(out.TenantID)
	w.Header().Set("Location", "/api/v1/admin/rate-limits/"+out.ID)
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// rateLimitOwner is the tenant a new row belongs to ("" for a global row), if the caller may
// write there: a global row or another tenant's only for SUPER_ADMIN.
func (s *Server) rateLimitOwner(r *http.Request, req rateLimitRequest) (string, error) {
	p := principal(r.Context())
	switch {
	case req.Global && req.TenantID != "":
		return "", invalid("tenant_id", "must be empty for a global configuration")
	case req.Global && !auth.IsOperator(p.Role):
		return "", errForbidden
	case req.Global && req.UserID != "":
		return "", invalid("user_id", "a user's configuration belongs to the user's tenant, not global")
	case req.Global:
		return "", nil
	case req.TenantID == "" || req.TenantID == p.TenantID:
		return rateLimitTenant(r)
	case !isUUID(req.TenantID):
		return "", invalid("tenant_id", "must be a UUID")
	case !auth.IsOperator(p.Role):
		return "", errForbidden
	}
	return req.TenantID, nil
}

// newRateLimit checks the fields of a new row of tenantID.
func (s *Server) newRateLimit(req rateLimitRequest, tenantID string) (rules.Config, error) {
	c := rules.Config{TenantID: tenantID, UserID: req.UserID, Endpoint: req.Endpoint, Tier: req.Tier, Priority: req.Priority, Enabled: true}
	if c.UserID != "" && !isUUID(c.UserID) {
		return c, invalid("user_id", "must be a UUID")
	}
	if err := s.validEndpoint(c.Endpoint); err != nil {
		return c, err
	}
	if c.UserID != "" && signIn.Has(c.Endpoint) {
		// Nobody is signed in yet: sign-in is counted per address, tenant and account, never per user.
		return c, invalid("user_id", "sign-in limits apply per address, tenant or account, not per user: leave user_id out")
	}
	if c.Tier != "" && !slices.Contains(RateLimitTiers, c.Tier) {
		return c, invalid("tier", "must be one of free, standard, premium, enterprise, internal")
	}
	if req.PerMinute == nil || req.PerHour == nil || req.Burst == nil {
		return c, invalid("per_minute", "per_minute, per_hour and burst are required")
	}
	c.PerMinute, c.PerHour, c.Burst = *req.PerMinute, *req.PerHour, *req.Burst
	if err := validRates(c.PerMinute, c.PerHour, c.Burst, c.Priority); err != nil {
		return c, err
	}
	if req.Enabled != nil {
		c.Enabled = *req.Enabled
	}
	return c, nil
}

// tierCeiling is what bounds a tenant ADMIN's rows in tenantID: the tenant's limits, whose global
// rows (the tier default, the sign-in rows) an ADMIN may only tighten; nil for a SUPER_ADMIN, who
// may raise them, and for global rows.
func (s *Server) tierCeiling(r *http.Request, tenantID string) (*rules.TenantLimits, error) {
	if auth.IsOperator(principal(r.Context()).Role) || tenantID == "" {
		return nil, nil
	}
	tl, _, err := s.store.TenantLimits(r.Context(), tenantID)
	if err != nil {
		return nil, err
	}
	return &tl, nil
}

// validEndpoint accepts "" (every endpoint), a rate-limited route of this server, or one of the
// sign-in buckets.
func (s *Server) validEndpoint(e string) error {
	if e == "" || s.limited[e] || signIn.Has(e) {
		return nil
	}
	return invalid("endpoint", "must be a route pattern of this API such as \"GET /api/v1/events\", or one of the sign-in buckets \"POST /api/v1/auth/login\", \"POST /api/v1/auth/login#ip\", \"POST /api/v1/auth/login#tenant\"")
}

// validRates are the table's CHECK constraints and integer columns, answered with the field at fault.
func validRates(perMinute, perHour, burst, priority int) error {
	switch {
	case perMinute > math.MaxInt32:
		return invalid("per_minute", "must be at most 2147483647")
	case perHour > math.MaxInt32:
		return invalid("per_hour", "must be at most 2147483647")
	case burst > math.MaxInt32:
		return invalid("burst", "must be at most 2147483647")
	case priority > math.MaxInt32 || priority < math.MinInt32:
		return invalid("priority", "must be from -2147483648 to 2147483647")
	case perMinute < 1:
		return invalid("per_minute", "must be a positive whole number")
	case perHour < 1:
		return invalid("per_hour", "must be a positive whole number")
	case burst < 1:
		return invalid("burst", "must be at least 1")
	case perHour < perMinute:
		return invalid("per_hour", "must be at least per_minute")
	}
	return nil
}

type rateLimitPatchRequest struct {
	PerMinute *int  `json:"per_minute"`
	PerHour   *int  `json:"per_hour"`
	Burst     *int  `json:"burst"`
	Enabled   *bool `json:"enabled"`
	Priority  *int  `json:"priority"`
}

func (s *Server) updateRateLimit(w http.ResponseWriter, r *http.Request) error {
	tenantID, id, err := rateLimitTarget(r)
	if err != nil {
		return err
	}
	var req rateLimitPatchRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	// Each given value alone; per_hour >= per_minute across old and new values is the table's CHECK.
	one, zero := 1, 0
	if err := validRates(*or(req.PerMinute, &one), *or(req.PerHour, or(req.PerMinute, &one)), *or(req.Burst, &one), *or(req.Priority, &zero)); err != nil {
		return err
	}
	ceiling, err := s.tierCeiling(r, tenantID)
	if err != nil {
		return err
	}
	out, err := s.store.UpdateRateLimit(r.Context(), s.actor(r), store.RateLimitUpdate{
		TenantID: tenantID, ID: id, Global: auth.IsOperator(principal(r.Context()).Role), Ceiling: ceiling, SignIn: signIn,
		Patch: store.RateLimitPatch{PerMinute: req.PerMinute, PerHour: req.PerHour, Burst: req.Burst, Enabled: req.Enabled, Priority: req.Priority},
	})
	if err != nil {
		return err
	}
	s.rateLimitsChanged(out.TenantID)
	writeJSON(w, http.StatusOK, out)
	return nil
}

func or[T any](p, def *T) *T {
	if p != nil {
		return p
	}
	return def
}

func (s *Server) deleteRateLimit(w http.ResponseWriter, r *http.Request) error {
	tenantID, id, err := rateLimitTarget(r)
	if err != nil {
		return err
	}
	c, err := s.store.DeleteRateLimit(r.Context(), tenantID, s.actor(r), id, auth.IsOperator(principal(r.Context()).Role))
	if err != nil {
		return err
	}
	s.rateLimitsChanged(c.TenantID)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// rateLimitsChanged drops this instance's cached limits at once; the table's NOTIFY does it on
// every instance (this one included) within a second.
func (s *Server) rateLimitsChanged(tenantID string) {
	if s.limits != nil {
		s.limits.Cache().Invalidate(tenantID)
	}
}

type effectiveCandidate struct {
	rules.Config
	Level string `json:"level"`
}

type effectiveRateLimit struct {
	TenantID   string               `json:"tenant_id"`
	UserID     string               `json:"user_id,omitempty"`
	Endpoint   string               `json:"endpoint,omitempty"`
	Tier       string               `json:"tier"`
	Applies    *effectiveCandidate  `json:"applies"` // null: not limited
	Reason     string               `json:"reason"`
	Candidates []effectiveCandidate `json:"candidates"`
}

// effectiveRateLimit shows which configuration applies to (tenant, user, endpoint), read from the
// database (not the cache), every matching one in the order they rank, and why the first wins.
func (s *Server) effectiveRateLimit(w http.ResponseWriter, r *http.Request) error {
	tenantID, err := rateLimitTenant(r)
	if err != nil {
		return err
	}
	userID, err := uuidQuery(r, "user_id")
	if err != nil {
		return err
	}
	endpoint := r.URL.Query().Get("endpoint")
	if err := s.validEndpoint(endpoint); err != nil {
		return err
	}
	tl, found, err := s.store.TenantLimits(r.Context(), tenantID)
	if err != nil {
		return err
	}
	if !found {
		return errNotFound
	}
	signIn := signIn.Has(endpoint)
	if signIn {
		userID = "" // as enforced: nobody is signed in yet
	}
	subject := rules.Subject{TenantID: tenantID, UserID: userID, Endpoint: endpoint, Tier: tl.Tier}
	out := effectiveRateLimit{TenantID: tenantID, UserID: userID, Endpoint: endpoint, Tier: tl.Tier, Candidates: []effectiveCandidate{}}
	for _, c := range rules.Candidates(tl.Configs, subject, signIn) {
		out.Candidates = append(out.Candidates, effectiveCandidate{Config: c, Level: c.LevelOf().String()})
	}
	if m, ok := rules.Resolve(tl.Configs, subject, signIn); ok {
		out.Applies = &effectiveCandidate{Config: m.Config, Level: m.Level.String()}
		out.Reason = m.Reason()
	} else {
		out.Reason = "no enabled configuration matches: not limited"
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
