package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/jackc/pgx/v5"
)

// Tenant is an organisation using the service. The tenants table has no row-level security: it is
// how a request finds its tenant, and only SUPER_ADMIN reaches it through the API.
type Tenant struct {
	ID          string          `json:"id"`
	Slug        string          `json:"slug"`
	Name        string          `json:"name"`
	Active      bool            `json:"active"`
	ScoringType string          `json:"scoring_type"`
	Settings    json.RawMessage `json:"settings"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
}

// TenantPatch holds the fields to change; nil leaves a field as it is. Settings replaces the whole
// object.
type TenantPatch struct {
	Name        *string
	Active      *bool
	ScoringType *string
	Settings    json.RawMessage // a JSON object, already validated
}

// TenantFilter selects a page of tenants, in slug order.
type TenantFilter struct {
	Active    *bool
	Search    string // case-insensitive substring of the slug or the name
	Limit     int
	AfterSlug string // "" for the first page
}

const tenantColumns = `id, slug, name, active, scoring_type, settings, created_at, updated_at`

var (
	opTenantsCreate = db.Op{Name: "tenants.create", Class: db.Simple}
	opTenantsBySlug = db.Op{Name: "tenants.by_slug", Class: db.Simple}
	opTenantsGet    = db.Op{Name: "tenants.get", Class: db.Simple}
	opTenantsList   = db.Op{Name: "tenants.list", Class: db.Standard}
	opTenantsUpdate = db.Op{Name: "tenants.update", Class: db.Simple}
)

func (t *Tenant) utc() { t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC() }

func scanTenant(row pgx.Row, t *Tenant) error {
	err := row.Scan(tenantDest(t)...)
	t.utc()
	return err
}

// TenantBySlug returns the tenant with this slug, or db.ErrNotFound.
func (s *Store) TenantBySlug(ctx context.Context, slug string) (Tenant, error) {
	var t Tenant
	err := s.db.QueryRow(ctx, opTenantsBySlug, "", `SELECT `+tenantColumns+` FROM tenants WHERE slug = $1`,
		[]any{slug}, tenantDest(&t)...)
	t.utc()
	return t, err
}

// GetTenant returns one tenant, or db.ErrNotFound.
func (s *Store) GetTenant(ctx context.Context, id string) (Tenant, error) {
	var t Tenant
	err := s.db.QueryRow(ctx, opTenantsGet, "", `SELECT `+tenantColumns+` FROM tenants WHERE id = $1`,
		[]any{id}, tenantDest(&t)...)
	t.utc()
	return t, err
}

// tenantDest lists t's fields in the order of tenantColumns.
func tenantDest(t *Tenant) []any {
	return []any{&t.ID, &t.Slug, &t.Name, &t.Active, &t.ScoringType, &t.Settings, &t.CreatedAt, &t.UpdatedAt}
}

// ListTenants returns up to f.Limit tenants in slug order after f.AfterSlug (served by the unique
// index on slug), in one query.
func (s *Store) ListTenants(ctx context.Context, f TenantFilter) ([]Tenant, error) {
	var search any
	if f.Search != "" {
		search = "%" + escapeLike(f.Search) + "%"
	}
	var out []Tenant
	err := s.db.Query(ctx, opTenantsList, "", collectRows(&out, f.Limit, tenantDest, (*Tenant).utc),
		`SELECT `+tenantColumns+` FROM tenants
		WHERE slug > $1
		  AND ($2::boolean IS NULL OR active = $2)
		  AND ($3::text IS NULL OR slug ILIKE $3 OR name ILIKE $3)
		ORDER BY slug
		LIMIT $4`,
		f.AfterSlug, f.Active, search, f.Limit)
	return out, err
}

// NewUser are the fields of a new account; Password is the plain password, hashed here.
type NewUser struct {
	Email, Name, Password string
	Role                  auth.Role
}

// CreateTenant adds a tenant with its first user (normally an ADMIN), in one transaction. The
// transaction learns its tenant on the way: it scopes itself to the new tenant before writing the
// user and the audit records, which row-level security then accepts.
func (s *Store) CreateTenant(ctx context.Context, a Actor, slug, name string, admin NewUser) (Tenant, User, error) {
	hash, err := auth.HashPassword(admin.Password)
	if err != nil {
		return Tenant{}, User{}, err
	}
	var (
		t Tenant
		u User
	)
	err = s.inTx(ctx, opTenantsCreate, "", func(tx *db.Tx) error {
		if err := scanTenant(tx.QueryRow(`INSERT INTO tenants (slug, name) VALUES ($1, $2) RETURNING `+tenantColumns,
			slug, name), &t); err != nil {
			return err
		}
		if err := tx.SetTenant(t.ID); err != nil {
			return err
		}
		if err := insertUser(tx, t.ID, admin, hash, &u); err != nil {
			return err
		}
		// In the new tenant's own log: its admins see who created it, and when.
		if err := audit(tx, t.ID, a, "tenant.created", "tenant", t.ID, map[string]any{"after": t}); err != nil {
			return err
		}
		return audit(tx, t.ID, a, "user.created", "user", u.ID, map[string]any{"after": u})
	})
	return t, u, err
}

// UpdateTenant changes the given fields of a tenant and records the change, before and after, in
// the tenant's audit log. A deactivated tenant's users can no longer sign in, and their tokens stop
// working at once (Authenticate checks the tenant's flag).
func (s *Store) UpdateTenant(ctx context.Context, a Actor, id string, p TenantPatch) (Tenant, error) {
	var before, after Tenant
	var settings any
	if p.Settings != nil {
		settings = string(p.Settings)
	}
	// Scoped to the tenant being changed, which its audit record belongs to.
	err := s.inTx(ctx, opTenantsUpdate, id, func(tx *db.Tx) error {
		if err := scanTenant(tx.QueryRow(`SELECT `+tenantColumns+` FROM tenants WHERE id = $1 FOR UPDATE`, id), &before); err != nil {
			return err
		}
		if err := scanTenant(tx.QueryRow(`UPDATE tenants SET
				name = coalesce($2, name), active = coalesce($3, active), scoring_type = coalesce($4, scoring_type),
				settings = coalesce($5::jsonb, settings), updated_at = now()
			WHERE id = $1 RETURNING `+tenantColumns,
			id, p.Name, p.Active, p.ScoringType, settings), &after); err != nil {
			return err
		}
		return audit(tx, id, a, "tenant.updated", "tenant", id, map[string]any{"before": before, "after": after})
	})
	return after, withRule(err)
}
