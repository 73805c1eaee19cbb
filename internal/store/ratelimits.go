package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/ratelimit/rules"
	"github.com/jackc/pgx/v5"
)

// Rate-limit configurations (rate_limit_configs). A tenant's rows are its own; rows of no tenant
// (global: the tiers, the sign-in limits) are readable by every tenant and writable only by
// SUPER_ADMIN in system scope. Every change is audited; the table's trigger notifies every instance.

// RateLimitFilter selects a page of configurations, by id.
type RateLimitFilter struct {
	GlobalOnly bool // only rows of no tenant
	TenantOnly bool // only the tenant's own rows
	Limit      int
	AfterID    string // "" for the first page
}

// RateLimitPatch holds the fields to change; nil leaves a field as it is. The scope (tenant, user,
// endpoint, tier) of a row is its identity: change it by deleting and creating.
type RateLimitPatch struct {
	PerMinute *int
	PerHour   *int
	Burst     *int
	Enabled   *bool
	Priority  *int
}

var (
	opRateLimitsLoad       = db.Op{Name: "rate_limits.load", Class: db.Simple}
	opRateLimitsLoadGlobal = db.Op{Name: "rate_limits.load_global", Class: db.Simple}
	opRateLimitsTenantSlug = db.Op{Name: "rate_limits.tenant_by_slug", Class: db.Simple}
	opRateLimitsGet        = db.Op{Name: "rate_limits.get", Class: db.Simple}
	opRateLimitsList       = db.Op{Name: "rate_limits.list", Class: db.Standard}
	opRateLimitsCreate     = db.Op{Name: "rate_limits.create", Class: db.Simple}
	opRateLimitsUpdate     = db.Op{Name: "rate_limits.update", Class: db.Simple}
	opRateLimitsDelete     = db.Op{Name: "rate_limits.delete", Class: db.Simple}
	opTenantsSetTier       = db.Op{Name: "tenants.set_rate_limit_tier", Class: db.Simple}
)

const rateLimitColumns = `c.id, c.tenant_id, c.user_id, c.endpoint, c.tier, c.per_minute, c.per_hour, c.burst, c.enabled, c.priority, c.created_at, c.updated_at`

// rateLimitScan reads rateLimitColumns; NULL columns become "".
type rateLimitScan struct {
	c                              rules.Config
	tenantID, userID, endpoint, tr *string
}

func (r *rateLimitScan) dest() []any {
	return []any{&r.c.ID, &r.tenantID, &r.userID, &r.endpoint, &r.tr, &r.c.PerMinute, &r.c.PerHour, &r.c.Burst,
		&r.c.Enabled, &r.c.Priority, &r.c.CreatedAt, &r.c.UpdatedAt}
}

func (r *rateLimitScan) config() rules.Config {
	deref := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	c := r.c
	c.TenantID, c.UserID, c.Endpoint, c.Tier = deref(r.tenantID), deref(r.userID), deref(r.endpoint), deref(r.tr)
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c
}

func scanRateLimits(out *[]rules.Config) func(pgx.Rows) error {
	return func(rows pgx.Rows) error {
		for rows.Next() {
			var r rateLimitScan
			if err := rows.Scan(r.dest()...); err != nil {
				return err
			}
			*out = append(*out, r.config())
		}
		return rows.Err()
	}
}

// TenantLimits loads the tenant's tier and every enabled configuration that may apply to it (its
// own rows and the global ones), in one query: what the rate limiter caches per tenant.
func (s *Store) TenantLimits(ctx context.Context, tenantID string) (rules.TenantLimits, bool, error) {
	l := rules.TenantLimits{TenantID: tenantID}
	found := false
	err := s.db.Query(ctx, opRateLimitsLoad, tenantID, func(rows pgx.Rows) error {
		for rows.Next() {
			var r rateLimitScan
			if err := rows.Scan(append([]any{&l.Tier}, r.dest()...)...); err != nil {
				return err
			}
			found = true
			if r.c.ID != "" {
				l.Configs = append(l.Configs, r.config())
			}
		}
		return rows.Err()
	}, // The LEFT JOIN gives one row, of NULLs, for a tenant without configurations.
		`SELECT t.rate_limit_tier, coalesce(c.id::text, ''), c.tenant_id, c.user_id, c.endpoint, c.tier,
			coalesce(c.per_minute, 0), coalesce(c.per_hour, 0), coalesce(c.burst, 0), coalesce(c.enabled, false),
			coalesce(c.priority, 0), coalesce(c.created_at, now()), coalesce(c.updated_at, now())
		FROM tenants t
		LEFT JOIN rate_limit_configs c ON c.enabled AND (c.tenant_id = t.id OR c.tenant_id IS NULL)
		WHERE t.id = $1`, tenantID)
	return l, found, err
}

// TenantLimitsBySlug is TenantLimits for the tenant of slug (sign-in names its tenant by slug).
func (s *Store) TenantLimitsBySlug(ctx context.Context, slug string) (rules.TenantLimits, bool, error) {
	var id string
	err := s.db.QueryRow(ctx, opRateLimitsTenantSlug, "", `SELECT id FROM tenants WHERE slug = $1`, []any{slug}, &id)
	if errors.Is(err, db.ErrNotFound) {
		return rules.TenantLimits{}, false, nil
	}
	if err != nil {
		return rules.TenantLimits{}, false, err
	}
	return s.TenantLimits(ctx, id)
}

// GlobalLimits loads the enabled rows of no tenant.
func (s *Store) GlobalLimits(ctx context.Context) ([]rules.Config, error) {
	var out []rules.Config
	err := s.db.Query(ctx, opRateLimitsLoadGlobal, "", scanRateLimits(&out),
		`SELECT `+rateLimitColumns+` FROM rate_limit_configs c WHERE c.tenant_id IS NULL AND c.enabled`)
	return out, err
}

// GetRateLimit returns one configuration the tenant can see: its own or a global one.
func (s *Store) GetRateLimit(ctx context.Context, tenantID, id string) (rules.Config, error) {
	var r rateLimitScan
	err := s.db.QueryRow(ctx, opRateLimitsGet, tenantID,
		`SELECT `+rateLimitColumns+` FROM rate_limit_configs c WHERE c.id = $2 AND (c.tenant_id = $1 OR c.tenant_id IS NULL)`,
		[]any{tenantID, id}, r.dest()...)
	return r.config(), err
}

// ListRateLimits returns up to f.Limit configurations of the tenant and the global ones (as f
// says), by id.
func (s *Store) ListRateLimits(ctx context.Context, tenantID string, f RateLimitFilter) ([]rules.Config, error) {
	list := make([]rules.Config, 0, f.Limit)
	err := s.db.Query(ctx, opRateLimitsList, tenantID, scanRateLimits(&list),
		`SELECT `+rateLimitColumns+` FROM rate_limit_configs c
		WHERE ((NOT $5 AND c.tenant_id IS NULL) OR (NOT $2 AND c.tenant_id = $1)) AND c.id > $3
		ORDER BY c.id LIMIT $4`,
		tenantID, f.GlobalOnly, uuidOrZero(f.AfterID), f.Limit, f.TenantOnly)
	return list, err
}

// uuidOrZero is the smallest uuid for "from the start".
func uuidOrZero(id string) string {
	if id == "" {
		return "00000000-0000-0000-0000-000000000000"
	}
	return id
}

// CreateRateLimit adds a configuration: c.TenantID "" makes a global row (SUPER_ADMIN only: the
// caller checks; row-level security refuses it without system scope anyway). Audited.
func (s *Store) CreateRateLimit(ctx context.Context, a Actor, c rules.Config) (rules.Config, error) {
	var out rules.Config
	err := s.inTx(ctx, opRateLimitsCreate, c.TenantID, func(tx *db.Tx) error {
		if c.TenantID == "" {
			if err := tx.SetSystemScope(); err != nil {
				return err
			}
		}
		var r rateLimitScan
		err := tx.QueryRow(`INSERT INTO rate_limit_configs AS c (tenant_id, user_id, endpoint, tier, per_minute, per_hour, burst, enabled, priority)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING `+rateLimitColumns,
			nullString(c.TenantID), nullString(c.UserID), nullString(c.Endpoint), nullString(c.Tier),
			c.PerMinute, c.PerHour, c.Burst, c.Enabled, c.Priority).Scan(r.dest()...)
		if err != nil {
			return err
		}
		out = r.config()
		return audit(tx, c.TenantID, a, "rate_limit.created", "rate_limit_config", out.ID, map[string]any{"after": out})
	})
	return out, err
}

// errGlobalRateLimit refuses a change of a global row to anyone but SUPER_ADMIN.
var errGlobalRateLimit = &RuleError{Kind: Forbidden, Code: "FORBIDDEN", Message: "global rate limits are changed by SUPER_ADMIN only"}

// RateLimitUpdate is a change of one configuration, as the caller may make it.
type RateLimitUpdate struct {
	TenantID string // the tenant the caller acts for
	ID       string
	Patch    RateLimitPatch
	// Global lets the caller change a row of no tenant (SUPER_ADMIN).
	Global bool
	// Ceiling, when set, bounds the row as changed: its counts may not exceed what the global rows
	// allow for its endpoint (rules.AboveCeiling), since a tenant ADMIN may only lower limits.
	// SignIn names the sign-in buckets for that check.
	Ceiling *rules.TenantLimits
	SignIn  rules.SignIn
}

// UpdateRateLimit changes a configuration the tenant can see; a global one only with u.Global.
// The ceiling is checked on the row as changed, inside the transaction: a refusal rolls the
// change back. Audited with the values before and after.
func (s *Store) UpdateRateLimit(ctx context.Context, a Actor, u RateLimitUpdate) (rules.Config, error) {
	var out rules.Config
	err := s.inTx(ctx, opRateLimitsUpdate, u.TenantID, func(tx *db.Tx) error {
		before, err := s.lockRateLimit(tx, u.TenantID, u.ID, u.Global)
		if err != nil {
			return err
		}
		p := u.Patch
		var r rateLimitScan
		err = tx.QueryRow(`UPDATE rate_limit_configs AS c SET
				per_minute = coalesce($2, per_minute), per_hour = coalesce($3, per_hour), burst = coalesce($4, burst),
				enabled = coalesce($5, enabled), priority = coalesce($6, priority), updated_at = now()
			WHERE c.id = $1 RETURNING `+rateLimitColumns,
			u.ID, p.PerMinute, p.PerHour, p.Burst, p.Enabled, p.Priority).Scan(r.dest()...)
		if err != nil {
			return err
		}
		out = r.config()
		if u.Ceiling != nil {
			if ex, above := rules.AboveCeiling(*u.Ceiling, out, u.SignIn); above {
				return AboveTierLimit(ex)
			}
		}
		return audit(tx, before.TenantID, a, "rate_limit.updated", "rate_limit_config", u.ID, map[string]any{"before": before, "after": out})
	})
	return out, err
}

// AboveTierLimit is the refusal of a tenant ADMIN's row that allows more than the tier: tiers are
// what a tenant pays for, and the strict sign-in rows keep password guessing slow.
func AboveTierLimit(ex rules.Excess) *RuleError {
	return &RuleError{Kind: Forbidden, Code: "ABOVE_TIER_LIMIT", Field: ex.Field,
		Message: fmt.Sprintf("an ADMIN may only lower limits: at most %d here (level %s of the %s tier); a SUPER_ADMIN can raise them", ex.Max, ex.Ceiling.LevelOf(), ex.Tier)}
}

// DeleteRateLimit removes a configuration the tenant can see; a global one only with global, and
// returns it. Audited.
func (s *Store) DeleteRateLimit(ctx context.Context, tenantID string, a Actor, id string, global bool) (rules.Config, error) {
	var before rules.Config
	err := s.inTx(ctx, opRateLimitsDelete, tenantID, func(tx *db.Tx) error {
		var err error
		if before, err = s.lockRateLimit(tx, tenantID, id, global); err != nil {
			return err
		}
		if _, err := tx.Exec(`DELETE FROM rate_limit_configs WHERE id = $1`, id); err != nil {
			return err
		}
		return audit(tx, before.TenantID, a, "rate_limit.deleted", "rate_limit_config", id, map[string]any{"before": before})
	})
	return before, err
}

// lockRateLimit reads and locks the row to change. A global row is refused without global; with
// it, the transaction takes system scope first (row-level security hides global rows from FOR
// UPDATE otherwise).
func (s *Store) lockRateLimit(tx *db.Tx, tenantID, id string, global bool) (rules.Config, error) {
	var isGlobal bool
	err := tx.QueryRow(`SELECT tenant_id IS NULL FROM rate_limit_configs WHERE id = $1 AND (tenant_id = $2 OR tenant_id IS NULL)`,
		id, tenantID).Scan(&isGlobal)
	if errors.Is(err, pgx.ErrNoRows) {
		return rules.Config{}, db.ErrNotFound
	}
	if err != nil {
		return rules.Config{}, err
	}
	if isGlobal {
		if !global {
			return rules.Config{}, errGlobalRateLimit
		}
		if err := tx.SetSystemScope(); err != nil {
			return rules.Config{}, err
		}
	}
	var r rateLimitScan
	err = tx.QueryRow(`SELECT `+rateLimitColumns+` FROM rate_limit_configs c WHERE c.id = $1 FOR UPDATE`, id).Scan(r.dest()...)
	if errors.Is(err, pgx.ErrNoRows) {
		return rules.Config{}, db.ErrNotFound
	}
	return r.config(), err
}

// SetTenantRateLimitTier puts a tenant on a tier (SUPER_ADMIN; the CLI and tests). Audited.
func (s *Store) SetTenantRateLimitTier(ctx context.Context, a Actor, tenantID, tier string) error {
	return s.inTx(ctx, opTenantsSetTier, tenantID, func(tx *db.Tx) error {
		var before string
		if err := tx.QueryRow(`SELECT rate_limit_tier FROM tenants WHERE id = $1 FOR UPDATE`, tenantID).Scan(&before); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return db.ErrNotFound
			}
			return err
		}
		if before == tier {
			return nil // nothing changes: no write, no audit record, no cache invalidation
		}
		if _, err := tx.Exec(`UPDATE tenants SET rate_limit_tier = $2, updated_at = now() WHERE id = $1`, tenantID, tier); err != nil {
			return err
		}
		return audit(tx, tenantID, a, "tenant.rate_limit_tier_changed", "tenant", tenantID, map[string]any{"before": before, "after": tier})
	})
}
