package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/jackc/pgx/v5"
)

// Category is a judged part of a contest. ScoreCap and TimeLimitSeconds are optional (null).
type Category struct {
	ID               string       `json:"id"`
	TenantID         string       `json:"tenant_id"`
	ContestID        string       `json:"contest_id"`
	Name             string       `json:"name"`
	Description      string       `json:"description"`
	ScoreCap         *json.Number `json:"score_cap"`
	TimeLimitSeconds *int32       `json:"time_limit_seconds"`
	CreatedAt        time.Time    `json:"created_at"`
	UpdatedAt        time.Time    `json:"updated_at"`
}

// CategoryInput are the fields of a new category, already validated. ScoreCap is a decimal string
// with at most two decimals ("9.5"), so that no float rounding reaches the numeric column.
type CategoryInput struct {
	Name, Description string
	ScoreCap          *string
	TimeLimitSeconds  *int32
}

// CategoryPatch holds the fields to change.
type CategoryPatch struct {
	Name, Description *string
	ScoreCap          Clearable[string]
	TimeLimitSeconds  Clearable[int32]
}

// CategoryCursor is the position after the last category of a page.
type CategoryCursor struct {
	CreatedAt time.Time `json:"t"`
	ID        string    `json:"i"`
}

// trim_scale: 10.00 is answered as 10, 9.50 as 9.5.
const categoryColumns = `id, tenant_id, contest_id, name, description, trim_scale(score_cap)::text, time_limit_seconds, created_at, updated_at`

var (
	opCategoriesList          = db.Op{Name: "categories.list", Class: db.Standard}
	opCategoriesContestExists = db.Op{Name: "categories.contest_exists", Class: db.Simple}
	opCategoriesGet           = db.Op{Name: "categories.get", Class: db.Simple}
	opCategoriesCreate        = db.Op{Name: "categories.create", Class: db.Simple}
	opCategoriesUpdate        = db.Op{Name: "categories.update", Class: db.Simple}
	opCategoriesDelete        = db.Op{Name: "categories.delete", Class: db.Simple}
)

// categoryDest lists c's fields in the order of categoryColumns. The score cap's text (or NULL)
// goes straight into the *json.Number.
func categoryDest(c *Category) []any {
	return []any{&c.ID, &c.TenantID, &c.ContestID, &c.Name, &c.Description, &c.ScoreCap, &c.TimeLimitSeconds, &c.CreatedAt, &c.UpdatedAt}
}

func (c *Category) utc() { c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC() }

func scanCategory(row pgx.Row, c *Category) error {
	err := row.Scan(categoryDest(c)...)
	c.utc()
	return err
}

// ListCategories returns up to limit categories of a contest, oldest first, after the cursor; a
// contest that is not the tenant's is db.ErrNotFound.
func (s *Store) ListCategories(ctx context.Context, tenantID, contestID string, limit int, after *CategoryCursor) ([]Category, error) {
	var afterAt, afterID any
	if after != nil {
		afterAt, afterID = after.CreatedAt, after.ID
	}
	var out []Category
	err := s.db.Query(ctx, opCategoriesList, tenantID, collectRows(&out, limit, categoryDest, (*Category).utc),
		`SELECT `+categoryColumns+` FROM categories
		WHERE tenant_id = $1 AND contest_id = $2
		  AND ($3::timestamptz IS NULL OR (created_at, id) > ($3, $4::uuid))
		ORDER BY created_at, id
		LIMIT $5`,
		tenantID, contestID, afterAt, afterID, limit)
	if err == nil && len(out) == 0 {
		err = s.requireRow(ctx, opCategoriesContestExists, tenantID, "contests", contestID)
	}
	return out, err
}

// GetCategory returns one category of the tenant, or db.ErrNotFound.
func (s *Store) GetCategory(ctx context.Context, tenantID, id string) (Category, error) {
	var c Category
	err := s.db.Query(ctx, opCategoriesGet, tenantID, func(rows pgx.Rows) error {
		return scanOne(rows, func(r pgx.Rows) error { return scanCategory(r, &c) })
	}, `SELECT `+categoryColumns+` FROM categories WHERE tenant_id = $1 AND id = $2`, tenantID, id)
	return c, err
}

// CreateCategory adds a category to a contest of the tenant; another tenant's contest is db.ErrNotFound.
func (s *Store) CreateCategory(ctx context.Context, tenantID, contestID string, a Actor, in CategoryInput) (Category, error) {
	var c Category
	err := s.inTx(ctx, opCategoriesCreate, tenantID, func(tx *db.Tx) error {
		if err := scanCategory(tx.QueryRow(`INSERT INTO categories (tenant_id, contest_id, name, description, score_cap, time_limit_seconds)
			VALUES ($1, $2, $3, $4, $5::numeric, $6) RETURNING `+categoryColumns,
			tenantID, contestID, in.Name, in.Description, in.ScoreCap, in.TimeLimitSeconds), &c); err != nil {
			return err
		}
		return audit(tx, tenantID, a, "category.created", "category", c.ID, map[string]any{"after": c})
	})
	return c, parentMissing(err)
}

// UpdateCategory changes the given fields of a category.
func (s *Store) UpdateCategory(ctx context.Context, tenantID, id string, a Actor, p CategoryPatch) (Category, error) {
	var before, after Category
	err := s.inTx(ctx, opCategoriesUpdate, tenantID, func(tx *db.Tx) error {
		if err := scanCategory(tx.QueryRow(`SELECT `+categoryColumns+` FROM categories WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
			tenantID, id), &before); err != nil {
			return err
		}
		if err := scanCategory(tx.QueryRow(`UPDATE categories SET
				name = coalesce($3, name), description = coalesce($4, description),
				score_cap = CASE WHEN $5::boolean THEN $6::numeric ELSE score_cap END,
				time_limit_seconds = CASE WHEN $7::boolean THEN $8::integer ELSE time_limit_seconds END,
				updated_at = now()
			WHERE tenant_id = $1 AND id = $2 RETURNING `+categoryColumns,
			tenantID, id, p.Name, p.Description, p.ScoreCap.Set, p.ScoreCap.Value,
			p.TimeLimitSeconds.Set, p.TimeLimitSeconds.Value), &after); err != nil {
			return err
		}
		return audit(tx, tenantID, a, "category.updated", "category", id, map[string]any{"before": before, "after": after})
	})
	return after, withRule(err)
}

// DeleteCategory removes a category that nothing depends on (criteria, entered contestants,
// assignments, scores, deductions, certifications); otherwise it is refused with IN_USE.
func (s *Store) DeleteCategory(ctx context.Context, tenantID, id string, a Actor) error {
	err := s.inTx(ctx, opCategoriesDelete, tenantID, func(tx *db.Tx) error {
		var c Category
		if err := scanCategory(tx.QueryRow(`DELETE FROM categories WHERE tenant_id = $1 AND id = $2 RETURNING `+categoryColumns,
			tenantID, id), &c); err != nil {
			return err
		}
		return audit(tx, tenantID, a, "category.deleted", "category", id, map[string]any{"before": c})
	})
	return withRule(inUse(err, "category"))
}
