package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/jackc/pgx/v5"
)

// Criterion is one scored aspect of a category, scored from 0 to MaxScore.
type Criterion struct {
	ID         string      `json:"id"`
	TenantID   string      `json:"tenant_id"`
	CategoryID string      `json:"category_id"`
	Name       string      `json:"name"`
	MaxScore   json.Number `json:"max_score"`
	Position   int32       `json:"position"`
	CreatedAt  time.Time   `json:"created_at"`
	UpdatedAt  time.Time   `json:"updated_at"`
}

// CriterionInput are the fields of a new criterion, already validated. MaxScore is a decimal string
// with at most two decimals; a nil Position puts the criterion after the category's last one.
type CriterionInput struct {
	Name     string
	MaxScore string
	Position *int32
}

// CriterionPatch holds the fields to change.
type CriterionPatch struct {
	Name     *string
	MaxScore *string
	Position *int32
}

// CriterionCursor is the position after the last criterion of a page.
type CriterionCursor struct {
	Position int32  `json:"p"`
	ID       string `json:"i"`
}

const criterionColumns = `id, tenant_id, category_id, name, trim_scale(max_score)::text, position, created_at, updated_at`

var (
	opCriteriaList           = db.Op{Name: "criteria.list", Class: db.Standard}
	opCriteriaCategoryExists = db.Op{Name: "criteria.category_exists", Class: db.Simple}
	opCriteriaGet            = db.Op{Name: "criteria.get", Class: db.Simple}
	opCriteriaCreate         = db.Op{Name: "criteria.create", Class: db.Simple}
	opCriteriaUpdate         = db.Op{Name: "criteria.update", Class: db.Simple}
	opCriteriaDelete         = db.Op{Name: "criteria.delete", Class: db.Simple}
)

// criterionDest lists c's fields in the order of criterionColumns. The maximum score's text goes
// straight into the json.Number.
func criterionDest(c *Criterion) []any {
	return []any{&c.ID, &c.TenantID, &c.CategoryID, &c.Name, &c.MaxScore, &c.Position, &c.CreatedAt, &c.UpdatedAt}
}

func (c *Criterion) utc() { c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC() }

func scanCriterion(row pgx.Row, c *Criterion) error {
	err := row.Scan(criterionDest(c)...)
	c.utc()
	return err
}

// ListCriteria returns up to limit criteria of a category in position order, after the cursor
// (served by criteria_category_idx); a category that is not the tenant's is db.ErrNotFound.
func (s *Store) ListCriteria(ctx context.Context, tenantID, categoryID string, limit int, after *CriterionCursor) ([]Criterion, error) {
	var afterPos, afterID any
	if after != nil {
		afterPos, afterID = after.Position, after.ID
	}
	var out []Criterion
	err := s.db.Query(ctx, opCriteriaList, tenantID, collectRows(&out, limit, criterionDest, (*Criterion).utc),
		`SELECT `+criterionColumns+` FROM criteria
		WHERE tenant_id = $1 AND category_id = $2
		  AND ($3::integer IS NULL OR (position, id) > ($3, $4::uuid))
		ORDER BY position, id
		LIMIT $5`,
		tenantID, categoryID, afterPos, afterID, limit)
	if err == nil && len(out) == 0 {
		err = s.requireRow(ctx, opCriteriaCategoryExists, tenantID, "categories", categoryID)
	}
	return out, err
}

// GetCriterion returns one criterion of the tenant, or db.ErrNotFound.
func (s *Store) GetCriterion(ctx context.Context, tenantID, id string) (Criterion, error) {
	var c Criterion
	err := s.db.Query(ctx, opCriteriaGet, tenantID, func(rows pgx.Rows) error {
		return scanOne(rows, func(r pgx.Rows) error { return scanCriterion(r, &c) })
	}, `SELECT `+criterionColumns+` FROM criteria WHERE tenant_id = $1 AND id = $2`, tenantID, id)
	return c, err
}

// CreateCriterion adds a criterion to a category of the tenant; another tenant's category is
// db.ErrNotFound.
func (s *Store) CreateCriterion(ctx context.Context, tenantID, categoryID string, a Actor, in CriterionInput) (Criterion, error) {
	var c Criterion
	err := s.inTx(ctx, opCriteriaCreate, tenantID, func(tx *db.Tx) error {
		if err := lockCategoryInputs(tx, tenantID, categoryID, ""); err != nil {
			return err
		}
		if err := scanCriterion(tx.QueryRow(`INSERT INTO criteria (tenant_id, category_id, name, max_score, position)
			VALUES ($1, $2, $3, $4::numeric, coalesce($5::integer,
				(SELECT coalesce(max(position) + 1, 0) FROM criteria WHERE tenant_id = $1 AND category_id = $2)))
			RETURNING `+criterionColumns,
			tenantID, categoryID, in.Name, in.MaxScore, in.Position), &c); err != nil {
			return err
		}
		return audit(tx, tenantID, a, "criterion.created", "criterion", c.ID, map[string]any{"after": c})
	})
	return c, withRule(parentMissing(err))
}

// criterionInputsSQL selects a criterion's category for lockInputsOf.
const criterionInputsSQL = `SELECT tenant_id, category_id, NULL::uuid AS judge_id FROM criteria WHERE tenant_id = $1 AND id = $2`

// UpdateCriterion changes the given fields of a criterion. Lowering max_score below a score already
// given is refused (409 MAX_SCORE_BELOW_SCORES): it would leave scores out of range. The database
// checks it after the criterion's row lock, which score writes wait for (migration 00006).
func (s *Store) UpdateCriterion(ctx context.Context, tenantID, id string, a Actor, p CriterionPatch) (Criterion, error) {
	var before, after Criterion
	err := s.inTx(ctx, opCriteriaUpdate, tenantID, func(tx *db.Tx) error {
		if err := lockInputsOf(tx, tenantID, id, criterionInputsSQL); err != nil {
			return err
		}
		if err := scanCriterion(tx.QueryRow(`SELECT `+criterionColumns+` FROM criteria WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
			tenantID, id), &before); err != nil {
			return err
		}
		if err := scanCriterion(tx.QueryRow(`UPDATE criteria SET
				name = coalesce($3, name), max_score = coalesce($4::numeric, max_score),
				position = coalesce($5, position), updated_at = now()
			WHERE tenant_id = $1 AND id = $2 RETURNING `+criterionColumns,
			tenantID, id, p.Name, p.MaxScore, p.Position), &after); err != nil {
			return err
		}
		return audit(tx, tenantID, a, "criterion.updated", "criterion", id, map[string]any{"before": before, "after": after})
	})
	return after, withRule(err)
}

// DeleteCriterion removes a criterion that has no scores; otherwise it is refused with IN_USE.
func (s *Store) DeleteCriterion(ctx context.Context, tenantID, id string, a Actor) error {
	err := s.inTx(ctx, opCriteriaDelete, tenantID, func(tx *db.Tx) error {
		if err := lockInputsOf(tx, tenantID, id, criterionInputsSQL); err != nil {
			return err
		}
		var c Criterion
		if err := scanCriterion(tx.QueryRow(`DELETE FROM criteria WHERE tenant_id = $1 AND id = $2 RETURNING `+criterionColumns,
			tenantID, id), &c); err != nil {
			return err
		}
		return audit(tx, tenantID, a, "criterion.deleted", "criterion", id, map[string]any{"before": c})
	})
	return withRule(inUse(err, "criterion"))
}
