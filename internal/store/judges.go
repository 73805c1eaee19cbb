package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/jackc/pgx/v5"
)

// Judge is a person who scores. UserID is the user who signs in as this judge, if any; a user is
// linked to at most one judge.
type Judge struct {
	ID          string    `json:"id"`
	TenantID    string    `json:"tenant_id"`
	Name        string    `json:"name"`
	Email       *string   `json:"email"`
	IsHeadJudge bool      `json:"is_head_judge"`
	UserID      *string   `json:"user_id"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// JudgeInput are the fields of a new judge, already validated.
type JudgeInput struct {
	Name        string
	Email       *string
	IsHeadJudge bool
	UserID      *string
}

// JudgePatch holds the fields to change.
type JudgePatch struct {
	Name        *string
	Email       Clearable[string]
	IsHeadJudge *bool
	UserID      Clearable[string]
}

// JudgeCursor is the position after the last judge of a page.
type JudgeCursor struct {
	ID string `json:"i"`
}

const judgeColumns = `id, tenant_id, name, email, is_head_judge, user_id, created_at, updated_at`

var (
	opJudgesList   = db.Op{Name: "judges.list", Class: db.Standard}
	opJudgesGet    = db.Op{Name: "judges.get", Class: db.Simple}
	opJudgesCreate = db.Op{Name: "judges.create", Class: db.Simple}
	opJudgesUpdate = db.Op{Name: "judges.update", Class: db.Simple}
	opJudgesDelete = db.Op{Name: "judges.delete", Class: db.Simple}
)

// judgeDest lists j's fields in the order of judgeColumns.
func judgeDest(j *Judge) []any {
	return []any{&j.ID, &j.TenantID, &j.Name, &j.Email, &j.IsHeadJudge, &j.UserID, &j.CreatedAt, &j.UpdatedAt}
}

func (j *Judge) utc() { j.CreatedAt, j.UpdatedAt = j.CreatedAt.UTC(), j.UpdatedAt.UTC() }

func scanJudge(row pgx.Row, j *Judge) error {
	err := row.Scan(judgeDest(j)...)
	j.utc()
	return err
}

// ListJudges returns up to limit judges of the tenant in id order (served by the tenant's unique
// (tenant_id, id) index), after the cursor.
func (s *Store) ListJudges(ctx context.Context, tenantID string, limit int, after *JudgeCursor) ([]Judge, error) {
	var afterID any
	if after != nil {
		afterID = after.ID
	}
	var out []Judge
	err := s.db.Query(ctx, opJudgesList, tenantID, collectRows(&out, limit, judgeDest, (*Judge).utc),
		`SELECT `+judgeColumns+` FROM judges
		WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id > $2)
		ORDER BY id
		LIMIT $3`,
		tenantID, afterID, limit)
	return out, err
}

// GetJudge returns one judge of the tenant, or db.ErrNotFound.
func (s *Store) GetJudge(ctx context.Context, tenantID, id string) (Judge, error) {
	var j Judge
	err := s.db.Query(ctx, opJudgesGet, tenantID, func(rows pgx.Rows) error {
		return scanOne(rows, func(r pgx.Rows) error { return scanJudge(r, &j) })
	}, `SELECT `+judgeColumns+` FROM judges WHERE tenant_id = $1 AND id = $2`, tenantID, id)
	return j, err
}

// checkJudgeLink enforces who a judge record may name: only a user whose role is JUDGE (only judges
// score), and never the actor (no one makes themself a judge). FOR SHARE on the user holds their
// role until the link commits. A user who is not the tenant's is a MissingReferenceError.
func checkJudgeLink(tx *db.Tx, tenantID string, a Actor, userID *string) error {
	if userID == nil {
		return nil
	}
	if strings.EqualFold(*userID, a.UserID) {
		return &RuleError{Kind: Forbidden, Code: "SELF_LINK", Field: "user_id",
			Message: "no one may link themself to a judge: another ADMIN links you"}
	}
	var role string
	err := tx.QueryRow(`SELECT role FROM users WHERE tenant_id = $1 AND id = $2 FOR SHARE`, tenantID, *userID).Scan(&role)
	if errors.Is(err, pgx.ErrNoRows) {
		return &MissingReferenceError{Field: "user_id"}
	}
	if err != nil {
		return err
	}
	if auth.Role(role) != auth.Judge {
		return &RuleError{Kind: Unprocessable, Code: "USER_NOT_JUDGE", Field: "user_id",
			Message: "a judge may be linked only to a user whose role is JUDGE (this user is " + role + ")"}
	}
	return nil
}

// CreateJudge adds a judge. A user_id that is not a user of the tenant is a MissingReferenceError;
// a user whose role is not JUDGE is USER_NOT_JUDGE, the actor themself SELF_LINK; a user already
// linked to another judge is db.ErrConflict (judges_user_id_key).
func (s *Store) CreateJudge(ctx context.Context, tenantID string, a Actor, in JudgeInput) (Judge, error) {
	var j Judge
	err := s.inTx(ctx, opJudgesCreate, tenantID, func(tx *db.Tx) error {
		if err := checkJudgeLink(tx, tenantID, a, in.UserID); err != nil {
			return err
		}
		if err := scanJudge(tx.QueryRow(`INSERT INTO judges (tenant_id, name, email, is_head_judge, user_id)
			VALUES ($1, $2, $3, $4, $5) RETURNING `+judgeColumns,
			tenantID, in.Name, in.Email, in.IsHeadJudge, in.UserID), &j); err != nil {
			return err
		}
		return audit(tx, tenantID, a, "judge.created", "judge", j.ID, map[string]any{"after": j})
	})
	return j, missingReference(err)
}

// UpdateJudge changes the given fields of a judge, with the same rules for user_id as CreateJudge.
// A judge's name and link are frozen while their certification, or a certification of the results
// of a category they judge, stands (CATEGORY_CERTIFIED, from the database's trigger).
func (s *Store) UpdateJudge(ctx context.Context, tenantID, id string, a Actor, p JudgePatch) (Judge, error) {
	var before, after Judge
	err := s.inTx(ctx, opJudgesUpdate, tenantID, func(tx *db.Tx) error {
		if err := scanJudge(tx.QueryRow(`SELECT `+judgeColumns+` FROM judges WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
			tenantID, id), &before); err != nil {
			return err
		}
		if p.UserID.Set {
			if err := checkJudgeLink(tx, tenantID, a, p.UserID.Value); err != nil {
				return err
			}
		}
		if err := scanJudge(tx.QueryRow(`UPDATE judges SET
				name = coalesce($3, name), is_head_judge = coalesce($4, is_head_judge),
				email = CASE WHEN $5::boolean THEN $6::text ELSE email END,
				user_id = CASE WHEN $7::boolean THEN $8::uuid ELSE user_id END,
				updated_at = now()
			WHERE tenant_id = $1 AND id = $2 RETURNING `+judgeColumns,
			tenantID, id, p.Name, p.IsHeadJudge, p.Email.Set, p.Email.Value, p.UserID.Set, p.UserID.Value), &after); err != nil {
			return err
		}
		return audit(tx, tenantID, a, "judge.updated", "judge", id, map[string]any{"before": before, "after": after})
	})
	return after, withRule(missingReference(err))
}

// DeleteJudge removes a judge that has no assignments, scores or certifications; otherwise it is
// refused with IN_USE.
func (s *Store) DeleteJudge(ctx context.Context, tenantID, id string, a Actor) error {
	err := s.inTx(ctx, opJudgesDelete, tenantID, func(tx *db.Tx) error {
		var j Judge
		if err := scanJudge(tx.QueryRow(`DELETE FROM judges WHERE tenant_id = $1 AND id = $2 RETURNING `+judgeColumns,
			tenantID, id), &j); err != nil {
			return err
		}
		return audit(tx, tenantID, a, "judge.deleted", "judge", id, map[string]any{"before": j})
	})
	return withRule(inUse(err, "judge"))
}
