package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/api"
	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/bouncertest"
	"github.com/eventmanager/eventmanager/internal/config"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/eventmanager/eventmanager/internal/store"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

var testTimeouts = config.QueryTimeouts{Simple: time.Second, Standard: 5 * time.Second, Complex: 15 * time.Second, Report: 30 * time.Second}

// env is one API server on its own database.
type env struct {
	t     *testing.T
	srv   *httptest.Server
	db    *db.DB
	store *store.Store
}

// newEnv starts the API on a fresh migrated database, connected as the service's role (a missing
// grant fails the tests as it would fail the service); adjust changes the pool settings.
func newEnv(t *testing.T, adjust func(*config.Database)) *env {
	t.Helper()
	return newEnvVia(t, bouncertest.Direct, adjust)
}

// newEnvVia is newEnv with the pool connected directly or through PgBouncer (mode).
func newEnvVia(t *testing.T, mode bouncertest.Mode, adjust func(*config.Database)) *env {
	t.Helper()
	settings, err := config.ParseDatabaseURL(mode.URL(t, dbtest.ServiceURL(t, dbtest.NewDatabase(t))))
	require.NoError(t, err)
	if adjust != nil {
		adjust(&settings)
	}
	return newEnvWith(t, settings)
}

var opTest = db.Op{Name: "test", Class: db.Simple}

func newEnvWith(t *testing.T, settings config.Database) *env {
	t.Helper()
	d, err := db.Open(settings, db.Options{Timeouts: testTimeouts})
	require.NoError(t, err)
	t.Cleanup(d.Close)
	st := store.New(d)
	s := api.New(api.Deps{DB: d, Store: st, TokenTTL: time.Hour, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, db: d, store: st}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), string(r.body))
	return m
}

// errorCode returns error.code and error.field of an error answer.
func (r response) errorCode(t *testing.T) (string, string) {
	t.Helper()
	e, ok := r.json(t)["error"].(map[string]any)
	require.True(t, ok, "not an error envelope: %s", r.body)
	field, _ := e["field"].(string)
	return e["code"].(string), field
}

func (e *env) do(method, path, token string, body any) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		require.NoError(e.t, err)
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	require.NoError(e.t, err)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.srv.Client().Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

const testPassword = "correct horse battery"

// tenant creates a tenant with an admin and returns the admin's token.
func (e *env) tenant(slug string) string {
	e.t.Helper()
	_, _, err := e.store.CreateTenant(context.Background(), store.Actor{}, slug, "Tenant "+slug,
		store.NewUser{Email: "admin@" + slug + ".test", Name: "Admin", Password: testPassword, Role: auth.Admin})
	require.NoError(e.t, err)
	return e.login(slug, "admin@"+slug+".test")
}

func (e *env) login(slug, email string) string {
	e.t.Helper()
	r := e.do("POST", "/api/v1/auth/login", "", map[string]string{"tenant": slug, "email": email, "password": testPassword})
	require.Equal(e.t, http.StatusOK, r.status, string(r.body))
	tok, _ := r.json(e.t)["token"].(string)
	require.NotEmpty(e.t, tok)
	return tok
}

// addUser creates a user of the tenant with the given role and returns its token.
func (e *env) addUser(slug string, role auth.Role) string {
	e.t.Helper()
	ten, err := e.store.TenantBySlug(context.Background(), slug)
	require.NoError(e.t, err)
	email := strings.ToLower(string(role)) + "@" + slug + ".test"
	_, err = e.store.CreateUser(context.Background(), ten.ID, store.Actor{}, store.NewUser{Email: email, Name: string(role), Password: testPassword, Role: role})
	require.NoError(e.t, err)
	return e.login(slug, email)
}

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
	e := newEnv(t, nil)
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
	e := newEnv(t, nil)
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
	e := newEnv(t, nil)
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
	e := newEnv(t, nil)
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
	e := newEnv(t, nil)
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
