package api_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/stretchr/testify/require"
)

// TestJudgingWriteRoles tries every write route of scoring, deductions and certification with a
// user of every role (none of them linked to a judge, except where said).
func TestJudgingWriteRoles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.scNewTenant("roles-judging")
	cat := tn.category(tn.contest(tn.event("Show", ""), "Solo", ""), "Vocal", []string{"10"}, 1)
	j := tn.judge("Judy")
	tn.assign(j.id, cat.id, "ACTIVE")
	cell := []scCell{{ContestantID: cat.contestants[0], CriterionID: cat.criteria[0], Score: 5}}

	tokens := map[auth.Role]string{}
	for _, role := range auth.AllRoles {
		if role == auth.Admin {
			tokens[role] = tn.admin
			continue
		}
		tokens[role], _ = tn.user(role)
	}
	in := func(role auth.Role, roles ...auth.Role) bool { return slices.Contains(roles, role) }
	admins := []auth.Role{auth.SuperAdmin, auth.Admin}

	for _, role := range auth.AllRoles {
		tok := tokens[role]

		// Scores: a user linked to a judge enters their own; ADMIN enters for a judge.
		r := e.scPut(tok, cat.id, map[string]any{"judge_id": j.id, "scores": cell})
		if in(role, admins...) {
			require.Equal(t, http.StatusOK, r.status, "%s: %s", role, r.body)
		} else {
			requireError(t, r, 403, "FORBIDDEN", "judge_id", role)
		}
		r = e.scPut(tok, cat.id, map[string]any{"scores": cell})
		if in(role, admins...) {
			requireError(t, r, 400, "VALIDATION_FAILED", "judge_id", role)
		} else {
			requireError(t, r, 403, "NOT_A_JUDGE", "", role)
		}

		// Deductions: ADMIN and TALLY_MASTER.
		r = e.do("POST", "/api/v1/categories/"+cat.id+"/deductions", tok, map[string]any{"contestant_id": cat.contestants[0], "amount": 1, "reason": "late"})
		deductionWriter := in(role, auth.SuperAdmin, auth.Admin, auth.TallyMaster)
		if deductionWriter {
			require.Equal(t, http.StatusCreated, r.status, "%s: %s", role, r.body)
			id := r.json(t)["id"].(string)
			require.Equal(t, http.StatusNoContent, e.do("DELETE", "/api/v1/deductions/"+id, tok, nil).status, role)
		} else {
			requireError(t, r, 403, "FORBIDDEN", "", role)
		}
		r = e.do("POST", "/api/v1/categories/"+cat.id+"/deductions", tn.admin, map[string]any{"contestant_id": cat.contestants[0], "amount": 1, "reason": "late"})
		require.Equal(t, http.StatusCreated, r.status)
		id := r.json(t)["id"].(string)
		r = e.do("DELETE", "/api/v1/deductions/"+id, tok, nil)
		if deductionWriter {
			require.Equal(t, http.StatusNoContent, r.status, "%s: %s", role, r.body)
		} else {
			requireError(t, r, 403, "FORBIDDEN", "", role)
		}

		// Certification: each later step by its own role only (here refused as out of order, which
		// means the role was let through); the JUDGE step by a user linked to a judge.
		for step, owner := range map[string]auth.Role{"TALLY_MASTER": auth.TallyMaster, "AUDITOR": auth.Auditor, "BOARD": auth.Board} {
			r = e.scCertify(tok, cat.id, step)
			if role == owner {
				requireError(t, r, 409, "CERTIFICATION_OUT_OF_ORDER", "step", role, step)
			} else {
				requireError(t, r, 403, "FORBIDDEN", "step", role, step)
			}
		}
		requireError(t, e.scCertify(tok, cat.id, "JUDGE"), 403, "NOT_A_JUDGE", "", role)

		// Revocation: ADMIN and BOARD (here refused as there is nothing to revoke).
		r = e.do("DELETE", "/api/v1/categories/"+cat.id+"/certification", tok, map[string]any{"reason": "test"})
		if in(role, auth.SuperAdmin, auth.Admin, auth.Board) {
			requireError(t, r, 409, "NOT_CERTIFIED", "", role)
		} else {
			requireError(t, r, 403, "FORBIDDEN", "", role)
		}
	}

	// Deduction readers: not judges, emcees or contestants.
	for _, role := range auth.AllRoles {
		r := e.do("GET", "/api/v1/categories/"+cat.id+"/deductions", tokens[role], nil)
		if in(role, auth.Judge, auth.Emcee, auth.Contestant) {
			requireError(t, r, 403, "FORBIDDEN", "", role)
		} else {
			require.Equal(t, http.StatusOK, r.status, "%s: %s", role, r.body)
		}
	}

	// Only a user whose role is JUDGE scores and certifies as a judge: a judge record that names a
	// user of another role (linked before the rule, or with SQL) gives that user nothing.
	for _, role := range []auth.Role{auth.TallyMaster, auth.Organizer, auth.Board} {
		linked := tn.linkedUser("Linked "+string(role), role)
		tn.assign(linked.id, cat.id, "ACTIVE")
		requireError(t, e.scPut(linked.token, cat.id, map[string]any{"scores": cell}), 403, "NOT_A_JUDGE", "", role)
		requireError(t, e.scCertify(linked.token, cat.id, "JUDGE"), 403, "NOT_A_JUDGE", "", role)
	}
	// Without a token: 401 everywhere.
	for _, req := range [][2]string{
		{"PUT", "/api/v1/categories/" + cat.id + "/scores"},
		{"GET", "/api/v1/categories/" + cat.id + "/scoresheet"},
		{"POST", "/api/v1/categories/" + cat.id + "/deductions"},
		{"POST", "/api/v1/categories/" + cat.id + "/certification"},
		{"DELETE", "/api/v1/categories/" + cat.id + "/certification"},
		{"GET", "/api/v1/results/categories/" + cat.id},
	} {
		require.Equal(t, http.StatusUnauthorized, e.do(req[0], req[1], "", nil).status, req)
	}
}

// TestJudgingCrossTenant: another tenant's categories, deductions, contests and events answer 404
// to every route, read or write, and nothing of theirs changes.
func TestJudgingCrossTenant(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.scNewTenant("tenant-a")
	b := e.scNewTenant("tenant-b")
	evB := b.event("B show", "")
	ctB := b.contest(evB, "B contest", "")
	catB := b.category(ctB, "B category", []string{"10"}, 1)
	jB := b.judge("B judge")
	b.assign(jB.id, catB.id, "ACTIVE")
	e.scPutOK(jB.token, catB.id, []scCell{{ContestantID: catB.contestants[0], CriterionID: catB.criteria[0], Score: 4}})
	r := e.do("POST", "/api/v1/categories/"+catB.id+"/deductions", b.admin, map[string]any{"contestant_id": catB.contestants[0], "amount": 1, "reason": "late"})
	require.Equal(t, http.StatusCreated, r.status)
	dedB := r.json(t)["id"].(string)

	catA := a.category(a.contest(a.event("A show", ""), "A contest", ""), "A category", []string{"10"}, 1)
	jA := a.judge("A judge")
	a.assign(jA.id, catA.id, "ACTIVE")
	tallyA, _ := a.user(auth.TallyMaster)
	boardA, _ := a.user(auth.Board)

	cell := []scCell{{ContestantID: catB.contestants[0], CriterionID: catB.criteria[0], Score: 9}}
	for _, c := range []struct {
		method, path, token string
		body                any
	}{
		{"GET", "/api/v1/categories/" + catB.id + "/scoresheet", jA.token, nil},
		{"GET", "/api/v1/categories/" + catB.id + "/scoresheet?judge_id=" + jB.id, a.admin, nil},
		{"PUT", "/api/v1/categories/" + catB.id + "/scores", jA.token, map[string]any{"scores": cell}},
		{"PUT", "/api/v1/categories/" + catB.id + "/scores", a.admin, map[string]any{"judge_id": jB.id, "scores": cell}},
		{"GET", "/api/v1/categories/" + catB.id + "/deductions", a.admin, nil},
		{"POST", "/api/v1/categories/" + catB.id + "/deductions", a.admin, map[string]any{"contestant_id": catB.contestants[0], "amount": 1, "reason": "x"}},
		{"DELETE", "/api/v1/deductions/" + dedB, a.admin, nil},
		{"GET", "/api/v1/categories/" + catB.id + "/certification", a.admin, nil},
		{"POST", "/api/v1/categories/" + catB.id + "/certification", jA.token, map[string]string{"step": "JUDGE"}},
		{"POST", "/api/v1/categories/" + catB.id + "/certification", tallyA, map[string]string{"step": "TALLY_MASTER"}},
		{"DELETE", "/api/v1/categories/" + catB.id + "/certification", boardA, map[string]string{"reason": "x"}},
		{"GET", "/api/v1/results/categories/" + catB.id, a.admin, nil},
		{"GET", "/api/v1/results/contests/" + ctB, a.admin, nil},
		{"GET", "/api/v1/results/events/" + evB, a.admin, nil},
	} {
		r := e.do(c.method, c.path, c.token, c.body)
		requireError(t, r, 404, "NOT_FOUND", "", c.method, c.path)
	}
	// A's admin cannot slip B's judge into A's category either.
	r = e.scPut(a.admin, catA.id, map[string]any{"judge_id": jB.id, "scores": []scCell{{ContestantID: catA.contestants[0], CriterionID: catA.criteria[0], Score: 1}}})
	requireError(t, r, 400, "UNKNOWN_JUDGE", "judge_id")

	// B is untouched.
	require.Equal(t, 1, b.count(`SELECT count(*) FROM scores WHERE tenant_id = $1 AND score = 4`))
	require.Equal(t, 1, b.count(`SELECT count(*) FROM deductions WHERE tenant_id = $1`))
	require.Zero(t, b.count(`SELECT count(*) FROM category_certifications WHERE tenant_id = $1`))
	require.Zero(t, a.scoreCount())
}
