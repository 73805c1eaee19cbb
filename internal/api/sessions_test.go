package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/api"
	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/eventmanager/eventmanager/internal/pglisten"
	"github.com/eventmanager/eventmanager/internal/ratelimit"
	"github.com/eventmanager/eventmanager/internal/sessioncache"
	"github.com/eventmanager/eventmanager/internal/store"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// cachedInstance is one API server as serve builds it: its own session cache and NOTIFY listener.
type cachedInstance struct {
	*env
	cache    *sessioncache.Cache
	listener *pglisten.Listener
}

type instanceOptions struct {
	poolURL     string // the pool's database URL; the listener's when listenURL is empty
	listenURL   string
	failures    *ratelimit.Failures
	trusted     []netip.Prefix
	noListener  bool
	slowBackoff bool // the listener stays down once cut
}

func newCachedInstance(t *testing.T, o instanceOptions) *cachedInstance {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	in := &cachedInstance{}
	in.env = newEnv(t, onDatabase(o.poolURL), withDeps(func(e *env, d *api.Deps) {
		// An hour: within the test only a notification can drop an entry.
		in.cache = sessioncache.New(e.store, sessioncache.Options{TTL: time.Hour})
		if !o.noListener {
			listenURL := o.listenURL
			if listenURL == "" {
				listenURL = e.settings.ConnString
			}
			in.listener = pglisten.New(listenURL, log)
			if o.slowBackoff {
				in.listener.MinBackoff, in.listener.MaxBackoff = time.Hour, time.Hour
			}
			in.cache.Listen(in.listener)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { in.listener.Run(ctx); close(done) }()
			t.Cleanup(func() { cancel(); <-done })
			require.Eventually(t, in.listener.Listening, 10*time.Second, 5*time.Millisecond, "the listener never listened")
		}
		d.Logger, d.Sessions, d.TokenFailures, d.TrustedProxies = log, in.cache, o.failures, o.trusted
	}))
	return in
}

// cached reports whether the instance serves token from its cache, and the principal it serves.
func (in *cachedInstance) cached(token string) (auth.Principal, bool) {
	return in.cache.Get(auth.HashToken(token))
}

// warm makes the instance verify token once, and checks that it now serves it from the cache.
func (in *cachedInstance) warm(token string) auth.Principal {
	in.t.Helper()
	r := in.do("GET", "/api/v1/events", token, nil)
	require.Equal(in.t, http.StatusOK, r.status, string(r.body))
	p, ok := in.cached(token)
	require.True(in.t, ok, "the token is not cached")
	return p
}

// withinASecond waits for cond, failing the test if it does not hold within 1 s.
func withinASecond(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	start := time.Now()
	require.Eventually(t, cond, time.Second, 5*time.Millisecond, msg)
	t.Logf("%s: seen after %s", msg, time.Since(start).Round(time.Millisecond))
}

// Every revocation made on one instance takes effect on another within a second, although the
// other one had the session cached (an hour's TTL: only the notification can drop it).
func TestRevocationsReachOtherInstanceWithinASecond(t *testing.T) {
	t.Parallel()
	url := dbtest.NewDatabase(t)
	a := newCachedInstance(t, instanceOptions{poolURL: url})
	b := newCachedInstance(t, instanceOptions{poolURL: url})
	ctx := context.Background()
	adminTok := a.tenant("revoke")
	tid := a.tenantID("revoke")
	refused := func(tok string) func() bool {
		return func() bool { return b.do("GET", "/api/v1/events", tok, nil).status == http.StatusUnauthorized }
	}
	// A new user of the tenant, signed in; b has verified the token.
	user := func(role auth.Role, email string) (string, string) {
		u, err := a.store.CreateUser(ctx, tid, store.Actor{}, store.NewUser{Email: email, Name: "U", Password: testPassword, Role: role})
		require.NoError(t, err)
		tok := a.login("revoke", email)
		b.warm(tok)
		return tok, u.ID
	}

	t.Run("logout", func(t *testing.T) {
		tok, _ := user(auth.Organizer, "logout@revoke.test")
		require.Equal(t, http.StatusNoContent, a.do("POST", "/api/v1/auth/logout", tok, nil).status)
		withinASecond(t, refused(tok), "logout on a refused by b")
	})
	t.Run("password change", func(t *testing.T) {
		tok, id := user(auth.Organizer, "password@revoke.test")
		r := a.do("POST", "/api/v1/users/"+id+"/password", adminTok, map[string]string{"password": "another long password"})
		require.Equal(t, http.StatusNoContent, r.status, string(r.body))
		withinASecond(t, refused(tok), "password change on a refused by b")
	})
	t.Run("deactivated user", func(t *testing.T) {
		tok, id := user(auth.Organizer, "inactive@revoke.test")
		r := a.do("PATCH", "/api/v1/users/"+id, adminTok, map[string]any{"active": false})
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		withinASecond(t, refused(tok), "deactivation on a refused by b")
	})
	t.Run("role change", func(t *testing.T) {
		tok, id := user(auth.Organizer, "role@revoke.test")
		p, _ := b.cached(tok)
		require.Equal(t, auth.Organizer, p.Role)
		// Changing the role ends no session: only the notification makes b forget the old role.
		r := a.do("PATCH", "/api/v1/users/"+id, adminTok, map[string]any{"role": "CONTESTANT"})
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		withinASecond(t, func() bool {
			p, err := b.cache.Authenticate(ctx, tok)
			return err == nil && p.Role == auth.Contestant
		}, "role change on a seen by b")
		require.Equal(t, http.StatusForbidden, b.do("POST", "/api/v1/events", tok, map[string]any{
			"name": "X", "start_date": "2030-01-01T00:00:00Z", "end_date": "2030-01-02T00:00:00Z"}).status)
	})
	t.Run("judge link", func(t *testing.T) {
		tok, id := user(auth.Judge, "judge@revoke.test")
		p, _ := b.cached(tok)
		require.Empty(t, p.JudgeID)
		j, err := a.store.CreateJudge(ctx, tid, store.Actor{}, store.JudgeInput{Name: "Judge", UserID: &id})
		require.NoError(t, err)
		withinASecond(t, func() bool {
			p, err := b.cache.Authenticate(ctx, tok)
			return err == nil && p.JudgeID == j.ID
		}, "judge linked on a seen by b")
		b.warm(tok)
		require.NoError(t, a.store.DeleteJudge(ctx, tid, j.ID, store.Actor{}))
		withinASecond(t, func() bool {
			p, err := b.cache.Authenticate(ctx, tok)
			return err == nil && p.JudgeID == ""
		}, "judge unlinked on a seen by b")
	})
	t.Run("tenant deactivated", func(t *testing.T) {
		tok, _ := user(auth.Organizer, "tenant@revoke.test")
		b.warm(adminTok)
		inactive := false
		_, err := a.store.UpdateTenant(ctx, store.Actor{}, tid, store.TenantPatch{Active: &inactive})
		require.NoError(t, err)
		withinASecond(t, refused(tok), "tenant deactivation on a refused by b (user)")
		withinASecond(t, refused(adminTok), "tenant deactivation on a refused by b (admin)")
	})
}

// In the steady state the token check costs the database nothing: a request runs only its own
// statements. Without a live invalidation channel, the token check's statements come back (fail
// closed). Statements are counted on the wire (Execute messages; preparing one on a new
// connection is not one).
func TestCachedTokenCostsNoStatement(t *testing.T) {
	t.Parallel()
	url := dbtest.NewDatabase(t)
	counter, counted := scStartWireCounter(t, url)
	cached := newCachedInstance(t, instanceOptions{poolURL: counted, listenURL: url})
	uncached := newCachedInstance(t, instanceOptions{poolURL: counted, noListener: true})
	tok := cached.tenant("steady")
	cached.createEvent(tok, "Gala", time.Now().Add(24*time.Hour))
	// Warm both instances' rate-limit configuration caches.
	cached.warm(tok)
	require.Equal(t, http.StatusOK, uncached.do("GET", "/api/v1/events", tok, nil).status)

	statements := func(f func()) int64 {
		s0, _ := counter.snapshot()
		f()
		s1, _ := counter.snapshot()
		return s1 - s0
	}
	check := statements(func() {
		_, _, err := cached.store.SessionByHash(context.Background(), auth.HashToken(tok))
		require.NoError(t, err)
	})
	require.Positive(t, check)
	tid := cached.tenantID("steady")
	list := statements(func() {
		_, err := cached.store.ListEvents(context.Background(), tid, store.EventFilter{Limit: 51})
		require.NoError(t, err)
	})
	require.Positive(t, list)
	const n = 20
	got := statements(func() {
		for range n {
			require.Equal(t, http.StatusOK, cached.do("GET", "/api/v1/events", tok, nil).status)
		}
	})
	require.Equal(t, n*list, got, "the list's statements only")
	got = statements(func() {
		for range n {
			require.Equal(t, http.StatusOK, uncached.do("GET", "/api/v1/events", tok, nil).status)
		}
	})
	require.Equal(t, n*(list+check), got, "the token check and the list")
}

// While the invalidation channel is down the cache is not trusted: a session ended meanwhile (its
// notification lost) is refused at once.
func TestSessionCacheFailsClosedWhileNotListening(t *testing.T) {
	t.Parallel()
	url := dbtest.NewDatabase(t)
	a := newCachedInstance(t, instanceOptions{poolURL: url, noListener: true})
	b := newCachedInstance(t, instanceOptions{poolURL: url, listenURL: url + "&application_name=closed-b", slowBackoff: true})
	tok := a.tenant("closed")
	b.warm(tok)

	admin, err := pgx.Connect(context.Background(), dbtest.AdminURL(t, url))
	require.NoError(t, err)
	defer admin.Close(context.Background())
	var cut int
	require.NoError(t, admin.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = 'closed-b'`).Scan(&cut))
	require.Equal(t, 1, cut)
	require.Eventually(t, func() bool { return !b.listener.Listening() }, 10*time.Second, 5*time.Millisecond)
	_, ok := b.cached(tok)
	require.False(t, ok, "the cache is bypassed")

	require.Equal(t, http.StatusNoContent, a.do("POST", "/api/v1/auth/logout", tok, nil).status)
	require.Equal(t, http.StatusUnauthorized, b.do("GET", "/api/v1/events", tok, nil).status)
}

// A flood of bogus tokens from one address: past the allowance every answer is 429 with
// Retry-After and costs no database lookup; nothing is cached; other addresses and cached sessions
// of the same address are served.
func TestBogusTokenFloodIsLimitedBeforeTheDatabase(t *testing.T) {
	t.Parallel()
	url := dbtest.NewDatabase(t)
	counter, counted := scStartWireCounter(t, url)
	const allowance = 2 // a minute: one more failure every 30 s
	in := newCachedInstance(t, instanceOptions{poolURL: counted, listenURL: url,
		failures: ratelimit.NewFailures(ratelimit.NewMemory(nil), allowance),
		trusted:  []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	good := in.tenant("flood")
	in.warm(good)

	bogus := func(i int, from string) response {
		tok := "em_bogus" + strconv.Itoa(i) + strings.Repeat("A", 30)
		req, err := http.NewRequest("GET", in.srv.URL+"/api/v1/events", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("X-Forwarded-For", from)
		resp, err := in.srv.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return response{status: resp.StatusCode, header: resp.Header, body: body}
	}
	// Statements (Execute messages, not the round trips that prepare them on a new connection) of
	// one failed lookup.
	stmts0, _ := counter.snapshot()
	start := time.Now()
	require.Equal(t, http.StatusUnauthorized, bogus(0, "198.51.100.7").status)
	stmts1, _ := counter.snapshot()
	perLookup := stmts1 - stmts0
	require.Positive(t, perLookup)
	for i := 1; i < allowance; i++ {
		require.Equal(t, http.StatusUnauthorized, bogus(i, "198.51.100.7").status)
	}
	const flood = 3000
	limited := 0
	for i := allowance; i < flood; i++ {
		r := bogus(i, "198.51.100.7")
		if r.status == http.StatusTooManyRequests {
			limited++
			code, _ := r.errorCode(t)
			require.Equal(t, "RATE_LIMITED", code)
			require.NotEmpty(t, r.header.Get("Retry-After"))
			continue
		}
		// A failure comes back every 30 s: on a slow machine the flood may see one.
		require.Equal(t, http.StatusUnauthorized, r.status, string(r.body))
	}
	stmts2, _ := counter.snapshot()
	// The allowance, the failure that went over it, and one per 30 s the flood lasted.
	refills := int64(time.Since(start) / (30 * time.Second))
	require.LessOrEqual(t, (stmts2-stmts0)/perLookup, int64(allowance+1)+refills, "lookups that reached the database")
	require.GreaterOrEqual(t, limited, flood-allowance-1-int(refills))
	require.Equal(t, 1, in.cache.Len(), "only the good session is cached")

	// Another client behind the same proxy is not affected; nor is the cached session.
	require.Equal(t, http.StatusUnauthorized, bogus(0, "203.0.113.9").status)
	req, err := http.NewRequest("GET", in.srv.URL+"/api/v1/events", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+good)
	req.Header.Set("X-Forwarded-For", "198.51.100.7")
	resp, err := in.srv.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// X-Forwarded-For counts only when the peer is a trusted proxy.
func TestForwardedForIgnoredWithoutTrustedProxies(t *testing.T) {
	t.Parallel()
	url := dbtest.NewDatabase(t)
	in := newCachedInstance(t, instanceOptions{poolURL: url, noListener: true,
		failures: ratelimit.NewFailures(ratelimit.NewMemory(nil), 2)})
	statuses := make([]int, 0, 4)
	for i := range 4 {
		req, err := http.NewRequest("GET", in.srv.URL+"/api/v1/events", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer em_bogus"+strconv.Itoa(i))
		// A client inventing a new address each time: the peer address counts all the same.
		req.Header.Set("X-Forwarded-For", "192.0.2."+strconv.Itoa(i+1))
		resp, err := in.srv.Client().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
	}
	require.Equal(t, []int{401, 401, 429, 429}, statuses)
}

// /readyz says ready or not and nothing else, and probes share one query per second.
func TestReadyzIsCheapAndSaysLittle(t *testing.T) {
	t.Parallel()
	url := dbtest.NewDatabase(t)
	counter, counted := scStartWireCounter(t, url)
	in := newCachedInstance(t, instanceOptions{poolURL: counted, listenURL: url, noListener: true})
	s0, _ := counter.snapshot()
	var wg sync.WaitGroup
	bodies := make([]string, 50)
	for i := range bodies {
		wg.Go(func() {
			r := in.do("GET", "/readyz", "", nil)
			require.Equal(t, http.StatusOK, r.status)
			bodies[i] = strings.TrimSpace(string(r.body))
		})
	}
	wg.Wait()
	s1, _ := counter.snapshot()
	for _, b := range bodies {
		require.Equal(t, `{"status":"ready"}`, b)
	}
	// One query; two if the probes happened to straddle the one-second sharing.
	require.LessOrEqual(t, s1-s0, int64(2), "queries for 50 probes")
	require.GreaterOrEqual(t, s1-s0, int64(1))
}
