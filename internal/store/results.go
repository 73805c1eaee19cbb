package store

import (
	"context"
	"encoding/json"

	"github.com/eventmanager/eventmanager/internal/db"
)

// ResultsView narrows what a caller's results are computed from.
type ResultsView struct {
	// JudgeID, when set, computes the results from this judge's scores only (a JUDGE sees their own
	// scores, never the other judges').
	JudgeID string
	// CertifiedOnly keeps only categories whose totals are certified (TALLY_MASTER step standing);
	// a single category that is not is RESULTS_NOT_CERTIFIED.
	CertifiedOnly bool
}

// CategoryResults ranks the contestants of one category.
type CategoryResults struct {
	CategoryID      string             `json:"category_id"`
	Name            string             `json:"name"`
	ContestID       string             `json:"contest_id"`
	EventID         string             `json:"event_id"`
	ScoringType     string             `json:"scoring_type"`
	TotalsCertified bool               `json:"totals_certified"`
	Contestants     []ContestantResult `json:"contestants"`
}

// ContestantResult is one contestant's line of a category's results.
type ContestantResult struct {
	ContestantID string       `json:"contestant_id"`
	Name         string       `json:"name"`
	Number       *int         `json:"number"`
	Judges       []JudgeTotal `json:"judges"`
	// Total is the sum of the counted judges' totals; Average is Total / JudgesCounted (4 decimals),
	// null when no judge counted.
	Total         json.Number  `json:"total"`
	JudgesCounted int          `json:"judges_counted"`
	Average       *json.Number `json:"average"`
	Deductions    json.Number  `json:"deductions"`
	// FinalScore is Total - Deductions, not below zero; Rank orders it (equal scores share a rank).
	FinalScore json.Number `json:"final_score"`
	Rank       int         `json:"rank"`
}

// JudgeTotal is one judge's sum over the criteria for a contestant. Counted is false for the
// highest and the lowest judge totals dropped by OLYMPIC scoring.
type JudgeTotal struct {
	JudgeID string      `json:"judge_id"`
	Name    string      `json:"name"`
	Total   json.Number `json:"total"`
	Counted bool        `json:"counted"`
}

// ResultCategory is a category that contributes to contest or event results.
type ResultCategory struct {
	CategoryID      string `json:"category_id"`
	Name            string `json:"name"`
	ContestID       string `json:"contest_id"`
	ScoringType     string `json:"scoring_type"`
	TotalsCertified bool   `json:"totals_certified"`
}

// AggregateContestant is one contestant's line of contest or event results: the sum of their
// category final scores, ranked.
type AggregateContestant struct {
	ContestantID string               `json:"contestant_id"`
	Name         string               `json:"name"`
	Number       *int                 `json:"number"`
	Categories   []ContestantCategory `json:"categories"`
	Total        json.Number          `json:"total"`
	Rank         int                  `json:"rank"`
}

// ContestantCategory is a contestant's final score and rank in one category.
type ContestantCategory struct {
	CategoryID string      `json:"category_id"`
	FinalScore json.Number `json:"final_score"`
	Rank       int         `json:"rank"`
}

// ContestResults ranks the contestants of a contest over its categories.
type ContestResults struct {
	ContestID   string                `json:"contest_id"`
	EventID     string                `json:"event_id"`
	Name        string                `json:"name"`
	Categories  []ResultCategory      `json:"categories"`
	Contestants []AggregateContestant `json:"contestants"`
}

// EventResults ranks the contestants of an event over the categories of all its contests.
type EventResults struct {
	EventID     string                `json:"event_id"`
	Name        string                `json:"name"`
	Categories  []ResultCategory      `json:"categories"`
	Contestants []AggregateContestant `json:"contestants"`
}

var (
	// Results only read: they may run on the read replica (DATABASE_REPLICA_URL).
	opResultsCategory = db.Op{Name: "results.category", Class: db.Complex, ReadOnly: true}
	opResultsContest  = db.Op{Name: "results.contest", Class: db.Complex, ReadOnly: true}
	opResultsEvent    = db.Op{Name: "results.event", Class: db.Complex, ReadOnly: true}
)

// resultsCTE computes every category final of a scope in SQL, whatever the numbers of
// contestants, judges and criteria. scope is the condition that picks the categories (c is the
// category, ct its contest). Parameters: $1 tenant, $2 the scope's id, $3 a judge whose scores
// alone count (or NULL), $4 keep only categories whose totals are certified.
//
//   - cats: the categories, with the scoring type (the contest's, else the event's, else the
//     tenant's) and whether the TALLY_MASTER certification stands.
//   - judge_totals: each judge's sum over the criteria, per contestant; judges whose assignment is
//     CANCELLED do not count.
//   - judged: OLYMPIC drops the lowest and the highest judge total of a contestant when three or
//     more judges scored them (ties broken by judge id, so exactly one of each is dropped).
//   - finals: total over the counted judges, deductions, final = max(total - deductions, 0).
//   - ranked: rank() per category: equal finals share a rank and the next rank skips (1, 1, 3).
func resultsCTE(scope string) string {
	return `
WITH cats AS (
    SELECT c.id, c.name, c.contest_id, ct.event_id, c.created_at, ct.created_at AS contest_created_at,
        coalesce(ct.scoring_type, e.scoring_type, t.scoring_type) AS scoring_type,
        EXISTS (SELECT 1 FROM category_certifications x WHERE x.tenant_id = c.tenant_id AND x.category_id = c.id
                AND x.step = 'TALLY_MASTER' AND x.revoked_at IS NULL) AS totals_certified
    FROM categories c
    JOIN contests ct ON ct.tenant_id = c.tenant_id AND ct.id = c.contest_id
    JOIN events e ON e.tenant_id = ct.tenant_id AND e.id = ct.event_id
    JOIN tenants t ON t.id = c.tenant_id
    WHERE c.tenant_id = $1 AND ` + scope + `
      AND (NOT $4::boolean OR EXISTS (SELECT 1 FROM category_certifications x WHERE x.tenant_id = c.tenant_id
                AND x.category_id = c.id AND x.step = 'TALLY_MASTER' AND x.revoked_at IS NULL))
),
judge_totals AS (
    SELECT s.category_id, s.contestant_id, s.judge_id, sum(s.score) AS total
    FROM scores s
    JOIN cats ON cats.id = s.category_id
    JOIN assignments a ON a.tenant_id = s.tenant_id AND a.category_id = s.category_id AND a.judge_id = s.judge_id
    WHERE s.tenant_id = $1 AND a.status <> 'CANCELLED' AND ($3::uuid IS NULL OR s.judge_id = $3::uuid)
    GROUP BY s.category_id, s.contestant_id, s.judge_id
),
judged AS (
    SELECT jt.category_id, jt.contestant_id, jt.judge_id, jt.total,
        NOT (cats.scoring_type = 'OLYMPIC' AND count(*) OVER per_contestant >= 3
             AND (row_number() OVER by_total = 1 OR row_number() OVER by_total = count(*) OVER per_contestant)) AS counted
    FROM judge_totals jt JOIN cats ON cats.id = jt.category_id
    WINDOW per_contestant AS (PARTITION BY jt.category_id, jt.contestant_id),
           by_total AS (PARTITION BY jt.category_id, jt.contestant_id ORDER BY jt.total, jt.judge_id)
),
deds AS (
    SELECT d.category_id, d.contestant_id, sum(d.amount) AS amount
    FROM deductions d JOIN cats ON cats.id = d.category_id
    WHERE d.tenant_id = $1
    GROUP BY d.category_id, d.contestant_id
),
per_contestant AS (
    SELECT cats.id AS category_id, cc.contestant_id,
        coalesce(sum(j.total) FILTER (WHERE j.counted), 0) AS total,
        count(*) FILTER (WHERE j.counted) AS judges_counted,
        coalesce(json_agg(json_build_object('judge_id', j.judge_id, 'name', jd.name, 'total', j.total, 'counted', j.counted)
                          ORDER BY jd.name, j.judge_id) FILTER (WHERE j.judge_id IS NOT NULL), '[]') AS judges
    FROM cats
    JOIN category_contestants cc ON cc.tenant_id = $1 AND cc.category_id = cats.id
    LEFT JOIN judged j ON j.category_id = cats.id AND j.contestant_id = cc.contestant_id
    LEFT JOIN judges jd ON jd.tenant_id = $1 AND jd.id = j.judge_id
    GROUP BY cats.id, cc.contestant_id
),
finals AS (
    SELECT p.category_id, p.contestant_id, p.total, p.judges_counted, p.judges,
        coalesce(d.amount, 0) AS deductions,
        greatest(p.total - coalesce(d.amount, 0), 0) AS final_score
    FROM per_contestant p
    LEFT JOIN deds d ON d.category_id = p.category_id AND d.contestant_id = p.contestant_id
),
ranked AS (
    SELECT f.category_id, f.contestant_id, f.total, f.judges_counted, f.judges, f.deductions, f.final_score,
        rank() OVER (PARTITION BY f.category_id ORDER BY f.final_score DESC) AS rank
    FROM finals f
)`
}

var categoryResultsSQL = resultsCTE(`c.id = $2`) + `
SELECT json_build_object(
    'category_id', cats.id, 'name', cats.name, 'contest_id', cats.contest_id, 'event_id', cats.event_id,
    'scoring_type', cats.scoring_type, 'totals_certified', cats.totals_certified,
    'contestants', coalesce((
        SELECT json_agg(json_build_object(
            'contestant_id', r.contestant_id, 'name', k.name, 'number', k.number,
            'judges', r.judges, 'total', r.total, 'judges_counted', r.judges_counted,
            'average', round(r.total / nullif(r.judges_counted, 0), 4),
            'deductions', r.deductions, 'final_score', r.final_score, 'rank', r.rank)
            ORDER BY r.rank, k.number NULLS LAST, k.name, k.id)
        FROM ranked r JOIN contestants k ON k.tenant_id = $1 AND k.id = r.contestant_id
        WHERE r.category_id = cats.id), '[]'))
FROM cats`

// aggregateSQL ranks the contestants of a contest or an event by the sum of their category finals.
func aggregateSQL(scope, head, from string) string {
	return resultsCTE(scope) + `,
totals AS (
    SELECT r.contestant_id, sum(r.final_score) AS total,
        json_agg(json_build_object('category_id', r.category_id, 'final_score', r.final_score, 'rank', r.rank)
                 ORDER BY cats.contest_created_at, cats.contest_id, cats.created_at, cats.id) AS categories
    FROM ranked r JOIN cats ON cats.id = r.category_id
    GROUP BY r.contestant_id
),
overall AS (
    SELECT t.contestant_id, t.total, t.categories, rank() OVER (ORDER BY t.total DESC) AS rank
    FROM totals t
)
SELECT json_build_object(` + head + `,
    'categories', coalesce((
        SELECT json_agg(json_build_object('category_id', cats.id, 'name', cats.name, 'contest_id', cats.contest_id,
                'scoring_type', cats.scoring_type, 'totals_certified', cats.totals_certified)
            ORDER BY cats.contest_created_at, cats.contest_id, cats.created_at, cats.id)
        FROM cats), '[]'),
    'contestants', coalesce((
        SELECT json_agg(json_build_object(
            'contestant_id', o.contestant_id, 'name', k.name, 'number', k.number,
            'categories', o.categories, 'total', o.total, 'rank', o.rank)
            ORDER BY o.rank, k.number NULLS LAST, k.name, k.id)
        FROM overall o JOIN contestants k ON k.tenant_id = $1 AND k.id = o.contestant_id), '[]'))
` + from
}

var (
	contestResultsSQL = aggregateSQL(`c.contest_id = $2`,
		`'contest_id', x.id, 'event_id', x.event_id, 'name', x.name`,
		`FROM contests x WHERE x.tenant_id = $1 AND x.id = $2`)
	eventResultsSQL = aggregateSQL(`ct.event_id = $2`,
		`'event_id', x.id, 'name', x.name`,
		`FROM events x WHERE x.tenant_id = $1 AND x.id = $2`)
)

// resultsArgs are the parameters of the results queries.
func resultsArgs(tenantID, id string, v ResultsView, certifiedOnly bool) []any {
	var judge any
	if v.JudgeID != "" {
		judge = v.JudgeID
	}
	return []any{tenantID, id, judge, certifiedOnly}
}

// loadResults runs one results query (one round trip) and decodes its JSON document into dst.
func (s *Store) loadResults(ctx context.Context, op db.Op, tenantID, sql string, args []any, dst any) error {
	var raw []byte
	if err := s.db.QueryRow(ctx, op, tenantID, sql, args, &raw); err != nil {
		return err
	}
	return json.Unmarshal(raw, dst)
}

// CategoryResults computes the results of a category in one query.
func (s *Store) CategoryResults(ctx context.Context, tenantID, categoryID string, v ResultsView) (CategoryResults, error) {
	var r CategoryResults
	// The category is read whatever its certification, so that an uncertified one is told apart
	// from a missing one.
	if err := s.loadResults(ctx, opResultsCategory, tenantID, categoryResultsSQL, resultsArgs(tenantID, categoryID, v, false), &r); err != nil {
		return CategoryResults{}, err
	}
	if v.CertifiedOnly && !r.TotalsCertified {
		return CategoryResults{}, &RuleError{Kind: Forbidden, Code: "RESULTS_NOT_CERTIFIED",
			Message: "the results of this category are published once its totals are certified"}
	}
	return r, nil
}

// ContestResults computes the results of a contest in one query.
func (s *Store) ContestResults(ctx context.Context, tenantID, contestID string, v ResultsView) (ContestResults, error) {
	var r ContestResults
	err := s.loadResults(ctx, opResultsContest, tenantID, contestResultsSQL, resultsArgs(tenantID, contestID, v, v.CertifiedOnly), &r)
	return r, err
}

// EventResults computes the results of an event in one query.
func (s *Store) EventResults(ctx context.Context, tenantID, eventID string, v ResultsView) (EventResults, error) {
	var r EventResults
	err := s.loadResults(ctx, opResultsEvent, tenantID, eventResultsSQL, resultsArgs(tenantID, eventID, v, v.CertifiedOnly), &r)
	return r, err
}
