package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/eventmanager/eventmanager/internal/db"
)

// ScoreInput is one cell of a score submission, already checked for shape by the caller: the ids
// are UUIDs and Score is a non-negative decimal with at most two decimals, as text ("9.50"), so that
// no binary float stands between the judge and the database.
type ScoreInput struct {
	ContestantID string
	CriterionID  string
	Score        string
	Comment      string
}

// ScoreSubmission is a batch of scores of one judge in one category, written all or nothing.
type ScoreSubmission struct {
	CategoryID string
	JudgeID    string
	// OnBehalf is true when an ADMIN enters the scores for the judge; the audit log records both.
	OnBehalf bool
	Scores   []ScoreInput
}

// ScoreCell is a judge's score of one contestant on one criterion.
type ScoreCell struct {
	ID           string      `json:"id"`
	ContestantID string      `json:"contestant_id"`
	CriterionID  string      `json:"criterion_id"`
	Score        json.Number `json:"score"`
	Comment      string      `json:"comment"`
	Locked       bool        `json:"locked"`
	CertifiedAt  *time.Time  `json:"certified_at"`
	UpdatedAt    time.Time   `json:"updated_at"`
}

// ScoresResult is the answer to a score submission: the judge's cells that it wrote.
type ScoresResult struct {
	CategoryID string      `json:"category_id"`
	JudgeID    string      `json:"judge_id"`
	Scores     []ScoreCell `json:"scores"`
}

var opScoresSubmit = db.Op{Name: "scores.submit", Class: db.Standard}

// Assignment statuses that allow a judge to enter scores.
const (
	assignmentActive  = "ACTIVE"
	assignmentPending = "PENDING"
)

// scoreCheckSQL checks a whole submission in one statement: the category, the judge and their
// assignment once, and for every cell (in request order) whether its criterion belongs to the
// category, whether its contestant is entered in it, whether the score is within the criterion's
// maximum, whether the cell is locked, and whether the judge's total for the contestant after the
// submission stays within the category's score_cap. FOR NO KEY UPDATE on the assignment fences the
// judge's certification (which takes FOR UPDATE on it) and serialises the judge's own writes in the
// category, so that two submissions cannot each stay under score_cap and together go over it.
const scoreCheckSQL = `
WITH i AS (
    SELECT * FROM unnest($4::uuid[], $5::uuid[], $6::numeric[]) WITH ORDINALITY AS i(contestant_id, criterion_id, score, ord)
),
totals AS (
    SELECT x.contestant_id, sum(x.score) AS total FROM (
        SELECT i.contestant_id, i.score FROM i
        UNION ALL
        SELECT s.contestant_id, s.score FROM scores s
        WHERE s.tenant_id = $1 AND s.category_id = $2 AND s.judge_id = $3
          AND s.contestant_id IN (SELECT contestant_id FROM i)
          AND NOT EXISTS (SELECT 1 FROM i WHERE i.contestant_id = s.contestant_id AND i.criterion_id = s.criterion_id)) x
    GROUP BY x.contestant_id
)
SELECT
    EXISTS (SELECT 1 FROM categories WHERE tenant_id = $1 AND id = $2),
    EXISTS (SELECT 1 FROM judges WHERE tenant_id = $1 AND id = $3),
    (SELECT a.status FROM assignments a
        WHERE a.tenant_id = $1 AND a.category_id = $2 AND a.judge_id = $3 FOR NO KEY UPDATE),
    EXISTS (SELECT 1 FROM category_certifications x
        WHERE x.tenant_id = $1 AND x.category_id = $2 AND x.step = 'JUDGE' AND x.judge_id = $3 AND x.revoked_at IS NULL),
    i.ord,
    cr.id IS NOT NULL,
    cc.contestant_id IS NOT NULL,
    coalesce(i.score <= cr.max_score, false),
    coalesce(cr.max_score::text, ''),
    coalesce(s.locked, false),
    coalesce(t.total <= cat.score_cap, true),
    trim_scale(t.total)::text,
    coalesce(trim_scale(cat.score_cap)::text, '')
FROM i
LEFT JOIN totals t ON t.contestant_id = i.contestant_id
LEFT JOIN categories cat ON cat.tenant_id = $1 AND cat.id = $2
LEFT JOIN criteria cr ON cr.tenant_id = $1 AND cr.category_id = $2 AND cr.id = i.criterion_id
LEFT JOIN category_contestants cc ON cc.tenant_id = $1 AND cc.category_id = $2 AND cc.contestant_id = i.contestant_id
LEFT JOIN scores s ON s.tenant_id = $1 AND s.judge_id = $3 AND s.contestant_id = i.contestant_id AND s.criterion_id = i.criterion_id
ORDER BY i.ord`

// scoreUpsertSQL writes every cell and its audit record in one statement. A cell that is locked,
// or a judge whose certification stands, writes nothing: the caller compares the rows returned
// with the cells sent (a certification can commit between the check and this statement).
const scoreUpsertSQL = `
WITH input AS (
    SELECT i.contestant_id, i.criterion_id, i.score, i.comment
    FROM unnest($4::uuid[], $5::uuid[], $6::numeric[], $7::text[]) AS i(contestant_id, criterion_id, score, comment)
    WHERE NOT EXISTS (SELECT 1 FROM category_certifications x
        WHERE x.tenant_id = $1 AND x.category_id = $2 AND x.step = 'JUDGE' AND x.judge_id = $3 AND x.revoked_at IS NULL)
),
before AS (
    SELECT s.contestant_id, s.criterion_id, s.score, s.comment
    FROM scores s JOIN input i ON i.contestant_id = s.contestant_id AND i.criterion_id = s.criterion_id
    WHERE s.tenant_id = $1 AND s.judge_id = $3
),
up AS (
    INSERT INTO scores AS s (tenant_id, category_id, judge_id, contestant_id, criterion_id, score, comment)
    SELECT $1, $2, $3, contestant_id, criterion_id, score, comment FROM input
    ON CONFLICT (judge_id, contestant_id, criterion_id) DO UPDATE
        SET score = EXCLUDED.score, comment = EXCLUDED.comment, updated_at = now()
        WHERE NOT s.locked
    RETURNING s.id, s.contestant_id, s.criterion_id, s.score, s.comment, s.locked, s.certified_at, s.updated_at
),
logged AS (
    INSERT INTO audit_logs (tenant_id, actor_user_id, action, entity_type, entity_id, data, request_id, ip)
    SELECT $1, $8::uuid, 'score.submitted', 'score', up.id,
        jsonb_build_object(
            'category_id', $2::uuid, 'judge_id', $3::uuid,
            'contestant_id', up.contestant_id, 'criterion_id', up.criterion_id,
            'on_behalf_of_judge', $11::boolean,
            'before', CASE WHEN b.contestant_id IS NULL THEN NULL
                           ELSE jsonb_build_object('score', b.score, 'comment', b.comment) END,
            'after', jsonb_build_object('score', up.score, 'comment', up.comment)),
        $9::text, $10::inet
    FROM up LEFT JOIN before b ON b.contestant_id = up.contestant_id AND b.criterion_id = up.criterion_id
)
SELECT id, contestant_id, criterion_id, score::text, comment, locked, certified_at, updated_at FROM up`

// SubmitScores writes the scores of one judge in one category, all or nothing, with one audit
// record per cell. Every cell is checked before anything is written, in a fixed number of
// statements whatever the number of cells; the first cell at fault is named (scores[3].score).
//
// With idem set, the Idempotency-Key is claimed first, in the same transaction: a key already used
// with the same request returns its stored answer (replayed, nothing written), with another
// request IDEMPOTENCY_KEY_REUSED. The answer of a new request is made by idem.Render and stored
// with the key before the commit. Without idem, the answer is nil and the result is returned.
func (s *Store) SubmitScores(ctx context.Context, tenantID string, a Actor, sub ScoreSubmission, idem *Idempotency) (ScoresResult, *StoredAnswer, error) {
	res := ScoresResult{CategoryID: sub.CategoryID, JudgeID: sub.JudgeID, Scores: make([]ScoreCell, 0, len(sub.Scores))}
	var answer *StoredAnswer
	n := len(sub.Scores)
	contestants, criteria, values, comments := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, c := range sub.Scores {
		contestants[i], criteria[i], values[i], comments[i] = c.ContestantID, c.CriterionID, c.Score, c.Comment
	}
	err := s.inTx(ctx, opScoresSubmit, tenantID, func(tx *db.Tx) error {
		res.Scores = res.Scores[:0]
		answer = nil
		if idem != nil {
			replay, err := claimIdempotencyKey(tx, tenantID, idem)
			if err != nil || replay != nil {
				answer = replay
				return err
			}
		}
		// The category's input lock first, as every write of its inputs takes it.
		if step, err := categoryLockStep(tx, tenantID, sub.CategoryID, sub.JudgeID); err != nil {
			return err
		} else if step != "" {
			return &RuleError{Kind: Refused, Code: "SCORE_LOCKED", Field: "scores[0].score",
				Message: "the scores are certified (" + step + " step standing) and locked: they can change only after the certification is revoked"}
		}
		if err := checkScores(tx, tenantID, sub, contestants, criteria, values); err != nil {
			return err
		}
		rows, err := tx.Query(scoreUpsertSQL, tenantID, sub.CategoryID, sub.JudgeID, contestants, criteria, values, comments,
			nullString(a.UserID), nullString(a.RequestID), nullString(a.IP), sub.OnBehalf)
		if err != nil {
			return err
		}
		written := make(map[[2]string]bool, n)
		for rows.Next() {
			var c ScoreCell
			if err := rows.Scan(&c.ID, &c.ContestantID, &c.CriterionID, &c.Score, &c.Comment, &c.Locked, &c.CertifiedAt, &c.UpdatedAt); err != nil {
				rows.Close()
				return err
			}
			c.UpdatedAt = c.UpdatedAt.UTC()
			if c.CertifiedAt != nil {
				t := c.CertifiedAt.UTC()
				c.CertifiedAt = &t
			}
			written[[2]string{c.ContestantID, c.CriterionID}] = true
			res.Scores = append(res.Scores, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for i, c := range sub.Scores {
			if !written[[2]string{c.ContestantID, c.CriterionID}] {
				// Locked between the check and the write: a certification committed meanwhile.
				return scoreLocked(i)
			}
		}
		if idem != nil {
			stored, err := idem.Render(res)
			if err != nil {
				return err
			}
			if err := saveIdempotentAnswer(tx, tenantID, idem, stored); err != nil {
				return err
			}
			answer = &stored
		}
		return nil
	})
	if err != nil {
		return ScoresResult{}, nil, scoreRule(err, sub.Scores)
	}
	if answer != nil && answer.Replayed {
		return ScoresResult{}, answer, nil
	}
	return res, answer, nil
}

// checkScores refuses the submission before anything is written: unknown category (not found),
// unknown judge, judge not assigned, then the first cell at fault.
func checkScores(tx *db.Tx, tenantID string, sub ScoreSubmission, contestants, criteria, values []string) error {
	rows, err := tx.Query(scoreCheckSQL, tenantID, sub.CategoryID, sub.JudgeID, contestants, criteria, values)
	if err != nil {
		return err
	}
	defer rows.Close()
	first := true
	for rows.Next() {
		var (
			categoryFound, judgeFound, judgeCertified   bool
			status                                      *string
			ord                                         int
			criterionOK, contestantOK, inRange, lockedC bool
			withinCap                                   bool
			maxScore, scoreCap                          string
			total                                       *string
		)
		if err := rows.Scan(&categoryFound, &judgeFound, &status, &judgeCertified, &ord,
			&criterionOK, &contestantOK, &inRange, &maxScore, &lockedC, &withinCap, &total, &scoreCap); err != nil {
			return err
		}
		i := ord - 1
		if first {
			first = false
			switch {
			case !categoryFound:
				return db.ErrNotFound
			case !judgeFound:
				return &RuleError{Kind: Invalid, Code: "UNKNOWN_JUDGE", Field: "judge_id", Message: "no such judge"}
			case status == nil || (*status != assignmentActive && *status != assignmentPending):
				return notAssigned(sub.OnBehalf, status)
			case judgeCertified:
				return &RuleError{Kind: Refused, Code: "SCORE_LOCKED", Field: fmt.Sprintf("scores[%d].score", i),
					Message: "the judge has certified this category: its scores are locked until the certification is revoked"}
			}
		}
		field := func(name string) string { return fmt.Sprintf("scores[%d].%s", i, name) }
		switch {
		case !criterionOK:
			return &RuleError{Kind: Invalid, Code: "UNKNOWN_CRITERION", Field: field("criterion_id"), Message: "the criterion is not one of this category"}
		case !contestantOK:
			return &RuleError{Kind: Invalid, Code: "CONTESTANT_NOT_IN_CATEGORY", Field: field("contestant_id"), Message: "the contestant is not entered in this category"}
		case !inRange:
			return &RuleError{Kind: Invalid, Code: "SCORE_OUT_OF_RANGE", Field: field("score"), Message: "must be from 0 to " + maxScore}
		case lockedC:
			return scoreLocked(i)
		case !withinCap:
			t := ""
			if total != nil {
				t = *total
			}
			return scoreCapExceeded(field("score"), t, scoreCap)
		}
	}
	return rows.Err()
}

func notAssigned(onBehalf bool, status *string) error {
	msg := "you are not assigned to this category"
	field := ""
	if onBehalf {
		msg, field = "the judge is not assigned to this category", "judge_id"
	}
	if status != nil {
		msg += " with an ACTIVE or PENDING assignment (it is " + *status + ")"
	}
	return &RuleError{Kind: Forbidden, Code: "NOT_ASSIGNED", Field: field, Message: msg}
}

func scoreLocked(i int) error {
	return &RuleError{Kind: Refused, Code: "SCORE_LOCKED", Field: fmt.Sprintf("scores[%d].score", i),
		Message: "the score is certified and locked: it can change only after the certification is revoked"}
}

// scoreRule is a database refusal of a submission as its RuleError, naming the first cell at fault
// when the rule is about one (the database checks after the locks, so it can refuse what the
// check before the write let through: a limit lowered, or another write of the judge, meanwhile).
func scoreRule(err error, cells []ScoreInput) error {
	rule := DatabaseRule(err)
	if rule == nil {
		return err
	}
	r, _ := asDBRefusal(err)
	for i, c := range cells {
		if c.ContestantID == r.Detail["contestant_id"] && (r.Detail["criterion_id"] == "" || c.CriterionID == r.Detail["criterion_id"]) {
			rule.Field = fmt.Sprintf("scores[%d].score", i)
			break
		}
	}
	if rule.Code == "NOT_ASSIGNED" {
		rule.Field = ""
	}
	return rule
}
