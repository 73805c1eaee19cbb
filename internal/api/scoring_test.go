package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// scScoringSetup is a category with two criteria (max 10 and 5.5) and three contestants, an ACTIVE
// judge, plus what the refusals need: a contestant not entered, a criterion of another category,
// judges without a usable assignment.
type scScoringSetup struct {
	tn                         *scTenant
	cat, other                 scCategory
	judge, pending, unassigned scJudge
	completed, cancelled       scJudge
	outsider                   string // a contestant of the tenant not entered in cat
}

func scNewScoringSetup(e *env, slug string) scScoringSetup {
	tn := e.scNewTenant(slug)
	ev := tn.event("Show", "")
	ct := tn.contest(ev, "Solo", "")
	s := scScoringSetup{tn: tn}
	s.cat = tn.category(ct, "Vocal", []string{"10", "5.5"}, 3)
	s.other = tn.category(ct, "Dance", []string{"10"}, 0)
	s.outsider = tn.newContestants(1)[0]
	s.judge, s.pending = tn.judge("Judy"), tn.judge("Penny")
	s.unassigned, s.completed, s.cancelled = tn.judge("Una"), tn.judge("Cole"), tn.judge("Cass")
	tn.assign(s.judge.id, s.cat.id, "ACTIVE")
	tn.assign(s.pending.id, s.cat.id, "PENDING")
	tn.assign(s.completed.id, s.cat.id, "COMPLETED")
	tn.assign(s.cancelled.id, s.cat.id, "CANCELLED")
	tn.assign(s.unassigned.id, s.other.id, "ACTIVE") // assigned elsewhere only
	return s
}

func (s scScoringSetup) cell(k, cr int, score any) scCell {
	return scCell{ContestantID: s.cat.contestants[k], CriterionID: s.cat.criteria[cr], Score: score}
}

func TestScoreRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := scNewScoringSetup(e, "refusals")
	tn := s.tn
	tally, _ := tn.user(auth.TallyMaster)
	otherTenant := e.scNewTenant("refusals-other")
	foreignCat := otherTenant.category(otherTenant.contest(otherTenant.event("X", ""), "Y", ""), "Z", []string{"10"}, 1)

	ok := s.cell(0, 0, 5)
	body := func(cells ...scCell) map[string]any { return map[string]any{"scores": cells} }
	cases := []struct {
		name        string
		token       string
		category    string
		body        any
		status      int
		code, field string
	}{
		{"above max", s.judge.token, s.cat.id, body(ok, s.cell(1, 1, 5.51)), 400, "SCORE_OUT_OF_RANGE", "scores[1].score"},
		{"above max integer", s.judge.token, s.cat.id, body(s.cell(0, 0, 11)), 400, "SCORE_OUT_OF_RANGE", "scores[0].score"},
		{"negative", s.judge.token, s.cat.id, body(ok, s.cell(1, 0, -0.5)), 400, "SCORE_OUT_OF_RANGE", "scores[1].score"},
		{"three decimals", s.judge.token, s.cat.id, body(ok, s.cell(1, 0, json.Number("9.995"))), 400, "SCORE_TOO_PRECISE", "scores[1].score"},
		{"quoted number", s.judge.token, s.cat.id, body(s.cell(0, 0, "9")), 400, "VALIDATION_FAILED", "scores[0].score"},
		{"exponent", s.judge.token, s.cat.id, body(s.cell(0, 0, json.Number("1e1"))), 400, "VALIDATION_FAILED", "scores[0].score"},
		{"missing score", s.judge.token, s.cat.id, body(s.cell(0, 0, nil)), 400, "VALIDATION_FAILED", "scores[0].score"},
		{"criterion of another category", s.judge.token, s.cat.id,
			body(ok, s.cell(1, 0, 1), scCell{ContestantID: s.cat.contestants[2], CriterionID: s.other.criteria[0], Score: 1}),
			400, "UNKNOWN_CRITERION", "scores[2].criterion_id"},
		{"unknown criterion", s.judge.token, s.cat.id, body(scCell{ContestantID: s.cat.contestants[0], CriterionID: uuid.NewString(), Score: 1}),
			400, "UNKNOWN_CRITERION", "scores[0].criterion_id"},
		{"criterion of another tenant", s.judge.token, s.cat.id, body(scCell{ContestantID: s.cat.contestants[0], CriterionID: foreignCat.criteria[0], Score: 1}),
			400, "UNKNOWN_CRITERION", "scores[0].criterion_id"},
		{"contestant not entered", s.judge.token, s.cat.id, body(ok, scCell{ContestantID: s.outsider, CriterionID: s.cat.criteria[0], Score: 1}),
			400, "CONTESTANT_NOT_IN_CATEGORY", "scores[1].contestant_id"},
		{"contestant of another tenant", s.judge.token, s.cat.id, body(scCell{ContestantID: foreignCat.contestants[0], CriterionID: s.cat.criteria[0], Score: 1}),
			400, "CONTESTANT_NOT_IN_CATEGORY", "scores[0].contestant_id"},
		{"bad contestant id", s.judge.token, s.cat.id, body(scCell{ContestantID: "7", CriterionID: s.cat.criteria[0], Score: 1}),
			400, "VALIDATION_FAILED", "scores[0].contestant_id"},
		{"same cell twice", s.judge.token, s.cat.id, body(ok, s.cell(0, 0, 6)), 400, "DUPLICATE_SCORE", "scores[1]"},
		{"comment too long", s.judge.token, s.cat.id, body(scCell{ContestantID: s.cat.contestants[0], CriterionID: s.cat.criteria[0], Score: 1, Comment: strings.Repeat("é", 2001)}),
			400, "VALIDATION_FAILED", "scores[0].comment"},
		{"no scores", s.judge.token, s.cat.id, body(), 400, "VALIDATION_FAILED", "scores"},
		{"too many scores", s.judge.token, s.cat.id, body(make([]scCell, 501)...), 400, "VALIDATION_FAILED", "scores"},
		{"unknown field", s.judge.token, s.cat.id, map[string]any{"scores": []scCell{ok}, "locked": false}, 400, "UNKNOWN_FIELD", "locked"},
		{"judge assigned elsewhere", s.unassigned.token, s.cat.id, body(ok), 403, "NOT_ASSIGNED", ""},
		{"assignment completed", s.completed.token, s.cat.id, body(ok), 403, "NOT_ASSIGNED", ""},
		{"assignment cancelled", s.cancelled.token, s.cat.id, body(ok), 403, "NOT_ASSIGNED", ""},
		{"not a judge", tally, s.cat.id, body(ok), 403, "NOT_A_JUDGE", ""},
		{"judge for another judge", s.judge.token, s.cat.id, map[string]any{"judge_id": s.pending.id, "scores": []scCell{ok}}, 403, "FORBIDDEN", "judge_id"},
		{"admin without judge", tn.admin, s.cat.id, body(ok), 400, "VALIDATION_FAILED", "judge_id"},
		{"admin for unknown judge", tn.admin, s.cat.id, map[string]any{"judge_id": uuid.NewString(), "scores": []scCell{ok}}, 400, "UNKNOWN_JUDGE", "judge_id"},
		{"admin for unassigned judge", tn.admin, s.cat.id, map[string]any{"judge_id": s.unassigned.id, "scores": []scCell{ok}}, 403, "NOT_ASSIGNED", "judge_id"},
		{"unknown category", s.judge.token, uuid.NewString(), body(ok), 404, "NOT_FOUND", ""},
		{"category of another tenant", s.judge.token, foreignCat.id, body(scCell{ContestantID: foreignCat.contestants[0], CriterionID: foreignCat.criteria[0], Score: 1}), 404, "NOT_FOUND", ""},
	}
	for _, c := range cases {
		r := e.scPut(c.token, c.category, c.body)
		requireError(t, r, c.status, c.code, c.field, c.name)
	}
	// Nothing was written by any refused request, in either tenant, and nothing was audited.
	require.Zero(t, tn.scoreCount())
	require.Zero(t, otherTenant.scoreCount())
	require.Zero(t, tn.auditCount("score.submitted"))

	// The bounds themselves are accepted: 0, the maximum, trailing zeros beyond two decimals.
	r := e.scPut(s.judge.token, s.cat.id, body(s.cell(0, 0, 0), s.cell(0, 1, 5.5), s.cell(1, 0, json.Number("10.000")), s.cell(1, 1, json.Number("0.25"))))
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	// A PENDING assignment may score too.
	e.scPutOK(s.pending.token, s.cat.id, []scCell{ok})
	require.Equal(t, 5, tn.scoreCount())
}

func TestScoresAllOrNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.scNewTenant("batch")
	cat := tn.category(tn.contest(tn.event("Show", ""), "Solo", ""), "Vocal", []string{"10", "10"}, 5)
	j := tn.judge("Judy")
	tn.assign(j.id, cat.id, "ACTIVE")

	batch := func(bad int, value float64) []scCell {
		var cells []scCell
		for k := range 5 {
			for cr := range 2 {
				v := value
				if len(cells) == bad {
					v = 10.5
				}
				cells = append(cells, scCell{ContestantID: cat.contestants[k], CriterionID: cat.criteria[cr], Score: v, Comment: "first"})
			}
		}
		return cells
	}
	// One bad score among ten: none is written.
	r := e.scPut(j.token, cat.id, map[string]any{"scores": batch(6, 7)})
	requireError(t, r, 400, "SCORE_OUT_OF_RANGE", "scores[6].score")
	require.Zero(t, tn.scoreCount())

	// The ten good ones are written, and the answer holds the judge's cells.
	r = e.scPut(j.token, cat.id, map[string]any{"scores": batch(-1, 7)})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	var res struct {
		CategoryID string `json:"category_id"`
		JudgeID    string `json:"judge_id"`
		Scores     []struct {
			ContestantID string      `json:"contestant_id"`
			CriterionID  string      `json:"criterion_id"`
			Score        json.Number `json:"score"`
			Comment      string      `json:"comment"`
			Locked       bool        `json:"locked"`
		} `json:"scores"`
	}
	require.NoError(t, json.Unmarshal(r.body, &res))
	require.Equal(t, cat.id, res.CategoryID)
	require.Equal(t, j.id, res.JudgeID)
	require.Len(t, res.Scores, 10)
	for _, c := range res.Scores {
		require.Equal(t, "7.00", string(c.Score))
		require.Equal(t, "first", c.Comment)
		require.False(t, c.Locked)
	}
	require.Equal(t, 10, tn.scoreCount())
	require.Equal(t, 10, tn.auditCount("score.submitted"))

	// An update with one bad score leaves every stored value as it was.
	r = e.scPut(j.token, cat.id, map[string]any{"scores": batch(9, 9)})
	requireError(t, r, 400, "SCORE_OUT_OF_RANGE", "scores[9].score")
	require.Equal(t, 10, tn.count(`SELECT count(*) FROM scores WHERE tenant_id = $1 AND score = 7`))
	require.Equal(t, 10, tn.auditCount("score.submitted"))

	// A good update changes them all, and each change is audited with before and after.
	e.scPutOK(j.token, cat.id, batch(-1, 9))
	require.Equal(t, 10, tn.count(`SELECT count(*) FROM scores WHERE tenant_id = $1 AND score = 9`))
	require.Equal(t, 10, tn.count(`SELECT count(*) FROM audit_logs WHERE tenant_id = $1 AND action = 'score.submitted'
		AND data @> '{"before": {"score": 7}, "after": {"score": 9}}' AND actor_user_id = $2`, j.userID))
}

func TestScoreIdempotency(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := scNewScoringSetup(e, "idem")
	tn := s.tn

	put := func(token, key string, body string) response {
		t.Helper()
		req, err := http.NewRequest("PUT", e.srv.URL+"/api/v1/categories/"+s.cat.id+"/scores", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		resp, err := e.srv.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return response{status: resp.StatusCode, header: resp.Header, body: b}
	}
	bodyOf := func(score string) string {
		return fmt.Sprintf(`{"scores":[{"contestant_id":%q,"criterion_id":%q,"score":%s,"comment":"ok"}]}`, s.cat.contestants[0], s.cat.criteria[0], score)
	}
	first := put(s.judge.token, "key-1", bodyOf("8"))
	require.Equal(t, http.StatusOK, first.status, string(first.body))
	require.Empty(t, first.header.Get("Idempotent-Replayed"))

	// Another write of the same cell, without a key, moves the score on.
	require.Equal(t, http.StatusOK, put(s.judge.token, "", bodyOf("9")).status)

	// The same key and body replays the first answer byte for byte, and writes nothing: the score
	// stays 9. The body may be spelled differently (spacing, 8.0 for 8).
	for _, b := range []string{bodyOf("8"), strings.ReplaceAll(bodyOf("8.0"), ",", " , ")} {
		again := put(s.judge.token, "key-1", b)
		require.Equal(t, first.status, again.status)
		require.Equal(t, string(first.body), string(again.body))
		require.Equal(t, "true", again.header.Get("Idempotent-Replayed"))
	}
	require.Equal(t, 1, tn.count(`SELECT count(*) FROM scores WHERE tenant_id = $1 AND score = 9`))
	require.Equal(t, 2, tn.auditCount("score.submitted"))

	// The same key with another body is refused.
	r := put(s.judge.token, "key-1", bodyOf("7"))
	requireError(t, r, 422, "IDEMPOTENCY_KEY_REUSED", "Idempotency-Key")
	require.Equal(t, 1, tn.count(`SELECT count(*) FROM scores WHERE tenant_id = $1 AND score = 9`))

	// Keys belong to their user: another judge's key-1 is a new request.
	r = put(s.pending.token, "key-1", bodyOf("8"))
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Empty(t, r.header.Get("Idempotent-Replayed"))

	// A refused request leaves no key behind: corrected, it goes through with the same key.
	requireError(t, put(s.judge.token, "key-2", bodyOf("11")), 400, "SCORE_OUT_OF_RANGE", "scores[0].score")
	r = put(s.judge.token, "key-2", bodyOf("6"))
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Empty(t, r.header.Get("Idempotent-Replayed"))

	// A malformed key is refused.
	requireError(t, put(s.judge.token, strings.Repeat("k", 256), bodyOf("6")), 400, "VALIDATION_FAILED", "Idempotency-Key")

	// Concurrent requests with one key: exactly one writes, the others replay its answer.
	before := tn.auditCount("score.submitted")
	var wg sync.WaitGroup
	answers := make([]response, 8)
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = put(s.judge.token, "key-concurrent", bodyOf("5.25"))
		}()
	}
	wg.Wait()
	replays := 0
	for _, a := range answers {
		require.Equal(t, http.StatusOK, a.status, string(a.body))
		require.Equal(t, string(answers[0].body), string(a.body))
		if a.header.Get("Idempotent-Replayed") == "true" {
			replays++
		}
	}
	require.Equal(t, len(answers)-1, replays)
	require.Equal(t, before+1, tn.auditCount("score.submitted"))
	// The keys are in the database, with the tenant, the user and the stored answer.
	require.Equal(t, 4, tn.count(`SELECT count(*) FROM idempotency_keys WHERE tenant_id = $1 AND response_status = 200`))
}

func TestScoresheet(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := scNewScoringSetup(e, "sheet")
	tn := s.tn
	tally, _ := tn.user(auth.TallyMaster)

	e.scPutOK(s.judge.token, s.cat.id, []scCell{
		{ContestantID: s.cat.contestants[1], CriterionID: s.cat.criteria[1], Score: 4.25, Comment: "nice"},
	})
	r := e.do("GET", "/api/v1/categories/"+s.cat.id+"/scoresheet", s.judge.token, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	var sheet struct {
		CategoryID string `json:"category_id"`
		JudgeID    string `json:"judge_id"`
		Certified  bool   `json:"certified"`
		Filled     int    `json:"filled"`
		Required   int    `json:"required"`
		Criteria   []struct {
			ID       string      `json:"id"`
			MaxScore json.Number `json:"max_score"`
		} `json:"criteria"`
		Contestants []struct {
			ID    string `json:"id"`
			Cells []struct {
				CriterionID string       `json:"criterion_id"`
				Score       *json.Number `json:"score"`
				Comment     string       `json:"comment"`
				Locked      bool         `json:"locked"`
				UpdatedAt   *string      `json:"updated_at"`
			} `json:"cells"`
		} `json:"contestants"`
	}
	require.NoError(t, json.Unmarshal(r.body, &sheet))
	require.Equal(t, s.judge.id, sheet.JudgeID)
	require.Equal(t, 1, sheet.Filled)
	require.Equal(t, 6, sheet.Required)
	require.False(t, sheet.Certified)
	require.Len(t, sheet.Criteria, 2)
	require.Equal(t, s.cat.criteria[0], sheet.Criteria[0].ID)
	require.Equal(t, "5.50", string(sheet.Criteria[1].MaxScore))
	require.Len(t, sheet.Contestants, 3)
	for k, row := range sheet.Contestants {
		require.Equal(t, s.cat.contestants[k], row.ID)
		require.Len(t, row.Cells, 2)
		for cr, c := range row.Cells {
			require.Equal(t, s.cat.criteria[cr], c.CriterionID)
			if k == 1 && cr == 1 {
				require.NotNil(t, c.Score)
				require.Equal(t, "4.25", string(*c.Score))
				require.Equal(t, "nice", c.Comment)
				require.NotNil(t, c.UpdatedAt)
				scTime(t, *c.UpdatedAt)
			} else {
				require.Nil(t, c.Score)
				require.Nil(t, c.UpdatedAt)
			}
		}
	}

	// Another judge's sheet is theirs alone: the pending judge sees no score.
	r = e.do("GET", "/api/v1/categories/"+s.cat.id+"/scoresheet", s.pending.token, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.EqualValues(t, 0, r.json(t)["filled"])

	// ADMIN reads any judge's sheet with ?judge_id=.
	r = e.do("GET", "/api/v1/categories/"+s.cat.id+"/scoresheet?judge_id="+s.judge.id, tn.admin, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.EqualValues(t, 1, r.json(t)["filled"])

	for _, c := range []struct {
		name, token, query string
		status             int
		code, field        string
	}{
		{"judge reads another judge", s.pending.token, "?judge_id=" + s.judge.id, 403, "FORBIDDEN", "judge_id"},
		{"not assigned", s.unassigned.token, "", 403, "NOT_ASSIGNED", ""},
		{"assignment cancelled", s.cancelled.token, "", 403, "NOT_ASSIGNED", ""},
		{"not a judge", tally, "", 403, "NOT_A_JUDGE", ""},
		{"admin without judge", tn.admin, "", 400, "VALIDATION_FAILED", "judge_id"},
		{"admin, unknown judge", tn.admin, "?judge_id=" + uuid.NewString(), 400, "UNKNOWN_JUDGE", "judge_id"},
		{"admin, judge not assigned", tn.admin, "?judge_id=" + s.unassigned.id, 403, "NOT_ASSIGNED", "judge_id"},
	} {
		r := e.do("GET", "/api/v1/categories/"+s.cat.id+"/scoresheet"+c.query, c.token, nil)
		requireError(t, r, c.status, c.code, c.field, c.name)
	}
	r = e.do("GET", "/api/v1/categories/"+uuid.NewString()+"/scoresheet", s.judge.token, nil)
	requireError(t, r, 404, "NOT_FOUND", "")
}

func TestAdminScoresOnBehalfOfJudge(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := scNewScoringSetup(e, "behalf")
	tn := s.tn
	r := e.scPut(tn.admin, s.cat.id, map[string]any{"judge_id": s.judge.id, "scores": []scCell{s.cell(2, 0, 6.5)}})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, s.judge.id, r.json(t)["judge_id"])
	// The score is the judge's; the audit record names the admin as actor and the judge.
	require.Equal(t, 1, tn.count(`SELECT count(*) FROM scores WHERE tenant_id = $1 AND judge_id = $2 AND score = 6.5`, s.judge.id))
	require.Equal(t, 1, tn.count(`SELECT count(*) FROM audit_logs WHERE tenant_id = $1 AND action = 'score.submitted'
		AND actor_user_id = $2 AND data @> jsonb_build_object('judge_id', $3::text, 'on_behalf_of_judge', true)`, tn.adminID, s.judge.id))
	// A judge entering their own scores is not "on behalf".
	e.scPutOK(s.judge.token, s.cat.id, []scCell{s.cell(2, 1, 1)})
	require.Equal(t, 1, tn.count(`SELECT count(*) FROM audit_logs WHERE tenant_id = $1 AND action = 'score.submitted'
		AND actor_user_id = $2 AND data @> '{"on_behalf_of_judge": false}'`, s.judge.userID))
}

func TestDeductions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.scNewTenant("deduct")
	cat := tn.category(tn.contest(tn.event("Show", ""), "Solo", ""), "Vocal", []string{"10"}, 2)
	outsider := tn.newContestants(1)[0]
	tally, _ := tn.user(auth.TallyMaster)
	path := "/api/v1/categories/" + cat.id + "/deductions"

	for _, c := range []struct {
		name        string
		body        string
		code, field string
	}{
		{"zero", `{"contestant_id":%q,"amount":0,"reason":"late"}`, "VALIDATION_FAILED", "amount"},
		{"negative", `{"contestant_id":%q,"amount":-1,"reason":"late"}`, "VALIDATION_FAILED", "amount"},
		{"three decimals", `{"contestant_id":%q,"amount":1.234,"reason":"late"}`, "VALIDATION_FAILED", "amount"},
		{"missing amount", `{"contestant_id":%q,"reason":"late"}`, "VALIDATION_FAILED", "amount"},
		{"missing reason", `{"contestant_id":%q,"amount":1}`, "VALIDATION_FAILED", "reason"},
		{"blank reason", `{"contestant_id":%q,"amount":1,"reason":"   "}`, "VALIDATION_FAILED", "reason"},
	} {
		r := e.do("POST", path, tn.admin, fmt.Sprintf(c.body, cat.contestants[0]))
		requireError(t, r, 400, c.code, c.field, c.name)
	}
	r := e.do("POST", path, tn.admin, map[string]any{"contestant_id": outsider, "amount": 1, "reason": "late"})
	requireError(t, r, 400, "CONTESTANT_NOT_IN_CATEGORY", "contestant_id")
	require.Zero(t, tn.count(`SELECT count(*) FROM deductions WHERE tenant_id = $1`))

	// ADMIN and TALLY_MASTER enter deductions.
	var ids []string
	for i, tok := range []string{tn.admin, tally, tally} {
		r := e.do("POST", path, tok, map[string]any{"contestant_id": cat.contestants[i%2], "amount": json.Number("1.5"), "reason": fmt.Sprintf("reason %d", i)})
		require.Equal(t, http.StatusCreated, r.status, string(r.body))
		d := r.json(t)
		require.Equal(t, 1.5, d["amount"])
		require.Equal(t, cat.id, d["category_id"])
		scTime(t, d["created_at"])
		ids = append(ids, d["id"].(string))
	}
	require.Equal(t, 3, tn.auditCount("deduction.created"))

	// Listed newest first, in pages, filtered by contestant.
	got := e.compListAll(tn.admin, path, 2)
	require.Equal(t, []string{ids[2], ids[1], ids[0]}, got)
	got = e.compListAll(tally, path+"?contestant_id="+cat.contestants[0], 1)
	require.Equal(t, []string{ids[2], ids[0]}, got)

	// Deleting answers 204, audited; a second time 404.
	require.Equal(t, http.StatusNoContent, e.do("DELETE", "/api/v1/deductions/"+ids[1], tally, nil).status)
	requireError(t, e.do("DELETE", "/api/v1/deductions/"+ids[1], tally, nil), 404, "NOT_FOUND", "")
	require.Equal(t, 1, tn.auditCount("deduction.deleted"))

	// Once the totals are certified, deductions are frozen.
	tn.scCertifyTally(cat.id)
	r = e.do("POST", path, tn.admin, map[string]any{"contestant_id": cat.contestants[0], "amount": 1, "reason": "late"})
	requireError(t, r, 409, "CATEGORY_CERTIFIED", "")
	requireError(t, e.do("DELETE", "/api/v1/deductions/"+ids[0], tn.admin, nil), 409, "CATEGORY_CERTIFIED", "")
	require.Equal(t, 2, tn.count(`SELECT count(*) FROM deductions WHERE tenant_id = $1`))

	// An unknown category is 404, not an empty list.
	requireError(t, e.do("GET", "/api/v1/categories/"+uuid.NewString()+"/deductions", tn.admin, nil), 404, "NOT_FOUND", "")
}
