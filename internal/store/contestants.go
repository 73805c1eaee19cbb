package store

import (
	"context"
	"time"

	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/jackc/pgx/v5"
)

// Contestant is a competitor of a tenant, entered in any number of categories. Number, when set, is
// unique within the tenant.
type Contestant struct {
	ID        string    `json:"id"`
	TenantID  string    `json:"tenant_id"`
	Name      string    `json:"name"`
	Number    *int32    `json:"number"`
	Email     *string   `json:"email"`
	Bio       string    `json:"bio"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ContestantInput are the fields of a new contestant, already validated.
type ContestantInput struct {
	Name   string
	Number *int32
	Email  *string
	Bio    string
}

// ContestantPatch holds the fields to change.
type ContestantPatch struct {
	Name, Bio *string
	Number    Clearable[int32]
	Email     Clearable[string]
}

// ContestantCursor is the position after the last contestant of a page.
type ContestantCursor struct {
	ID string `json:"i"`
}

// ContestantFilter selects a page of contestants.
type ContestantFilter struct {
	Search string // case-insensitive substring of the name
	Number *int32
	Limit  int
	After  *ContestantCursor
}

// Entry is a contestant entered in a category.
type Entry struct {
	Contestant
	CategoryID string    `json:"category_id"`
	EnteredAt  time.Time `json:"entered_at"`
}

const contestantColumns = `c.id, c.tenant_id, c.name, c.number, c.email, c.bio, c.created_at, c.updated_at`

var (
	opContestantsList       = db.Op{Name: "contestants.list", Class: db.Standard}
	opContestantsGet        = db.Op{Name: "contestants.get", Class: db.Simple}
	opContestantsCreate     = db.Op{Name: "contestants.create", Class: db.Simple}
	opContestantsUpdate     = db.Op{Name: "contestants.update", Class: db.Simple}
	opContestantsDelete     = db.Op{Name: "contestants.delete", Class: db.Simple}
	opEntriesList           = db.Op{Name: "category_contestants.list", Class: db.Standard}
	opEntriesCategoryExists = db.Op{Name: "category_contestants.category_exists", Class: db.Simple}
	opEntriesEnter          = db.Op{Name: "category_contestants.enter", Class: db.Simple}
	opEntriesWithdraw       = db.Op{Name: "category_contestants.withdraw", Class: db.Simple}
)

func contestantDest(c *Contestant) []any {
	return []any{&c.ID, &c.TenantID, &c.Name, &c.Number, &c.Email, &c.Bio, &c.CreatedAt, &c.UpdatedAt}
}

func (c *Contestant) utc() { c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC() }

func scanContestant(row pgx.Row, c *Contestant) error {
	err := row.Scan(contestantDest(c)...)
	c.utc()
	return err
}

// ListContestants returns up to f.Limit contestants of the tenant in id order (the tenant's
// unique (tenant_id, id) index serves the keyset), after f.After.
func (s *Store) ListContestants(ctx context.Context, tenantID string, f ContestantFilter) ([]Contestant, error) {
	var afterID, search any
	if f.After != nil {
		afterID = f.After.ID
	}
	if f.Search != "" {
		search = "%" + escapeLike(f.Search) + "%"
	}
	var out []Contestant
	err := s.db.Query(ctx, opContestantsList, tenantID, collectRows(&out, f.Limit, contestantDest, (*Contestant).utc),
		`SELECT `+contestantColumns+` FROM contestants c
		WHERE c.tenant_id = $1
		  AND ($2::uuid IS NULL OR c.id > $2)
		  AND ($3::text IS NULL OR c.name ILIKE $3)
		  AND ($4::integer IS NULL OR c.number = $4)
		ORDER BY c.id
		LIMIT $5`,
		tenantID, afterID, search, f.Number, f.Limit)
	return out, err
}

// GetContestant returns one contestant of the tenant, or db.ErrNotFound.
func (s *Store) GetContestant(ctx context.Context, tenantID, id string) (Contestant, error) {
	var c Contestant
	err := s.db.Query(ctx, opContestantsGet, tenantID, func(rows pgx.Rows) error {
		return scanOne(rows, func(r pgx.Rows) error { return scanContestant(r, &c) })
	}, `SELECT `+contestantColumns+` FROM contestants c WHERE c.tenant_id = $1 AND c.id = $2`, tenantID, id)
	return c, err
}

// CreateContestant adds a contestant; a number already taken in the tenant is db.ErrConflict.
func (s *Store) CreateContestant(ctx context.Context, tenantID string, a Actor, in ContestantInput) (Contestant, error) {
	var c Contestant
	err := s.inTx(ctx, opContestantsCreate, tenantID, func(tx *db.Tx) error {
		if err := scanContestant(tx.QueryRow(`INSERT INTO contestants AS c (tenant_id, name, number, email, bio)
			VALUES ($1, $2, $3, $4, $5) RETURNING `+contestantColumns,
			tenantID, in.Name, in.Number, in.Email, in.Bio), &c); err != nil {
			return err
		}
		return audit(tx, tenantID, a, "contestant.created", "contestant", c.ID, map[string]any{"after": c})
	})
	return c, err
}

// UpdateContestant changes the given fields of a contestant.
func (s *Store) UpdateContestant(ctx context.Context, tenantID, id string, a Actor, p ContestantPatch) (Contestant, error) {
	var before, after Contestant
	err := s.inTx(ctx, opContestantsUpdate, tenantID, func(tx *db.Tx) error {
		if err := scanContestant(tx.QueryRow(`SELECT `+contestantColumns+` FROM contestants c WHERE c.tenant_id = $1 AND c.id = $2 FOR UPDATE`,
			tenantID, id), &before); err != nil {
			return err
		}
		if err := scanContestant(tx.QueryRow(`UPDATE contestants AS c SET
				name = coalesce($3, c.name), bio = coalesce($4, c.bio),
				number = CASE WHEN $5::boolean THEN $6::integer ELSE c.number END,
				email = CASE WHEN $7::boolean THEN $8::text ELSE c.email END,
				updated_at = now()
			WHERE c.tenant_id = $1 AND c.id = $2 RETURNING `+contestantColumns,
			tenantID, id, p.Name, p.Bio, p.Number.Set, p.Number.Value, p.Email.Set, p.Email.Value), &after); err != nil {
			return err
		}
		return audit(tx, tenantID, a, "contestant.updated", "contestant", id, map[string]any{"before": before, "after": after})
	})
	return after, withRule(err)
}

// DeleteContestant removes a contestant entered in no category; otherwise it is refused with IN_USE.
func (s *Store) DeleteContestant(ctx context.Context, tenantID, id string, a Actor) error {
	err := s.inTx(ctx, opContestantsDelete, tenantID, func(tx *db.Tx) error {
		var c Contestant
		if err := scanContestant(tx.QueryRow(`DELETE FROM contestants AS c WHERE c.tenant_id = $1 AND c.id = $2 RETURNING `+contestantColumns,
			tenantID, id), &c); err != nil {
			return err
		}
		return audit(tx, tenantID, a, "contestant.deleted", "contestant", id, map[string]any{"before": c})
	})
	return withRule(inUse(err, "contestant"))
}

// EntryCursor is the position after the last entry of a page.
type EntryCursor struct {
	ContestantID string `json:"i"`
}

// ListEntries returns up to limit contestants entered in a category, in contestant id order (the
// primary key of category_contestants serves it), after the cursor; a category that is not the
// tenant's is db.ErrNotFound.
func (s *Store) ListEntries(ctx context.Context, tenantID, categoryID string, limit int, after *EntryCursor) ([]Entry, error) {
	var afterID any
	if after != nil {
		afterID = after.ContestantID
	}
	var out []Entry
	err := s.db.Query(ctx, opEntriesList, tenantID, collectRows(&out, limit, entryDest, (*Entry).utc),
		`SELECT `+contestantColumns+`, cc.category_id, cc.created_at
		FROM category_contestants cc
		JOIN contestants c ON c.tenant_id = cc.tenant_id AND c.id = cc.contestant_id
		WHERE cc.tenant_id = $1 AND cc.category_id = $2
		  AND ($3::uuid IS NULL OR cc.contestant_id > $3)
		ORDER BY cc.contestant_id
		LIMIT $4`,
		tenantID, categoryID, afterID, limit)
	if err == nil && len(out) == 0 {
		err = s.requireRow(ctx, opEntriesCategoryExists, tenantID, "categories", categoryID)
	}
	return out, err
}

// entryDest lists e's fields in the order of contestantColumns, then the category and the time of
// entry.
func entryDest(e *Entry) []any {
	return append(contestantDest(&e.Contestant), &e.CategoryID, &e.EnteredAt)
}

func (e *Entry) utc() {
	e.CreatedAt, e.UpdatedAt, e.EnteredAt = e.CreatedAt.UTC(), e.UpdatedAt.UTC(), e.EnteredAt.UTC()
}

// EnterContestant enters a contestant in a category. It is idempotent: created is false (and
// nothing is written) when the contestant was already entered. A category or contestant that is not
// the tenant's is db.ErrNotFound.
func (s *Store) EnterContestant(ctx context.Context, tenantID, categoryID, contestantID string, a Actor) (e Entry, created bool, err error) {
	err = s.inTx(ctx, opEntriesEnter, tenantID, func(tx *db.Tx) error {
		if err := lockCategoryInputs(tx, tenantID, categoryID, ""); err != nil {
			return err
		}
		rows, err := tx.Query(`WITH ins AS (
				INSERT INTO category_contestants (tenant_id, category_id, contestant_id) VALUES ($1, $2, $3)
				ON CONFLICT DO NOTHING RETURNING created_at)
			SELECT `+contestantColumns+`, $2::uuid, ins.created_at
			FROM contestants c LEFT JOIN ins ON true
			WHERE c.tenant_id = $1 AND c.id = $3`,
			tenantID, categoryID, contestantID)
		if err != nil {
			return err
		}
		defer rows.Close()
		var enteredAt *time.Time
		if err := scanOne(rows, func(r pgx.Rows) error {
			return r.Scan(append(contestantDest(&e.Contestant), &e.CategoryID, &enteredAt)...)
		}); err != nil {
			return err
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if enteredAt == nil {
			return nil // already entered: nothing to write
		}
		created, e.EnteredAt = true, *enteredAt
		e.utc()
		return audit(tx, tenantID, a, "contestant.entered", "contestant", contestantID,
			map[string]any{"category_id": categoryID, "contestant_id": contestantID})
	})
	if err != nil {
		created = false
	}
	return e, created, withRule(parentMissing(err))
}

// WithdrawContestant takes a contestant out of a category. An entry that scores or deductions
// depend on is refused with IN_USE; a missing entry is db.ErrNotFound.
func (s *Store) WithdrawContestant(ctx context.Context, tenantID, categoryID, contestantID string, a Actor) error {
	err := s.inTx(ctx, opEntriesWithdraw, tenantID, func(tx *db.Tx) error {
		if err := lockCategoryInputs(tx, tenantID, categoryID, ""); err != nil {
			return err
		}
		var enteredAt time.Time
		if err := tx.QueryRow(`DELETE FROM category_contestants WHERE tenant_id = $1 AND category_id = $2 AND contestant_id = $3
			RETURNING created_at`, tenantID, categoryID, contestantID).Scan(&enteredAt); err != nil {
			return err
		}
		return audit(tx, tenantID, a, "contestant.withdrawn", "contestant", contestantID,
			map[string]any{"category_id": categoryID, "contestant_id": contestantID, "entered_at": enteredAt.UTC()})
	})
	return withRule(inUse(err, "entry"))
}
