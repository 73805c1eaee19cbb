package api_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/stretchr/testify/require"
)

func TestContestsCRUD(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.tenant("contests")
	tenantID := e.tenantID("contests")
	ev := e.createEvent(tok, "Gala", time.Date(2026, 6, 1, 18, 0, 0, 0, time.UTC))
	base := "/api/v1/events/" + ev + "/contests"

	// An event without contests lists an empty page, not 404 and not null.
	r := e.do("GET", base, tok, nil)
	require.Equal(t, http.StatusOK, r.status)
	require.JSONEq(t, `{"data":[],"next_cursor":null}`, string(r.body))

	r = e.do("POST", base, tok, map[string]any{"name": "  Solo  ", "description": "One performer", "scoring_type": "olympic"})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	c := r.json(t)
	id := c["id"].(string)
	require.Equal(t, "/api/v1/contests/"+id, r.header.Get("Location"))
	require.Equal(t, "Solo", c["name"])
	require.Equal(t, "One performer", c["description"])
	require.Equal(t, "OLYMPIC", c["scoring_type"])
	require.Equal(t, ev, c["event_id"])
	require.True(t, strings.HasSuffix(c["created_at"].(string), "Z"), "times are UTC: %v", c["created_at"])

	ids := []string{id}
	for i := range 4 {
		ids = append(ids, e.compCreate(tok, base, map[string]any{"name": fmt.Sprintf("Contest %d", i)}))
	}
	// Oldest first, in pages of two.
	require.Equal(t, ids, e.compListAll(tok, base, 2))
	require.Equal(t, ids, e.compListAll(tok, base, 100))

	got := e.compGet(tok, "/api/v1/contests/"+ids[1])
	require.Equal(t, "Contest 0", got["name"])
	require.Nil(t, got["scoring_type"], "null inherits the event's scoring type")

	// PATCH changes only what it names; scoring_type null goes back to inheriting.
	r = e.do("PATCH", "/api/v1/contests/"+id, tok, map[string]any{"name": "Solo 2026"})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, "Solo 2026", r.json(t)["name"])
	require.Equal(t, "OLYMPIC", r.json(t)["scoring_type"])
	require.Equal(t, "One performer", r.json(t)["description"])
	r = e.do("PATCH", "/api/v1/contests/"+id, tok, map[string]any{"scoring_type": nil})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Nil(t, r.json(t)["scoring_type"])
	require.Equal(t, "Solo 2026", r.json(t)["name"])

	r = e.do("DELETE", "/api/v1/contests/"+id, tok, nil)
	require.Equal(t, http.StatusNoContent, r.status, string(r.body))
	require.Empty(t, r.body)
	requireError(t, e.do("GET", "/api/v1/contests/"+id, tok, nil), 404, "NOT_FOUND", "")
	requireError(t, e.do("DELETE", "/api/v1/contests/"+id, tok, nil), 404, "NOT_FOUND", "")
	require.Equal(t, ids[1:], e.compListAll(tok, base, 3))

	// One audit row per write, with the actor and what changed.
	require.Equal(t, 1, e.compAudits(tenantID, "contest", id, "contest.created"))
	require.Equal(t, 2, e.compAudits(tenantID, "contest", id, "contest.updated"))
	require.Equal(t, 1, e.compAudits(tenantID, "contest", id, "contest.deleted"))
	admin := e.userID(tok)
	require.Equal(t, 1, e.compCount(tenantID, `SELECT count(*) FROM audit_logs WHERE tenant_id = $1 AND entity_id = $2 AND action = 'contest.updated'
		AND actor_user_id = $3 AND data->'before'->>'name' = 'Solo' AND data->'after'->>'name' = 'Solo 2026'
		AND request_id IS NOT NULL`, id, admin))
}

func TestCategoriesCRUD(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.buildCompTree("categories")
	base := "/api/v1/contests/" + c.contest + "/categories"

	r := e.do("POST", base, c.token, map[string]any{"name": "Dance", "score_cap": 12.5, "time_limit_seconds": 90})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	// Numbers go out as JSON numbers, not strings.
	require.Contains(t, string(r.body), `"score_cap":12.5`)
	require.Contains(t, string(r.body), `"time_limit_seconds":90`)
	id := r.json(t)["id"].(string)
	require.Equal(t, "/api/v1/categories/"+id, r.header.Get("Location"))
	require.Equal(t, c.contest, r.json(t)["contest_id"])

	ids := []string{c.category, id}
	for i := range 3 {
		ids = append(ids, e.compCreate(c.token, base, map[string]any{"name": fmt.Sprintf("Category %d", i)}))
	}
	require.Equal(t, ids, e.compListAll(c.token, base, 2))
	got := e.compGet(c.token, "/api/v1/categories/"+ids[2])
	require.Nil(t, got["score_cap"])
	require.Nil(t, got["time_limit_seconds"])
	require.Equal(t, 100.0, e.compGet(c.token, "/api/v1/categories/"+c.category)["score_cap"])

	r = e.do("PATCH", "/api/v1/categories/"+id, c.token, map[string]any{"score_cap": 99.99, "description": "Modern"})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Contains(t, string(r.body), `"score_cap":99.99`)
	require.Equal(t, 90.0, r.json(t)["time_limit_seconds"])
	require.Equal(t, "Modern", r.json(t)["description"])
	r = e.do("PATCH", "/api/v1/categories/"+id, c.token, map[string]any{"score_cap": nil, "time_limit_seconds": nil, "name": "Dance!"})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Nil(t, r.json(t)["score_cap"])
	require.Nil(t, r.json(t)["time_limit_seconds"])
	require.Equal(t, "Dance!", r.json(t)["name"])

	require.Equal(t, http.StatusNoContent, e.do("DELETE", "/api/v1/categories/"+id, c.token, nil).status)
	requireError(t, e.do("GET", "/api/v1/categories/"+id, c.token, nil), 404, "NOT_FOUND", "")
	require.Equal(t, slices.Delete(slices.Clone(ids), 1, 2), e.compListAll(c.token, base, 50))

	require.Equal(t, 1, e.compAudits(c.tenantID, "category", id, "category.created"))
	require.Equal(t, 2, e.compAudits(c.tenantID, "category", id, "category.updated"))
	require.Equal(t, 1, e.compAudits(c.tenantID, "category", id, "category.deleted"))
}

func TestCriteriaCRUD(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.buildCompTree("criteria")
	base := "/api/v1/categories/" + c.category + "/criteria"

	// Without a position, a criterion goes after the last one.
	r := e.do("POST", base, c.token, map[string]any{"name": "Rhythm", "max_score": 7.5})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	require.Contains(t, string(r.body), `"max_score":7.5`)
	require.Equal(t, 1.0, r.json(t)["position"])
	rhythm := r.json(t)["id"].(string)
	require.Equal(t, "/api/v1/criteria/"+rhythm, r.header.Get("Location"))
	stage := e.compCreate(c.token, base, map[string]any{"name": "Stage presence", "max_score": 20})
	diction := e.compCreate(c.token, base, map[string]any{"name": "Diction", "max_score": 5, "position": 10})
	require.Equal(t, 2.0, e.compGet(c.token, "/api/v1/criteria/"+stage)["position"])
	require.Equal(t, []string{c.criterion, rhythm, stage, diction}, e.compListAll(c.token, base, 3))

	// Moving a criterion reorders the list; max_score keeps its two decimals exactly.
	r = e.do("PATCH", "/api/v1/criteria/"+c.criterion, c.token, map[string]any{"position": 15, "max_score": 8.25, "name": "Pitch & tone"})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Contains(t, string(r.body), `"max_score":8.25`)
	require.Equal(t, "Pitch & tone", r.json(t)["name"])
	require.Equal(t, []string{rhythm, stage, diction, c.criterion}, e.compListAll(c.token, base, 1))
	require.Equal(t, 20.0, e.compGet(c.token, "/api/v1/criteria/"+stage)["max_score"])

	require.Equal(t, http.StatusNoContent, e.do("DELETE", "/api/v1/criteria/"+rhythm, c.token, nil).status)
	requireError(t, e.do("GET", "/api/v1/criteria/"+rhythm, c.token, nil), 404, "NOT_FOUND", "")
	requireError(t, e.do("PATCH", "/api/v1/criteria/"+rhythm, c.token, map[string]any{"name": "x"}), 404, "NOT_FOUND", "")
	require.Equal(t, []string{stage, diction, c.criterion}, e.compListAll(c.token, base, 50))

	require.Equal(t, 1, e.compAudits(c.tenantID, "criterion", rhythm, "criterion.created"))
	require.Equal(t, 1, e.compAudits(c.tenantID, "criterion", rhythm, "criterion.deleted"))
	require.Equal(t, 1, e.compAudits(c.tenantID, "criterion", c.criterion, "criterion.updated"))
}

func TestContestantsCRUD(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.buildCompTree("contestants")

	r := e.do("POST", "/api/v1/contestants", c.token, map[string]any{"name": "Grace Hopper", "number": 12, "email": "Grace@Example.COM", "bio": "Admiral"})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	grace := r.json(t)
	gid := grace["id"].(string)
	require.Equal(t, "/api/v1/contestants/"+gid, r.header.Get("Location"))
	require.Equal(t, 12.0, grace["number"])
	require.Equal(t, "grace@example.com", grace["email"])
	require.Equal(t, "Admiral", grace["bio"])
	ids := []string{c.contestant, gid}
	for i := range 3 {
		ids = append(ids, e.compCreate(c.token, "/api/v1/contestants", map[string]any{"name": fmt.Sprintf("Dancer %d", i)}))
	}
	// Many contestants may have no number; a number is unique within the tenant.
	requireError(t, e.do("POST", "/api/v1/contestants", c.token, map[string]any{"name": "Copy", "number": 12}), 409, "CONFLICT", "number")
	requireError(t, e.do("PATCH", "/api/v1/contestants/"+ids[2], c.token, map[string]any{"number": 7}), 409, "CONFLICT", "number")

	// Lists go in id order (the keyset index), in pages.
	sorted := slices.Sorted(slices.Values(ids))
	require.Equal(t, sorted, e.compListAll(c.token, "/api/v1/contestants", 2))
	require.Equal(t, []string{gid}, e.compListAll(c.token, "/api/v1/contestants?search=HOPP", 10))
	require.Equal(t, []string{gid}, e.compListAll(c.token, "/api/v1/contestants?number=12", 10))
	require.Empty(t, e.compListAll(c.token, "/api/v1/contestants?number=13", 10))
	require.Empty(t, e.compListAll(c.token, "/api/v1/contestants?search=%25", 10))
	require.Len(t, e.compListAll(c.token, "/api/v1/contestants?search=dancer", 2), 3)

	// null (or "") clears number and email; absent fields stay.
	r = e.do("PATCH", "/api/v1/contestants/"+gid, c.token, map[string]any{"number": nil, "email": ""})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Nil(t, r.json(t)["number"])
	require.Nil(t, r.json(t)["email"])
	require.Equal(t, "Grace Hopper", r.json(t)["name"])
	r = e.do("PATCH", "/api/v1/contestants/"+gid, c.token, map[string]any{"number": 13, "name": "Grace B. Hopper"})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, 13.0, e.compGet(c.token, "/api/v1/contestants/"+gid)["number"])

	// Entering a category is idempotent: 201 the first time, 204 after, one audit row.
	entry := "/api/v1/categories/" + c.category + "/contestants/" + gid
	r = e.do("PUT", entry, c.token, nil)
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	require.Equal(t, gid, r.json(t)["id"])
	require.Equal(t, c.category, r.json(t)["category_id"])
	require.NotEmpty(t, r.json(t)["entered_at"])
	r = e.do("PUT", entry, c.token, nil)
	require.Equal(t, http.StatusNoContent, r.status, string(r.body))
	require.Equal(t, 1, e.compAudits(c.tenantID, "contestant", gid, "contestant.entered"))
	for _, id := range ids[2:] {
		require.Equal(t, http.StatusCreated, e.do("PUT", "/api/v1/categories/"+c.category+"/contestants/"+id, c.token, nil).status)
	}
	require.Equal(t, sorted, e.compListAll(c.token, "/api/v1/categories/"+c.category+"/contestants", 2))

	// An entered contestant cannot be deleted; withdrawn, it can.
	requireError(t, e.do("DELETE", "/api/v1/contestants/"+gid, c.token, nil), 409, "IN_USE", "")
	require.Equal(t, http.StatusNoContent, e.do("DELETE", entry, c.token, nil).status)
	requireError(t, e.do("DELETE", entry, c.token, nil), 404, "NOT_FOUND", "")
	require.Equal(t, 1, e.compAudits(c.tenantID, "contestant", gid, "contestant.withdrawn"))
	require.NotContains(t, e.compListAll(c.token, "/api/v1/categories/"+c.category+"/contestants", 50), gid)
	require.Equal(t, http.StatusNoContent, e.do("DELETE", "/api/v1/contestants/"+gid, c.token, nil).status)
	requireError(t, e.do("GET", "/api/v1/contestants/"+gid, c.token, nil), 404, "NOT_FOUND", "")

	require.Equal(t, 1, e.compAudits(c.tenantID, "contestant", gid, "contestant.created"))
	require.Equal(t, 2, e.compAudits(c.tenantID, "contestant", gid, "contestant.updated"))
	require.Equal(t, 1, e.compAudits(c.tenantID, "contestant", gid, "contestant.deleted"))
}

func TestJudgesCRUD(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.buildCompTree("judges")
	judgeUser := e.addUser("judges", auth.Judge)
	uid := e.userID(judgeUser)

	r := e.do("POST", "/api/v1/judges", c.token, map[string]any{"name": "Simon", "email": "Simon@Judges.test", "is_head_judge": true, "user_id": uid})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	j := r.json(t)
	jid := j["id"].(string)
	require.Equal(t, "/api/v1/judges/"+jid, r.header.Get("Location"))
	require.Equal(t, "simon@judges.test", j["email"])
	require.Equal(t, true, j["is_head_judge"])
	require.Equal(t, uid, j["user_id"])
	// The linked user now acts as this judge.
	require.Equal(t, jid, e.compGet(judgeUser, "/api/v1/auth/me")["judge_id"])

	// One judge per user; the user must be one of the tenant's.
	requireError(t, e.do("POST", "/api/v1/judges", c.token, map[string]any{"name": "Twin", "user_id": uid}), 409, "CONFLICT", "user_id")
	requireError(t, e.do("PATCH", "/api/v1/judges/"+c.judge, c.token, map[string]any{"user_id": uid}), 409, "CONFLICT", "user_id")
	requireError(t, e.do("POST", "/api/v1/judges", c.token, map[string]any{"name": "Ghost", "user_id": "00000000-0000-0000-0000-000000000001"}), 404, "NOT_FOUND", "user_id")

	ids := []string{c.judge, jid}
	for i := range 3 {
		ids = append(ids, e.compCreate(c.token, "/api/v1/judges", map[string]any{"name": fmt.Sprintf("Panel %d", i)}))
	}
	require.Equal(t, slices.Sorted(slices.Values(ids)), e.compListAll(c.token, "/api/v1/judges", 2))
	got := e.compGet(c.token, "/api/v1/judges/"+ids[2])
	require.Equal(t, "Panel 0", got["name"])
	require.Equal(t, false, got["is_head_judge"])
	require.Nil(t, got["user_id"])
	require.Nil(t, got["email"])

	// null unlinks the user (and clears the email); the name stays.
	r = e.do("PATCH", "/api/v1/judges/"+jid, c.token, map[string]any{"user_id": nil, "email": nil, "is_head_judge": false})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Nil(t, r.json(t)["user_id"])
	require.Nil(t, r.json(t)["email"])
	require.Equal(t, false, r.json(t)["is_head_judge"])
	require.Equal(t, "Simon", r.json(t)["name"])
	require.Nil(t, e.compGet(judgeUser, "/api/v1/auth/me")["judge_id"])
	// Now another judge may take the user.
	r = e.do("PATCH", "/api/v1/judges/"+c.judge, c.token, map[string]any{"user_id": uid})
	require.Equal(t, http.StatusOK, r.status, string(r.body))

	require.Equal(t, http.StatusNoContent, e.do("DELETE", "/api/v1/judges/"+jid, c.token, nil).status)
	requireError(t, e.do("GET", "/api/v1/judges/"+jid, c.token, nil), 404, "NOT_FOUND", "")
	require.Equal(t, 1, e.compAudits(c.tenantID, "judge", jid, "judge.created"))
	require.Equal(t, 1, e.compAudits(c.tenantID, "judge", jid, "judge.updated"))
	require.Equal(t, 1, e.compAudits(c.tenantID, "judge", jid, "judge.deleted"))
}

func TestAssignmentsCRUD(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.buildCompTree("assignments")
	cat2 := e.compCreate(c.token, "/api/v1/contests/"+c.contest+"/categories", map[string]any{"name": "Duet"})
	judge2 := e.compCreate(c.token, "/api/v1/judges", map[string]any{"name": "Second"})
	idle := e.compCreate(c.token, "/api/v1/judges", map[string]any{"name": "Idle"})

	r := e.do("POST", "/api/v1/assignments", c.token, map[string]any{"judge_id": judge2, "category_id": c.category, "status": "active"})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	a := r.json(t)
	aid := a["id"].(string)
	require.Equal(t, "/api/v1/assignments/"+aid, r.header.Get("Location"))
	require.Equal(t, "ACTIVE", a["status"])
	require.Equal(t, judge2, a["judge_id"])
	require.Equal(t, c.category, a["category_id"])
	require.Equal(t, "PENDING", e.compGet(c.token, "/api/v1/assignments/"+c.assignment)["status"])
	a3 := e.compCreate(c.token, "/api/v1/assignments", map[string]any{"judge_id": c.judge, "category_id": cat2})
	a4 := e.compCreate(c.token, "/api/v1/assignments", map[string]any{"judge_id": judge2, "category_id": cat2, "status": "COMPLETED"})
	all := []string{c.assignment, aid, a3, a4}

	// One assignment per judge and category.
	requireError(t, e.do("POST", "/api/v1/assignments", c.token, map[string]any{"judge_id": judge2, "category_id": c.category}), 409, "CONFLICT", "category_id")

	sorted := func(ids ...string) []string { return slices.Sorted(slices.Values(ids)) }
	require.Equal(t, sorted(all...), e.compListAll(c.token, "/api/v1/assignments", 3))
	require.Equal(t, sorted(aid, a4), e.compListAll(c.token, "/api/v1/assignments?judge_id="+judge2, 1))
	require.Equal(t, sorted(c.assignment, aid), e.compListAll(c.token, "/api/v1/assignments?category_id="+c.category, 1))
	require.Equal(t, []string{aid}, e.compListAll(c.token, "/api/v1/assignments?status=ACTIVE", 10))
	require.Equal(t, []string{a4}, e.compListAll(c.token, "/api/v1/assignments?judge_id="+judge2+"&category_id="+cat2+"&status=completed", 10))
	require.Equal(t, sorted(aid, a4), e.compListAll(c.token, "/api/v1/judges/"+judge2+"/assignments", 1))
	require.Equal(t, []string{a4}, e.compListAll(c.token, "/api/v1/judges/"+judge2+"/assignments?status=COMPLETED", 1))
	require.Empty(t, e.compListAll(c.token, "/api/v1/judges/"+idle+"/assignments", 10))

	r = e.do("PATCH", "/api/v1/assignments/"+c.assignment, c.token, map[string]any{"status": "cancelled"})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, "CANCELLED", r.json(t)["status"])
	require.Equal(t, "CANCELLED", e.compGet(c.token, "/api/v1/assignments/"+c.assignment)["status"])

	require.Equal(t, http.StatusNoContent, e.do("DELETE", "/api/v1/assignments/"+aid, c.token, nil).status)
	requireError(t, e.do("GET", "/api/v1/assignments/"+aid, c.token, nil), 404, "NOT_FOUND", "")
	requireError(t, e.do("PATCH", "/api/v1/assignments/"+aid, c.token, map[string]any{"status": "ACTIVE"}), 404, "NOT_FOUND", "")
	require.Equal(t, []string{a4}, e.compListAll(c.token, "/api/v1/judges/"+judge2+"/assignments", 10))
	// Deleted, the pair may be assigned again.
	e.compCreate(c.token, "/api/v1/assignments", map[string]any{"judge_id": judge2, "category_id": c.category})

	require.Equal(t, 1, e.compAudits(c.tenantID, "assignment", aid, "assignment.created"))
	require.Equal(t, 1, e.compAudits(c.tenantID, "assignment", aid, "assignment.deleted"))
	require.Equal(t, 1, e.compAudits(c.tenantID, "assignment", c.assignment, "assignment.updated"))
}

// competitionRowCounts counts the tenants' rows of every table the competition routes write.
func competitionRowCounts(e *env, tenantIDs ...string) map[string]int {
	out := map[string]int{}
	for _, tenantID := range tenantIDs {
		for _, table := range []string{"contests", "categories", "criteria", "contestants", "category_contestants", "judges", "assignments", "scores", "audit_logs"} {
			out[table+" of "+tenantID] = e.compCount(tenantID, `SELECT count(*) FROM `+table+` WHERE tenant_id = $1`)
		}
	}
	return out
}

func TestCompetitionValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.buildCompTree("valid")
	before := competitionRowCounts(e, c.tenantID)
	forged := base64.RawURLEncoding.EncodeToString([]byte(`{"i":"x' OR 1=1"}`))
	long := strings.Repeat("n", 201)
	cases := []struct {
		name, method, path, body string
		status                   int
		code, field              string
	}{
		{"contest missing name", "POST", "/api/v1/events/" + c.event + "/contests", `{"description":"x"}`, 400, "VALIDATION_FAILED", "name"},
		{"contest blank name", "POST", "/api/v1/events/" + c.event + "/contests", `{"name":"   "}`, 400, "VALIDATION_FAILED", "name"},
		{"contest long name", "PATCH", "/api/v1/contests/" + c.contest, `{"name":"` + long + `"}`, 400, "VALIDATION_FAILED", "name"},
		{"contest bad scoring type", "POST", "/api/v1/events/" + c.event + "/contests", `{"name":"x","scoring_type":"AVERAGE"}`, 400, "VALIDATION_FAILED", "scoring_type"},
		{"contest unknown field", "POST", "/api/v1/events/" + c.event + "/contests", `{"name":"x","colour":"red"}`, 400, "UNKNOWN_FIELD", "colour"},
		{"contest not json", "POST", "/api/v1/events/" + c.event + "/contests", `{"name":`, 400, "INVALID_JSON", ""},
		{"category missing name", "POST", "/api/v1/contests/" + c.contest + "/categories", `{"score_cap":10}`, 400, "VALIDATION_FAILED", "name"},
		{"category score cap 0", "POST", "/api/v1/contests/" + c.contest + "/categories", `{"name":"x","score_cap":0}`, 400, "VALIDATION_FAILED", "score_cap"},
		{"category score cap 3 decimals", "PATCH", "/api/v1/categories/" + c.category, `{"score_cap":1.234}`, 400, "VALIDATION_FAILED", "score_cap"},
		{"category score cap string", "POST", "/api/v1/contests/" + c.contest + "/categories", `{"name":"x","score_cap":"10"}`, 400, "VALIDATION_FAILED", "score_cap"},
		{"category score cap too big", "POST", "/api/v1/contests/" + c.contest + "/categories", `{"name":"x","score_cap":1e8}`, 400, "VALIDATION_FAILED", "score_cap"},
		{"category time limit 0", "POST", "/api/v1/contests/" + c.contest + "/categories", `{"name":"x","time_limit_seconds":0}`, 400, "VALIDATION_FAILED", "time_limit_seconds"},
		{"category time limit fraction", "PATCH", "/api/v1/categories/" + c.category, `{"time_limit_seconds":1.5}`, 400, "VALIDATION_FAILED", "time_limit_seconds"},
		{"category unknown field", "PATCH", "/api/v1/categories/" + c.category, `{"contest_id":"` + c.contest + `"}`, 400, "UNKNOWN_FIELD", "contest_id"},
		{"criterion missing name", "POST", "/api/v1/categories/" + c.category + "/criteria", `{"max_score":10}`, 400, "VALIDATION_FAILED", "name"},
		{"criterion missing max score", "POST", "/api/v1/categories/" + c.category + "/criteria", `{"name":"x"}`, 400, "VALIDATION_FAILED", "max_score"},
		{"criterion max score 0", "POST", "/api/v1/categories/" + c.category + "/criteria", `{"name":"x","max_score":0}`, 400, "VALIDATION_FAILED", "max_score"},
		{"criterion max score negative", "POST", "/api/v1/categories/" + c.category + "/criteria", `{"name":"x","max_score":-5}`, 400, "VALIDATION_FAILED", "max_score"},
		{"criterion max score 1.234", "POST", "/api/v1/categories/" + c.category + "/criteria", `{"name":"x","max_score":1.234}`, 400, "VALIDATION_FAILED", "max_score"},
		{"criterion max score too big", "POST", "/api/v1/categories/" + c.category + "/criteria", `{"name":"x","max_score":1000000}`, 400, "VALIDATION_FAILED", "max_score"},
		{"criterion max score huge exponent", "POST", "/api/v1/categories/" + c.category + "/criteria", `{"name":"x","max_score":1e999999999}`, 400, "VALIDATION_FAILED", "max_score"},
		{"criterion max score string", "POST", "/api/v1/categories/" + c.category + "/criteria", `{"name":"x","max_score":"10"}`, 400, "VALIDATION_FAILED", "max_score"},
		{"criterion patch max score 0", "PATCH", "/api/v1/criteria/" + c.criterion, `{"max_score":0}`, 400, "VALIDATION_FAILED", "max_score"},
		{"criterion patch max score 1.234", "PATCH", "/api/v1/criteria/" + c.criterion, `{"max_score":1.234}`, 400, "VALIDATION_FAILED", "max_score"},
		{"criterion negative position", "PATCH", "/api/v1/criteria/" + c.criterion, `{"position":-1}`, 400, "VALIDATION_FAILED", "position"},
		{"criterion unknown field", "POST", "/api/v1/categories/" + c.category + "/criteria", `{"name":"x","max_score":10,"weight":2}`, 400, "UNKNOWN_FIELD", "weight"},
		{"contestant missing name", "POST", "/api/v1/contestants", `{"number":5}`, 400, "VALIDATION_FAILED", "name"},
		{"contestant number 0", "POST", "/api/v1/contestants", `{"name":"x","number":0}`, 400, "VALIDATION_FAILED", "number"},
		{"contestant number string", "PATCH", "/api/v1/contestants/" + c.contestant, `{"number":"7"}`, 400, "VALIDATION_FAILED", "number"},
		{"contestant bad email", "POST", "/api/v1/contestants", `{"name":"x","email":"not an email"}`, 400, "VALIDATION_FAILED", "email"},
		{"contestant unknown field", "POST", "/api/v1/contestants", `{"name":"x","age":9}`, 400, "UNKNOWN_FIELD", "age"},
		{"judge missing name", "POST", "/api/v1/judges", `{"email":"a@b.test"}`, 400, "VALIDATION_FAILED", "name"},
		{"judge bad user id", "POST", "/api/v1/judges", `{"name":"x","user_id":"me"}`, 400, "VALIDATION_FAILED", "user_id"},
		{"judge head flag string", "PATCH", "/api/v1/judges/" + c.judge, `{"is_head_judge":"yes"}`, 400, "VALIDATION_FAILED", "is_head_judge"},
		{"judge unknown field", "PATCH", "/api/v1/judges/" + c.judge, `{"role":"ADMIN"}`, 400, "UNKNOWN_FIELD", "role"},
		{"assignment bad status", "POST", "/api/v1/assignments", `{"judge_id":"` + c.judge + `","category_id":"` + c.category + `","status":"DONE"}`, 400, "VALIDATION_FAILED", "status"},
		{"assignment missing judge", "POST", "/api/v1/assignments", `{"category_id":"` + c.category + `"}`, 400, "VALIDATION_FAILED", "judge_id"},
		{"assignment bad category id", "POST", "/api/v1/assignments", `{"judge_id":"` + c.judge + `","category_id":"42"}`, 400, "VALIDATION_FAILED", "category_id"},
		{"assignment patch bad status", "PATCH", "/api/v1/assignments/" + c.assignment, `{"status":"DONE"}`, 400, "VALIDATION_FAILED", "status"},
		{"assignment patch no status", "PATCH", "/api/v1/assignments/" + c.assignment, `{}`, 400, "VALIDATION_FAILED", "status"},
		{"assignment patch judge", "PATCH", "/api/v1/assignments/" + c.assignment, `{"judge_id":"` + c.judge + `"}`, 400, "UNKNOWN_FIELD", "judge_id"},
		{"list bad status", "GET", "/api/v1/assignments?status=DONE", "", 400, "VALIDATION_FAILED", "status"},
		{"list bad judge id", "GET", "/api/v1/assignments?judge_id=7", "", 400, "VALIDATION_FAILED", "judge_id"},
		{"list bad number", "GET", "/api/v1/contestants?number=abc", "", 400, "VALIDATION_FAILED", "number"},
		{"list bad limit", "GET", "/api/v1/judges?limit=101", "", 400, "VALIDATION_FAILED", "limit"},
		{"list bad cursor", "GET", "/api/v1/categories/" + c.category + "/criteria?cursor=garbage!", "", 400, "INVALID_CURSOR", "cursor"},
		{"list forged cursor", "GET", "/api/v1/contestants?cursor=" + forged, "", 400, "INVALID_CURSOR", "cursor"},
		{"bad path id", "GET", "/api/v1/contests/42", "", 400, "INVALID_ID", "id"},
		{"bad parent id", "GET", "/api/v1/events/42/contests", "", 400, "INVALID_ID", "id"},
		{"bad contestant id", "PUT", "/api/v1/categories/" + c.category + "/contestants/42", "", 400, "INVALID_ID", "contestant_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body any
			if tc.body != "" {
				body = tc.body
			}
			requireError(t, e.do(tc.method, tc.path, c.token, body), tc.status, tc.code, tc.field)
		})
	}
	// Nothing was written by any refused request, not even an audit row.
	require.Equal(t, before, competitionRowCounts(e, c.tenantID))
	require.Equal(t, "Solo", e.compGet(c.token, "/api/v1/contests/"+c.contest)["name"])
	require.Equal(t, 10.0, e.compGet(c.token, "/api/v1/criteria/"+c.criterion)["max_score"])
}

// competitionWrites lists every write route of the competition resources with a valid body, for
// the tree c (and a user id to link a judge to).
func competitionWrites(c compTree, userID string) []struct {
	method, path string
	body         any
} {
	return []struct {
		method, path string
		body         any
	}{
		{"POST", "/api/v1/events/" + c.event + "/contests", map[string]any{"name": "New contest"}},
		{"PATCH", "/api/v1/contests/" + c.contest, map[string]any{"name": "Renamed"}},
		{"DELETE", "/api/v1/contests/" + c.contest, nil},
		{"POST", "/api/v1/contests/" + c.contest + "/categories", map[string]any{"name": "New category"}},
		{"PATCH", "/api/v1/categories/" + c.category, map[string]any{"name": "Renamed"}},
		{"DELETE", "/api/v1/categories/" + c.category, nil},
		{"POST", "/api/v1/categories/" + c.category + "/criteria", map[string]any{"name": "New", "max_score": 5}},
		{"PATCH", "/api/v1/criteria/" + c.criterion, map[string]any{"max_score": 9}},
		{"DELETE", "/api/v1/criteria/" + c.criterion, nil},
		{"POST", "/api/v1/contestants", map[string]any{"name": "New contestant"}},
		{"PATCH", "/api/v1/contestants/" + c.contestant, map[string]any{"name": "Renamed"}},
		{"DELETE", "/api/v1/contestants/" + c.contestant, nil},
		{"PUT", "/api/v1/categories/" + c.category + "/contestants/" + c.contestant, nil},
		{"DELETE", "/api/v1/categories/" + c.category + "/contestants/" + c.contestant, nil},
		{"POST", "/api/v1/judges", map[string]any{"name": "New judge", "user_id": userID}},
		{"PATCH", "/api/v1/judges/" + c.judge, map[string]any{"user_id": userID}},
		{"DELETE", "/api/v1/judges/" + c.judge, nil},
		{"POST", "/api/v1/assignments", map[string]any{"judge_id": c.judge, "category_id": c.category}},
		{"PATCH", "/api/v1/assignments/" + c.assignment, map[string]any{"status": "ACTIVE"}},
		{"DELETE", "/api/v1/assignments/" + c.assignment, nil},
	}
}

// competitionReads lists every read route of the competition resources for the tree c.
func competitionReads(c compTree) []string {
	return []string{
		"/api/v1/events/" + c.event + "/contests",
		"/api/v1/contests/" + c.contest,
		"/api/v1/contests/" + c.contest + "/categories",
		"/api/v1/categories/" + c.category,
		"/api/v1/categories/" + c.category + "/criteria",
		"/api/v1/criteria/" + c.criterion,
		"/api/v1/contestants",
		"/api/v1/contestants/" + c.contestant,
		"/api/v1/categories/" + c.category + "/contestants",
		"/api/v1/judges",
		"/api/v1/judges/" + c.judge,
		"/api/v1/judges/" + c.judge + "/assignments",
		"/api/v1/assignments",
		"/api/v1/assignments/" + c.assignment,
	}
}

func TestCompetitionRoles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.buildCompTree("roles")
	judge := e.addUser("roles", auth.Judge)
	readers := map[auth.Role]string{auth.Judge: judge}
	for _, role := range []auth.Role{auth.Contestant, auth.Emcee, auth.TallyMaster, auth.Auditor} {
		readers[role] = e.addUser("roles", role)
	}
	before := competitionRowCounts(e, c.tenantID)

	// Every write route refuses a JUDGE (and the other non-writer roles), and writes nothing.
	for _, w := range competitionWrites(c, e.userID(judge)) {
		for role, tok := range readers {
			r := e.do(w.method, w.path, tok, w.body)
			requireError(t, r, http.StatusForbidden, "FORBIDDEN", "", "%s %s as %s", w.method, w.path, role)
		}
		// No token at all: 401.
		require.Equal(t, http.StatusUnauthorized, e.do(w.method, w.path, "", w.body).status, "%s %s", w.method, w.path)
	}
	require.Equal(t, before, competitionRowCounts(e, c.tenantID))

	// Every read route answers any signed-in user of the tenant.
	for _, path := range competitionReads(c) {
		for role, tok := range readers {
			r := e.do("GET", path, tok, nil)
			require.Equal(t, http.StatusOK, r.status, "GET %s as %s: %s", path, role, r.body)
		}
		require.Equal(t, http.StatusUnauthorized, e.do("GET", path, "", nil).status, path)
	}

	// The writer roles other than ADMIN may write.
	for i, role := range []auth.Role{auth.Organizer, auth.Board} {
		tok := e.addUser("roles", role)
		e.compCreate(tok, "/api/v1/contestants", map[string]any{"name": fmt.Sprintf("By %s", role), "number": 100 + i})
		r := e.do("PATCH", "/api/v1/assignments/"+c.assignment, tok, map[string]any{"status": "ACTIVE"})
		require.Equal(t, http.StatusOK, r.status, string(r.body))
	}
}

func TestCompetitionCrossTenant(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.buildCompTree("alpha")
	b := e.buildCompTree("bravo")
	bUser := e.userID(e.addUser("bravo", auth.Judge))

	snapshot := func() map[string]string {
		out := map[string]string{}
		for _, path := range competitionReads(b) {
			r := e.do("GET", path, b.token, nil)
			require.Equal(t, http.StatusOK, r.status, path)
			out[path] = string(r.body)
		}
		return out
	}
	beforeB := snapshot()
	beforeRows := competitionRowCounts(e, a.tenantID, b.tenantID)

	// Every route with another tenant's id in the path answers 404, as if it did not exist.
	for _, w := range competitionWrites(b, bUser) {
		if w.method == "POST" && (strings.HasSuffix(w.path, "/contestants") || strings.HasSuffix(w.path, "/judges") || strings.HasSuffix(w.path, "/assignments")) {
			continue // no id in the path: tried with ids in the body below
		}
		requireError(t, e.do(w.method, w.path, a.token, w.body), 404, "NOT_FOUND", "", "%s %s", w.method, w.path)
	}
	for _, path := range competitionReads(b) {
		if path == "/api/v1/contestants" || path == "/api/v1/judges" || path == "/api/v1/assignments" {
			continue
		}
		requireError(t, e.do("GET", path, a.token, nil), 404, "NOT_FOUND", "", "GET %s", path)
	}
	// Mixed: one id of each tenant.
	for _, w := range []struct{ method, path string }{
		{"PUT", "/api/v1/categories/" + a.category + "/contestants/" + b.contestant},
		{"PUT", "/api/v1/categories/" + b.category + "/contestants/" + a.contestant},
		{"DELETE", "/api/v1/categories/" + a.category + "/contestants/" + b.contestant},
	} {
		requireError(t, e.do(w.method, w.path, a.token, nil), 404, "NOT_FOUND", "", "%s %s", w.method, w.path)
	}
	// Ids in the body: 404 naming the field.
	requireError(t, e.do("POST", "/api/v1/assignments", a.token, map[string]any{"judge_id": b.judge, "category_id": a.category}), 404, "NOT_FOUND", "judge_id")
	requireError(t, e.do("POST", "/api/v1/assignments", a.token, map[string]any{"judge_id": a.judge, "category_id": b.category}), 404, "NOT_FOUND", "category_id")
	requireError(t, e.do("POST", "/api/v1/judges", a.token, map[string]any{"name": "Spy", "user_id": bUser}), 404, "NOT_FOUND", "user_id")
	requireError(t, e.do("PATCH", "/api/v1/judges/"+a.judge, a.token, map[string]any{"user_id": bUser}), 404, "NOT_FOUND", "user_id")

	// Tenant-wide lists and filters show only the caller's rows.
	require.Equal(t, []string{a.contestant}, e.compListAll(a.token, "/api/v1/contestants", 10))
	require.Equal(t, []string{a.judge}, e.compListAll(a.token, "/api/v1/judges", 10))
	require.Equal(t, []string{a.assignment}, e.compListAll(a.token, "/api/v1/assignments", 10))
	require.Empty(t, e.compListAll(a.token, "/api/v1/assignments?judge_id="+b.judge, 10))
	require.Equal(t, []string{a.contestant}, e.compListAll(a.token, "/api/v1/contestants?number=7&search=Ada", 10))

	// Nothing of B changed, and nothing was written anywhere.
	require.Equal(t, beforeB, snapshot())
	require.Equal(t, beforeRows, competitionRowCounts(e, a.tenantID, b.tenantID))
}

func TestCompetitionDeleteInUse(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.buildCompTree("inuse")
	e.compInsertScore(c, "8.5")
	entry := "/api/v1/categories/" + c.category + "/contestants/" + c.contestant

	deletes := []string{
		"/api/v1/criteria/" + c.criterion,
		"/api/v1/categories/" + c.category,
		entry,
		"/api/v1/judges/" + c.judge,
		"/api/v1/contestants/" + c.contestant,
		"/api/v1/contests/" + c.contest,
		"/api/v1/assignments/" + c.assignment,
	}
	before := competitionRowCounts(e, c.tenantID)
	for _, path := range deletes {
		r := e.do("DELETE", path, c.token, nil)
		requireError(t, r, http.StatusConflict, "IN_USE", "", "DELETE %s", path)
		require.NotEmpty(t, r.json(t)["error"].(map[string]any)["message"])
	}
	// Everything is still there: nothing cascaded, no audit row.
	require.Equal(t, before, competitionRowCounts(e, c.tenantID))
	require.Equal(t, 1, e.compCount(c.tenantID, `SELECT count(*) FROM scores WHERE tenant_id = $1 AND criterion_id = $2 AND score = 8.5`, c.criterion))
	for _, path := range competitionReads(c) {
		require.Equal(t, http.StatusOK, e.do("GET", path, c.token, nil).status, path)
	}
	require.Equal(t, []string{c.contestant}, e.compListAll(c.token, "/api/v1/categories/"+c.category+"/contestants", 10))

	// max_score may not drop below a score already given.
	requireError(t, e.do("PATCH", "/api/v1/criteria/"+c.criterion, c.token, map[string]any{"max_score": 8.49}), 409, "MAX_SCORE_BELOW_SCORES", "max_score")
	require.Equal(t, http.StatusOK, e.do("PATCH", "/api/v1/criteria/"+c.criterion, c.token, map[string]any{"max_score": 8.5}).status)

	// Once the score is gone, the same deletes succeed, children first, each audited.
	_, err := e.db.Exec(context.Background(), opCompetitionTest, c.tenantID, `DELETE FROM scores WHERE tenant_id = $1`, c.tenantID)
	require.NoError(t, err)
	order := []struct{ path, entity, id, action string }{
		{"/api/v1/assignments/" + c.assignment, "assignment", c.assignment, "assignment.deleted"},
		{entry, "contestant", c.contestant, "contestant.withdrawn"},
		{"/api/v1/contestants/" + c.contestant, "contestant", c.contestant, "contestant.deleted"},
		{"/api/v1/judges/" + c.judge, "judge", c.judge, "judge.deleted"},
		{"/api/v1/criteria/" + c.criterion, "criterion", c.criterion, "criterion.deleted"},
		{"/api/v1/categories/" + c.category, "category", c.category, "category.deleted"},
		{"/api/v1/contests/" + c.contest, "contest", c.contest, "contest.deleted"},
	}
	for _, d := range order {
		r := e.do("DELETE", d.path, c.token, nil)
		require.Equal(t, http.StatusNoContent, r.status, "DELETE %s: %s", d.path, r.body)
		require.Equal(t, 1, e.compAudits(c.tenantID, d.entity, d.id, d.action), d.action)
	}
}

func TestCompetitionDeleteRefusedByOtherRows(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.buildCompTree("deps")
	// No scores yet: a judge with an assignment, a category with criteria, a contest with
	// categories are still refused rather than cascaded.
	for _, path := range []string{
		"/api/v1/judges/" + c.judge,
		"/api/v1/categories/" + c.category,
		"/api/v1/contests/" + c.contest,
		"/api/v1/contestants/" + c.contestant,
	} {
		requireError(t, e.do("DELETE", path, c.token, nil), http.StatusConflict, "IN_USE", "", path)
	}
	r := e.do("DELETE", "/api/v1/judges/"+c.judge, c.token, nil)
	require.Contains(t, r.json(t)["error"].(map[string]any)["message"], "assignments")
	// Without scores, an assignment can be deleted.
	require.Equal(t, http.StatusNoContent, e.do("DELETE", "/api/v1/assignments/"+c.assignment, c.token, nil).status)
	require.Equal(t, http.StatusNoContent, e.do("DELETE", "/api/v1/judges/"+c.judge, c.token, nil).status)
}
