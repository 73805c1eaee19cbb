package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/eventmanager/eventmanager/internal/db"
)

// Scoresheet is one judge's sheet of one category: every contestant entered in it against every
// criterion, with the judge's current scores (null where none yet).
type Scoresheet struct {
	CategoryID       string               `json:"category_id"`
	CategoryName     string               `json:"category_name"`
	ScoreCap         *json.Number         `json:"score_cap"` // the most a judge's total may reach; null: no cap
	JudgeID          string               `json:"judge_id"`
	JudgeName        string               `json:"judge_name"`
	AssignmentStatus string               `json:"assignment_status"`
	Certified        bool                 `json:"certified"`
	CertifiedAt      *time.Time           `json:"certified_at"`
	Filled           int                  `json:"filled"`
	Required         int                  `json:"required"`
	Criteria         []SheetCriterion     `json:"criteria"`
	Contestants      []SheetContestantRow `json:"contestants"`
}

// SheetCriterion is a column of the sheet.
type SheetCriterion struct {
	ID       string      `json:"id"`
	Name     string      `json:"name"`
	MaxScore json.Number `json:"max_score"`
	Position int         `json:"position"`
}

// SheetContestantRow is a row of the sheet; Cells follow the order of Scoresheet.Criteria.
type SheetContestantRow struct {
	ID     string      `json:"id"`
	Name   string      `json:"name"`
	Number *int        `json:"number"`
	Cells  []SheetCell `json:"cells"`
}

// SheetCell is the judge's score of a contestant on a criterion; Score is null when not entered.
type SheetCell struct {
	CriterionID string       `json:"criterion_id"`
	Score       *json.Number `json:"score"`
	Comment     string       `json:"comment"`
	Locked      bool         `json:"locked"`
	UpdatedAt   *time.Time   `json:"updated_at"`
}

var opScoresheetGet = db.Op{Name: "scores.sheet", Class: db.Standard}

// sqlUTC formats a timestamptz as RFC 3339 in UTC inside json_build_object, whatever the
// session's TimeZone (to_json would use the session's offset).
func sqlUTC(expr string) string {
	return `to_char(` + expr + ` AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`
}

// scoresheetSQL builds the whole sheet as one JSON document: one statement, one round trip,
// whatever the numbers of contestants and criteria. The assignment and the judge come with it, so
// that the caller can refuse a judge who is not assigned without a second query.
var scoresheetSQL = `
SELECT json_build_object(
    'category_id', c.id,
    'category_name', c.name,
    'score_cap', trim_scale(c.score_cap),
    'judge', (SELECT json_build_object('id', j.id, 'name', j.name) FROM judges j WHERE j.tenant_id = $1 AND j.id = $3),
    'assignment_status', (SELECT a.status FROM assignments a WHERE a.tenant_id = $1 AND a.category_id = c.id AND a.judge_id = $3),
    'certified_at', (SELECT ` + sqlUTC("x.certified_at") + ` FROM category_certifications x
        WHERE x.tenant_id = $1 AND x.category_id = c.id AND x.step = 'JUDGE' AND x.judge_id = $3 AND x.revoked_at IS NULL),
    'criteria', coalesce((
        SELECT json_agg(json_build_object('id', cr.id, 'name', cr.name, 'max_score', cr.max_score, 'position', cr.position)
                        ORDER BY cr.position, cr.name, cr.id)
        FROM criteria cr WHERE cr.tenant_id = $1 AND cr.category_id = c.id), '[]'),
    'contestants', coalesce((
        SELECT json_agg(json_build_object(
            'id', k.id, 'name', k.name, 'number', k.number,
            'cells', coalesce((
                SELECT json_agg(json_build_object(
                    'criterion_id', cr.id, 'score', s.score, 'comment', coalesce(s.comment, ''),
                    'locked', coalesce(s.locked, false), 'updated_at', ` + sqlUTC("s.updated_at") + `)
                    ORDER BY cr.position, cr.name, cr.id)
                FROM criteria cr
                LEFT JOIN scores s ON s.tenant_id = $1 AND s.judge_id = $3 AND s.contestant_id = k.id AND s.criterion_id = cr.id
                WHERE cr.tenant_id = $1 AND cr.category_id = c.id), '[]'))
            ORDER BY k.number NULLS LAST, k.name, k.id)
        FROM category_contestants cc JOIN contestants k ON k.tenant_id = cc.tenant_id AND k.id = cc.contestant_id
        WHERE cc.tenant_id = $1 AND cc.category_id = c.id), '[]')
)
FROM categories c WHERE c.tenant_id = $1 AND c.id = $2`

// sheetDoc is the JSON document of scoresheetSQL.
type sheetDoc struct {
	CategoryID   string       `json:"category_id"`
	CategoryName string       `json:"category_name"`
	ScoreCap     *json.Number `json:"score_cap"`
	Judge        *struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"judge"`
	AssignmentStatus *string              `json:"assignment_status"`
	CertifiedAt      *time.Time           `json:"certified_at"`
	Criteria         []SheetCriterion     `json:"criteria"`
	Contestants      []SheetContestantRow `json:"contestants"`
}

// Scoresheet returns the sheet of judgeID in the category, in one database round trip. A judge who
// does not exist is UNKNOWN_JUDGE; a judge without an ACTIVE or PENDING assignment to the category
// is NOT_ASSIGNED (onBehalf says whether the caller asked for another judge's sheet).
func (s *Store) Scoresheet(ctx context.Context, tenantID, categoryID, judgeID string, onBehalf bool) (Scoresheet, error) {
	var raw []byte
	if err := s.db.QueryRow(ctx, opScoresheetGet, tenantID, scoresheetSQL, []any{tenantID, categoryID, judgeID}, &raw); err != nil {
		return Scoresheet{}, err
	}
	var doc sheetDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		return Scoresheet{}, err
	}
	if doc.Judge == nil {
		return Scoresheet{}, &RuleError{Kind: Invalid, Code: "UNKNOWN_JUDGE", Field: "judge_id", Message: "no such judge"}
	}
	st := doc.AssignmentStatus
	if st == nil || (*st != assignmentActive && *st != assignmentPending) {
		return Scoresheet{}, notAssigned(onBehalf, st)
	}
	sheet := Scoresheet{
		CategoryID: doc.CategoryID, CategoryName: doc.CategoryName, ScoreCap: doc.ScoreCap, JudgeID: doc.Judge.ID, JudgeName: doc.Judge.Name,
		AssignmentStatus: *st, Certified: doc.CertifiedAt != nil, CertifiedAt: doc.CertifiedAt,
		Criteria: doc.Criteria, Contestants: doc.Contestants,
		Required: len(doc.Criteria) * len(doc.Contestants),
	}
	for _, row := range doc.Contestants {
		for _, c := range row.Cells {
			if c.Score != nil {
				sheet.Filled++
			}
		}
	}
	return sheet, nil
}
