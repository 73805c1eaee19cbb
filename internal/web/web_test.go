package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/api"
	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/config"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/eventmanager/eventmanager/internal/live"
	"github.com/eventmanager/eventmanager/internal/pglisten"
	"github.com/eventmanager/eventmanager/internal/store"
	"github.com/eventmanager/eventmanager/internal/web"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

const testPassword = "correct horse battery"

// testTimeouts are generous: these tests are about pages, not timeouts, and the CI machine may be
// busy (a simple insert took 1.3 s once under a load average of 30 on 2 cores).
var testTimeouts = config.QueryTimeouts{Simple: 10 * time.Second, Standard: 15 * time.Second, Complex: 30 * time.Second, Report: 30 * time.Second}

// env is the API with the web app mounted, on its own database.
type env struct {
	t     testing.TB
	srv   *httptest.Server
	db    *db.DB
	store *store.Store
	night night
}

func newEnv(t testing.TB, withLive bool, adjust ...func(*web.Deps)) *env {
	t.Helper()
	dbURL := dbtest.NewDatabase(t)
	settings, err := config.ParseDatabaseURL(dbURL)
	require.NoError(t, err)
	d, err := db.Open(settings, db.Options{Timeouts: testTimeouts})
	require.NoError(t, err)
	t.Cleanup(d.Close)
	st := store.New(d)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	deps := api.Deps{DB: d, Store: st, TokenTTL: time.Hour, Logger: log}
	if withLive {
		// As serve does: one listener for the instance feeds the hub that the streams follow.
		ctx, cancel := context.WithCancel(context.Background())
		hub := live.NewHub(0, log)
		l := pglisten.New(dbURL, log)
		hub.Listen(l)
		go l.Run(ctx)
		t.Cleanup(func() { cancel(); hub.Close() })
		deps.Live = api.Live{Hub: hub}
	}
	s := api.New(deps)
	wd := web.Deps{Store: st, Auth: s, Logger: log, Live: withLive}
	for _, f := range adjust {
		f(&wd)
	}
	app, err := web.New(wd)
	require.NoError(t, err)
	s.SetPages(app)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	e := &env{t: t, srv: srv, db: d, store: st}
	return e
}

// night is a ready category: criteria, contestants in running order, judges linked to JUDGE users,
// and one user per other role. Emails are role@slug.test; judges judgeN@slug.test.
type night struct {
	slug, tenantID, categoryID string
	criteria                   []string
	maxes                      []string
	contestants                []string
	judges                     []string // judge ids, in the order of judgeN
}

func (e *env) buildNight(slug string, contestants int, maxes []string, judges int, scoring string) night {
	t := e.t
	t.Helper()
	ctx := context.Background()
	a := store.Actor{RequestID: "test"}
	ten, _, err := e.store.CreateTenant(ctx, a, slug, "Tenant "+slug,
		store.NewUser{Email: "admin@" + slug + ".test", Name: "Admin", Password: testPassword, Role: auth.Admin})
	require.NoError(t, err)
	n := night{slug: slug, tenantID: ten.ID, maxes: maxes}
	for _, r := range []auth.Role{auth.TallyMaster, auth.Auditor, auth.Board, auth.Emcee, auth.Contestant, auth.Organizer} {
		_, err := e.store.CreateUser(ctx, ten.ID, a, store.NewUser{Email: strings.ToLower(string(r)) + "@" + slug + ".test",
			Name: "The " + strings.ToLower(strings.ReplaceAll(string(r), "_", " ")), Password: testPassword, Role: r})
		require.NoError(t, err)
	}
	start := time.Date(2026, 12, 7, 19, 0, 0, 0, time.UTC)
	ev, err := e.store.CreateEvent(ctx, ten.ID, a, store.EventInput{Name: "Winter Gala", Location: "Hall", StartDate: start, EndDate: start.Add(3 * time.Hour)})
	require.NoError(t, err)
	var st *string
	if scoring != "" {
		st = &scoring
	}
	ct, err := e.store.CreateContest(ctx, ten.ID, ev.ID, a, store.ContestInput{Name: "Vocal", ScoringType: st})
	require.NoError(t, err)
	capText := "1000"
	cat, err := e.store.CreateCategory(ctx, ten.ID, ct.ID, a, store.CategoryInput{Name: "Solo Ballad", ScoreCap: &capText})
	require.NoError(t, err)
	n.categoryID = cat.ID
	names := []string{"Technique", "Musicality", "Stage presence", "Interpretation", "Costume", "Diction"}
	for i, m := range maxes {
		pos := int32(i)
		cr, err := e.store.CreateCriterion(ctx, ten.ID, cat.ID, a, store.CriterionInput{Name: names[i%len(names)], MaxScore: m, Position: &pos})
		require.NoError(t, err)
		n.criteria = append(n.criteria, cr.ID)
	}
	for i := range contestants {
		num := int32(i + 1)
		email := fmt.Sprintf("contestant%d@%s.test", i+1, slug)
		if i == 0 {
			email = "contestant@" + slug + ".test" // the CONTESTANT user
		}
		c, err := e.store.CreateContestant(ctx, ten.ID, a, store.ContestantInput{Name: fmt.Sprintf("Singer %c", 'A'+i%26), Number: &num, Email: &email,
			Bio: "Sings since childhood."})
		require.NoError(t, err)
		_, _, err = e.store.EnterContestant(ctx, ten.ID, cat.ID, c.ID, a)
		require.NoError(t, err)
		n.contestants = append(n.contestants, c.ID)
	}
	for j := range judges {
		u, err := e.store.CreateUser(ctx, ten.ID, a, store.NewUser{Email: fmt.Sprintf("judge%d@%s.test", j+1, slug),
			Name: fmt.Sprintf("Judge %d", j+1), Password: testPassword, Role: auth.Judge})
		require.NoError(t, err)
		jd, err := e.store.CreateJudge(ctx, ten.ID, a, store.JudgeInput{Name: fmt.Sprintf("Judge %d", j+1), UserID: &u.ID})
		require.NoError(t, err)
		_, err = e.store.CreateAssignment(ctx, ten.ID, a, jd.ID, cat.ID, store.AssignmentActive)
		require.NoError(t, err)
		n.judges = append(n.judges, jd.ID)
	}
	e.night = n
	return n
}

// client is a browser-like HTTP client with a cookie jar that does not follow redirects.
func (e *env) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// signIn posts the sign-in form as a same-origin browser would and returns the answer.
func (e *env) signIn(c *http.Client, email string) *http.Response {
	e.t.Helper()
	form := url.Values{"tenant": {e.night.slug}, "email": {email}, "password": {testPassword}}
	req, err := http.NewRequest("POST", e.srv.URL+"/signin", strings.NewReader(form.Encode()))
	require.NoError(e.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := c.Do(req)
	require.NoError(e.t, err)
	resp.Body.Close()
	return resp
}

func (e *env) get(c *http.Client, path string) (*http.Response, string) {
	e.t.Helper()
	resp, err := c.Get(e.srv.URL + path)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	return resp, string(b)
}

func (e *env) count(sql string, args ...any) int {
	e.t.Helper()
	var n int
	require.NoError(e.t, e.db.QueryRow(context.Background(), db.Op{Name: "test.count", Class: db.Simple}, e.night.tenantID, sql, args, &n))
	return n
}

// assetPath finds the checksummed URL of a static file in a page.
func assetPath(t testing.TB, html, name string) string {
	t.Helper()
	m := regexp.MustCompile(`"(/static/[0-9a-f]+/` + regexp.QuoteMeta(name) + `)"`).FindStringSubmatch(html)
	require.NotNil(t, m, "the page links %s", name)
	return m[1]
}

func (e *env) exec(sql string, args ...any) {
	e.t.Helper()
	_, err := e.db.Exec(context.Background(), db.Op{Name: "test.exec", Class: db.Simple}, e.night.tenantID, sql, args...)
	require.NoError(e.t, err)
}
