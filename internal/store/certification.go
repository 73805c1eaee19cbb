package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The certification steps, in the order they must be taken.
const (
	StepJudge       = "JUDGE"
	StepTallyMaster = "TALLY_MASTER"
	StepAuditor     = "AUDITOR"
	StepBoard       = "BOARD"
)

// CertificationSteps lists the steps in order.
var CertificationSteps = []string{StepJudge, StepTallyMaster, StepAuditor, StepBoard}

// stepIndex is the position of a step in CertificationSteps, -1 for none.
func stepIndex(step string) int { return slices.Index(CertificationSteps, step) }

// CertificationState is where a category stands in its certification.
type CertificationState struct {
	CategoryID string `json:"category_id"`
	// Contestants × Criteria is the number of scores each judge must enter before certifying.
	Contestants int                  `json:"contestants"`
	Criteria    int                  `json:"criteria"`
	Judges      []JudgeCertification `json:"judges"`
	// Steps holds TALLY_MASTER, AUDITOR and BOARD, in order, certified or not.
	Steps []StepCertification `json:"steps"`
	// NextStep is the step that may be taken now; null once the board has approved.
	NextStep *string `json:"next_step"`
}

// JudgeCertification is the JUDGE step of one assigned judge (assignments not CANCELLED).
type JudgeCertification struct {
	JudgeID          string     `json:"judge_id"`
	Name             string     `json:"name"`
	AssignmentStatus string     `json:"assignment_status"`
	ScoresFilled     int        `json:"scores_filled"`
	ScoresRequired   int        `json:"scores_required"`
	Certified        bool       `json:"certified"`
	CertifiedAt      *time.Time `json:"certified_at"`
	CertifiedBy      *UserRef   `json:"certified_by"`
}

// StepCertification is one of the steps after the judges'.
type StepCertification struct {
	Step        string     `json:"step"`
	Certified   bool       `json:"certified"`
	CertifiedAt *time.Time `json:"certified_at"`
	CertifiedBy *UserRef   `json:"certified_by"`
}

// UserRef names a user in an answer.
type UserRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Revocation asks to withdraw certifications of a category. Step "" means the latest standing
// step; JudgeID (with step JUDGE or none) limits a JUDGE revocation to one judge.
type Revocation struct {
	Step    string
	JudgeID string
	Reason  string
}

var (
	opCertificationState   = db.Op{Name: "certification.state", Class: db.Standard}
	opCertificationCertify = db.Op{Name: "certification.certify", Class: db.Standard}
	opCertificationRevoke  = db.Op{Name: "certification.revoke", Class: db.Standard}
)

// certStateSQL builds the state as one JSON document, in one statement.
var certStateSQL = `
SELECT json_build_object(
    'category_id', c.id,
    'contestants', (SELECT count(*) FROM category_contestants cc WHERE cc.tenant_id = c.tenant_id AND cc.category_id = c.id),
    'criteria', (SELECT count(*) FROM criteria cr WHERE cr.tenant_id = c.tenant_id AND cr.category_id = c.id),
    'judges', coalesce((
        SELECT json_agg(json_build_object(
            'judge_id', j.id, 'name', j.name, 'assignment_status', a.status,
            'scores_filled', (SELECT count(*) FROM scores s
                WHERE s.tenant_id = c.tenant_id AND s.judge_id = j.id AND s.category_id = c.id),
            'cert', (SELECT json_build_object('certified_at', ` + sqlUTC("x.certified_at") + `,
                    'certified_by', json_build_object('id', u.id, 'name', u.name))
                FROM category_certifications x JOIN users u ON u.tenant_id = x.tenant_id AND u.id = x.certified_by
                WHERE x.tenant_id = c.tenant_id AND x.category_id = c.id AND x.step = 'JUDGE' AND x.judge_id = j.id
                  AND x.revoked_at IS NULL))
            ORDER BY j.name, j.id)
        FROM assignments a JOIN judges j ON j.tenant_id = a.tenant_id AND j.id = a.judge_id
        WHERE a.tenant_id = c.tenant_id AND a.category_id = c.id AND a.status <> 'CANCELLED'), '[]'),
    'steps', coalesce((
        SELECT json_agg(json_build_object('step', x.step, 'certified_at', ` + sqlUTC("x.certified_at") + `,
            'certified_by', json_build_object('id', u.id, 'name', u.name)))
        FROM category_certifications x JOIN users u ON u.tenant_id = x.tenant_id AND u.id = x.certified_by
        WHERE x.tenant_id = c.tenant_id AND x.category_id = c.id AND x.step <> 'JUDGE' AND x.revoked_at IS NULL), '[]')
)
FROM categories c WHERE c.tenant_id = $1 AND c.id = $2`

type certDoc struct {
	CategoryID  string `json:"category_id"`
	Contestants int    `json:"contestants"`
	Criteria    int    `json:"criteria"`
	Judges      []struct {
		JudgeID          string `json:"judge_id"`
		Name             string `json:"name"`
		AssignmentStatus string `json:"assignment_status"`
		ScoresFilled     int    `json:"scores_filled"`
		Cert             *struct {
			CertifiedAt time.Time `json:"certified_at"`
			CertifiedBy UserRef   `json:"certified_by"`
		} `json:"cert"`
	} `json:"judges"`
	Steps []struct {
		Step        string    `json:"step"`
		CertifiedAt time.Time `json:"certified_at"`
		CertifiedBy UserRef   `json:"certified_by"`
	} `json:"steps"`
}

func (d certDoc) state() CertificationState {
	st := CertificationState{CategoryID: d.CategoryID, Contestants: d.Contestants, Criteria: d.Criteria,
		Judges: make([]JudgeCertification, 0, len(d.Judges)), Steps: make([]StepCertification, 0, 3)}
	for _, j := range d.Judges {
		jc := JudgeCertification{JudgeID: j.JudgeID, Name: j.Name, AssignmentStatus: j.AssignmentStatus,
			ScoresFilled: j.ScoresFilled, ScoresRequired: d.Contestants * d.Criteria}
		if j.Cert != nil {
			at, by := j.Cert.CertifiedAt, j.Cert.CertifiedBy
			jc.Certified, jc.CertifiedAt, jc.CertifiedBy = true, &at, &by
		}
		st.Judges = append(st.Judges, jc)
	}
	for _, step := range CertificationSteps[1:] {
		sc := StepCertification{Step: step}
		for _, x := range d.Steps {
			if x.Step == step {
				at, by := x.CertifiedAt, x.CertifiedBy
				sc.Certified, sc.CertifiedAt, sc.CertifiedBy = true, &at, &by
			}
		}
		st.Steps = append(st.Steps, sc)
	}
	if missing := st.missingBefore(""); missing != "" {
		st.NextStep = &missing
	}
	return st
}

// StepCertified reports whether a step after JUDGE stands (BOARD: results are final and may be announced).
func (st CertificationState) StepCertified(step string) bool {
	for _, s := range st.Steps {
		if s.Step == step {
			return s.Certified
		}
	}
	return false
}

// missingBefore is the first step before step that does not stand ("" when all do). The JUDGE
// step stands when at least one judge is assigned and every assigned judge has certified. With
// step "", it is the first step not taken at all: the next step.
func (st CertificationState) missingBefore(step string) string {
	limit := stepIndex(step)
	if limit < 0 {
		limit = len(CertificationSteps)
	}
	for i, s := range CertificationSteps[:limit] {
		if i == 0 {
			if len(st.Judges) == 0 {
				return StepJudge
			}
			for _, j := range st.Judges {
				if !j.Certified {
					return StepJudge
				}
			}
			continue
		}
		if !st.StepCertified(s) {
			return s
		}
	}
	return ""
}

// uncertifiedJudges names the assigned judges who have not certified, for messages.
func (st CertificationState) uncertifiedJudges() []string {
	var names []string
	for _, j := range st.Judges {
		if !j.Certified {
			names = append(names, j.Name)
		}
	}
	return names
}

// CertificationState returns the category's certification state in one query.
func (s *Store) CertificationState(ctx context.Context, tenantID, categoryID string) (CertificationState, error) {
	var raw []byte
	if err := s.db.QueryRow(ctx, opCertificationState, tenantID, certStateSQL, []any{tenantID, categoryID}, &raw); err != nil {
		return CertificationState{}, err
	}
	return decodeCertState(raw)
}

func decodeCertState(raw []byte) (CertificationState, error) {
	var doc certDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		return CertificationState{}, err
	}
	return doc.state(), nil
}

func certStateTx(tx *db.Tx, tenantID, categoryID string) (CertificationState, error) {
	var raw []byte
	if err := tx.QueryRow(certStateSQL, tenantID, categoryID).Scan(&raw); err != nil {
		return CertificationState{}, err
	}
	return decodeCertState(raw)
}

// lockCategoryForCertification serialises the certification changes of a category with every
// write of its inputs, which hold the category FOR SHARE (lockCategoryInputs): NO KEY UPDATE waits
// for the writes in flight, and the writes that come after it wait for the certification and then
// see it. NO KEY UPDATE does not block the foreign-key checks of rows that reference the category.
// The rows outside the category that its results show (contest, event and tenant, for the scoring
// type in force; the entered contestants; the assigned judges) are taken FOR SHARE, so that their
// updates wait for the certification too and are then refused by their triggers.
func lockCategoryForCertification(tx *db.Tx, tenantID, categoryID string) error {
	var id string
	err := tx.QueryRow(`SELECT id FROM categories WHERE tenant_id = $1 AND id = $2 FOR NO KEY UPDATE`, tenantID, categoryID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return db.ErrNotFound
	}
	if err != nil {
		return err
	}
	b := &pgx.Batch{}
	b.Queue(`SELECT 1 FROM categories c
		JOIN contests ct ON ct.tenant_id = c.tenant_id AND ct.id = c.contest_id
		JOIN events e ON e.tenant_id = ct.tenant_id AND e.id = ct.event_id
		JOIN tenants t ON t.id = c.tenant_id
		WHERE c.tenant_id = $1 AND c.id = $2 FOR SHARE OF ct, e, t`, tenantID, categoryID)
	b.Queue(`SELECT 1 FROM contestants k WHERE k.tenant_id = $1
		AND k.id IN (SELECT contestant_id FROM category_contestants WHERE tenant_id = $1 AND category_id = $2)
		ORDER BY k.id FOR SHARE`, tenantID, categoryID)
	b.Queue(`SELECT 1 FROM judges j WHERE j.tenant_id = $1
		AND j.id IN (SELECT judge_id FROM assignments WHERE tenant_id = $1 AND category_id = $2)
		ORDER BY j.id FOR SHARE`, tenantID, categoryID)
	return tx.SendBatch(b).Close()
}

func outOfOrder(step, missing, detail string) error {
	msg := fmt.Sprintf("the %s step must come before %s", missing, step)
	if detail != "" {
		msg += ": " + detail
	}
	return &RuleError{Kind: Refused, Code: "CERTIFICATION_OUT_OF_ORDER", Field: "step", Message: msg}
}

func alreadyCertified(step string) error {
	return &RuleError{Kind: Refused, Code: "ALREADY_CERTIFIED", Field: "step", Message: "the " + step + " step is already certified"}
}

// Certify takes a certification step for the category and returns the new state. The caller has
// checked that the actor's role may take the step; judgeID is the actor's judge for the JUDGE step.
//
// JUDGE: the judge must hold a non-cancelled assignment and have entered every cell (contestants ×
// criteria, SCORES_INCOMPLETE otherwise); the judge's scores are locked. TALLY_MASTER: every
// assigned judge has certified. AUDITOR: after TALLY_MASTER. BOARD: after AUDITOR. A step out of
// order is CERTIFICATION_OUT_OF_ORDER naming the first missing step; a standing step is
// ALREADY_CERTIFIED.
func (s *Store) Certify(ctx context.Context, tenantID, categoryID string, a Actor, step, judgeID string) (CertificationState, error) {
	var st CertificationState
	err := s.inTx(ctx, opCertificationCertify, tenantID, func(tx *db.Tx) error {
		if err := lockCategoryForCertification(tx, tenantID, categoryID); err != nil {
			return err
		}
		if step == StepJudge {
			// FOR UPDATE waits for the judge's score writes in flight (they hold FOR SHARE on the
			// assignment), so that the completeness check below sees them all.
			var status string
			err := tx.QueryRow(`SELECT status FROM assignments WHERE tenant_id = $1 AND category_id = $2 AND judge_id = $3 FOR UPDATE`,
				tenantID, categoryID, judgeID).Scan(&status)
			if errors.Is(err, pgx.ErrNoRows) || status == "CANCELLED" {
				return &RuleError{Kind: Forbidden, Code: "NOT_ASSIGNED", Message: "you are not assigned to this category"}
			}
			if err != nil {
				return err
			}
		}
		var err error
		if st, err = certStateTx(tx, tenantID, categoryID); err != nil {
			return err
		}
		if err := checkCertify(st, step, judgeID); err != nil {
			return err
		}
		var certJudge any // judge_id is set for the JUDGE step only
		if step == StepJudge {
			certJudge = judgeID
		}
		var certID string
		if err := tx.QueryRow(`INSERT INTO category_certifications (tenant_id, category_id, step, judge_id, certified_by)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			tenantID, categoryID, step, certJudge, a.UserID).Scan(&certID); err != nil {
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && pgErr.Code == "23505" {
				return alreadyCertified(step) // the category lock makes this unlikely; the index makes it safe
			}
			return err
		}
		data := map[string]any{"step": step, "certification_id": certID}
		if step == StepJudge {
			tag, err := tx.Exec(`UPDATE scores SET locked = true, certified_at = now(), updated_at = now()
				WHERE tenant_id = $1 AND category_id = $2 AND judge_id = $3`, tenantID, categoryID, judgeID)
			if err != nil {
				return err
			}
			data["judge_id"], data["locked_scores"] = judgeID, tag.RowsAffected()
		}
		if err := audit(tx, tenantID, a, "category.certified", "category", categoryID, data); err != nil {
			return err
		}
		st, err = certStateTx(tx, tenantID, categoryID)
		return err
	})
	return st, err
}

func checkCertify(st CertificationState, step, judgeID string) error {
	if step == StepJudge {
		for _, j := range st.Judges {
			if j.JudgeID != judgeID {
				continue
			}
			if j.Certified {
				return alreadyCertified(step)
			}
			if j.ScoresRequired == 0 {
				return &RuleError{Kind: Refused, Code: "SCORES_INCOMPLETE", Message: "the category has no contestants or no criteria: there is nothing to certify"}
			}
			if j.ScoresFilled < j.ScoresRequired {
				return &RuleError{Kind: Refused, Code: "SCORES_INCOMPLETE",
					Message: fmt.Sprintf("%d of %d scores entered: every contestant needs a score on every criterion", j.ScoresFilled, j.ScoresRequired)}
			}
			return nil
		}
		return &RuleError{Kind: Forbidden, Code: "NOT_ASSIGNED", Message: "you are not assigned to this category"}
	}
	if st.StepCertified(step) {
		return alreadyCertified(step)
	}
	switch missing := st.missingBefore(step); {
	case missing == StepJudge && len(st.Judges) == 0:
		return outOfOrder(step, missing, "no judge is assigned to the category")
	case missing == StepJudge:
		return outOfOrder(step, missing, "not yet certified by "+strings.Join(st.uncertifiedJudges(), ", "))
	case missing != "":
		return outOfOrder(step, missing, "")
	}
	return nil
}

// standingCert is a certification that has not been revoked.
type standingCert struct {
	id, step string
	judgeID  *string
}

// RevokeCertification withdraws certifications of the category, with a reason, and returns the new
// state. Revoking a step also revokes every later standing step (they were given on its strength).
// Without a step, the latest standing step is revoked; the JUDGE step means every standing judge
// certification, or only r.JudgeID's. Revoked JUDGE certifications unlock the judges' scores.
// Nothing standing to revoke is NOT_CERTIFIED.
func (s *Store) RevokeCertification(ctx context.Context, tenantID, categoryID string, a Actor, r Revocation) (CertificationState, error) {
	var st CertificationState
	if r.JudgeID != "" && r.Step == "" {
		r.Step = StepJudge
	}
	err := s.inTx(ctx, opCertificationRevoke, tenantID, func(tx *db.Tx) error {
		if err := lockCategoryForCertification(tx, tenantID, categoryID); err != nil {
			return err
		}
		rows, err := tx.Query(`SELECT id, step, judge_id FROM category_certifications
			WHERE tenant_id = $1 AND category_id = $2 AND revoked_at IS NULL`, tenantID, categoryID)
		if err != nil {
			return err
		}
		var standing []standingCert
		for rows.Next() {
			var c standingCert
			if err := rows.Scan(&c.id, &c.step, &c.judgeID); err != nil {
				rows.Close()
				return err
			}
			standing = append(standing, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		targets, err := revocationTargets(standing, r)
		if err != nil {
			return err
		}
		var ids, judgeIDs, steps []string
		for _, c := range targets {
			ids = append(ids, c.id)
			if c.judgeID != nil {
				judgeIDs = append(judgeIDs, *c.judgeID)
			}
			if !slices.Contains(steps, c.step) {
				steps = append(steps, c.step)
			}
		}
		if _, err := tx.Exec(`UPDATE category_certifications SET revoked_at = now(), revoked_by = $3, revoke_reason = $4
			WHERE tenant_id = $1 AND id = ANY($2::uuid[])`, tenantID, ids, a.UserID, r.Reason); err != nil {
			return err
		}
		var unlocked int64
		if len(judgeIDs) > 0 {
			tag, err := tx.Exec(`UPDATE scores SET locked = false, certified_at = NULL, updated_at = now()
				WHERE tenant_id = $1 AND category_id = $2 AND judge_id = ANY($3::uuid[]) AND locked`,
				tenantID, categoryID, judgeIDs)
			if err != nil {
				return err
			}
			unlocked = tag.RowsAffected()
		}
		if err := audit(tx, tenantID, a, "category.certification_revoked", "category", categoryID, map[string]any{
			"reason": r.Reason, "steps": steps, "judge_ids": judgeIDs, "certification_ids": ids, "unlocked_scores": unlocked,
		}); err != nil {
			return err
		}
		st, err = certStateTx(tx, tenantID, categoryID)
		return err
	})
	return st, err
}

// revocationTargets picks the standing certifications that a revocation withdraws.
func revocationTargets(standing []standingCert, r Revocation) ([]standingCert, error) {
	from := stepIndex(r.Step)
	if r.Step == "" {
		for _, c := range standing {
			from = max(from, stepIndex(c.step))
		}
		if from < 0 {
			return nil, &RuleError{Kind: Refused, Code: "NOT_CERTIFIED", Message: "the category has no standing certification to revoke"}
		}
	}
	var targets []standingCert
	found := false
	for _, c := range standing {
		i := stepIndex(c.step)
		switch {
		case i > from:
			targets = append(targets, c)
		case i == from && (r.JudgeID == "" || (c.judgeID != nil && *c.judgeID == r.JudgeID)):
			targets = append(targets, c)
			found = true
		}
	}
	if !found {
		field, msg := "step", "the "+CertificationSteps[from]+" step is not certified"
		if r.JudgeID != "" {
			field, msg = "judge_id", "this judge has no standing certification of the category"
		}
		return nil, &RuleError{Kind: Refused, Code: "NOT_CERTIFIED", Field: field, Message: msg}
	}
	return targets, nil
}
