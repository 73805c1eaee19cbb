package store

import (
	"context"
	"time"

	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/jackc/pgx/v5"
)

// Contest is a competition within an event. A nil ScoringType inherits the event's (or the tenant's).
type Contest struct {
	ID          string    `json:"id"`
	TenantID    string    `json:"tenant_id"`
	EventID     string    `json:"event_id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	ScoringType *string   `json:"scoring_type"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// ContestInput are the fields of a new contest, already validated.
type ContestInput struct {
	Name, Description string
	ScoringType       *string
}

// ContestPatch holds the fields to change; nil (or an unset Clearable) leaves a field as it is.
type ContestPatch struct {
	Name, Description *string
	ScoringType       Clearable[string]
}

// ContestCursor is the position after the last contest of a page.
type ContestCursor struct {
	CreatedAt time.Time `json:"t"`
	ID        string    `json:"i"`
}

// Clearable is a PATCH value of a nullable column: Set false leaves the column as it is; Set with a
// nil Value clears it (NULL).
type Clearable[T any] struct {
	Set   bool
	Value *T
}

const contestColumns = `id, tenant_id, event_id, name, description, scoring_type, created_at, updated_at`

var (
	opContestsList        = db.Op{Name: "contests.list", Class: db.Standard}
	opContestsEventExists = db.Op{Name: "contests.event_exists", Class: db.Simple}
	opContestsGet         = db.Op{Name: "contests.get", Class: db.Simple}
	opContestsCreate      = db.Op{Name: "contests.create", Class: db.Simple}
	opContestsUpdate      = db.Op{Name: "contests.update", Class: db.Simple}
	opContestsDelete      = db.Op{Name: "contests.delete", Class: db.Simple}
)

// contestDest lists c's fields in the order of contestColumns.
func contestDest(c *Contest) []any {
	return []any{&c.ID, &c.TenantID, &c.EventID, &c.Name, &c.Description, &c.ScoringType, &c.CreatedAt, &c.UpdatedAt}
}

func (c *Contest) utc() { c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC() }

func scanContest(row pgx.Row, c *Contest) error {
	err := row.Scan(contestDest(c)...)
	c.utc()
	return err
}

// ListContests returns up to limit contests of an event, oldest first, after the cursor. An event
// that is not the tenant's is db.ErrNotFound. One query per page; a second one, only when the page
// is empty, tells an empty event from a missing one.
func (s *Store) ListContests(ctx context.Context, tenantID, eventID string, limit int, after *ContestCursor) ([]Contest, error) {
	var afterAt, afterID any
	if after != nil {
		afterAt, afterID = after.CreatedAt, after.ID
	}
	var out []Contest
	err := s.db.Query(ctx, opContestsList, tenantID, collectRows(&out, limit, contestDest, (*Contest).utc),
		`SELECT `+contestColumns+` FROM contests
		WHERE tenant_id = $1 AND event_id = $2
		  AND ($3::timestamptz IS NULL OR (created_at, id) > ($3, $4::uuid))
		ORDER BY created_at, id
		LIMIT $5`,
		tenantID, eventID, afterAt, afterID, limit)
	if err == nil && len(out) == 0 {
		err = s.requireRow(ctx, opContestsEventExists, tenantID, "events", eventID)
	}
	return out, err
}

// GetContest returns one contest of the tenant, or db.ErrNotFound.
func (s *Store) GetContest(ctx context.Context, tenantID, id string) (Contest, error) {
	var c Contest
	err := s.db.Query(ctx, opContestsGet, tenantID, func(rows pgx.Rows) error {
		return scanOne(rows, func(r pgx.Rows) error { return scanContest(r, &c) })
	}, `SELECT `+contestColumns+` FROM contests WHERE tenant_id = $1 AND id = $2`, tenantID, id)
	return c, err
}

// CreateContest adds a contest to an event of the tenant; another tenant's event is db.ErrNotFound.
func (s *Store) CreateContest(ctx context.Context, tenantID, eventID string, a Actor, in ContestInput) (Contest, error) {
	var c Contest
	err := s.inTx(ctx, opContestsCreate, tenantID, func(tx *db.Tx) error {
		// The composite foreign key (tenant_id, event_id) refuses another tenant's event.
		if err := scanContest(tx.QueryRow(`INSERT INTO contests (tenant_id, event_id, name, description, scoring_type)
			VALUES ($1, $2, $3, $4, $5) RETURNING `+contestColumns,
			tenantID, eventID, in.Name, in.Description, in.ScoringType), &c); err != nil {
			return err
		}
		return audit(tx, tenantID, a, "contest.created", "contest", c.ID, map[string]any{"after": c})
	})
	return c, parentMissing(err)
}

// UpdateContest changes the given fields of a contest.
func (s *Store) UpdateContest(ctx context.Context, tenantID, id string, a Actor, p ContestPatch) (Contest, error) {
	var before, after Contest
	err := s.inTx(ctx, opContestsUpdate, tenantID, func(tx *db.Tx) error {
		if err := scanContest(tx.QueryRow(`SELECT `+contestColumns+` FROM contests WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
			tenantID, id), &before); err != nil {
			return err
		}
		if err := scanContest(tx.QueryRow(`UPDATE contests SET
				name = coalesce($3, name), description = coalesce($4, description),
				scoring_type = CASE WHEN $5::boolean THEN $6::text ELSE scoring_type END, updated_at = now()
			WHERE tenant_id = $1 AND id = $2 RETURNING `+contestColumns,
			tenantID, id, p.Name, p.Description, p.ScoringType.Set, p.ScoringType.Value), &after); err != nil {
			return err
		}
		return audit(tx, tenantID, a, "contest.updated", "contest", id, map[string]any{"before": before, "after": after})
	})
	return after, withRule(err)
}

// DeleteContest removes a contest that has no categories; otherwise it is refused with IN_USE.
func (s *Store) DeleteContest(ctx context.Context, tenantID, id string, a Actor) error {
	err := s.inTx(ctx, opContestsDelete, tenantID, func(tx *db.Tx) error {
		var c Contest
		if err := scanContest(tx.QueryRow(`DELETE FROM contests WHERE tenant_id = $1 AND id = $2 RETURNING `+contestColumns,
			tenantID, id), &c); err != nil {
			return err
		}
		return audit(tx, tenantID, a, "contest.deleted", "contest", id, map[string]any{"before": c})
	})
	return inUse(err, "contest")
}

// requireRow returns db.ErrNotFound unless table has a row of the tenant with this id. table is
// always a constant of the caller, never input.
func (s *Store) requireRow(ctx context.Context, op db.Op, tenantID, table, id string) error {
	var ok bool
	err := s.db.QueryRow(ctx, op, tenantID, `SELECT EXISTS (SELECT 1 FROM `+table+` WHERE tenant_id = $1 AND id = $2)`,
		[]any{tenantID, id}, &ok)
	if err == nil && !ok {
		err = db.ErrNotFound
	}
	return err
}

// scanOne scans the only row of rows, or returns db.ErrNotFound when there is none.
func scanOne(rows pgx.Rows, scan func(pgx.Rows) error) error {
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return db.ErrNotFound
	}
	return scan(rows)
}
