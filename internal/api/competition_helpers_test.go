package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/stretchr/testify/require"
)

// compTree is one tenant's competition tree, built through the API: an event with a contest, a
// category with a criterion, a contestant entered in it, and a judge assigned to it.
type compTree struct {
	slug, tenantID, token                                              string
	event, contest, category, criterion, contestant, judge, assignment string
}

// buildCompTree creates a tenant and its competition tree.
func (e *env) buildCompTree(slug string) compTree {
	e.t.Helper()
	c := compTree{slug: slug, token: e.tenant(slug)}
	c.tenantID = e.compTenantID(slug)
	c.event = e.createEvent(c.token, "Show of "+slug, time.Date(2026, 6, 1, 18, 0, 0, 0, time.UTC))
	c.contest = e.compCreate(c.token, "/api/v1/events/"+c.event+"/contests", map[string]any{"name": "Solo"})
	c.category = e.compCreate(c.token, "/api/v1/contests/"+c.contest+"/categories", map[string]any{"name": "Vocal", "score_cap": 100})
	c.criterion = e.compCreate(c.token, "/api/v1/categories/"+c.category+"/criteria", map[string]any{"name": "Pitch", "max_score": 10})
	c.contestant = e.compCreate(c.token, "/api/v1/contestants", map[string]any{"name": "Ada", "number": 7})
	r := e.do("PUT", "/api/v1/categories/"+c.category+"/contestants/"+c.contestant, c.token, nil)
	require.Equal(e.t, http.StatusCreated, r.status, string(r.body))
	c.judge = e.compCreate(c.token, "/api/v1/judges", map[string]any{"name": "Judge Judy"})
	c.assignment = e.compCreate(c.token, "/api/v1/assignments", map[string]any{"judge_id": c.judge, "category_id": c.category})
	return c
}

// compCreate POSTs body to path, expects 201 and returns the new id.
func (e *env) compCreate(token, path string, body any) string {
	e.t.Helper()
	r := e.do("POST", path, token, body)
	require.Equal(e.t, http.StatusCreated, r.status, "POST %s: %s", path, r.body)
	id, _ := r.json(e.t)["id"].(string)
	require.NotEmpty(e.t, id)
	return id
}

// compGet GETs path, expects 200 and returns the body as a map.
func (e *env) compGet(token, path string) map[string]any {
	e.t.Helper()
	r := e.do("GET", path, token, nil)
	require.Equal(e.t, http.StatusOK, r.status, "GET %s: %s", path, r.body)
	return r.json(e.t)
}

// compListAll reads every page of a list (pageSize items at a time) and returns the items' ids in order,
// checking that no page is larger than asked and that the last one has a null next_cursor.
func (e *env) compListAll(token, path string, pageSize int) []string {
	e.t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	var ids []string
	cursor := ""
	for page := 0; ; page++ {
		require.Less(e.t, page, 100, "too many pages")
		q := path + sep + "limit=" + strconv.Itoa(pageSize)
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		r := e.do("GET", q, token, nil)
		require.Equal(e.t, http.StatusOK, r.status, "GET %s: %s", q, r.body)
		var l struct {
			Data []struct {
				ID string `json:"id"`
			} `json:"data"`
			NextCursor *string `json:"next_cursor"`
		}
		require.NoError(e.t, json.Unmarshal(r.body, &l))
		require.NotNil(e.t, l.Data, "data must be a list, never null: %s", r.body)
		require.LessOrEqual(e.t, len(l.Data), pageSize)
		for _, d := range l.Data {
			ids = append(ids, d.ID)
		}
		if l.NextCursor == nil {
			return ids
		}
		cursor = *l.NextCursor
	}
}

var opCompetitionTest = db.Op{Name: "test.competition", Class: db.Simple}

// compCount runs a count(*) query scoped to a tenant (as the API runs its queries, so that it
// counts the same with row-level security); $1 is the tenant id, the other arguments follow.
func (e *env) compCount(tenantID, sql string, args ...any) int {
	e.t.Helper()
	var n int
	require.NoError(e.t, e.db.QueryRow(context.Background(), opCompetitionTest, tenantID, sql, append([]any{tenantID}, args...), &n))
	return n
}

// compAudits counts the tenant's audit rows of an entity with the given action.
func (e *env) compAudits(tenantID, entityType, entityID, action string) int {
	e.t.Helper()
	return e.compCount(tenantID, `SELECT count(*) FROM audit_logs WHERE tenant_id = $1 AND entity_type = $2 AND entity_id = $3 AND action = $4`,
		entityType, entityID, action)
}

// compTenantID returns the id of the tenant with this slug.
func (e *env) compTenantID(slug string) string {
	e.t.Helper()
	ten, err := e.store.TenantBySlug(context.Background(), slug)
	require.NoError(e.t, err)
	return ten.ID
}

// compInsertScore adds a score row directly, as the scoring API would, so that deletes can be tried
// against something that scores depend on.
func (e *env) compInsertScore(c compTree, score string) {
	e.t.Helper()
	_, err := e.db.Exec(context.Background(), opCompetitionTest, c.tenantID,
		`INSERT INTO scores (tenant_id, category_id, contestant_id, judge_id, criterion_id, score)
		VALUES ($1, $2, $3, $4, $5, $6::numeric)`,
		c.tenantID, c.category, c.contestant, c.judge, c.criterion, score)
	require.NoError(e.t, err)
}

// compUserID returns the id of the user signed in with token.
func (e *env) compUserID(token string) string {
	e.t.Helper()
	id, _ := e.compGet(token, "/api/v1/auth/me")["id"].(string)
	require.NotEmpty(e.t, id)
	return id
}

// compRequireError checks an error answer's status, code and field; msgAndArgs (a format and its
// arguments) says which request it was.
func compRequireError(t *testing.T, r response, status int, code, field string, msgAndArgs ...any) {
	t.Helper()
	msg := string(r.body)
	if len(msgAndArgs) > 0 {
		msg = fmt.Sprintf(msgAndArgs[0].(string), msgAndArgs[1:]...) + ": " + msg
	}
	require.Equal(t, status, r.status, msg)
	var body struct {
		Error struct {
			Code  string `json:"code"`
			Field string `json:"field"`
		} `json:"error"`
	}
	require.NoError(t, json.Unmarshal(r.body, &body), msg)
	require.Equal(t, code, body.Error.Code, msg)
	require.Equal(t, field, body.Error.Field, msg)
}
