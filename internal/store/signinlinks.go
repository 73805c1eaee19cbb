package store

import (
	"context"
	"errors"
	"time"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/jackc/pgx/v5"
)

// SignInLink lets a judge sign in without typing: exchanged once, before it expires, for a
// session of the judge's user. Only the SHA-256 of its secret is stored.
type SignInLink struct {
	ID        string     `json:"id"`
	JudgeID   string     `json:"judge_id"`
	CreatedBy *string    `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	UsedAt    *time.Time `json:"used_at"`
	RevokedAt *time.Time `json:"revoked_at"`
	// Secret is known only to the answer that creates the link.
	Secret string `json:"secret,omitempty"`
}

// ErrSignInLinkInvalid is a link that cannot be exchanged: unknown, used, expired or revoked, or
// its judge's account is inactive. One error for all, so that a caller learns nothing more.
var ErrSignInLinkInvalid = errors.New("sign-in link invalid")

const signInLinkColumns = `id, judge_id, created_by, created_at, expires_at, used_at, revoked_at`

var (
	opSignInLinksCreate   = db.Op{Name: "sign_in_links.create", Class: db.Simple}
	opSignInLinksList     = db.Op{Name: "sign_in_links.list", Class: db.Standard}
	opSignInLinksRevoke   = db.Op{Name: "sign_in_links.revoke", Class: db.Simple}
	opSignInLinksUsable   = db.Op{Name: "sign_in_links.usable", Class: db.Simple}
	opSignInLinksExchange = db.Op{Name: "sign_in_links.exchange", Class: db.Simple}
	opSignInLinksCleanup  = db.Op{Name: "sign_in_links.cleanup", Class: db.Standard}
)

func signInLinkDest(l *SignInLink) []any {
	return []any{&l.ID, &l.JudgeID, &l.CreatedBy, &l.CreatedAt, &l.ExpiresAt, &l.UsedAt, &l.RevokedAt}
}

func (l *SignInLink) utc() {
	l.CreatedAt, l.ExpiresAt = l.CreatedAt.UTC(), l.ExpiresAt.UTC()
	for _, t := range []*time.Time{l.UsedAt, l.RevokedAt} {
		if t != nil {
			*t = t.UTC()
		}
	}
}

// CreateSignInLink creates a link for the judge, valid for ttl, and audits it. The judge must be
// linked to an active user (JUDGE_HAS_NO_ACCOUNT, ACCOUNT_INACTIVE); another tenant's judge is
// db.ErrNotFound.
func (s *Store) CreateSignInLink(ctx context.Context, tenantID string, a Actor, judgeID string, ttl time.Duration) (SignInLink, error) {
	secret, hash, err := auth.NewToken()
	if err != nil {
		return SignInLink{}, err
	}
	var l SignInLink
	err = s.inTx(ctx, opSignInLinksCreate, tenantID, func(tx *db.Tx) error {
		var (
			userID *string
			active *bool
		)
		err := tx.QueryRow(`SELECT j.user_id, u.active FROM judges j
			LEFT JOIN users u ON u.tenant_id = j.tenant_id AND u.id = j.user_id
			WHERE j.tenant_id = $1 AND j.id = $2 FOR SHARE OF j`, tenantID, judgeID).Scan(&userID, &active)
		if err != nil {
			return err
		}
		switch {
		case userID == nil:
			return &RuleError{Kind: Refused, Code: "JUDGE_HAS_NO_ACCOUNT", Field: "judge_id",
				Message: "the judge is not linked to a user: link a JUDGE user to the judge first"}
		case active == nil || !*active:
			return &RuleError{Kind: Refused, Code: "ACCOUNT_INACTIVE", Field: "judge_id", Message: "the judge's user is inactive"}
		}
		if err := tx.QueryRow(`INSERT INTO sign_in_links (tenant_id, judge_id, secret_hash, created_by, expires_at)
			VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))
			RETURNING `+signInLinkColumns, tenantID, judgeID, hash, nullString(a.UserID), ttl.Seconds()).Scan(signInLinkDest(&l)...); err != nil {
			return err
		}
		return audit(tx, tenantID, a, "sign_in_link.create", "sign_in_link", l.ID,
			map[string]any{"judge_id": judgeID, "expires_at": l.ExpiresAt.UTC()})
	})
	if err != nil {
		return SignInLink{}, err
	}
	l.utc()
	l.Secret = secret
	return l, nil
}

// ListSignInLinks returns the judge's 50 most recent links, newest first; db.ErrNotFound for
// another tenant's judge.
func (s *Store) ListSignInLinks(ctx context.Context, tenantID, judgeID string) ([]SignInLink, error) {
	out := []SignInLink{}
	found := false
	err := s.db.Query(ctx, opSignInLinksList, tenantID, func(rows pgx.Rows) error {
		for rows.Next() {
			found = true
			var (
				l  SignInLink
				id *string
			)
			if err := rows.Scan(&id, &l.JudgeID, &l.CreatedBy, &l.CreatedAt, &l.ExpiresAt, &l.UsedAt, &l.RevokedAt); err != nil {
				return err
			}
			if id == nil {
				continue // the judge, without links
			}
			l.ID = *id
			l.utc()
			out = append(out, l)
		}
		return rows.Err()
	}, `SELECT l.id, j.id, l.created_by, coalesce(l.created_at, now()), coalesce(l.expires_at, now()), l.used_at, l.revoked_at
		FROM judges j
		LEFT JOIN LATERAL (SELECT x.id, x.created_by, x.created_at, x.expires_at, x.used_at, x.revoked_at
			FROM sign_in_links x WHERE x.tenant_id = j.tenant_id AND x.judge_id = j.id
			ORDER BY x.created_at DESC LIMIT 50) l ON true
		WHERE j.tenant_id = $1 AND j.id = $2
		ORDER BY l.created_at DESC`, tenantID, judgeID)
	if err == nil && !found {
		err = db.ErrNotFound
	}
	return out, err
}

// RevokeSignInLink makes the link unusable and audits it. Revoking a revoked link changes nothing;
// a used link is SIGN_IN_LINK_USED (its session is ended by signing out, not here).
func (s *Store) RevokeSignInLink(ctx context.Context, tenantID string, a Actor, id string) (SignInLink, error) {
	var l SignInLink
	err := s.inTx(ctx, opSignInLinksRevoke, tenantID, func(tx *db.Tx) error {
		if err := tx.QueryRow(`SELECT `+signInLinkColumns+` FROM sign_in_links WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
			tenantID, id).Scan(signInLinkDest(&l)...); err != nil {
			return err
		}
		switch {
		case l.RevokedAt != nil:
			return nil
		case l.UsedAt != nil:
			return &RuleError{Kind: Refused, Code: "SIGN_IN_LINK_USED", Message: "the link has been used: sign the judge's sessions out instead"}
		}
		if err := tx.QueryRow(`UPDATE sign_in_links SET revoked_at = now(), revoked_by = $3 WHERE tenant_id = $1 AND id = $2
			RETURNING `+signInLinkColumns, tenantID, id, nullString(a.UserID)).Scan(signInLinkDest(&l)...); err != nil {
			return err
		}
		return audit(tx, tenantID, a, "sign_in_link.revoke", "sign_in_link", l.ID, map[string]any{"judge_id": l.JudgeID})
	})
	l.utc()
	return l, err
}

// UsableSignInLink returns the link if secret is its secret and it can still be exchanged (to draw
// its QR code again); db.ErrNotFound otherwise.
func (s *Store) UsableSignInLink(ctx context.Context, tenantID, id, secret string) (SignInLink, error) {
	var l SignInLink
	err := s.db.QueryRow(ctx, opSignInLinksUsable, tenantID, `SELECT `+signInLinkColumns+` FROM sign_in_links
		WHERE tenant_id = $1 AND id = $2 AND secret_hash = $3 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()`,
		[]any{tenantID, id, auth.HashToken(secret)}, signInLinkDest(&l)...)
	l.utc()
	return l, err
}

// ExchangeSignInLink uses the link of secret, once, and opens a session of the judge's user that
// expires after ttl. The exchange is audited with the link; so is a refused attempt on a known link
// (used, expired or revoked). Anything else is ErrSignInLinkInvalid.
func (s *Store) ExchangeSignInLink(ctx context.Context, secret string, a Actor, ttl time.Duration) (Session, error) {
	hash := auth.HashToken(secret)
	token, tokenHash, err := auth.NewToken()
	if err != nil {
		return Session{}, err
	}
	sess := Session{Token: token}
	refused := false
	err = s.inTx(ctx, opSignInLinksExchange, "", func(tx *db.Tx) error {
		var linkID, tenantID, judgeID string
		// The row lock makes the exchange single-use: a concurrent exchange waits, then finds
		// used_at set and changes nothing.
		err := tx.QueryRow(`UPDATE sign_in_links SET used_at = now()
			WHERE secret_hash = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
			RETURNING id, tenant_id, judge_id`, hash).Scan(&linkID, &tenantID, &judgeID)
		if errors.Is(err, pgx.ErrNoRows) {
			refused = true
			return auditRefusedLink(tx, hash, a)
		}
		if err != nil {
			return err
		}
		if err := tx.SetTenant(tenantID); err != nil {
			return err
		}
		u := &sess.User
		err = scanUser(tx.QueryRow(`SELECT `+userColumns+` FROM judges jj
			JOIN tenants t ON t.id = jj.tenant_id
			JOIN `+userFrom+` ON u.tenant_id = jj.tenant_id AND u.id = jj.user_id
			WHERE jj.tenant_id = $1 AND jj.id = $2 AND u.active AND t.active`, tenantID, judgeID), u)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrSignInLinkInvalid // rolled back: the link stays unused
		}
		if err != nil {
			return err
		}
		if err := tx.QueryRow(`INSERT INTO sessions (token_hash, tenant_id, user_id, expires_at)
			VALUES ($1, $2, $3, now() + make_interval(secs => $4)) RETURNING expires_at`,
			tokenHash, tenantID, u.ID, ttl.Seconds()).Scan(&sess.ExpiresAt); err != nil {
			return err
		}
		a.UserID = u.ID
		return audit(tx, tenantID, a, "sign_in_link.exchange", "sign_in_link", linkID, map[string]any{"judge_id": judgeID})
	})
	if err == nil && refused {
		err = ErrSignInLinkInvalid
	}
	if err != nil {
		return Session{}, err
	}
	sess.ExpiresAt = sess.ExpiresAt.UTC()
	return sess, nil
}

// auditRefusedLink records an attempt on a known link that can no longer be exchanged (a second
// use may mean the link was seen by someone else); an unknown secret records nothing.
func auditRefusedLink(tx *db.Tx, hash []byte, a Actor) error {
	var (
		linkID, tenantID, judgeID string
		used, revoked             bool
	)
	err := tx.QueryRow(`SELECT id, tenant_id, judge_id, used_at IS NOT NULL, revoked_at IS NOT NULL
		FROM sign_in_links WHERE secret_hash = $1`, hash).Scan(&linkID, &tenantID, &judgeID, &used, &revoked)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	reason := "expired"
	switch {
	case revoked:
		reason = "revoked"
	case used:
		reason = "used"
	}
	if err := tx.SetTenant(tenantID); err != nil {
		return err
	}
	return audit(tx, tenantID, a, "sign_in_link.refused", "sign_in_link", linkID, map[string]any{"judge_id": judgeID, "reason": reason})
}

// DeleteExpiredSignInLinks removes links that expired more than a day ago (the audit log keeps
// their history). The table has no row-level security, so this runs across tenants.
func (s *Store) DeleteExpiredSignInLinks(ctx context.Context) (int64, error) {
	tag, err := s.db.Exec(ctx, opSignInLinksCleanup, "", `DELETE FROM sign_in_links WHERE expires_at <= now() - interval '1 day'`)
	return tag.RowsAffected(), err
}
