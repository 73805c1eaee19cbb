package api_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/stretchr/testify/require"
)

// scCertState is the answer of the certification routes.
type scCertState struct {
	CategoryID string `json:"category_id"`
	Judges     []struct {
		JudgeID        string  `json:"judge_id"`
		Name           string  `json:"name"`
		ScoresFilled   int     `json:"scores_filled"`
		ScoresRequired int     `json:"scores_required"`
		Certified      bool    `json:"certified"`
		CertifiedAt    *string `json:"certified_at"`
		CertifiedBy    *struct {
			ID string `json:"id"`
		} `json:"certified_by"`
	} `json:"judges"`
	Steps []struct {
		Step        string  `json:"step"`
		Certified   bool    `json:"certified"`
		CertifiedAt *string `json:"certified_at"`
		CertifiedBy *struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"certified_by"`
	} `json:"steps"`
	NextStep *string `json:"next_step"`
}

func scDecodeState(t *testing.T, r response) scCertState {
	t.Helper()
	var st scCertState
	require.NoError(t, json.Unmarshal(r.body, &st), string(r.body))
	return st
}

func (st scCertState) step(name string) bool {
	for _, s := range st.Steps {
		if s.Step == name {
			return s.Certified
		}
	}
	return false
}

func (st scCertState) next() string {
	if st.NextStep == nil {
		return ""
	}
	return *st.NextStep
}

func TestCertificationFlow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.scNewTenant("certify")
	cat := tn.category(tn.contest(tn.event("Show", ""), "Solo", ""), "Vocal", []string{"10", "10"}, 2)
	ann, bob, gone := tn.judge("Ann"), tn.judge("Bob"), tn.judge("Gone")
	tn.assign(ann.id, cat.id, "ACTIVE")
	tn.assign(bob.id, cat.id, "PENDING")
	tn.assign(gone.id, cat.id, "CANCELLED") // a cancelled judge is not waited for
	tally, tallyID := tn.user(auth.TallyMaster)
	auditor, _ := tn.user(auth.Auditor)
	board, boardID := tn.user(auth.Board)
	path := "/api/v1/categories/" + cat.id + "/certification"

	outOfOrder := func(token, step, missing string) {
		t.Helper()
		r := e.scCertify(token, cat.id, step)
		requireError(t, r, 409, "CERTIFICATION_OUT_OF_ORDER", "step", step)
		require.Contains(t, errorMessage(t, r), "the "+missing+" step must come before "+step)
	}

	// Nothing certified: every later step names the JUDGE step as missing.
	st := scDecodeState(t, e.do("GET", path, ann.token, nil))
	require.Len(t, st.Judges, 2)
	require.Equal(t, "JUDGE", st.next())
	outOfOrder(tally, "TALLY_MASTER", "JUDGE")
	outOfOrder(auditor, "AUDITOR", "JUDGE")
	outOfOrder(board, "BOARD", "JUDGE")

	// A judge certifies only a complete sheet.
	e.scPutOK(ann.token, cat.id, []scCell{{ContestantID: cat.contestants[0], CriterionID: cat.criteria[0], Score: 5}})
	requireError(t, e.scCertify(ann.token, cat.id, "JUDGE"), 409, "SCORES_INCOMPLETE", "")
	e.scFill(ann, cat, func(k, cr int) int64 { return int64(500 + 100*k + 10*cr) })
	r := e.scCertify(ann.token, cat.id, "JUDGE")
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	st = scDecodeState(t, r)
	for _, j := range st.Judges {
		require.Equal(t, j.JudgeID == ann.id, j.Certified, j.Name)
		require.Equal(t, 4, j.ScoresRequired)
	}
	requireError(t, e.scCertify(ann.token, cat.id, "JUDGE"), 409, "ALREADY_CERTIFIED", "step")
	require.Equal(t, 4, tn.count(`SELECT count(*) FROM scores WHERE tenant_id = $1 AND judge_id = $2 AND locked AND certified_at IS NOT NULL`, ann.id))

	// Certified scores are locked, for the judge and for an ADMIN acting for them.
	r = e.scPut(ann.token, cat.id, map[string]any{"scores": []scCell{{ContestantID: cat.contestants[1], CriterionID: cat.criteria[1], Score: 1}}})
	requireError(t, r, 409, "SCORE_LOCKED", "scores[0].score")
	r = e.scPut(tn.admin, cat.id, map[string]any{"judge_id": ann.id, "scores": []scCell{{ContestantID: cat.contestants[1], CriterionID: cat.criteria[1], Score: 1}}})
	requireError(t, r, 409, "SCORE_LOCKED", "scores[0].score")
	require.Equal(t, 1, tn.count(`SELECT count(*) FROM scores WHERE tenant_id = $1 AND judge_id = $2 AND score = 6.10`, ann.id))

	// The tally master waits for Bob, and says so.
	r = e.scCertify(tally, cat.id, "TALLY_MASTER")
	requireError(t, r, 409, "CERTIFICATION_OUT_OF_ORDER", "step")
	require.Contains(t, errorMessage(t, r), "Bob")
	require.NotContains(t, errorMessage(t, r), "Gone")
	e.scFill(bob, cat, func(k, cr int) int64 { return 700 })
	require.Equal(t, http.StatusCreated, e.scCertify(bob.token, cat.id, "JUDGE").status)

	// Judges done: the auditor and the board still wait for the tally master.
	outOfOrder(auditor, "AUDITOR", "TALLY_MASTER")
	outOfOrder(board, "BOARD", "TALLY_MASTER")

	// Each step belongs to its role.
	requireError(t, e.scCertify(ann.token, cat.id, "TALLY_MASTER"), 403, "FORBIDDEN", "step")
	requireError(t, e.scCertify(tn.admin, cat.id, "AUDITOR"), 403, "FORBIDDEN", "step")
	requireError(t, e.scCertify(tally, cat.id, "JUDGE"), 403, "NOT_A_JUDGE", "")
	requireError(t, e.do("POST", path, tally, map[string]string{"step": "HEAD_JUDGE"}), 400, "VALIDATION_FAILED", "step")

	r = e.scCertify(tally, cat.id, "TALLY_MASTER")
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	require.True(t, scDecodeState(t, r).step("TALLY_MASTER"))
	requireError(t, e.scCertify(tally, cat.id, "TALLY_MASTER"), 409, "ALREADY_CERTIFIED", "step")
	outOfOrder(board, "BOARD", "AUDITOR")
	require.Equal(t, http.StatusCreated, e.scCertify(auditor, cat.id, "AUDITOR").status)
	r = e.scCertify(board, cat.id, "BOARD")
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	st = scDecodeState(t, r)
	require.Nil(t, st.NextStep)
	for _, s := range st.Steps {
		require.True(t, s.Certified, s.Step)
		require.NotNil(t, s.CertifiedAt)
		scTime(t, *s.CertifiedAt)
	}
	require.Equal(t, boardID, st.Steps[2].CertifiedBy.ID)
	require.Equal(t, tallyID, st.Steps[0].CertifiedBy.ID)
	require.Equal(t, 5, tn.auditCount("category.certified"))

	// Revocation: ADMIN or BOARD, with a reason.
	requireError(t, e.do("DELETE", path, tn.admin, map[string]any{}), 400, "VALIDATION_FAILED", "reason")
	requireError(t, e.do("DELETE", path, tn.admin, map[string]any{"reason": "  "}), 400, "VALIDATION_FAILED", "reason")
	requireError(t, e.do("DELETE", path, tally, map[string]any{"reason": "x"}), 403, "FORBIDDEN", "")
	requireError(t, e.do("DELETE", path, ann.token, map[string]any{"reason": "x"}), 403, "FORBIDDEN", "")
	require.Zero(t, tn.auditCount("category.certification_revoked"))

	// Without a step, the latest standing step goes: the board's. Scores stay locked.
	r = e.do("DELETE", path, board, map[string]any{"reason": "approved too early"})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	st = scDecodeState(t, r)
	require.False(t, st.step("BOARD"))
	require.True(t, st.step("AUDITOR"))
	require.Equal(t, "BOARD", st.next())
	require.Equal(t, 8, tn.count(`SELECT count(*) FROM scores WHERE tenant_id = $1 AND locked`))
	requireError(t, e.do("DELETE", path, board, map[string]any{"reason": "again", "step": "BOARD"}), 409, "NOT_CERTIFIED", "step")

	// Revoking Ann's JUDGE step also revokes the later steps given on its strength, and unlocks
	// her scores only.
	r = e.do("DELETE", path, tn.admin, map[string]any{"reason": "Ann mis-scored contestant 2", "step": "JUDGE", "judge_id": ann.id})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	st = scDecodeState(t, r)
	require.False(t, st.step("TALLY_MASTER"))
	require.False(t, st.step("AUDITOR"))
	require.Equal(t, "JUDGE", st.next())
	for _, j := range st.Judges {
		require.Equal(t, j.JudgeID == bob.id, j.Certified, j.Name)
	}
	require.Zero(t, tn.count(`SELECT count(*) FROM scores WHERE tenant_id = $1 AND judge_id = $2 AND (locked OR certified_at IS NOT NULL)`, ann.id))
	e.scPutOK(ann.token, cat.id, []scCell{{ContestantID: cat.contestants[1], CriterionID: cat.criteria[1], Score: 1}})
	r = e.scPut(bob.token, cat.id, map[string]any{"scores": []scCell{{ContestantID: cat.contestants[1], CriterionID: cat.criteria[1], Score: 1}}})
	requireError(t, r, 409, "SCORE_LOCKED", "scores[0].score")

	// The revocations are audited with the reason, and recorded on the certification rows.
	require.Equal(t, 2, tn.auditCount("category.certification_revoked"))
	require.Equal(t, 1, tn.count(`SELECT count(*) FROM audit_logs WHERE tenant_id = $1 AND action = 'category.certification_revoked'
		AND actor_user_id = $2 AND data @> '{"reason": "Ann mis-scored contestant 2", "steps": ["JUDGE", "TALLY_MASTER", "AUDITOR"], "unlocked_scores": 4}'`, tn.adminID))
	require.Equal(t, 4, tn.count(`SELECT count(*) FROM category_certifications WHERE tenant_id = $1 AND revoked_at IS NOT NULL AND revoke_reason <> ''`))

	// Ann certifies again; the chain resumes.
	require.Equal(t, http.StatusCreated, e.scCertify(ann.token, cat.id, "JUDGE").status)
	require.Equal(t, http.StatusCreated, e.scCertify(tally, cat.id, "TALLY_MASTER").status)

	// Revoking the JUDGE step for everyone unlocks every judge's scores.
	r = e.do("DELETE", path, tn.admin, map[string]any{"reason": "rescore all", "step": "JUDGE"})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Zero(t, tn.count(`SELECT count(*) FROM scores WHERE tenant_id = $1 AND locked`))
	requireError(t, e.do("DELETE", path, tn.admin, map[string]any{"reason": "nothing left"}), 409, "NOT_CERTIFIED", "")
}

func TestCertificationNeedsAssignmentAndContent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.scNewTenant("certify-edge")
	ct := tn.contest(tn.event("Show", ""), "Solo", "")
	empty := tn.category(ct, "Empty", []string{"10"}, 0)
	cat := tn.category(ct, "Vocal", []string{"10"}, 1)
	j, other := tn.judge("Jo"), tn.judge("Olly")
	tn.assign(j.id, empty.id, "ACTIVE")
	tn.assign(other.id, cat.id, "CANCELLED")
	tally, _ := tn.user(auth.TallyMaster)

	// Nothing to certify in a category without contestants.
	requireError(t, e.scCertify(j.token, empty.id, "JUDGE"), 409, "SCORES_INCOMPLETE", "")
	// A judge without a usable assignment may not certify.
	requireError(t, e.scCertify(j.token, cat.id, "JUDGE"), 403, "NOT_ASSIGNED", "")
	requireError(t, e.scCertify(other.token, cat.id, "JUDGE"), 403, "NOT_ASSIGNED", "")
	// No judge assigned at all: the tally master has nothing to certify.
	r := e.scCertify(tally, cat.id, "TALLY_MASTER")
	requireError(t, r, 409, "CERTIFICATION_OUT_OF_ORDER", "step")
	require.Contains(t, errorMessage(t, r), "no judge")
	require.Zero(t, tn.count(`SELECT count(*) FROM category_certifications WHERE tenant_id = $1`))
}
