package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/jackc/pgx/v5"
)

// Deduction is a penalty taken from a contestant's total in a category.
type Deduction struct {
	ID           string      `json:"id"`
	CategoryID   string      `json:"category_id"`
	ContestantID string      `json:"contestant_id"`
	Amount       json.Number `json:"amount"`
	Reason       string      `json:"reason"`
	CreatedBy    *string     `json:"created_by"`
	CreatedAt    time.Time   `json:"created_at"`
}

// DeductionInput are the fields of a new deduction, already checked for shape: Amount is a
// positive decimal with at most two decimals, as text.
type DeductionInput struct {
	ContestantID string
	Amount       string
	Reason       string
}

// DeductionCursor is the position after the last deduction of a page (newest first).
type DeductionCursor struct {
	CreatedAt time.Time `json:"t"`
	ID        string    `json:"i"`
}

// DeductionFilter selects a page of a category's deductions.
type DeductionFilter struct {
	ContestantID string // "" for all
	Limit        int
	After        *DeductionCursor
}

const deductionColumns = `d.id, d.category_id, d.contestant_id, d.amount::text, d.reason, d.created_by, d.created_at`

func deductionDest(d *Deduction) []any {
	return []any{&d.ID, &d.CategoryID, &d.ContestantID, &d.Amount, &d.Reason, &d.CreatedBy, &d.CreatedAt}
}

var (
	opDeductionsList   = db.Op{Name: "deductions.list", Class: db.Standard}
	opDeductionsCreate = db.Op{Name: "deductions.create", Class: db.Simple}
	opDeductionsDelete = db.Op{Name: "deductions.delete", Class: db.Simple}
)

// ListDeductions returns a page of the category's deductions, newest first, in one query; an
// unknown category is db.ErrNotFound (not an empty list).
func (s *Store) ListDeductions(ctx context.Context, tenantID, categoryID string, f DeductionFilter) ([]Deduction, error) {
	var afterT, afterID, contestant any
	if f.After != nil {
		afterT, afterID = f.After.CreatedAt, f.After.ID
	}
	if f.ContestantID != "" {
		contestant = f.ContestantID
	}
	var list []Deduction
	found := false
	err := s.db.Query(ctx, opDeductionsList, tenantID, func(rows pgx.Rows) error {
		list = make([]Deduction, 0, f.Limit)
		for rows.Next() {
			found = true
			// The columns of the deduction are NULL when the category has none (on this page).
			var (
				id, cat, cont, amount, reason, by *string
				at                                *time.Time
			)
			if err := rows.Scan(&id, &cat, &cont, &amount, &reason, &by, &at); err != nil {
				return err
			}
			if id != nil {
				list = append(list, Deduction{ID: *id, CategoryID: *cat, ContestantID: *cont, Amount: json.Number(*amount),
					Reason: *reason, CreatedBy: by, CreatedAt: at.UTC()})
			}
		}
		return rows.Err()
	}, `SELECT `+deductionColumns+`
		FROM categories c
		LEFT JOIN LATERAL (
			SELECT d.id, d.category_id, d.contestant_id, d.amount, d.reason, d.created_by, d.created_at FROM deductions d
			WHERE d.tenant_id = c.tenant_id AND d.category_id = c.id
			  AND ($3::uuid IS NULL OR d.contestant_id = $3)
			  AND ($4::timestamptz IS NULL OR (d.created_at, d.id) < ($4, $5::uuid))
			ORDER BY d.created_at DESC, d.id DESC
			LIMIT $6) d ON true
		WHERE c.tenant_id = $1 AND c.id = $2
		ORDER BY d.created_at DESC, d.id DESC`,
		tenantID, categoryID, contestant, afterT, afterID, f.Limit)
	if err == nil && !found {
		err = db.ErrNotFound
	}
	return list, err
}

// CreateDeduction adds a deduction for a contestant entered in the category, with its audit
// record. It is refused once the category's totals are certified.
func (s *Store) CreateDeduction(ctx context.Context, tenantID, categoryID string, a Actor, in DeductionInput) (Deduction, error) {
	var d Deduction
	err := s.inTx(ctx, opDeductionsCreate, tenantID, func(tx *db.Tx) error {
		if err := lockCategoryInputs(tx, tenantID, categoryID, ""); err != nil {
			return err
		}
		var entered bool
		err := tx.QueryRow(`SELECT EXISTS (SELECT 1 FROM category_contestants cc
					WHERE cc.tenant_id = c.tenant_id AND cc.category_id = c.id AND cc.contestant_id = $3)
			FROM categories c WHERE c.tenant_id = $1 AND c.id = $2`,
			tenantID, categoryID, in.ContestantID).Scan(&entered)
		if err != nil {
			return err
		}
		if !entered {
			return &RuleError{Kind: Invalid, Code: "CONTESTANT_NOT_IN_CATEGORY", Field: "contestant_id", Message: "the contestant is not entered in this category"}
		}
		if err := tx.QueryRow(`INSERT INTO deductions AS d (tenant_id, category_id, contestant_id, amount, reason, created_by)
			VALUES ($1, $2, $3, $4::numeric, $5, $6) RETURNING `+deductionColumns,
			tenantID, categoryID, in.ContestantID, in.Amount, in.Reason, nullString(a.UserID)).Scan(deductionDest(&d)...); err != nil {
			return err
		}
		d.CreatedAt = d.CreatedAt.UTC()
		return audit(tx, tenantID, a, "deduction.created", "deduction", d.ID, map[string]any{"after": d})
	})
	return d, err
}

// DeleteDeduction removes a deduction, with its audit record; refused once the category's totals
// are certified.
func (s *Store) DeleteDeduction(ctx context.Context, tenantID, id string, a Actor) error {
	return s.inTx(ctx, opDeductionsDelete, tenantID, func(tx *db.Tx) error {
		if err := lockInputsOf(tx, tenantID, id, `SELECT tenant_id, category_id, NULL::uuid AS judge_id
			FROM deductions WHERE tenant_id = $1 AND id = $2`); err != nil {
			return err
		}
		var d Deduction
		err := tx.QueryRow(`DELETE FROM deductions d WHERE d.tenant_id = $1 AND d.id = $2 RETURNING `+deductionColumns,
			tenantID, id).Scan(deductionDest(&d)...)
		if errors.Is(err, pgx.ErrNoRows) {
			return db.ErrNotFound
		}
		if err != nil {
			return err
		}
		d.CreatedAt = d.CreatedAt.UTC()
		return audit(tx, tenantID, a, "deduction.deleted", "deduction", id, map[string]any{"before": d})
	})
}
