package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/stretchr/testify/require"
)

func (e *env) createEvent(token, name string, start time.Time) string {
	e.t.Helper()
	r := e.do("POST", "/api/v1/events", token, map[string]string{
		"name": name, "location": "Hall", "start_date": start.Format(time.RFC3339), "end_date": start.Add(3 * time.Hour).Format(time.RFC3339),
	})
	require.Equal(e.t, http.StatusCreated, r.status, string(r.body))
	return r.json(e.t)["id"].(string)
}

type eventList struct {
	Data []struct {
		ID        string    `json:"id"`
		Name      string    `json:"name"`
		StartDate time.Time `json:"start_date"`
		Archived  bool      `json:"archived"`
	} `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

func (e *env) listEvents(token, query string) eventList {
	e.t.Helper()
	r := e.do("GET", "/api/v1/events"+query, token, nil)
	require.Equal(e.t, http.StatusOK, r.status, string(r.body))
	var l eventList
	require.NoError(e.t, json.Unmarshal(r.body, &l))
	return l
}

func TestEventsLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.tenant("acme")
	base := time.Date(2026, 6, 1, 18, 0, 0, 0, time.UTC)
	var ids []string
	for i := range 5 {
		ids = append(ids, e.createEvent(tok, []string{"Alpha Show", "Beta Dance", "Gamma 100% Music", "Delta Pageant", "Epsilon Talent"}[i], base.AddDate(0, 0, i)))
	}

	// Newest start date first, in pages of two, with an opaque cursor; null on the last page.
	var got []string
	cursor := ""
	for page := 0; ; page++ {
		require.Less(t, page, 5)
		q := "?limit=2"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		l := e.listEvents(tok, q)
		for _, ev := range l.Data {
			got = append(got, ev.ID)
		}
		if l.NextCursor == nil {
			break
		}
		cursor = *l.NextCursor
	}
	require.Equal(t, []string{ids[4], ids[3], ids[2], ids[1], ids[0]}, got)

	// Search is a case-insensitive substring; % is matched literally.
	l := e.listEvents(tok, "?search=DANCE")
	require.Len(t, l.Data, 1)
	require.Equal(t, ids[1], l.Data[0].ID)
	require.Len(t, e.listEvents(tok, "?search=100%25").Data, 1)
	require.Empty(t, e.listEvents(tok, "?search=%25%25%25x").Data)

	// Get, patch.
	r := e.do("GET", "/api/v1/events/"+ids[0], tok, nil)
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, "Alpha Show", r.json(t)["name"])
	r = e.do("PATCH", "/api/v1/events/"+ids[0], tok, map[string]string{"name": "Alpha Show 2026", "location": "Main Hall"})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, "Alpha Show 2026", r.json(t)["name"])
	require.Equal(t, "Main Hall", r.json(t)["location"])

	// A patch that would end the event before it starts is refused, naming the field.
	r = e.do("PATCH", "/api/v1/events/"+ids[0], tok, map[string]string{"end_date": "2000-01-01T00:00:00Z"})
	require.Equal(t, http.StatusBadRequest, r.status, string(r.body))
	code, field := r.errorCode(t)
	require.Equal(t, "VALIDATION_FAILED", code)
	require.Equal(t, "end_date", field)

	// Delete archives: gone from the default list, listed with ?archived=true, back after restore.
	r = e.do("DELETE", "/api/v1/events/"+ids[0], tok, nil)
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, true, r.json(t)["archived"])
	require.Len(t, e.listEvents(tok, "").Data, 4)
	arch := e.listEvents(tok, "?archived=true")
	require.Len(t, arch.Data, 1)
	require.Equal(t, ids[0], arch.Data[0].ID)
	r = e.do("POST", "/api/v1/events/"+ids[0]+"/restore", tok, nil)
	require.Equal(t, http.StatusOK, r.status)
	require.Len(t, e.listEvents(tok, "").Data, 5)

	// Every change is in the audit log, in the same transaction as the change.
	var n int
	acme, err := e.store.TenantBySlug(context.Background(), "acme")
	require.NoError(t, err)
	require.NoError(t, e.db.QueryRow(context.Background(), opTest, acme.ID,
		`SELECT count(*) FROM audit_logs WHERE entity_type = 'event' AND entity_id = $1`, []any{ids[0]}, &n))
	require.Equal(t, 4, n) // created, updated, archived, restored
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tokA := e.tenant("tenant-a")
	tokB := e.tenant("tenant-b")
	evB := e.createEvent(tokB, "B's secret event", time.Now())
	e.createEvent(tokA, "A's event", time.Now())

	for _, req := range []struct{ method, path string }{
		{"GET", "/api/v1/events/" + evB},
		{"PATCH", "/api/v1/events/" + evB},
		{"DELETE", "/api/v1/events/" + evB},
		{"POST", "/api/v1/events/" + evB + "/restore"},
	} {
		var body any
		if req.method == "PATCH" {
			body = map[string]string{"name": "hijacked"}
		}
		r := e.do(req.method, req.path, tokA, body)
		require.Equal(t, http.StatusNotFound, r.status, "%s %s: %s", req.method, req.path, r.body)
		code, _ := r.errorCode(t)
		require.Equal(t, "NOT_FOUND", code)
	}
	l := e.listEvents(tokA, "")
	require.Len(t, l.Data, 1)
	require.Equal(t, "A's event", l.Data[0].Name)
	// B's event is untouched.
	r := e.do("GET", "/api/v1/events/"+evB, tokB, nil)
	require.Equal(t, "B's secret event", r.json(t)["name"])
	require.Equal(t, false, r.json(t)["archived"])
}

func TestLoginLogoutAndRoles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.tenant("roles")

	r := e.do("GET", "/api/v1/auth/me", tok, nil)
	require.Equal(t, http.StatusOK, r.status)
	me := r.json(t)
	require.Equal(t, "admin@roles.test", me["email"])
	require.Equal(t, "ADMIN", me["role"])
	require.NotContains(t, string(r.body), "argon2")

	// Wrong password, unknown email and unknown tenant answer alike.
	for _, body := range []map[string]string{
		{"tenant": "roles", "email": "admin@roles.test", "password": "wrong password!"},
		{"tenant": "roles", "email": "nobody@roles.test", "password": testPassword},
		{"tenant": "nope", "email": "admin@roles.test", "password": testPassword},
	} {
		r := e.do("POST", "/api/v1/auth/login", "", body)
		require.Equal(t, http.StatusUnauthorized, r.status)
		code, _ := r.errorCode(t)
		require.Equal(t, "INVALID_CREDENTIALS", code)
	}
	// Over-long names are refused before the rate limiter keeps them as bucket names.
	for field, body := range map[string]map[string]string{
		"tenant": {"tenant": strings.Repeat("t", 64), "email": "admin@roles.test", "password": testPassword},
		"email":  {"tenant": "roles", "email": strings.Repeat("e", 250) + "@x.io", "password": testPassword},
	} {
		r := e.do("POST", "/api/v1/auth/login", "", body)
		require.Equal(t, http.StatusBadRequest, r.status, field)
		code, f := r.errorCode(t)
		require.Equal(t, "VALIDATION_FAILED", code)
		require.Equal(t, field, f)
	}

	// A judge reads but may not write.
	judge := e.addUser("roles", auth.Judge)
	require.Equal(t, http.StatusOK, e.do("GET", "/api/v1/events", judge, nil).status)
	r = e.do("POST", "/api/v1/events", judge, map[string]string{"name": "x", "start_date": "2026-01-01T00:00:00Z", "end_date": "2026-01-01T01:00:00Z"})
	require.Equal(t, http.StatusForbidden, r.status)
	code, _ := r.errorCode(t)
	require.Equal(t, "FORBIDDEN", code)
	id := e.createEvent(tok, "Show", time.Now())
	for _, m := range []string{"PATCH", "DELETE"} {
		require.Equal(t, http.StatusForbidden, e.do(m, "/api/v1/events/"+id, judge, map[string]string{}).status, m)
	}
	organizer := e.addUser("roles", auth.Organizer)
	require.Equal(t, http.StatusOK, e.do("DELETE", "/api/v1/events/"+id, organizer, nil).status)

	// No token, a made-up token: 401.
	require.Equal(t, http.StatusUnauthorized, e.do("GET", "/api/v1/events", "", nil).status)
	require.Equal(t, http.StatusUnauthorized, e.do("GET", "/api/v1/events", "em_"+strings.Repeat("A", 43), nil).status)

	// Logout invalidates the token at once.
	require.Equal(t, http.StatusNoContent, e.do("POST", "/api/v1/auth/logout", tok, nil).status)
	r = e.do("GET", "/api/v1/events", tok, nil)
	require.Equal(t, http.StatusUnauthorized, r.status)
	code, _ = r.errorCode(t)
	require.Equal(t, "UNAUTHENTICATED", code)
	require.Equal(t, http.StatusOK, e.do("GET", "/api/v1/events", judge, nil).status)
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.tenant("input")
	valid := `{"name":"Show","start_date":"2026-01-01T10:00:00Z","end_date":"2026-01-01T12:00:00Z"}`
	cases := []struct {
		name, method, path, body string
		contentType              string
		status                   int
		code, field              string
	}{
		{"not json", "POST", "/api/v1/events", `{"name":`, "", 400, "INVALID_JSON", ""},
		{"two objects", "POST", "/api/v1/events", valid + valid, "", 400, "INVALID_JSON", ""},
		{"unknown field", "POST", "/api/v1/events", `{"name":"x","colour":"red"}`, "", 400, "UNKNOWN_FIELD", "colour"},
		{"wrong type", "POST", "/api/v1/events", `{"name":5}`, "", 400, "VALIDATION_FAILED", "name"},
		{"missing name", "POST", "/api/v1/events", `{"start_date":"2026-01-01T10:00:00Z","end_date":"2026-01-01T12:00:00Z"}`, "", 400, "VALIDATION_FAILED", "name"},
		{"blank name", "POST", "/api/v1/events", `{"name":"  ","start_date":"2026-01-01T10:00:00Z","end_date":"2026-01-01T12:00:00Z"}`, "", 400, "VALIDATION_FAILED", "name"},
		{"bad date", "POST", "/api/v1/events", `{"name":"x","start_date":"tomorrow","end_date":"2026-01-01T12:00:00Z"}`, "", 400, "VALIDATION_FAILED", "start_date"},
		{"end before start", "POST", "/api/v1/events", `{"name":"x","start_date":"2026-01-02T10:00:00Z","end_date":"2026-01-01T12:00:00Z"}`, "", 400, "VALIDATION_FAILED", "end_date"},
		{"not json media type", "POST", "/api/v1/events", valid, "text/plain", 415, "UNSUPPORTED_MEDIA_TYPE", ""},
		{"too large", "POST", "/api/v1/events", `{"name":"` + strings.Repeat("x", 1<<20) + `"}`, "", 413, "BODY_TOO_LARGE", ""},
		{"limit too big", "GET", "/api/v1/events?limit=101", "", "", 400, "VALIDATION_FAILED", "limit"},
		{"limit zero", "GET", "/api/v1/events?limit=0", "", "", 400, "VALIDATION_FAILED", "limit"},
		{"bad cursor", "GET", "/api/v1/events?cursor=garbage!", "", "", 400, "INVALID_CURSOR", "cursor"},
		{"bad archived", "GET", "/api/v1/events?archived=maybe", "", "", 400, "VALIDATION_FAILED", "archived"},
		{"bad id", "GET", "/api/v1/events/42", "", "", 400, "INVALID_ID", "id"},
		{"unknown id", "GET", "/api/v1/events/00000000-0000-0000-0000-000000000000", "", "", 404, "NOT_FOUND", ""},
		{"unknown route", "GET", "/api/v1/nothing", "", "", 404, "NOT_FOUND", ""},
		{"wrong method", "PUT", "/api/v1/events", "", "", 405, "METHOD_NOT_ALLOWED", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest(c.method, e.srv.URL+c.path, strings.NewReader(c.body))
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+tok)
			ct := c.contentType
			if ct == "" {
				ct = "application/json"
			}
			req.Header.Set("Content-Type", ct)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			r := response{status: resp.StatusCode, body: b}
			require.Equal(t, c.status, r.status, string(b))
			code, field := r.errorCode(t)
			require.Equal(t, c.code, code)
			require.Equal(t, c.field, field)
		})
	}
	// Nothing was written by any of the refused requests.
	require.Empty(t, e.listEvents(tok, "").Data)
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	req, _ := http.NewRequest("GET", e.srv.URL+"/healthz", nil)
	req.Header.Set("X-Request-ID", "abc-123")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, "abc-123", resp.Header.Get("X-Request-ID"))
	r := e.do("GET", "/healthz", "", nil)
	require.Len(t, r.header.Get("X-Request-ID"), 24)
	req.Header.Set("X-Request-ID", "bad id with spaces")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Len(t, resp.Header.Get("X-Request-ID"), 24)
}
