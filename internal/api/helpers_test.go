package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/docs"
	"github.com/eventmanager/eventmanager/internal/api"
	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/bouncertest"
	"github.com/eventmanager/eventmanager/internal/config"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/eventmanager/eventmanager/internal/health"
	"github.com/eventmanager/eventmanager/internal/live"
	"github.com/eventmanager/eventmanager/internal/metrics"
	"github.com/eventmanager/eventmanager/internal/store"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

// The fixtures and assertions that the tests of this package share: the test server (newEnv and
// its options), requests (env.do, which also checks each one against docs/openapi.yaml), tenants
// and users, and error answers.

var testTimeouts = config.QueryTimeouts{Simple: time.Second, Standard: 5 * time.Second, Complex: 15 * time.Second, Report: 30 * time.Second}

var opTest = db.Op{Name: "test", Class: db.Simple}

func TestMain(m *testing.M) { dbtest.Main(m) }

const testPassword = "correct horse battery"

// env is one API server on its own database.
type env struct {
	t        *testing.T
	srv      *httptest.Server
	server   *api.Server
	db       *db.DB
	store    *store.Store
	settings config.Database
	// registry and queries are set when the build wires metrics (withHealth).
	registry *prometheus.Registry
	queries  *metrics.Queries
}

// envOption changes how newEnv builds the server.
type envOption func(*envBuild)

type envBuild struct {
	url      string // the database; "" makes a fresh migrated one, used as the service's role
	mode     bouncertest.Mode
	params   string // appended to url
	adjust   func(*config.Database)
	settings *config.Database // instead of url and params
	dbOpts   db.Options
	metrics  bool
	deps     []func(*env, *api.Deps)
}

// onDatabase serves the API on the database at url, as given (the caller picks the role): a
// database that other instances share.
func onDatabase(url string) envOption { return func(b *envBuild) { b.url = url } }

// withParams appends params (such as "&connection_limit=2") to the database URL.
func withParams(params string) envOption { return func(b *envBuild) { b.params = params } }

// withDB changes the options the pool is opened with (timeouts, application name, logger).
func withDB(adjust func(*db.Options)) envOption { return func(b *envBuild) { adjust(&b.dbOpts) } }

// withMetrics wires the metrics as serve does: the query observer, the pool collector, /metrics,
// the HTTP metrics and the query window.
func withMetrics() envOption { return func(b *envBuild) { b.metrics = true } }

// withDeps wires collaborators a test builds itself (a session cache, rate limits, a live hub,
// with their listeners) into the server. set runs once the database and the store are open, before
// the server is built; cleanups it registers run after the server has closed.
func withDeps(set func(e *env, d *api.Deps)) envOption {
	return func(b *envBuild) { b.deps = append(b.deps, set) }
}

// viaMode connects the pool directly or through PgBouncer (mode).
func viaMode(mode bouncertest.Mode) envOption { return func(b *envBuild) { b.mode = mode } }

// withSettings serves the API on already parsed settings.
func withSettings(s config.Database) envOption { return func(b *envBuild) { b.settings = &s } }

// withPool changes the parsed pool settings.
func withPool(adjust func(*config.Database)) envOption {
	return func(b *envBuild) { b.adjust = adjust }
}

// withHealth adds the database health checker, with thresholds th and this server's pool timeouts
// (so it implies withMetrics), as serve does. checked is the database it checks (nil: the server's
// own); latency is its query latencies (nil: the server's query window).
func withHealth(th health.Thresholds, checked *db.DB, latency health.LatencySource) envOption {
	return func(b *envBuild) {
		withMetrics()(b)
		withDeps(func(e *env, d *api.Deps) {
			if checked == nil {
				checked = e.db
			}
			if latency == nil {
				latency = e.queries.Window().Latency
			}
			d.Health = health.New(checked, latency, th).WithPoolTimeouts(e.queries.PoolTimeouts)
		})(b)
	}
}

// withLiveHub gives the server a hub of live updates (no listener: nothing is published), so that
// the stream route is served.
func withLiveHub() envOption {
	return withDeps(func(e *env, d *api.Deps) {
		hub := live.NewHub(0, nil)
		e.t.Cleanup(hub.Close)
		d.Live.Hub = hub
	})
}

// newEnv starts the API on a fresh migrated database, changed by opts.
func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	b := envBuild{dbOpts: db.Options{Timeouts: testTimeouts}, mode: bouncertest.Direct}
	for _, o := range opts {
		o(&b)
	}
	var settings config.Database
	if b.settings != nil {
		settings = *b.settings
	} else {
		if b.url == "" {
			// Connected as the service's role: a missing grant fails the tests as it would fail
			// the service.
			b.url = dbtest.ServiceURL(t, dbtest.NewDatabase(t))
		}
		var err error
		settings, err = config.ParseDatabaseURL(b.mode.URL(t, b.url) + b.params)
		require.NoError(t, err)
	}
	if b.adjust != nil {
		b.adjust(&settings)
	}
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))
	e := &env{t: t, settings: settings}
	if b.metrics {
		e.registry = metrics.NewRegistry()
		e.queries = metrics.NewQueries(e.registry)
		b.dbOpts.Observer = e.queries
	}
	d, err := db.Open(settings, b.dbOpts)
	require.NoError(t, err)
	t.Cleanup(d.Close)
	e.db, e.store = d, store.New(d)
	deps := api.Deps{DB: d, Store: e.store, TokenTTL: time.Hour, Logger: discard}
	if b.metrics {
		e.registry.MustRegister(metrics.NewPoolCollector(d.Pool()))
		deps.Metrics = metrics.Handler(e.registry)
		deps.HTTPMetrics = metrics.NewHTTP(e.registry)
		deps.QueryWindow = e.queries.Window()
	}
	for _, f := range b.deps {
		f(e, &deps)
	}
	e.server = api.New(deps)
	e.srv = httptest.NewServer(e.server.Handler())
	t.Cleanup(e.srv.Close)
	return e
}

// in is e for a subtest: its helpers fail t.
func (e *env) in(t *testing.T) *env {
	c := *e
	c.t = t
	return &c
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

// errorMessage is the message of an error answer.
func errorMessage(t *testing.T, r response) string {
	t.Helper()
	e, _ := r.json(t)["error"].(map[string]any)
	msg, _ := e["message"].(string)
	return msg
}

// requireError checks that r is the API error (status, code, field); msgAndArgs (a format and its
// arguments) says which request it was.
func requireError(t *testing.T, r response, status int, code, field string, msgAndArgs ...any) {
	t.Helper()
	msg := string(r.body)
	if len(msgAndArgs) > 0 {
		msg = fmt.Sprintf(fmt.Sprint(msgAndArgs[0]), msgAndArgs[1:]...) + ": " + msg
	}
	require.Equal(t, status, r.status, msg)
	gotCode, gotField := r.errorCode(t)
	require.Equal(t, code, gotCode, msg)
	require.Equal(t, field, gotField, msg)
}

// do sends a request (body: nil, a string sent as is, or a value sent as JSON) and checks it and
// its answer against docs/openapi.yaml (checkContract).
func (e *env) do(method, path, token string, body any) response {
	e.t.Helper()
	var (
		rd      io.Reader
		reqBody []byte
	)
	switch b := body.(type) {
	case nil:
	case string:
		reqBody = []byte(b)
		rd = strings.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		require.NoError(e.t, err)
		reqBody = buf
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
	r := response{status: resp.StatusCode, header: resp.Header, body: b}
	checkContract(e.t, req, reqBody, r)
	return r
}

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
	email := strings.ToLower(string(role)) + "@" + slug + ".test"
	_, err := e.store.CreateUser(context.Background(), e.tenantID(slug), store.Actor{}, store.NewUser{Email: email, Name: string(role), Password: testPassword, Role: role})
	require.NoError(e.t, err)
	return e.login(slug, email)
}

// tenantID is the id of the tenant with this slug.
func (e *env) tenantID(slug string) string {
	e.t.Helper()
	ten, err := e.store.TenantBySlug(context.Background(), slug)
	require.NoError(e.t, err)
	return ten.ID
}

// userID is the id of the user behind token.
func (e *env) userID(token string) string {
	e.t.Helper()
	r := e.do("GET", "/api/v1/auth/me", token, nil)
	require.Equal(e.t, http.StatusOK, r.status, string(r.body))
	return r.json(e.t)["id"].(string)
}

// openAPI is docs/openapi.yaml, loaded and validated once, with a router that finds the operation
// of a request.
var openAPI = sync.OnceValues(func() (routers.Router, error) {
	doc, err := openapi3.NewLoader().LoadFromData(docs.OpenAPIYAML)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, err
	}
	// The router matches on the path alone: the test server's address is not the document's.
	doc.Servers = nil
	return legacy.NewRouter(doc)
})

// Pages, images and event streams are checked as strings, as the document describes them.
func init() {
	for _, ct := range []string{"text/html", "text/css", "text/javascript", "image/svg+xml", "image/png", "text/event-stream"} {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.FileBodyDecoder)
	}
}

// checkContract checks a request a test made, and the answer it got, against docs/openapi.yaml.
// The answer must be one the document describes for the operation (status, headers, body). A
// request the document does not allow (a test sending bad input on purpose) must have been
// refused with a 4xx. Requests to paths the document does not know (routes a test added with
// Server.Handle, unknown paths) are left alone: TestRouteTableMatchesOpenAPI checks the table.
// It reports whether the document describes the request's operation.
func checkContract(t *testing.T, req *http.Request, reqBody []byte, r response) bool {
	t.Helper()
	router, err := openAPI()
	require.NoError(t, err, "docs/openapi.yaml is not a valid OpenAPI document")
	probe := req.Clone(context.Background())
	probe.Body = io.NopCloser(bytes.NewReader(reqBody))
	route, params, err := router.FindRoute(probe)
	if err != nil {
		return false
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true, MultiError: true}
	in := &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route, Options: opts}
	if reqErr := openapi3filter.ValidateRequest(context.Background(), in); reqErr != nil {
		require.True(t, r.status >= 400 && r.status < 500,
			"%s %s: the request does not match docs/openapi.yaml, yet the answer is %d, not a 4xx: %v", req.Method, req.URL.Path, r.status, reqErr)
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: r.status, Header: r.header, Options: opts}
	out.SetBodyBytes(r.body)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		require.NoError(t, err, "%s %s answered %d, which docs/openapi.yaml does not describe (above); the answer: %s", req.Method, req.URL.Path, r.status, trimBody(r.body))
	}
	return true
}

// trimBody shortens an answer for a failure message.
func trimBody(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "…"
	}
	return string(b)
}

// Fixtures: the competition tree (event, contest, category, criteria) and direct database reads.

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
	c.tenantID = e.tenantID(slug)
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

// Fixtures for scoring: a tenant built through SQL, judges, assignments and score submissions.

// The scoring tests build their competitions with SQL through the test's db handle, so that they
// depend only on the schema, not on the CRUD API. Every statement passes the tenant id, as the
// store does, so that it runs the same under row-level security.

var opScoringFixture = db.Op{Name: "test.scoring_fixture", Class: db.Standard}

// scTenant is a tenant for the scoring tests, with its admin.
type scTenant struct {
	e          *env
	slug, id   string
	admin      string // the admin's token
	adminID    string
	nextNumber int // contestant numbers are unique per tenant
	nextUser   int
}

// scJudge is a judge record linked to a signed-in user.
type scJudge struct {
	id, userID, name, token string
}

// scCategory is a category with its criteria and entered contestants.
type scCategory struct {
	id, contestID string
	criteria      []string // ids, in position order
	maxScores     []string // max_score of each criterion
	contestants   []string // ids, in number order
}

// scNewTenant creates a tenant and signs its admin in.
func (e *env) scNewTenant(slug string) *scTenant {
	e.t.Helper()
	admin := e.tenant(slug)
	ten, err := e.store.TenantBySlug(context.Background(), slug)
	require.NoError(e.t, err)
	u, err := e.store.UserByEmail(context.Background(), ten.ID, "admin@"+slug+".test")
	require.NoError(e.t, err)
	return &scTenant{e: e, slug: slug, id: ten.ID, admin: admin, adminID: u.ID, nextNumber: 1}
}

// exec runs a fixture statement scoped to the tenant.
func (tn *scTenant) exec(sql string, args ...any) {
	tn.e.t.Helper()
	_, err := tn.e.db.Exec(context.Background(), opScoringFixture, tn.id, sql, args...)
	require.NoError(tn.e.t, err, sql)
}

// ids runs a fixture statement that returns one id per row.
func (tn *scTenant) ids(sql string, args ...any) []string {
	tn.e.t.Helper()
	var out []string
	err := tn.e.db.Query(context.Background(), opScoringFixture, tn.id, func(rows pgx.Rows) error {
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			out = append(out, id)
		}
		return rows.Err()
	}, sql, args...)
	require.NoError(tn.e.t, err, sql)
	return out
}

func (tn *scTenant) id1(sql string, args ...any) string {
	tn.e.t.Helper()
	ids := tn.ids(sql, args...)
	require.Len(tn.e.t, ids, 1, sql)
	return ids[0]
}

// scNullable maps "" to SQL NULL (an inherited scoring type).
func scNullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// event adds an event; scoringType "" inherits the tenant's.
func (tn *scTenant) event(name, scoringType string) string {
	return tn.id1(`INSERT INTO events (tenant_id, name, start_date, end_date, scoring_type)
		VALUES ($1, $2, '2026-06-01T18:00:00Z', '2026-06-01T22:00:00Z', $3) RETURNING id`, tn.id, name, scNullable(scoringType))
}

// contest adds a contest to an event; scoringType "" inherits the event's.
func (tn *scTenant) contest(eventID, name, scoringType string) string {
	return tn.id1(`INSERT INTO contests (tenant_id, event_id, name, scoring_type) VALUES ($1, $2, $3, $4) RETURNING id`,
		tn.id, eventID, name, scNullable(scoringType))
}

// category adds a category with criteria of the given maximum scores and n new contestants entered
// in it.
func (tn *scTenant) category(contestID, name string, maxScores []string, n int) scCategory {
	tn.e.t.Helper()
	c := scCategory{contestID: contestID, maxScores: maxScores}
	c.id = tn.id1(`INSERT INTO categories (tenant_id, contest_id, name) VALUES ($1, $2, $3) RETURNING id`, tn.id, contestID, name)
	for i, m := range maxScores {
		c.criteria = append(c.criteria, tn.id1(`INSERT INTO criteria (tenant_id, category_id, name, max_score, position)
			VALUES ($1, $2, $3, $4::numeric, $5) RETURNING id`, tn.id, c.id, fmt.Sprintf("Criterion %d", i+1), m, i))
	}
	if n > 0 {
		c.contestants = tn.newContestants(n)
		tn.enter(c.id, c.contestants...)
	}
	return c
}

// newContestants adds n contestants (numbered) to the tenant, in number order.
func (tn *scTenant) newContestants(n int) []string {
	first := tn.nextNumber
	tn.nextNumber += n
	return tn.ids(`INSERT INTO contestants (tenant_id, name, number)
		SELECT $1, 'Contestant ' || g, g FROM generate_series($2::int, $3::int) g ORDER BY g RETURNING id`,
		tn.id, first, first+n-1)
}

// enter enters contestants in a category.
func (tn *scTenant) enter(categoryID string, contestants ...string) {
	tn.exec(`INSERT INTO category_contestants (tenant_id, category_id, contestant_id)
		SELECT $1, $2, unnest($3::uuid[])`, tn.id, categoryID, contestants)
}

// judge adds a judge record linked to a new JUDGE user, and signs the user in.
func (tn *scTenant) judge(name string) scJudge {
	tn.e.t.Helper()
	return tn.linkedUser(name, auth.Judge)
}

// linkedUser adds a user with the role, linked to a new judge record, and signs it in.
func (tn *scTenant) linkedUser(name string, role auth.Role) scJudge {
	tn.e.t.Helper()
	tn.nextUser++
	email := fmt.Sprintf("judge%d@%s.test", tn.nextUser, tn.slug)
	u, err := tn.e.store.CreateUser(context.Background(), tn.id, store.Actor{}, store.NewUser{Email: email, Name: name, Password: testPassword, Role: role})
	require.NoError(tn.e.t, err)
	j := scJudge{userID: u.ID, name: name}
	j.id = tn.id1(`INSERT INTO judges (tenant_id, name, user_id) VALUES ($1, $2, $3) RETURNING id`, tn.id, name, u.ID)
	j.token = tn.e.login(tn.slug, email)
	return j
}

// assign gives a judge an assignment to a category with the status.
func (tn *scTenant) assign(judgeID, categoryID, status string) {
	tn.exec(`INSERT INTO assignments (tenant_id, judge_id, category_id, status) VALUES ($1, $2, $3, $4)`,
		tn.id, judgeID, categoryID, status)
}

// user adds a user with the role (one per role and tenant) and returns its token and id.
func (tn *scTenant) user(role auth.Role) (token, id string) {
	tn.e.t.Helper()
	token = tn.e.addUser(tn.slug, role)
	u, err := tn.e.store.UserByEmail(context.Background(), tn.id, scRoleEmail(role, tn.slug))
	require.NoError(tn.e.t, err)
	return token, u.ID
}

// scRoleEmail is the email that env.addUser gives a user of the role.
func scRoleEmail(role auth.Role, slug string) string {
	return fmt.Sprintf("%s@%s.test", strings.ToLower(string(role)), slug)
}

// count runs a count(*) scoped to the tenant; $1 is the tenant id.
func (tn *scTenant) count(sql string, args ...any) int {
	tn.e.t.Helper()
	var n int
	require.NoError(tn.e.t, tn.e.db.QueryRow(context.Background(), opScoringFixture, tn.id, sql, append([]any{tn.id}, args...), &n))
	return n
}

// scoreCount is the number of score rows of the tenant.
func (tn *scTenant) scoreCount() int {
	return tn.count(`SELECT count(*) FROM scores WHERE tenant_id = $1`)
}

// auditCount is the number of audit rows of the tenant with the action.
func (tn *scTenant) auditCount(action string) int {
	return tn.count(`SELECT count(*) FROM audit_logs WHERE tenant_id = $1 AND action = $2`, action)
}

// scCell is one cell of a score request.
type scCell struct {
	ContestantID string `json:"contestant_id"`
	CriterionID  string `json:"criterion_id"`
	Score        any    `json:"score"`
	Comment      string `json:"comment,omitempty"`
}

// scPut sends PUT /categories/{id}/scores.
func (e *env) scPut(token, categoryID string, body any) response {
	e.t.Helper()
	return e.do("PUT", "/api/v1/categories/"+categoryID+"/scores", token, body)
}

// scPutOK sends scores and expects 200.
func (e *env) scPutOK(token, categoryID string, cells []scCell) {
	e.t.Helper()
	r := e.scPut(token, categoryID, map[string]any{"scores": cells})
	require.Equal(e.t, http.StatusOK, r.status, string(r.body))
}

// scFill has the judge enter the score of every cell of the category, given by score(contestant
// index, criterion index) as a number of hundredths.
func (e *env) scFill(j scJudge, c scCategory, score func(k, cr int) int64) {
	e.t.Helper()
	var cells []scCell
	for k, contestant := range c.contestants {
		for cr, criterion := range c.criteria {
			cells = append(cells, scCell{ContestantID: contestant, CriterionID: criterion, Score: json.Number(scDecimal(score(k, cr)))})
		}
	}
	e.scPutOK(j.token, c.id, cells)
}

// scDecimal writes hundredths as a decimal: 950 is "9.50".
func scDecimal(cents int64) string {
	return fmt.Sprintf("%d.%02d", cents/100, cents%100)
}

// scCents reads a decimal answer exactly, in hundredths.
func scCents(t *testing.T, n json.Number) int64 {
	t.Helper()
	r, ok := new(big.Rat).SetString(string(n))
	require.True(t, ok, "not a number: %q", n)
	r.Mul(r, big.NewRat(100, 1))
	require.True(t, r.IsInt(), "more than two decimals: %q", n)
	return r.Num().Int64()
}

// scCertify posts a certification step.
func (e *env) scCertify(token, categoryID, step string) response {
	e.t.Helper()
	return e.do("POST", "/api/v1/categories/"+categoryID+"/certification", token, map[string]string{"step": step})
}

// scCertifyTally inserts a standing TALLY_MASTER certification directly (for tests about
// visibility, which depends only on it).
func (tn *scTenant) scCertifyTally(categoryID string) {
	tn.exec(`INSERT INTO category_certifications (tenant_id, category_id, step, certified_by) VALUES ($1, $2, 'TALLY_MASTER', $3)`,
		tn.id, categoryID, tn.adminID)
}

// scTime parses an RFC 3339 answer and checks that it is in UTC.
func scTime(t *testing.T, v any) time.Time {
	t.Helper()
	s, ok := v.(string)
	require.True(t, ok, "not a time: %v", v)
	tm, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	require.Equal(t, time.UTC, tm.Location(), "not UTC: %s", s)
	return tm
}

// Fixtures for the audit log and settings.

// auditRow is an item of GET /api/v1/audit-logs: the store's row as the API writes it.
type auditRow = store.AuditLog

type auditPage struct {
	Data       []auditRow `json:"data"`
	NextCursor *string    `json:"next_cursor"`
}

// auditList answers GET /api/v1/audit-logs with the query built from pairs ("entity_type", "event", ...).
func (e *env) auditList(token string, pairs ...string) auditPage {
	e.t.Helper()
	r := e.do("GET", "/api/v1/audit-logs"+auditQuery(pairs...), token, nil)
	require.Equal(e.t, http.StatusOK, r.status, string(r.body))
	var p auditPage
	require.NoError(e.t, json.Unmarshal(r.body, &p))
	return p
}

// auditQuery encodes pairs of names and values as a query string ("" when there are none).
func auditQuery(pairs ...string) string {
	if len(pairs) == 0 {
		return ""
	}
	q := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		q.Set(pairs[i], pairs[i+1])
	}
	return "?" + q.Encode()
}

// auditAll follows next_cursor through every page of a listing, pageSize rows at a time.
func (e *env) auditAll(token string, pageSize int, pairs ...string) []auditRow {
	e.t.Helper()
	var all []auditRow
	cursor := ""
	for page := 0; ; page++ {
		require.Less(e.t, page, 1000, "pagination does not end")
		p := append([]string{"limit", strconv.Itoa(pageSize)}, pairs...)
		if cursor != "" {
			p = append(p, "cursor", cursor)
		}
		got := e.auditList(token, p...)
		require.LessOrEqual(e.t, len(got.Data), pageSize)
		all = append(all, got.Data...)
		if got.NextCursor == nil {
			return all
		}
		cursor = *got.NextCursor
	}
}

// auditActions lists the actions of rows, in order.
func auditActions(rows []auditRow) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Action
	}
	return out
}

// auditInsert adds an audit row directly (for data the API cannot produce: chosen times and data),
// and returns its id. Scoped to the tenant like the service's own writes.
func (e *env) auditInsert(tenantID, action, entityType string, createdAt time.Time, data string) string {
	e.t.Helper()
	var id string
	require.NoError(e.t, e.db.QueryRow(context.Background(), opTest, tenantID,
		`INSERT INTO audit_logs (tenant_id, action, entity_type, entity_id, data, created_at)
		VALUES ($1, $2, $3, gen_random_uuid(), $4::jsonb, $5) RETURNING id`,
		[]any{tenantID, action, entityType, data, createdAt}, &id))
	return id
}

// settingBody is an item of GET /api/v1/settings and the answer of GET and PUT /api/v1/settings/{key}.
type settingBody struct {
	Key       string          `json:"key"`
	Value     json.RawMessage `json:"value"`
	Scope     string          `json:"scope"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// settingGet answers GET /api/v1/settings/{key}, which must succeed.
func (e *env) settingGet(token, key string) settingBody {
	e.t.Helper()
	r := e.do("GET", "/api/v1/settings/"+key, token, nil)
	require.Equal(e.t, http.StatusOK, r.status, string(r.body))
	var s settingBody
	require.NoError(e.t, json.Unmarshal(r.body, &s))
	return s
}

// settingPut sets key to value (a JSON text) with PUT; query is "" or "?scope=global".
func (e *env) settingPut(token, key, value, query string) settingBody {
	e.t.Helper()
	r := e.do("PUT", "/api/v1/settings/"+key+query, token, `{"value":`+value+`}`)
	require.Equal(e.t, http.StatusOK, r.status, string(r.body))
	var s settingBody
	require.NoError(e.t, json.Unmarshal(r.body, &s))
	return s
}

// settingKeys lists the keys and scopes of every setting the token's tenant sees, following the
// pages, with an optional ?value= filter.
func (e *env) settingKeys(token, value string, pageSize int) []string {
	e.t.Helper()
	var keys []string
	cursor := ""
	for page := 0; ; page++ {
		require.Less(e.t, page, 1000, "pagination does not end")
		q := url.Values{"limit": {strconv.Itoa(pageSize)}}
		if value != "" {
			q.Set("value", value)
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		r := e.do("GET", "/api/v1/settings?"+q.Encode(), token, nil)
		require.Equal(e.t, http.StatusOK, r.status, string(r.body))
		var p struct {
			Data       []settingBody `json:"data"`
			NextCursor *string       `json:"next_cursor"`
		}
		require.NoError(e.t, json.Unmarshal(r.body, &p))
		require.LessOrEqual(e.t, len(p.Data), pageSize)
		for _, s := range p.Data {
			keys = append(keys, s.Key+"@"+s.Scope)
		}
		if p.NextCursor == nil {
			return keys
		}
		cursor = *p.NextCursor
	}
}

// requireJSONEq compares a JSON text with the expected one, ignoring formatting and key order.
func requireJSONEq(t *testing.T, want string, got json.RawMessage, msgAndArgs ...any) {
	t.Helper()
	require.JSONEq(t, want, string(got), msgAndArgs...)
}

// jsonValue decodes a JSON text.
func jsonValue(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(data, &v), string(data))
	return v
}

// jsonBytes encodes v as JSON.
func jsonBytes(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// encodeTestCursor encodes a cursor as the service does (base64url of JSON), for forged cursors.
func encodeTestCursor(jsonText string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(jsonText))
}
