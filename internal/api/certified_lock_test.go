package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/store"
	"github.com/stretchr/testify/require"
)

// lockedCategory is a category certified up to the BOARD step, with what the lock test needs to aim
// every route at it.
type lockedCategory struct {
	tn                *scTenant
	root              string // a SUPER_ADMIN's token (another tenant's operator)
	eventID           string
	cat               scCategory
	judges            []scJudge
	assignments       []string
	deduction         string
	spareContestant   string // not entered in the category
	spareJudge        string // not assigned to it
	spareJudgeUser    string // a JUDGE user linked to no judge
	tally, aud, board string
}

// newLockedCategory builds a category through the API up to the BOARD step: three judges score
// every cell, the tally master adds a deduction, and every step is certified in order.
func newLockedCategory(t *testing.T, e *env) *lockedCategory {
	t.Helper()
	_, root := e.tenSuperAdmin("ops")
	tn := e.scNewTenant("locked")
	lc := &lockedCategory{tn: tn, root: root}
	lc.eventID = tn.event("Gala", "")
	lc.cat = tn.category(tn.contest(lc.eventID, "Solo", ""), "Vocal", []string{"10", "10"}, 3)
	lc.tally, _ = tn.user(auth.TallyMaster)
	lc.aud, _ = tn.user(auth.Auditor)
	lc.board, _ = tn.user(auth.Board)
	for i, name := range []string{"Ann", "Bob", "Cyd"} {
		j := tn.judge(name)
		r := e.do("POST", "/api/v1/assignments", tn.admin, map[string]any{"judge_id": j.id, "category_id": lc.cat.id, "status": "ACTIVE"})
		require.Equal(t, http.StatusCreated, r.status, string(r.body))
		lc.assignments = append(lc.assignments, r.json(t)["id"].(string))
		e.scFill(j, lc.cat, func(k, cr int) int64 { return int64(300 + 150*i + 100*k + 25*cr) })
		lc.judges = append(lc.judges, j)
	}
	r := e.do("POST", "/api/v1/categories/"+lc.cat.id+"/deductions", lc.tally,
		map[string]any{"contestant_id": lc.cat.contestants[0], "amount": 1.5, "reason": "late"})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	lc.deduction = r.json(t)["id"].(string)
	for _, j := range lc.judges {
		require.Equal(t, http.StatusCreated, e.scCertify(j.token, lc.cat.id, "JUDGE").status)
	}
	for _, s := range []struct{ step, token string }{{"TALLY_MASTER", lc.tally}, {"AUDITOR", lc.aud}, {"BOARD", lc.board}} {
		r := e.scCertify(s.token, lc.cat.id, s.step)
		require.Equal(t, http.StatusCreated, r.status, string(r.body))
	}
	lc.spareContestant = tn.newContestants(1)[0]
	lc.spareJudge = tn.judge("Spare").id
	u, err := e.store.CreateUser(context.Background(), tn.id, store.Actor{},
		store.NewUser{Email: "unlinked@locked.test", Name: "Unlinked", Password: testPassword, Role: auth.Judge})
	require.NoError(t, err)
	lc.spareJudgeUser = u.ID
	return lc
}

// frozenViews are the answers that must stay byte for byte the same while the category is certified.
func (lc *lockedCategory) frozenViews(e *env) map[string]string {
	e.t.Helper()
	out := map[string]string{}
	for _, path := range []string{
		"/api/v1/results/categories/" + lc.cat.id,
		"/api/v1/categories/" + lc.cat.id + "/certification",
	} {
		r := e.do("GET", path, lc.tn.admin, nil)
		require.Equal(e.t, http.StatusOK, r.status, string(r.body))
		out[path] = string(r.body)
	}
	return out
}

// lockCall is one request aimed at the certified category, and the refusal it must get.
type lockCall struct {
	token, path string
	body        any
	code        string
}

// TestCertifiedCategoryRefusesEveryMutatingRoute takes a category certified up to BOARD and calls
// every mutating route of the server's route table against it. Each must be refused with 409 and
// the category's results must stay byte for byte the same. A mutating route that is neither aimed
// at the category below nor listed as exempt (with the reason it cannot touch a category's
// results) fails the test: a route added without the guard cannot go unnoticed.
func TestCertifiedCategoryRefusesEveryMutatingRoute(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	lc := newLockedCategory(t, e)
	tn, cat, ann := lc.tn, lc.cat, lc.judges[0]
	before := lc.frozenViews(e)
	require.Contains(t, before["/api/v1/results/categories/"+cat.id], `"totals_certified":true`)

	certified := "CATEGORY_CERTIFIED"
	aimed := map[string][]lockCall{
		"POST /api/v1/assignments": {{tn.admin, "/api/v1/assignments", map[string]any{"judge_id": lc.spareJudge, "category_id": cat.id, "status": "ACTIVE"}, certified}},
		"PATCH /api/v1/assignments/{id}": {
			{tn.admin, "/api/v1/assignments/" + lc.assignments[0], map[string]any{"status": "CANCELLED"}, certified},
			{tn.admin, "/api/v1/assignments/" + lc.assignments[1], map[string]any{"status": "COMPLETED"}, certified},
		},
		"DELETE /api/v1/assignments/{id}": {{tn.admin, "/api/v1/assignments/" + lc.assignments[0], nil, certified}},
		"PATCH /api/v1/categories/{id}": {
			{tn.admin, "/api/v1/categories/" + cat.id, map[string]any{"score_cap": 100}, certified},
			{tn.admin, "/api/v1/categories/" + cat.id, map[string]any{"name": "Renamed"}, certified},
		},
		"DELETE /api/v1/categories/{id}":             {{tn.admin, "/api/v1/categories/" + cat.id, nil, certified}},
		"POST /api/v1/categories/{id}/certification": {{lc.board, "/api/v1/categories/" + cat.id + "/certification", map[string]any{"step": "BOARD"}, "ALREADY_CERTIFIED"}},
		"PATCH /api/v1/contestants/{id}":             {{tn.admin, "/api/v1/contestants/" + cat.contestants[0], map[string]any{"name": "Renamed", "number": 99}, certified}},
		"DELETE /api/v1/contestants/{id}":            {{tn.admin, "/api/v1/contestants/" + cat.contestants[1], nil, certified}},
		"PUT /api/v1/categories/{id}/contestants/{contestant_id}": {
			{tn.admin, "/api/v1/categories/" + cat.id + "/contestants/" + lc.spareContestant, nil, certified},
			{tn.admin, "/api/v1/categories/" + cat.id + "/contestants/" + cat.contestants[0], nil, certified},
		},
		"DELETE /api/v1/categories/{id}/contestants/{contestant_id}": {{tn.admin, "/api/v1/categories/" + cat.id + "/contestants/" + cat.contestants[2], nil, certified}},
		"PATCH /api/v1/contests/{id}": {
			{tn.admin, "/api/v1/contests/" + cat.contestID, map[string]any{"scoring_type": "OLYMPIC"}, certified},
		},
		// A contest with categories is never deleted; the certified one keeps it in place.
		"DELETE /api/v1/contests/{id}":            {{tn.admin, "/api/v1/contests/" + cat.contestID, nil, "IN_USE"}},
		"POST /api/v1/categories/{id}/criteria":   {{tn.admin, "/api/v1/categories/" + cat.id + "/criteria", map[string]any{"name": "Extra", "max_score": 5}, certified}},
		"PATCH /api/v1/criteria/{id}":             {{tn.admin, "/api/v1/criteria/" + cat.criteria[0], map[string]any{"max_score": 20}, certified}, {tn.admin, "/api/v1/criteria/" + cat.criteria[1], map[string]any{"name": "Renamed", "position": 9}, certified}},
		"DELETE /api/v1/criteria/{id}":            {{tn.admin, "/api/v1/criteria/" + cat.criteria[1], nil, certified}},
		"POST /api/v1/categories/{id}/deductions": {{lc.tally, "/api/v1/categories/" + cat.id + "/deductions", map[string]any{"contestant_id": cat.contestants[1], "amount": 2, "reason": "props"}, certified}},
		"DELETE /api/v1/deductions/{id}":          {{lc.tally, "/api/v1/deductions/" + lc.deduction, nil, certified}},
		"PATCH /api/v1/judges/{id}": {
			{tn.admin, "/api/v1/judges/" + ann.id, map[string]any{"name": "Renamed"}, certified},
			{tn.admin, "/api/v1/judges/" + ann.id, map[string]any{"user_id": lc.spareJudgeUser}, certified},
			{tn.admin, "/api/v1/judges/" + ann.id, map[string]any{"user_id": nil}, certified},
		},
		"DELETE /api/v1/judges/{id}": {{tn.admin, "/api/v1/judges/" + ann.id, nil, certified}},
		"PUT /api/v1/categories/{id}/scores": {
			// The scores route keeps its own code for the same lock.
			{ann.token, "/api/v1/categories/" + cat.id + "/scores", map[string]any{"scores": []scCell{{ContestantID: cat.contestants[0], CriterionID: cat.criteria[0], Score: 1}}}, "SCORE_LOCKED"},
			{tn.admin, "/api/v1/categories/" + cat.id + "/scores", map[string]any{"judge_id": ann.id, "scores": []scCell{{ContestantID: cat.contestants[0], CriterionID: cat.criteria[0], Score: 1}}}, "SCORE_LOCKED"},
		},
		// The tenant's scoring type is the one in force (neither the event nor the contest sets one).
		"PATCH /api/v1/tenants/{id}": {{lc.root, "/api/v1/tenants/" + tn.id, map[string]any{"scoring_type": "OLYMPIC"}, certified}},
	}
	exempt := map[string]string{
		"POST /api/v1/auth/login":                      "signs in: writes a session, no competition data",
		"POST /api/v1/auth/logout":                     "ends a session",
		"POST /api/v1/events":                          "a new event holds no category",
		"PATCH /api/v1/events/{id}":                    "an event's writable fields (name, description, location, dates) are not inputs of a category's results; its scoring type is not writable through the API and its trigger guards other writes",
		"DELETE /api/v1/events/{id}":                   "archives the event: a flag that no result is computed from",
		"POST /api/v1/events/{id}/restore":             "un-archives the event: a flag that no result is computed from",
		"POST /api/v1/events/{id}/contests":            "a new contest holds no category",
		"POST /api/v1/contests/{id}/categories":        "a new category is another category",
		"POST /api/v1/contestants":                     "a new contestant is entered in no category",
		"POST /api/v1/judges":                          "a new judge is assigned to no category",
		"DELETE /api/v1/categories/{id}/certification": "the authorised revocation that reopens the category (audited with its reason); tested below",
		"POST /api/v1/users":                           "users are not inputs of results (a judge's link is the judge record's)",
		"PATCH /api/v1/users/{id}":                     "users are not inputs of results (a judge's link is the judge record's)",
		"POST /api/v1/users/{id}/password":             "a password is not an input of results",
		"POST /api/v1/tenants":                         "a new tenant holds no category",
		"PUT /api/v1/tenants/{id}/rate-limit-tier":     "rate limits",
		"POST /api/v1/admin/rate-limits":               "rate limits",
		"PATCH /api/v1/admin/rate-limits/{id}":         "rate limits",
		"DELETE /api/v1/admin/rate-limits/{id}":        "rate limits",
		"PUT /api/v1/settings/{key}":                   "settings say how results are shown and published, not how they are computed",
		"DELETE /api/v1/settings/{key}":                "settings say how results are shown and published, not how they are computed",
		"PUT /api/v1/categories/{id}/device":           "a device report (last contact, rows queued) is not an input of results",
		"POST /api/v1/judges/{id}/sign-in-links":       "a sign-in link opens a session, no competition data",
		"DELETE /api/v1/sign-in-links/{id}":            "revokes a sign-in link",
		"POST /api/v1/auth/link":                       "signs in: writes a session, no competition data",
		"POST /api/v1/categories/{id}/audience-links":  "an audience link reads, it writes nothing",
		"POST /api/v1/contests/{id}/audience-links":    "an audience link reads, it writes nothing",
		"DELETE /api/v1/audience-links/{id}":           "revokes an audience link",
	}

	covered := 0
	for _, pattern := range e.server.Routes() {
		method, _, _ := strings.Cut(pattern, " ")
		if method == http.MethodGet || method == http.MethodHead {
			continue
		}
		calls, isAimed := aimed[pattern]
		reason, isExempt := exempt[pattern]
		require.True(t, isAimed != isExempt, "route %q must be either aimed at the certified category or exempt with a reason", pattern)
		if isExempt {
			require.NotEmpty(t, reason, pattern)
			continue
		}
		covered++
		for _, c := range calls {
			r := e.do(method, c.path, c.token, c.body)
			require.Equal(t, http.StatusConflict, r.status, "%s %s: %s", method, c.path, r.body)
			code, _ := r.errorCode(t)
			require.Equal(t, c.code, code, "%s %s: %s", method, c.path, r.body)
			if code == certified || code == "SCORE_LOCKED" {
				msg := errorMessage(t, r)
				require.True(t, strings.Contains(msg, "BOARD step") || strings.Contains(msg, "JUDGE step"), "the standing step is named: %s", msg)
			}
			require.Equal(t, before, lc.frozenViews(e), "%s %s changed the certified results", method, c.path)
		}
	}
	require.Equal(t, len(aimed), covered, "every aimed route is in the route table")

	// The revocation reopens it: with a reason, audited, and then the inputs change again.
	r := e.do("DELETE", "/api/v1/categories/"+cat.id+"/certification", tn.admin, map[string]any{"step": "TALLY_MASTER", "reason": "wrong sheet"})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, 1, tn.auditCount("category.certification_revoked"))
	r = e.do("PATCH", "/api/v1/categories/"+cat.id, tn.admin, map[string]any{"name": "Renamed"})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	// The judges' own certifications still stand: their inputs stay frozen.
	r = e.do("PATCH", "/api/v1/assignments/"+lc.assignments[0], tn.admin, map[string]any{"status": "CANCELLED"})
	requireError(t, r, http.StatusConflict, certified, "")
	require.Contains(t, errorMessage(t, r), "JUDGE step")
}
