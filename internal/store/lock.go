package store

import (
	"encoding/json"
	"errors"

	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/jackc/pgx/v5/pgconn"
)

// The lock of certified results. Its definition lives in the database (migration 00006): the
// function category_lock_step is the one guard, called first by every store write of a category's
// inputs (lockCategoryInputs below) and by triggers on every table those inputs live in, so that a
// write the store forgot, or one made with SQL, is refused too. A standing JUDGE certification
// freezes that judge's inputs; TALLY_MASTER (and the steps after it) freeze every input of the
// category's results. Only a revocation (RevokeCertification, audited with its reason) reopens them.

// lockCategoryInputs takes the category's input lock (FOR SHARE, held until the transaction ends:
// no certification can commit under the write) and refuses the write when a standing
// certification freezes the inputs of judgeID ("" for inputs of no one judge). It must be the
// first lock a write takes, so that every write takes its locks in the certification's order.
// An unknown category passes: the write then fails as it would have.
func lockCategoryInputs(tx *db.Tx, tenantID, categoryID, judgeID string) error {
	step, err := categoryLockStep(tx, tenantID, categoryID, judgeID)
	if err != nil || step == "" {
		return err
	}
	return categoryCertified(step)
}

// categoryLockStep takes the category's input lock and returns the standing step that freezes the
// inputs of judgeID, or "".
func categoryLockStep(tx *db.Tx, tenantID, categoryID, judgeID string) (string, error) {
	var step *string
	if err := tx.QueryRow(`SELECT category_lock_step($1, $2, $3)`, tenantID, categoryID, nullString(judgeID)).Scan(&step); err != nil {
		return "", err
	}
	if step == nil {
		return "", nil
	}
	return *step, nil
}

// lockInputsOf is lockCategoryInputs for a row known by id: sql selects the row's category and
// judge (NULL for rows of no judge) with $1 the tenant and $2 the id. A missing row is db.ErrNotFound.
func lockInputsOf(tx *db.Tx, tenantID, id, sql string) error {
	var step *string
	if err := tx.QueryRow(`SELECT category_lock_step(r.tenant_id, r.category_id, r.judge_id) FROM (`+sql+`) r`,
		tenantID, id).Scan(&step); err != nil {
		return err
	}
	if step != nil {
		return categoryCertified(*step)
	}
	return nil
}

// categoryCertified is the refusal of a write to frozen inputs, naming the standing step.
func categoryCertified(step string) *RuleError {
	msg := "the category's results are certified (" + step + " step standing): revoke the certification to change them"
	if step == StepJudge {
		msg = "the judge has certified this category (JUDGE step standing): revoke the judge's certification to change their scores, assignment or judge record"
	}
	return &RuleError{Kind: Refused, Code: "CATEGORY_CERTIFIED", Message: msg}
}

// refusedSQLState is the SQLSTATE of every judging rule the database refuses; the rule is named
// in the error's constraint and its details are a JSON object.
const refusedSQLState = "EM000"

// dbRefusal is a judging rule refused by the database.
type dbRefusal struct {
	Rule   string
	Detail map[string]string
}

func asDBRefusal(err error) (dbRefusal, bool) {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != refusedSQLState {
		return dbRefusal{}, false
	}
	r := dbRefusal{Rule: pgErr.ConstraintName, Detail: map[string]string{}}
	var raw map[string]any
	if json.Unmarshal([]byte(pgErr.Detail), &raw) == nil {
		for k, v := range raw {
			if s, ok := v.(string); ok {
				r.Detail[k] = s
			} else if b, err := json.Marshal(v); err == nil {
				r.Detail[k] = string(b)
			}
		}
	}
	return r, true
}

// DatabaseRule is the refusal of a judging rule that the database enforced (see migration 00006),
// as the RuleError the API answers; nil when err is not one.
func DatabaseRule(err error) *RuleError {
	r, ok := asDBRefusal(err)
	if !ok {
		return nil
	}
	switch r.Rule {
	case "category_certified":
		return categoryCertified(r.Detail["step"])
	case "scores_need_assignment":
		return &RuleError{Kind: Forbidden, Code: "NOT_ASSIGNED", Field: "judge_id",
			Message: "the judge is not assigned to this category with an ACTIVE or PENDING assignment"}
	case "scores_within_max_score":
		return &RuleError{Kind: Invalid, Code: "SCORE_OUT_OF_RANGE", Field: "score", Message: "must be from 0 to " + r.Detail["max_score"]}
	case "scores_within_score_cap":
		return scoreCapExceeded("score", r.Detail["total"], r.Detail["score_cap"])
	case "assignments_without_scores":
		return &RuleError{Kind: Refused, Code: "IN_USE",
			Message: "the assignment cannot be deleted: the judge has scores in this category; set its status to CANCELLED instead"}
	case "criteria_max_score_above_scores":
		return &RuleError{Kind: Refused, Code: "MAX_SCORE_BELOW_SCORES", Field: "max_score",
			Message: "scores above this maximum have already been given for this criterion"}
	case "categories_score_cap_above_totals":
		return &RuleError{Kind: Refused, Code: "SCORE_CAP_BELOW_TOTALS", Field: "score_cap",
			Message: "a judge's total for a contestant in this category is already above this score_cap"}
	}
	return nil
}

// withRule returns err as its RuleError when it is a refusal of the database's judging rules.
func withRule(err error) error {
	if r := DatabaseRule(err); r != nil {
		return r
	}
	return err
}

func scoreCapExceeded(field, total, scoreCap string) *RuleError {
	return &RuleError{Kind: Unprocessable, Code: "SCORE_CAP_EXCEEDED", Field: field,
		Message: "the judge's total for the contestant would be " + total + ", above the category's score_cap of " + scoreCap}
}
