package api_test

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/stretchr/testify/require"
)

func TestAuditLogFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.tenant("audit-a")
	adminID := e.userID(admin)
	tenantA := e.tenantID("audit-a")
	other := e.tenant("audit-b")
	tenantB := e.tenantID("audit-b")
	auditor := e.addUser("audit-a", auth.Auditor)

	// Changes made through the API add the rows the filters work on.
	start := time.Date(2026, 6, 1, 18, 0, 0, 0, time.UTC)
	ev1 := e.createEvent(admin, "Spring Show", start)
	ev2 := e.createEvent(admin, "Summer Show", start.AddDate(0, 1, 0))
	r := e.do("PATCH", "/api/v1/events/"+ev1, admin, map[string]string{"name": "Spring Show Renamed"})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	r = e.do("DELETE", "/api/v1/events/"+ev2, admin, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	evB := e.createEvent(other, "B's event", start)

	// Rows with chosen times and data, in both tenants.
	contestant1, contestant2 := "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
	jan := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	jun := time.Date(2020, 6, 1, 0, 0, 0, 0, time.UTC)
	nextJan := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
	oldJan := e.auditInsert(tenantA, "score.submitted", "score", jan, `{"contestant_id":"`+contestant1+`","score":7.5}`)
	oldJun := e.auditInsert(tenantA, "score.submitted", "score", jun, `{"contestant_id":"`+contestant2+`","score":9}`)
	oldNextJan := e.auditInsert(tenantA, "score.submitted", "score", nextJan, `{"contestant_id":"`+contestant1+`","score":8,"tags":["final","late"]}`)
	bRow := e.auditInsert(tenantB, "score.submitted", "score", jun, `{"contestant_id":"`+contestant1+`","score":1}`)

	// Everything of tenant A, newest first, and nothing of B.
	all := e.auditAll(auditor, 100)
	require.GreaterOrEqual(t, len(all), 9) // tenant, 2 users, 4 event changes, 3 scores
	for i, row := range all {
		require.NotEqual(t, bRow, row.ID)
		require.False(t, row.EntityID != nil && *row.EntityID == evB, "B's event leaked into A's audit log")
		if i > 0 {
			prev := all[i-1]
			require.True(t, prev.CreatedAt.After(row.CreatedAt) || prev.CreatedAt.Equal(row.CreatedAt) && prev.ID > row.ID,
				"not ordered by created_at DESC, id DESC at %d", i)
		}
	}

	// entity_type.
	events := e.auditList(auditor, "entity_type", "event").Data
	require.Equal(t, []string{"event.archived", "event.updated", "event.created", "event.created"}, auditActions(events))
	for _, row := range events {
		require.Equal(t, "event", row.EntityType)
		// Rows written by the API carry the actor, the request and the client address.
		require.NotNil(t, row.ActorUserID)
		require.Equal(t, adminID, *row.ActorUserID)
		require.NotNil(t, row.RequestID)
		require.NotEmpty(t, *row.RequestID)
		require.NotNil(t, row.IP)
		require.Equal(t, "127.0.0.1", *row.IP)
	}

	// entity_id (with entity_type, as a client asks for one entity's history).
	hist := e.auditList(auditor, "entity_type", "event", "entity_id", ev1).Data
	require.Equal(t, []string{"event.updated", "event.created"}, auditActions(hist))
	require.Len(t, e.auditList(auditor, "entity_id", ev1).Data, 2)
	require.Empty(t, e.auditList(auditor, "entity_id", evB).Data, "B's entity id finds nothing in A")

	// action.
	archived := e.auditList(auditor, "action", "event.archived").Data
	require.Len(t, archived, 1)
	require.Equal(t, ev2, *archived[0].EntityID)
	require.Len(t, e.auditList(auditor, "action", "event.created").Data, 2)
	require.Empty(t, e.auditList(auditor, "action", "event").Data, "action matches exactly, not as a prefix")

	// actor.
	byAdmin := e.auditList(auditor, "actor", adminID).Data
	require.Equal(t, []string{"event.archived", "event.updated", "event.created", "event.created"}, auditActions(byAdmin))
	require.Empty(t, e.auditList(auditor, "actor", "33333333-3333-4333-8333-333333333333").Data)

	// from (inclusive) and to (exclusive).
	ids := func(rows []auditRow) []string {
		out := make([]string, len(rows))
		for i, r := range rows {
			out[i] = r.ID
		}
		return out
	}
	require.Equal(t, []string{oldJun, oldJan}, ids(e.auditList(auditor, "from", "2020-01-01T00:00:00Z", "to", "2020-12-31T00:00:00Z").Data))
	require.Equal(t, []string{oldJun}, ids(e.auditList(auditor, "from", "2020-06-01T00:00:00Z", "to", "2021-01-01T00:00:00Z").Data))
	require.Equal(t, []string{oldNextJan, oldJun}, ids(e.auditList(auditor, "from", "2020-03-01T02:00:00+02:00", "to", "2021-01-01T00:00:01Z").Data))
	require.Equal(t, []string{oldJan}, ids(e.auditList(auditor, "to", "2020-06-01T00:00:00Z").Data))
	recent := e.auditList(auditor, "from", "2025-01-01T00:00:00Z").Data
	require.NotContains(t, ids(recent), oldNextJan)
	require.Contains(t, ids(recent), hist[0].ID)

	// data containment: a key, a nested object, an array element; B's matching row never shows.
	require.Equal(t, []string{oldNextJan, oldJan}, ids(e.auditList(auditor, "data", `{"contestant_id":"`+contestant1+`"}`).Data))
	require.Equal(t, []string{oldJun}, ids(e.auditList(auditor, "data", `{"contestant_id":"`+contestant2+`","score":9}`).Data))
	require.Equal(t, []string{oldNextJan}, ids(e.auditList(auditor, "data", `{"tags":["late"]}`).Data))
	require.Empty(t, e.auditList(auditor, "data", `{"contestant_id":"`+contestant1+`","score":1}`).Data, "B's row matched")
	renamed := e.auditList(auditor, "data", `{"after":{"name":"Spring Show Renamed"}}`).Data
	require.Equal(t, []string{hist[0].ID}, ids(renamed))
	requireJSONEq(t, `"Spring Show"`, mustField(t, renamed[0].Data, "before", "name"))
	require.Len(t, e.auditList(auditor, "data", `{}`).Data, len(all), "the empty object is contained in every row")

	// Filters combine (AND).
	require.Equal(t, []string{oldJan}, ids(e.auditList(auditor, "data", `{"contestant_id":"`+contestant1+`"}`,
		"entity_type", "score", "action", "score.submitted", "to", "2020-12-31T00:00:00Z").Data))
	require.Empty(t, e.auditList(auditor, "entity_type", "event", "action", "score.submitted").Data)

	// One row by id; another tenant's id is 404, as is an unknown one.
	r = e.do("GET", "/api/v1/audit-logs/"+oldJun, auditor, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	got := r.json(t)
	require.Equal(t, oldJun, got["id"])
	require.Equal(t, "score.submitted", got["action"])
	require.Equal(t, "score", got["entity_type"])
	require.Equal(t, map[string]any{"contestant_id": contestant2, "score": float64(9)}, got["data"])
	require.Equal(t, "2020-06-01T00:00:00Z", got["created_at"])
	for _, k := range []string{"actor_user_id", "entity_id", "request_id", "ip"} {
		require.Contains(t, got, k)
	}
	require.Nil(t, got["actor_user_id"])
	requireError(t, e.do("GET", "/api/v1/audit-logs/"+bRow, auditor, nil), http.StatusNotFound, "NOT_FOUND", "")
	requireError(t, e.do("GET", "/api/v1/audit-logs/"+bRow, admin, nil), http.StatusNotFound, "NOT_FOUND", "")
	r = e.do("GET", "/api/v1/audit-logs/"+bRow, other, nil)
	require.Equal(t, http.StatusOK, r.status, "B reads its own row")

	// And B sees only its own rows.
	for _, row := range e.auditAll(other, 100) {
		require.NotContains(t, []string{oldJan, oldJun, oldNextJan}, row.ID)
		require.False(t, row.EntityID != nil && (*row.EntityID == ev1 || *row.EntityID == ev2), "A's event leaked into B's audit log")
	}
}

// mustField returns the JSON of data.path[0].path[1]...
func mustField(t *testing.T, data []byte, path ...string) []byte {
	t.Helper()
	var v any = jsonValue(t, data)
	for _, p := range path {
		m, ok := v.(map[string]any)
		require.True(t, ok, "%s is not an object at %q", data, p)
		v = m[p]
	}
	return jsonBytes(t, v)
}

func TestAuditLogPagination(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.tenant("audit-pages")
	tenant := e.tenantID("audit-pages")

	// Eleven rows, several sharing a created_at: the id breaks the tie, so no row is skipped or repeated.
	base := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	type row struct {
		id string
		at time.Time
	}
	var rows []row
	for i := range 11 {
		at := base.Add(time.Duration(i/3) * time.Minute) // 3 rows per minute
		if i == 10 {
			at = at.Add(123456 * time.Microsecond) // sub-second precision survives the cursor
		}
		rows = append(rows, row{e.auditInsert(tenant, "page.test", "page", at, `{"i":`+strconv.Itoa(i)+`}`), at})
	}
	sort.Slice(rows, func(i, j int) bool {
		if !rows[i].at.Equal(rows[j].at) {
			return rows[i].at.After(rows[j].at)
		}
		return rows[i].id > rows[j].id
	})
	var want []string
	for _, r := range rows {
		want = append(want, r.id)
	}
	for _, size := range []int{1, 2, 3, 4, 10, 11, 50} {
		var got []string
		for _, r := range e.auditAll(admin, size, "entity_type", "page") {
			got = append(got, r.ID)
		}
		require.Equal(t, want, got, "page size %d", size)
	}

	// A page that holds exactly the remaining rows is the last: next_cursor is null.
	p := e.auditList(admin, "entity_type", "page", "limit", "11")
	require.Len(t, p.Data, 11)
	require.Nil(t, p.NextCursor)
	p = e.auditList(admin, "entity_type", "page", "limit", "10")
	require.Len(t, p.Data, 10)
	require.NotNil(t, p.NextCursor)

	// The cursor goes with the filters: the same cursor on another filter continues from the same place.
	p = e.auditList(admin, "entity_type", "page", "limit", "5")
	rest := e.auditList(admin, "entity_type", "page", "cursor", *p.NextCursor, "from", base.Add(time.Minute).Format(time.RFC3339))
	require.Equal(t, want[5:8], func() []string {
		var out []string
		for _, r := range rest.Data {
			out = append(out, r.ID)
		}
		return out
	}())

	// The default page is 50 rows.
	for i := range 45 {
		e.auditInsert(tenant, "page.bulk", "bulk", base.Add(time.Duration(i)*time.Second), `{}`)
	}
	p = e.auditList(admin)
	require.Len(t, p.Data, 50)
	require.NotNil(t, p.NextCursor)
}

func TestAuditLogValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.tenant("audit-bad")
	cases := []struct {
		name, query string
		status      int
		code, field string
	}{
		{"data not json", "?data=" + url.QueryEscape(`{"a":`), 400, "VALIDATION_FAILED", "data"},
		{"data array", "?data=" + url.QueryEscape(`[1]`), 400, "VALIDATION_FAILED", "data"},
		{"data string", "?data=" + url.QueryEscape(`"x"`), 400, "VALIDATION_FAILED", "data"},
		{"data number", "?data=5", 400, "VALIDATION_FAILED", "data"},
		{"data null", "?data=null", 400, "VALIDATION_FAILED", "data"},
		{"data two objects", "?data=" + url.QueryEscape(`{}{}`), 400, "VALIDATION_FAILED", "data"},
		{"data too long", "?data=" + url.QueryEscape(`{"a":"`+strings.Repeat("x", 2048)+`"}`), 400, "VALIDATION_FAILED", "data"},
		{"data with NUL", "?data=" + url.QueryEscape(`{"a":"x\u0000y"}`), 400, "VALIDATION_FAILED", "data"},
		{"data NUL key", "?data=" + url.QueryEscape(`{"\u0000":1}`), 400, "VALIDATION_FAILED", "data"},
		{"data number beyond numeric", "?data=" + url.QueryEscape(`{"a":1e1000000}`), 400, "VALIDATION_FAILED", "data"},
		{"data lone surrogate", "?data=" + url.QueryEscape(`{"a":"\ud800"}`), 400, "VALIDATION_FAILED", "data"},
		{"entity_id not uuid", "?entity_id=42", 400, "VALIDATION_FAILED", "entity_id"},
		{"actor not uuid", "?actor=admin", 400, "VALIDATION_FAILED", "actor"},
		{"from not a time", "?from=yesterday", 400, "VALIDATION_FAILED", "from"},
		{"to date only", "?to=2026-01-01", 400, "VALIDATION_FAILED", "to"},
		{"to before from", "?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", 400, "VALIDATION_FAILED", "to"},
		{"to equals from", "?from=2026-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", 400, "VALIDATION_FAILED", "to"},
		{"action too long", "?action=" + strings.Repeat("a", 101), 400, "VALIDATION_FAILED", "action"},
		{"entity_type too long", "?entity_type=" + strings.Repeat("a", 101), 400, "VALIDATION_FAILED", "entity_type"},
		{"limit zero", "?limit=0", 400, "VALIDATION_FAILED", "limit"},
		{"limit too big", "?limit=101", 400, "VALIDATION_FAILED", "limit"},
		{"bad cursor", "?cursor=garbage!", 400, "INVALID_CURSOR", "cursor"},
		{"forged cursor", "?cursor=" + encodeTestCursor(`{"c":"2026-01-01T00:00:00Z","i":"1; DROP TABLE audit_logs"}`), 400, "INVALID_CURSOR", "cursor"},
		{"bad scope", "?scope=everything", 400, "VALIDATION_FAILED", "scope"},
		{"global scope as admin", "?scope=global", 403, "FORBIDDEN", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			requireError(t, e.do("GET", "/api/v1/audit-logs"+c.query, admin, nil), c.status, c.code, c.field)
		})
	}
	requireError(t, e.do("GET", "/api/v1/audit-logs/42", admin, nil), 400, "INVALID_ID", "id")
	requireError(t, e.do("GET", "/api/v1/audit-logs/00000000-0000-0000-0000-000000000000", admin, nil), 404, "NOT_FOUND", "")
	requireError(t, e.do("POST", "/api/v1/audit-logs", admin, `{}`), 405, "METHOD_NOT_ALLOWED", "")
	requireError(t, e.do("DELETE", "/api/v1/audit-logs/00000000-0000-0000-0000-000000000000", admin, nil), 405, "METHOD_NOT_ALLOWED", "")
}

func TestAuditLogRoles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.tenant("audit-roles")
	rowID := e.auditList(admin).Data[0].ID
	// ADMIN, AUDITOR, BOARD and SUPER_ADMIN read the audit log; nobody else does.
	want := map[auth.Role]int{
		auth.SuperAdmin: http.StatusOK, auth.Board: http.StatusOK, auth.Auditor: http.StatusOK,
		auth.Organizer: http.StatusForbidden, auth.Judge: http.StatusForbidden, auth.TallyMaster: http.StatusForbidden,
		auth.Emcee: http.StatusForbidden, auth.Contestant: http.StatusForbidden,
	}
	for role, status := range want {
		tok := e.addUser("audit-roles", role)
		require.Equal(t, status, e.do("GET", "/api/v1/audit-logs", tok, nil).status, role)
		require.Equal(t, status, e.do("GET", "/api/v1/audit-logs/"+rowID, tok, nil).status, role)
		if status == http.StatusForbidden {
			requireError(t, e.do("GET", "/api/v1/audit-logs", tok, nil), 403, "FORBIDDEN", "")
		}
	}
	require.Equal(t, http.StatusOK, e.do("GET", "/api/v1/audit-logs", admin, nil).status)
	requireError(t, e.do("GET", "/api/v1/audit-logs", "", nil), 401, "UNAUTHENTICATED", "")
}
