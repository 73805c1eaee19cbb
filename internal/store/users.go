package store

import (
	"context"
	"errors"
	"time"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/jackc/pgx/v5"
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

// UserPatch holds the fields to change; nil (or an unset Clearable) leaves a field as it is.
// JudgeID links the user to a judge of the tenant; set to nil it unlinks the user.
type UserPatch struct {
	Name    *string
	Role    *auth.Role
	Active  *bool
	JudgeID Clearable[string]
}

// UserFilter selects a page of users, in email order.
type UserFilter struct {
	Role       *auth.Role
	Active     *bool
	Search     string // case-insensitive substring of the email or the name
	Limit      int
	AfterEmail string // "" for the first page
}

var (
	opUsersSignIn     = db.Op{Name: "users.sign_in", Class: db.Simple}
	opUsersByEmail    = db.Op{Name: "users.by_email", Class: db.Simple}
	opUsersGet        = db.Op{Name: "users.get", Class: db.Simple}
	opUsersList       = db.Op{Name: "users.list", Class: db.Standard}
	opUsersCreate     = db.Op{Name: "users.create", Class: db.Simple}
	opUsersUpdate     = db.Op{Name: "users.update", Class: db.Simple}
	opUsersHash       = db.Op{Name: "users.password_hash", Class: db.Simple}
	opUsersPassword   = db.Op{Name: "users.set_password", Class: db.Simple}
	opSessionsCreate  = db.Op{Name: "sessions.create", Class: db.Simple}
	opSessionsLookup  = db.Op{Name: "sessions.lookup", Class: db.Simple}
	opSessionsDelete  = db.Op{Name: "sessions.delete", Class: db.Simple}
	opSessionsCleanup = db.Op{Name: "sessions.cleanup", Class: db.Standard}
)

const userColumns = `u.id, u.tenant_id, u.email, u.name, u.role, u.active, j.id, u.created_at, u.updated_at`

// userFrom joins the user's judge record (if any) so that the user can be read in one query.
const userFrom = `users u LEFT JOIN judges j ON j.tenant_id = u.tenant_id AND j.user_id = u.id`

func userDest(u *User) []any {
	return []any{&u.ID, &u.TenantID, &u.Email, &u.Name, &u.Role, &u.Active, &u.JudgeID, &u.CreatedAt, &u.UpdatedAt}
}

func (u *User) utc() { u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC() }

func scanUser(row pgx.Row, u *User) error {
	err := row.Scan(userDest(u)...)
	u.utc()
	return err
}

// Sign-in and token checks run before the tenant is known. Each is one batch, so one round trip
// and one implicit transaction: its first statement sets app.tenant_id from a sub-select on a table
// without row-level security (tenants by slug, sessions by token hash), and the query that follows
// runs scoped to that tenant. No match leaves the setting empty, and the query sees no rows.
const (
	tenantOfSlugSQL    = `SELECT set_config('app.tenant_id', coalesce((SELECT id::text FROM tenants WHERE slug = $1), ''), true)`
	tenantOfSessionSQL = `SELECT set_config('app.tenant_id', coalesce((SELECT tenant_id::text FROM sessions WHERE token_hash = $1), ''), true)`
)

// Login checks the credentials and opens a session that expires after ttl.
func (s *Store) Login(ctx context.Context, tenantSlug, email, password string, ttl time.Duration) (Session, error) {
	var (
		u            User
		hash         string
		tenantActive bool
	)
	err := s.db.QueryRowScoped(ctx, opUsersSignIn, tenantOfSlugSQL, []any{tenantSlug},
		`SELECT `+userColumns+`, u.password_hash, t.active
		FROM tenants t JOIN `+userFrom+` ON u.tenant_id = t.id
		WHERE t.slug = $1 AND u.email = $2`,
		[]any{tenantSlug, email}, append(userDest(&u), &hash, &tenantActive)...)
	u.utc()
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
	sess.ExpiresAt = sess.ExpiresAt.UTC()
	return sess, err
}

// UserByEmail returns the user of the tenant with this email, or db.ErrNotFound.
func (s *Store) UserByEmail(ctx context.Context, tenantID, email string) (User, error) {
	var u User
	err := s.db.QueryRow(ctx, opUsersByEmail, tenantID,
		`SELECT `+userColumns+` FROM `+userFrom+` WHERE u.tenant_id = $1 AND u.email = $2`,
		[]any{tenantID, email}, userDest(&u)...)
	u.utc()
	return u, err
}

// Authenticate returns the principal of a valid, unexpired token whose user and tenant are active,
// or db.ErrNotFound. One round trip: the session gives the tenant and the join runs scoped to it.
func (s *Store) Authenticate(ctx context.Context, token string) (auth.Principal, error) {
	h := auth.HashToken(token)
	p, _, err := s.SessionByHash(ctx, h)
	return p, err
}

// SessionByHash is Authenticate for a token already hashed (auth.HashToken), with the session's
// expiry, which an in-process cache of verified sessions must respect. Only a JUDGE user acts as
// the judge a record links it to (Principal.JudgeID): a link of another role, made before the rule
// existed, gives nothing.
func (s *Store) SessionByHash(ctx context.Context, tokenHash []byte) (auth.Principal, time.Time, error) {
	var (
		p       auth.Principal
		judgeID *string
		expires time.Time
	)
	err := s.db.QueryRowScoped(ctx, opSessionsLookup, tenantOfSessionSQL, []any{tokenHash},
		`SELECT u.id, u.tenant_id, u.role, u.email, u.name, j.id, s.expires_at
		FROM sessions s
		JOIN users u ON u.tenant_id = s.tenant_id AND u.id = s.user_id
		JOIN tenants t ON t.id = u.tenant_id
		LEFT JOIN judges j ON j.tenant_id = u.tenant_id AND j.user_id = u.id AND u.role = 'JUDGE'
		WHERE s.token_hash = $1 AND s.expires_at > now() AND u.active AND t.active`,
		[]any{tokenHash}, &p.UserID, &p.TenantID, &p.Role, &p.Email, &p.Name, &judgeID, &expires)
	if judgeID != nil {
		p.JudgeID = *judgeID
	}
	return p, expires, err
}

// Logout ends the session of token.
func (s *Store) Logout(ctx context.Context, tenantID, token string) error {
	_, err := s.db.Exec(ctx, opSessionsDelete, tenantID,
		`DELETE FROM sessions WHERE tenant_id = $1 AND token_hash = $2`, tenantID, auth.HashToken(token))
	return err
}

// DeleteExpiredSessions removes sessions past their expiry. Sessions have no row-level security
// (the token check reads them before the tenant is known), so this runs across tenants.
func (s *Store) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	tag, err := s.db.Exec(ctx, opSessionsCleanup, "", `DELETE FROM sessions WHERE expires_at <= now()`)
	return tag.RowsAffected(), err
}

// GetUser returns one user of the tenant.
func (s *Store) GetUser(ctx context.Context, tenantID, id string) (User, error) {
	var u User
	err := s.db.QueryRow(ctx, opUsersGet, tenantID,
		`SELECT `+userColumns+` FROM `+userFrom+` WHERE u.tenant_id = $1 AND u.id = $2`,
		[]any{tenantID, id}, userDest(&u)...)
	u.utc()
	return u, err
}

// ListUsers returns up to f.Limit users of the tenant in email order after f.AfterEmail, in one
// query (served by the unique (tenant_id, email) index).
func (s *Store) ListUsers(ctx context.Context, tenantID string, f UserFilter) ([]User, error) {
	var search any
	if f.Search != "" {
		search = "%" + escapeLike(f.Search) + "%"
	}
	var out []User
	err := s.db.Query(ctx, opUsersList, tenantID, collectRows(&out, f.Limit, userDest, (*User).utc),
		`SELECT `+userColumns+` FROM `+userFrom+`
		WHERE u.tenant_id = $1 AND u.email > $2
		  AND ($3::text IS NULL OR u.role = $3)
		  AND ($4::boolean IS NULL OR u.active = $4)
		  AND ($5::text IS NULL OR u.email ILIKE $5 OR u.name ILIKE $5)
		ORDER BY u.email
		LIMIT $6`,
		tenantID, f.AfterEmail, f.Role, f.Active, search, f.Limit)
	return out, err
}

func insertUser(tx *db.Tx, tenantID string, in NewUser, hash string, u *User) error {
	return scanUser(tx.QueryRow(`INSERT INTO users AS u (tenant_id, email, name, password_hash, role) VALUES ($1, $2, $3, $4, $5)
		RETURNING u.id, u.tenant_id, u.email, u.name, u.role, u.active, NULL::uuid, u.created_at, u.updated_at`,
		tenantID, in.Email, in.Name, hash, in.Role), u)
}

// CreateUser adds an account to a tenant. The caller checks that the actor may give in.Role
// (auth.CanAssignRole); the email is stored as given (the API lower-cases it).
func (s *Store) CreateUser(ctx context.Context, tenantID string, a Actor, in NewUser) (User, error) {
	hash, err := auth.HashPassword(in.Password)
	if err != nil {
		return User{}, err
	}
	var u User
	err = s.inTx(ctx, opUsersCreate, tenantID, func(tx *db.Tx) error {
		if err := insertUser(tx, tenantID, in, hash, &u); err != nil {
			return err
		}
		return audit(tx, tenantID, a, "user.created", "user", u.ID, map[string]any{"after": u})
	})
	return u, err
}

// Refusals of changes to users: the role rules of auth.CanAssignRole, and nobody changes their own
// role or active flag (so that nobody raises their own privileges, and an ADMIN cannot lock the
// tenant out of user management by mistake).
var (
	errOwnRole   = &RuleError{Kind: Forbidden, Code: "OWN_ACCOUNT", Field: "role", Message: "you cannot change your own role"}
	errOwnActive = &RuleError{Kind: Forbidden, Code: "OWN_ACCOUNT", Field: "active", Message: "you cannot deactivate or reactivate yourself"}
)

func errRoleNotAllowed(field string) error {
	return &RuleError{Kind: Forbidden, Code: "ROLE_NOT_ALLOWED", Field: field,
		Message: "only a SUPER_ADMIN may give the SUPER_ADMIN role or manage a SUPER_ADMIN"}
}

// lockUser reads a user of the tenant and locks its row until the end of the transaction.
func lockUser(tx *db.Tx, tenantID, id string, u *User) error {
	return scanUser(tx.QueryRow(`SELECT `+userColumns+` FROM `+userFrom+`
		WHERE u.tenant_id = $1 AND u.id = $2 FOR UPDATE OF u`, tenantID, id), u)
}

// UpdateUser changes the given fields of a user of the tenant, on behalf of a user with role
// actorRole. A user may be changed only by someone who could give them their current role (an
// ADMIN does not manage a SUPER_ADMIN); nobody changes their own role or active flag. A user who is
// deactivated loses every session in the same transaction. The change is audited, before and after.
func (s *Store) UpdateUser(ctx context.Context, tenantID string, a Actor, actorRole auth.Role, id string, p UserPatch) (User, error) {
	var before, after User
	err := s.inTx(ctx, opUsersUpdate, tenantID, func(tx *db.Tx) error {
		if err := lockUser(tx, tenantID, id, &before); err != nil {
			return err
		}
		self := a.UserID == id
		switch {
		case !self && !auth.CanAssignRole(actorRole, before.Role):
			return errRoleNotAllowed("")
		case p.Role != nil && *p.Role != before.Role && self:
			return errOwnRole
		case p.Role != nil && *p.Role != before.Role && !auth.CanAssignRole(actorRole, *p.Role):
			return errRoleNotAllowed("role")
		case p.Active != nil && *p.Active != before.Active && self:
			return errOwnActive
		}
		if _, err := tx.Exec(`UPDATE users SET name = coalesce($3, name), role = coalesce($4, role),
				active = coalesce($5, active), updated_at = now()
			WHERE tenant_id = $1 AND id = $2`, tenantID, id, p.Name, p.Role, p.Active); err != nil {
			return err
		}
		if p.Active != nil && !*p.Active && before.Active {
			// Authenticate already refuses an inactive user; removing the sessions makes sure that
			// reactivating the user does not bring old tokens back to life.
			if _, err := tx.Exec(`DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2`, tenantID, id); err != nil {
				return err
			}
		}
		if p.JudgeID.Set {
			if err := linkJudge(tx, tenantID, id, p.JudgeID.Value); err != nil {
				return err
			}
		}
		if err := lockUser(tx, tenantID, id, &after); err != nil {
			return err
		}
		if err := requireJudgeRoleIfLinked(tx, tenantID, after, p); err != nil {
			return err
		}
		return audit(tx, tenantID, a, "user.updated", "user", id, map[string]any{"before": before, "after": after})
	})
	return after, err
}

// requireJudgeRoleIfLinked refuses a user linked to a judge whose role is not JUDGE: only judges
// score, so neither a new link nor a role change may leave a judge signed in as another role. The
// user's row is locked, and the judges API locks it too before it links, so the check holds.
func requireJudgeRoleIfLinked(tx *db.Tx, tenantID string, u User, p UserPatch) error {
	if u.Role == auth.Judge {
		return nil
	}
	var linked bool
	if err := tx.QueryRow(`SELECT EXISTS (SELECT 1 FROM judges WHERE tenant_id = $1 AND user_id = $2)`,
		tenantID, u.ID).Scan(&linked); err != nil {
		return err
	}
	if !linked {
		return nil
	}
	field, msg := "role", "the user is linked to a judge: unlink the judge before giving the user another role"
	if p.JudgeID.Set {
		field, msg = "judge_id", "a judge may be linked only to a user whose role is JUDGE (this user is "+string(u.Role)+")"
	}
	return &RuleError{Kind: Unprocessable, Code: "USER_NOT_JUDGE", Field: field, Message: msg}
}

// linkJudge makes judgeID the judge that user userID signs in as (nil: none). A user is linked to at
// most one judge: a previous link is undone. A judge already linked to another user is refused.
func linkJudge(tx *db.Tx, tenantID, userID string, judgeID *string) error {
	if judgeID == nil {
		_, err := tx.Exec(`UPDATE judges SET user_id = NULL, updated_at = now() WHERE tenant_id = $1 AND user_id = $2`,
			tenantID, userID)
		return err
	}
	var linked *string
	err := tx.QueryRow(`SELECT user_id FROM judges WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, tenantID, *judgeID).Scan(&linked)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return &RuleError{Kind: Invalid, Code: "UNKNOWN_JUDGE", Field: "judge_id", Message: "no such judge"}
	case err != nil:
		return err
	case linked != nil && *linked == userID:
		return nil
	case linked != nil:
		return &RuleError{Kind: Refused, Code: "CONFLICT", Field: "judge_id", Message: "the judge is linked to another user"}
	}
	if _, err := tx.Exec(`UPDATE judges SET user_id = NULL, updated_at = now() WHERE tenant_id = $1 AND user_id = $2`,
		tenantID, userID); err != nil {
		return err
	}
	_, err = tx.Exec(`UPDATE judges SET user_id = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2`,
		tenantID, *judgeID, userID)
	return err
}

// ErrWrongPassword is a password change whose current password is wrong.
var ErrWrongPassword = &RuleError{Kind: Forbidden, Code: "WRONG_PASSWORD", Field: "current_password", Message: "the current password is wrong"}

// PasswordChange is a new password for a user.
type PasswordChange struct {
	Password string // the new password, already validated
	// Current is the user's current password, required when users change their own password, so
	// that a stolen token cannot take the account over.
	Current string
	// KeepToken is the caller's own token when users change their own password: that session goes
	// on, every other session of the user ends.
	KeepToken string
	Generated bool // the password was made by the service (a one-time password), for the audit record
}

// SetPassword gives user id of the tenant a new password, on behalf of a user with role actorRole,
// and ends the user's sessions (all of them, or all but KeepToken). Changing one's own password
// needs the current one; another user's needs a role that could give them their current role.
func (s *Store) SetPassword(ctx context.Context, tenantID string, a Actor, actorRole auth.Role, id string, c PasswordChange) error {
	self := a.UserID == id
	var oldHash string
	if self {
		// Checked before the transaction: argon2 takes tens of milliseconds that no connection or
		// row lock should wait for. The update below only applies to this very hash.
		if err := s.db.QueryRow(ctx, opUsersHash, tenantID, `SELECT password_hash FROM users WHERE tenant_id = $1 AND id = $2`,
			[]any{tenantID, id}, &oldHash); err != nil {
			return err
		}
		ok, err := auth.CheckPassword(oldHash, c.Current)
		if err != nil {
			return err
		}
		if !ok {
			return ErrWrongPassword
		}
	}
	hash, err := auth.HashPassword(c.Password)
	if err != nil {
		return err
	}
	action := "user.password_reset"
	if self {
		action = "user.password_changed"
	}
	return s.inTx(ctx, opUsersPassword, tenantID, func(tx *db.Tx) error {
		var u User
		if err := lockUser(tx, tenantID, id, &u); err != nil {
			return err
		}
		if !self && !auth.CanAssignRole(actorRole, u.Role) {
			return errRoleNotAllowed("")
		}
		tag, err := tx.Exec(`UPDATE users SET password_hash = $3, updated_at = now()
			WHERE tenant_id = $1 AND id = $2 AND ($4 = '' OR password_hash = $4)`, tenantID, id, hash, oldHash)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrWrongPassword // changed meanwhile: the current password given is no longer it
		}
		var keep []byte
		if c.KeepToken != "" {
			keep = auth.HashToken(c.KeepToken)
		}
		if _, err := tx.Exec(`DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2 AND token_hash IS DISTINCT FROM $3`,
			tenantID, id, keep); err != nil {
			return err
		}
		return audit(tx, tenantID, a, action, "user", id, map[string]any{"generated": c.Generated})
	})
}
