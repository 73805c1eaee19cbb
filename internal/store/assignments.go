package store

import (
	"context"
	"time"

	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/jackc/pgx/v5"
)

// The statuses of an assignment. A judge scores a category through a PENDING or ACTIVE assignment.
const (
	AssignmentPending   = "PENDING"
	AssignmentActive    = "ACTIVE"
	AssignmentCompleted = "COMPLETED"
	AssignmentCancelled = "CANCELLED"
)

// Assignment gives a judge a category to score; one per judge and category.
type Assignment struct {
	ID         string    `json:"id"`
	TenantID   string    `json:"tenant_id"`
	JudgeID    string    `json:"judge_id"`
	CategoryID string    `json:"category_id"`
	Status     string    `json:"status"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// AssignmentCursor is the position after the last assignment of a page.
type AssignmentCursor struct {
	ID string `json:"i"`
}

// AssignmentFilter selects a page of assignments; empty fields do not filter.
type AssignmentFilter struct {
	JudgeID, CategoryID, Status string
	Limit                       int
	After                       *AssignmentCursor
}

const assignmentColumns = `id, tenant_id, judge_id, category_id, status, created_at, updated_at`

var (
	opAssignmentsList        = db.Op{Name: "assignments.list", Class: db.Standard}
	opAssignmentsJudgeExists = db.Op{Name: "assignments.judge_exists", Class: db.Simple}
	opAssignmentsGet         = db.Op{Name: "assignments.get", Class: db.Simple}
	opAssignmentsCreate      = db.Op{Name: "assignments.create", Class: db.Simple}
	opAssignmentsUpdate      = db.Op{Name: "assignments.update", Class: db.Simple}
	opAssignmentsDelete      = db.Op{Name: "assignments.delete", Class: db.Simple}
)

// assignmentDest lists a's fields in the order of assignmentColumns.
func assignmentDest(a *Assignment) []any {
	return []any{&a.ID, &a.TenantID, &a.JudgeID, &a.CategoryID, &a.Status, &a.CreatedAt, &a.UpdatedAt}
}

func (a *Assignment) utc() { a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC() }

func scanAssignment(row pgx.Row, a *Assignment) error {
	err := row.Scan(assignmentDest(a)...)
	a.utc()
	return err
}

// ListAssignments returns up to f.Limit assignments of the tenant in id order, after f.After,
// filtered by judge, category and status.
func (s *Store) ListAssignments(ctx context.Context, tenantID string, f AssignmentFilter) ([]Assignment, error) {
	var afterID any
	if f.After != nil {
		afterID = f.After.ID
	}
	var out []Assignment
	err := s.db.Query(ctx, opAssignmentsList, tenantID, collectRows(&out, f.Limit, assignmentDest, (*Assignment).utc),
		`SELECT `+assignmentColumns+` FROM assignments
		WHERE tenant_id = $1
		  AND ($2::uuid IS NULL OR id > $2)
		  AND ($3::uuid IS NULL OR judge_id = $3)
		  AND ($4::uuid IS NULL OR category_id = $4)
		  AND ($5::text IS NULL OR status = $5)
		ORDER BY id
		LIMIT $6`,
		tenantID, afterID, nullString(f.JudgeID), nullString(f.CategoryID), nullString(f.Status), f.Limit)
	return out, err
}

// ListJudgeAssignments is ListAssignments for one judge, which must be the tenant's
// (db.ErrNotFound otherwise).
func (s *Store) ListJudgeAssignments(ctx context.Context, tenantID string, f AssignmentFilter) ([]Assignment, error) {
	out, err := s.ListAssignments(ctx, tenantID, f)
	if err == nil && len(out) == 0 {
		err = s.requireRow(ctx, opAssignmentsJudgeExists, tenantID, "judges", f.JudgeID)
	}
	return out, err
}

// GetAssignment returns one assignment of the tenant, or db.ErrNotFound.
func (s *Store) GetAssignment(ctx context.Context, tenantID, id string) (Assignment, error) {
	var a Assignment
	err := s.db.Query(ctx, opAssignmentsGet, tenantID, func(rows pgx.Rows) error {
		return scanOne(rows, func(r pgx.Rows) error { return scanAssignment(r, &a) })
	}, `SELECT `+assignmentColumns+` FROM assignments WHERE tenant_id = $1 AND id = $2`, tenantID, id)
	return a, err
}

// CreateAssignment assigns a judge to a category. A judge or category that is not the tenant's is a
// MissingReferenceError; a second assignment of the same judge and category is db.ErrConflict.
func (s *Store) CreateAssignment(ctx context.Context, tenantID string, actor Actor, judgeID, categoryID, status string) (Assignment, error) {
	var a Assignment
	err := s.inTx(ctx, opAssignmentsCreate, tenantID, func(tx *db.Tx) error {
		if err := lockCategoryInputs(tx, tenantID, categoryID, judgeID); err != nil {
			return err
		}
		if err := scanAssignment(tx.QueryRow(`INSERT INTO assignments (tenant_id, judge_id, category_id, status)
			VALUES ($1, $2, $3, $4) RETURNING `+assignmentColumns,
			tenantID, judgeID, categoryID, status), &a); err != nil {
			return err
		}
		return audit(tx, tenantID, actor, "assignment.created", "assignment", a.ID, map[string]any{"after": a})
	})
	return a, withRule(missingReference(err))
}

// assignmentInputsSQL selects an assignment's category and judge for lockInputsOf.
const assignmentInputsSQL = `SELECT tenant_id, category_id, judge_id FROM assignments WHERE tenant_id = $1 AND id = $2`

// UpdateAssignmentStatus sets an assignment's status; refused once the judge has certified the
// category (cancelling would drop their certified totals).
func (s *Store) UpdateAssignmentStatus(ctx context.Context, tenantID, id string, actor Actor, status string) (Assignment, error) {
	var before, after Assignment
	err := s.inTx(ctx, opAssignmentsUpdate, tenantID, func(tx *db.Tx) error {
		if err := lockInputsOf(tx, tenantID, id, assignmentInputsSQL); err != nil {
			return err
		}
		if err := scanAssignment(tx.QueryRow(`SELECT `+assignmentColumns+` FROM assignments WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
			tenantID, id), &before); err != nil {
			return err
		}
		if err := scanAssignment(tx.QueryRow(`UPDATE assignments SET status = $3, updated_at = now()
			WHERE tenant_id = $1 AND id = $2 RETURNING `+assignmentColumns, tenantID, id, status), &after); err != nil {
			return err
		}
		return audit(tx, tenantID, actor, "assignment.updated", "assignment", id, map[string]any{"before": before, "after": after})
	})
	return after, withRule(err)
}

// DeleteAssignment removes an assignment. Once the judge has scores in the category it is refused
// with IN_USE (the scores would lose the assignment that allowed them; a trigger checks it after
// the row lock, so a score write committing meanwhile is seen); set the status to CANCELLED instead.
func (s *Store) DeleteAssignment(ctx context.Context, tenantID, id string, actor Actor) error {
	err := s.inTx(ctx, opAssignmentsDelete, tenantID, func(tx *db.Tx) error {
		if err := lockInputsOf(tx, tenantID, id, assignmentInputsSQL); err != nil {
			return err
		}
		var a Assignment
		if err := scanAssignment(tx.QueryRow(`DELETE FROM assignments WHERE tenant_id = $1 AND id = $2 RETURNING `+assignmentColumns,
			tenantID, id), &a); err != nil {
			return err
		}
		return audit(tx, tenantID, actor, "assignment.deleted", "assignment", id, map[string]any{"before": a})
	})
	return withRule(err)
}
