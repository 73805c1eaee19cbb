package store

import (
	"context"
	"errors"
	"time"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/db"
)

// User is an account of one tenant. The password hash never leaves the store.
type User struct {
	ID        string    `json:"id"`
	TenantID  string    `json:"tenant_id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      auth.Role `json:"role"`
	Active    bool      `json:"active"`
	JudgeID   *string   `json:"judge_id"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Session is a signed-in user's token and the user it belongs to.
type Session struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	User      User      `json:"user"`
}

// ErrBadCredentials is a failed sign-in: unknown tenant or email, wrong password, or an inactive
// account or tenant. One error for all, so that a caller cannot learn which emails exist.
var ErrBadCredentials = errors.New("invalid credentials")

var (
	opUsersByEmail    = db.Op{Name: "users.by_email", Class: db.Simple}
	opSessionsCreate  = db.Op{Name: "sessions.create", Class: db.Simple}
	opSessionsLookup  = db.Op{Name: "sessions.lookup", Class: db.Simple}
	opSessionsDelete  = db.Op{Name: "sessions.delete", Class: db.Simple}
	opUsersCreate     = db.Op{Name: "users.create", Class: db.Simple}
	opTenantsCreate   = db.Op{Name: "tenants.create", Class: db.Simple}
	opTenantsBySlug   = db.Op{Name: "tenants.by_slug", Class: db.Simple}
	opSessionsCleanup = db.Op{Name: "sessions.cleanup", Class: db.Standard}
)

const userColumns = `u.id, u.tenant_id, u.email, u.name, u.role, u.active, j.id, u.created_at, u.updated_at`

// userFrom joins the user's judge record (if any) so that the user can be read in one query.
const userFrom = `users u LEFT JOIN judges j ON j.tenant_id = u.tenant_id AND j.user_id = u.id`

func userDest(u *User) []any {
	return []any{&u.ID, &u.TenantID, &u.Email, &u.Name, &u.Role, &u.Active, &u.JudgeID, &u.CreatedAt, &u.UpdatedAt}
}

// Login checks the credentials and opens a session that expires after ttl.
func (s *Store) Login(ctx context.Context, tenantSlug, email, password string, ttl time.Duration) (Session, error) {
	var (
		u            User
		hash         string
		tenantActive bool
	)
	err := s.db.QueryRow(ctx, opUsersByEmail, "",
		`SELECT `+userColumns+`, u.password_hash, t.active
		FROM tenants t JOIN `+userFrom+` ON u.tenant_id = t.id
		WHERE t.slug = $1 AND u.email = $2`,
		[]any{tenantSlug, email}, append(userDest(&u), &hash, &tenantActive)...)
	if errors.Is(err, db.ErrNotFound) {
		// Spend the same time as a real check, so that response times do not reveal which emails exist.
		_, _ = auth.CheckPassword(auth.DummyHash(), password)
		return Session{}, ErrBadCredentials
	}
	if err != nil {
		return Session{}, err
	}
	ok, err := auth.CheckPassword(hash, password)
	if err != nil {
		return Session{}, err
	}
	if !ok || !u.Active || !tenantActive {
		return Session{}, ErrBadCredentials
	}
	return s.CreateSession(ctx, u, ttl)
}

// CreateSession opens a session for u that expires after ttl, and returns its token. Only the
// token's hash is stored.
func (s *Store) CreateSession(ctx context.Context, u User, ttl time.Duration) (Session, error) {
	token, tokenHash, err := auth.NewToken()
	if err != nil {
		return Session{}, err
	}
	sess := Session{Token: token, User: u}
	err = s.db.QueryRow(ctx, opSessionsCreate, u.TenantID,
		`INSERT INTO sessions (token_hash, tenant_id, user_id, expires_at)
		VALUES ($1, $2, $3, now() + make_interval(secs => $4))
		RETURNING expires_at`,
		[]any{tokenHash, u.TenantID, u.ID, ttl.Seconds()}, &sess.ExpiresAt)
	return sess, err
}

// UserByEmail returns the user of the tenant with this email, or db.ErrNotFound.
func (s *Store) UserByEmail(ctx context.Context, tenantID, email string) (User, error) {
	var u User
	err := s.db.QueryRow(ctx, opUsersByEmail, tenantID,
		`SELECT `+userColumns+` FROM `+userFrom+` WHERE u.tenant_id = $1 AND u.email = $2`,
		[]any{tenantID, email}, userDest(&u)...)
	return u, err
}

// Authenticate returns the principal of a valid, unexpired token whose user and tenant are active,
// or db.ErrNotFound.
func (s *Store) Authenticate(ctx context.Context, token string) (auth.Principal, error) {
	var (
		p       auth.Principal
		judgeID *string
	)
	err := s.db.QueryRow(ctx, opSessionsLookup, "",
		`SELECT u.id, u.tenant_id, u.role, u.email, u.name, j.id
		FROM sessions s
		JOIN users u ON u.tenant_id = s.tenant_id AND u.id = s.user_id
		JOIN tenants t ON t.id = u.tenant_id
		LEFT JOIN judges j ON j.tenant_id = u.tenant_id AND j.user_id = u.id
		WHERE s.token_hash = $1 AND s.expires_at > now() AND u.active AND t.active`,
		[]any{auth.HashToken(token)}, &p.UserID, &p.TenantID, &p.Role, &p.Email, &p.Name, &judgeID)
	if judgeID != nil {
		p.JudgeID = *judgeID
	}
	return p, err
}

// Logout ends the session of token.
func (s *Store) Logout(ctx context.Context, tenantID, token string) error {
	_, err := s.db.Exec(ctx, opSessionsDelete, tenantID,
		`DELETE FROM sessions WHERE tenant_id = $1 AND token_hash = $2`, tenantID, auth.HashToken(token))
	return err
}

// GetUser returns one user of the tenant.
func (s *Store) GetUser(ctx context.Context, tenantID, id string) (User, error) {
	var u User
	err := s.db.QueryRow(ctx, opUsersGet, tenantID,
		`SELECT `+userColumns+` FROM `+userFrom+` WHERE u.tenant_id = $1 AND u.id = $2`,
		[]any{tenantID, id}, userDest(&u)...)
	return u, err
}

var opUsersGet = db.Op{Name: "users.get", Class: db.Simple}

// DeleteExpiredSessions removes sessions past their expiry.
func (s *Store) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	tag, err := s.db.Exec(ctx, opSessionsCleanup, "", `DELETE FROM sessions WHERE expires_at <= now()`)
	return tag.RowsAffected(), err
}

// Tenant is an organisation using the service.
type Tenant struct {
	ID          string    `json:"id"`
	Slug        string    `json:"slug"`
	Name        string    `json:"name"`
	Active      bool      `json:"active"`
	ScoringType string    `json:"scoring_type"`
	CreatedAt   time.Time `json:"created_at"`
}

// TenantBySlug returns the tenant with this slug, or db.ErrNotFound.
func (s *Store) TenantBySlug(ctx context.Context, slug string) (Tenant, error) {
	var t Tenant
	err := s.db.QueryRow(ctx, opTenantsBySlug, "",
		`SELECT id, slug, name, active, scoring_type, created_at FROM tenants WHERE slug = $1`,
		[]any{slug}, &t.ID, &t.Slug, &t.Name, &t.Active, &t.ScoringType, &t.CreatedAt)
	return t, err
}

// NewUser are the fields of a new account; Password is the plain password, hashed here.
type NewUser struct {
	Email, Name, Password string
	Role                  auth.Role
}

// CreateTenant adds a tenant with its first user (normally an ADMIN), in one transaction.
func (s *Store) CreateTenant(ctx context.Context, a Actor, slug, name string, admin NewUser) (Tenant, User, error) {
	hash, err := auth.HashPassword(admin.Password)
	if err != nil {
		return Tenant{}, User{}, err
	}
	var (
		t Tenant
		u User
	)
	err = s.db.InTx(ctx, opTenantsCreate, "", func(tx *db.Tx) error {
		if err := tx.QueryRow(`INSERT INTO tenants (slug, name) VALUES ($1, $2)
			RETURNING id, slug, name, active, scoring_type, created_at`, slug, name).
			Scan(&t.ID, &t.Slug, &t.Name, &t.Active, &t.ScoringType, &t.CreatedAt); err != nil {
			return err
		}
		if err := tx.SetTenant(t.ID); err != nil {
			return err
		}
		if err := insertUser(tx, t.ID, admin, hash, &u); err != nil {
			return err
		}
		if err := audit(tx, t.ID, a, "tenant.created", "tenant", t.ID, map[string]any{"slug": slug, "name": name}); err != nil {
			return err
		}
		return audit(tx, t.ID, a, "user.created", "user", u.ID, map[string]any{"email": u.Email, "role": u.Role})
	})
	return t, u, err
}

func insertUser(tx *db.Tx, tenantID string, in NewUser, hash string, u *User) error {
	return tx.QueryRow(`INSERT INTO users AS u (tenant_id, email, name, password_hash, role) VALUES ($1, $2, $3, $4, $5)
		RETURNING u.id, u.tenant_id, u.email, u.name, u.role, u.active, NULL::uuid, u.created_at, u.updated_at`,
		tenantID, in.Email, in.Name, hash, in.Role).Scan(userDest(u)...)
}

// CreateUser adds an account to a tenant.
func (s *Store) CreateUser(ctx context.Context, tenantID string, a Actor, in NewUser) (User, error) {
	hash, err := auth.HashPassword(in.Password)
	if err != nil {
		return User{}, err
	}
	var u User
	err = s.db.InTx(ctx, opUsersCreate, tenantID, func(tx *db.Tx) error {
		if err := insertUser(tx, tenantID, in, hash, &u); err != nil {
			return err
		}
		return audit(tx, tenantID, a, "user.created", "user", u.ID, map[string]any{"email": u.Email, "role": u.Role})
	})
	return u, err
}
