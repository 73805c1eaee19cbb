package store

import (
	"context"
	"time"

	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/jackc/pgx/v5"
)

// JudgeCategory is a category on a judge's list: where it belongs, the assignment, how many of
// the judge's cells are filled, and whether the judge has certified.
type JudgeCategory struct {
	CategoryID       string     `json:"category_id"`
	Name             string     `json:"name"`
	ContestName      string     `json:"contest_name"`
	EventName        string     `json:"event_name"`
	AssignmentStatus string     `json:"assignment_status"`
	Filled           int        `json:"filled"`
	Required         int        `json:"required"`
	CertifiedAt      *time.Time `json:"certified_at"`
}

// CategorySummary is a category on the staff's list.
type CategorySummary struct {
	CategoryID  string `json:"category_id"`
	Name        string `json:"name"`
	ContestName string `json:"contest_name"`
	EventName   string `json:"event_name"`
	Contestants int    `json:"contestants"`
	// LastStep is the latest standing certification step after JUDGE ("" when none).
	LastStep string `json:"last_step"`
}

// RunningOrder is a category's contestants in the order they perform (by number, then name).
type RunningOrder struct {
	CategoryID  string            `json:"category_id"`
	Name        string            `json:"name"`
	Contestants []RunningOrderRow `json:"contestants"`
}

// RunningOrderRow is one contestant of a running order.
type RunningOrderRow struct {
	ContestantID string `json:"contestant_id"`
	Number       *int32 `json:"number"`
	Name         string `json:"name"`
	Bio          string `json:"bio"`
}

var (
	opOverviewJudge      = db.Op{Name: "overview.judge_categories", Class: db.Standard}
	opOverviewCategories = db.Op{Name: "overview.categories", Class: db.Standard}
	opOverviewOrder      = db.Op{Name: "overview.running_order", Class: db.Standard}
	opOverviewEntered    = db.Op{Name: "overview.contestant_categories", Class: db.Standard}
)

func judgeCategoryDest(c *JudgeCategory) []any {
	return []any{&c.CategoryID, &c.Name, &c.ContestName, &c.EventName, &c.AssignmentStatus, &c.Required, &c.Filled, &c.CertifiedAt}
}

func (c *JudgeCategory) utc() {
	if c.CertifiedAt != nil {
		t := c.CertifiedAt.UTC()
		c.CertifiedAt = &t
	}
}

func categorySummaryDest(c *CategorySummary) []any {
	return []any{&c.CategoryID, &c.Name, &c.ContestName, &c.EventName, &c.Contestants, &c.LastStep}
}

// JudgeCategories lists the categories a judge is assigned to (cancelled assignments left out),
// with progress, in one query.
func (s *Store) JudgeCategories(ctx context.Context, tenantID, judgeID string) ([]JudgeCategory, error) {
	var out []JudgeCategory
	err := s.db.Query(ctx, opOverviewJudge, tenantID, collectRows(&out, 0, judgeCategoryDest, (*JudgeCategory).utc),
		`SELECT c.id, c.name, ct.name, e.name, a.status,
		    (SELECT count(*) FROM category_contestants cc WHERE cc.tenant_id = $1 AND cc.category_id = c.id)
		  * (SELECT count(*) FROM criteria cr WHERE cr.tenant_id = $1 AND cr.category_id = c.id),
		  (SELECT count(*) FROM scores s WHERE s.tenant_id = $1 AND s.category_id = c.id AND s.judge_id = $2),
		  (SELECT x.certified_at FROM category_certifications x WHERE x.tenant_id = $1 AND x.category_id = c.id
		      AND x.step = 'JUDGE' AND x.judge_id = $2 AND x.revoked_at IS NULL)
		FROM assignments a
		JOIN categories c ON c.tenant_id = a.tenant_id AND c.id = a.category_id
		JOIN contests ct ON ct.tenant_id = c.tenant_id AND ct.id = c.contest_id
		JOIN events e ON e.tenant_id = ct.tenant_id AND e.id = ct.event_id
		WHERE a.tenant_id = $1 AND a.judge_id = $2 AND a.status <> 'CANCELLED'
		ORDER BY e.start_date, e.name, ct.name, c.name, c.id
		LIMIT 200`, tenantID, judgeID)
	return out, err
}

// Categories lists the tenant's categories of events not archived (at most 500), with their
// latest certification step, in one query.
func (s *Store) Categories(ctx context.Context, tenantID string) ([]CategorySummary, error) {
	var out []CategorySummary
	err := s.db.Query(ctx, opOverviewCategories, tenantID, collectRows(&out, 0, categorySummaryDest, nil),
		`SELECT c.id, c.name, ct.name, e.name,
		  (SELECT count(*) FROM category_contestants cc WHERE cc.tenant_id = $1 AND cc.category_id = c.id),
		  coalesce((SELECT x.step FROM category_certifications x WHERE x.tenant_id = $1 AND x.category_id = c.id
		      AND x.step <> 'JUDGE' AND x.revoked_at IS NULL
		      ORDER BY array_position(ARRAY['TALLY_MASTER', 'AUDITOR', 'BOARD'], x.step) DESC LIMIT 1), '')
		FROM categories c
		JOIN contests ct ON ct.tenant_id = c.tenant_id AND ct.id = c.contest_id
		JOIN events e ON e.tenant_id = ct.tenant_id AND e.id = ct.event_id
		WHERE c.tenant_id = $1 AND NOT e.archived
		ORDER BY e.start_date, e.name, ct.name, c.name, c.id
		LIMIT 500`, tenantID)
	return out, err
}

// CategoryRunningOrder returns the category's contestants in running order, or db.ErrNotFound.
func (s *Store) CategoryRunningOrder(ctx context.Context, tenantID, categoryID string) (RunningOrder, error) {
	ro := RunningOrder{CategoryID: categoryID, Contestants: []RunningOrderRow{}}
	found := false
	err := s.db.Query(ctx, opOverviewOrder, tenantID, func(rows pgx.Rows) error {
		for rows.Next() {
			var r RunningOrderRow
			var id *string
			if err := rows.Scan(&ro.Name, &id, &r.Number, &r.Name, &r.Bio); err != nil {
				return err
			}
			found = true
			if id != nil {
				r.ContestantID = *id
				ro.Contestants = append(ro.Contestants, r)
			}
		}
		return rows.Err()
	}, `SELECT c.name, k.id, k.number, coalesce(k.name, ''), coalesce(k.bio, '')
		FROM categories c
		LEFT JOIN category_contestants cc ON cc.tenant_id = c.tenant_id AND cc.category_id = c.id
		LEFT JOIN contestants k ON k.tenant_id = cc.tenant_id AND k.id = cc.contestant_id
		WHERE c.tenant_id = $1 AND c.id = $2
		ORDER BY k.number NULLS LAST, k.name, k.id`, tenantID, categoryID)
	if err == nil && !found {
		err = db.ErrNotFound
	}
	return ro, err
}

// ContestantEntries returns the id of the contestant whose email is email and the categories they
// are entered in ("" and none when no contestant has this email).
func (s *Store) ContestantEntries(ctx context.Context, tenantID, email string) (contestantID string, categoryIDs []string, err error) {
	err = s.db.Query(ctx, opOverviewEntered, tenantID, func(rows pgx.Rows) error {
		for rows.Next() {
			var id string
			var cat *string
			if err := rows.Scan(&id, &cat); err != nil {
				return err
			}
			contestantID = id
			if cat != nil {
				categoryIDs = append(categoryIDs, *cat)
			}
		}
		return rows.Err()
	}, `SELECT k.id, cc.category_id FROM contestants k
		LEFT JOIN category_contestants cc ON cc.tenant_id = k.tenant_id AND cc.contestant_id = k.id
		WHERE k.tenant_id = $1 AND lower(k.email) = lower($2)
		ORDER BY cc.created_at`, tenantID, email)
	return contestantID, categoryIDs, err
}
