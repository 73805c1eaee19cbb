package api_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/browsertest"
	"github.com/eventmanager/eventmanager/internal/health"
	"github.com/stretchr/testify/require"
)

// chartState is what the page exposes for tests: the samples each chart draws and the checks rows.
type chartState struct {
	Points map[string]int `json:"points"`
	Rows   int            `json:"rows"`
	First  string         `json:"first"`
	Banner string         `json:"banner"`
	Empty  string         `json:"empty"`
	URL    string         `json:"url"`
	Token  bool           `json:"token"`
}

const chartStateJS = `(() => {
  const points = {};
  for (const f of document.querySelectorAll('figure.chart')) points[f.id] = Number(f.dataset.points);
  const empty = document.querySelector('#chart-latency-report svg text.empty');
  return {
    points,
    rows: document.querySelectorAll('#checks tbody tr').length,
    first: (document.querySelector('#checks tbody tr') || { dataset: {} }).dataset.status || '',
    banner: document.getElementById('banner').dataset.status,
    empty: empty ? empty.textContent : '',
    url: location.href,
    token: !!sessionStorage.getItem('eventmanager.status.token'),
  };
})()`

// The page in a real browser, against the real API under light load: it signs in through the form,
// draws every chart with data, fills the checks table, and says why when a role (a tenant's ADMIN
// included) may not see it.
// The screenshot goes to the test's artifact folder (go test -artifacts -outputdir DIR keeps it)
// and to $STATUS_SCREENSHOT when set.
func TestStatusPageInBrowser(t *testing.T) {
	chromium := browsertest.ChromiumPath(t)
	// A latency target no query meets (20 µs): the page shows the degraded state, warnings first.
	e := newEnv(t, withHealth(health.Thresholds{LatencyP95: 20 * time.Microsecond}, nil, nil))
	admin := e.tenant("acme")
	e.addUser("acme", auth.Judge)
	// The light load below runs as the admin the page signs in as, ~20 limited requests a second for
	// as long as the browser takes: on the standard tier (burst 120, 10 a second) the page's own
	// polls were refused 429 on a slow run. This test is about the page, not the limits.
	// Through the API, so that the server's cache of limits is invalidated at once.
	super := e.addUser("acme", auth.SuperAdmin)
	r := e.do("PUT", "/api/v1/tenants/"+e.tenantID("acme")+"/rate-limit-tier", super, map[string]string{"tier": "internal"})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, 1000000, e.do("GET", "/api/v1/events", admin, nil).rl("RateLimit-Limit"))
	event := e.createEvent(admin, "Spring Gala", time.Date(2026, 6, 1, 18, 0, 0, 0, time.UTC))
	require.Equal(t, http.StatusOK, e.do("GET", "/api/v1/results/events/"+event, admin, nil).status)

	// Light load: lists (standard queries), results (complex), unknown paths (404) and requests
	// without a token (401), about 30 a second, until the test ends.
	loadCtx, stopLoad := context.WithTimeout(context.Background(), 2*time.Minute)
	var load sync.WaitGroup
	load.Go(func() {
		paths := []string{"/api/v1/events", "/api/v1/results/events/" + event, "/api/v1/events?limit=5", "/api/v1/no-such-thing"}
		for i := 0; loadCtx.Err() == nil; i++ {
			req, _ := http.NewRequestWithContext(loadCtx, "GET", e.srv.URL+paths[i%len(paths)], nil)
			if i%7 != 0 {
				req.Header.Set("Authorization", "Bearer "+admin)
			}
			if resp, err := e.srv.Client().Do(req); err == nil {
				resp.Body.Close()
			}
			select {
			case <-loadCtx.Done():
			case <-time.After(30 * time.Millisecond):
			}
		}
	})
	t.Cleanup(func() { stopLoad(); load.Wait() })

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.WindowSize(1440, 1000),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	ctx, cancelTab := chromedp.NewContext(ctx, chromedp.WithLogf(t.Logf))
	defer cancelTab()

	// Everything the page writes to the console: an exception or a blocked resource (a policy
	// violation included) fails the test.
	var (
		mu       sync.Mutex
		problems []string
	)
	console := chromedp.Console(ctx)
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == chromedp.ConsoleError {
				mu.Lock()
				problems = append(problems, m.String())
				mu.Unlock()
			}
		}
	}()

	require.NoError(t, chromedp.Do(ctx,
		chromedp.EmulateViewport(1440, 1000),
		chromedp.Navigate(e.srv.URL+"/admin/status"),
		chromedp.WaitVisible(chromedp.ID("login-form")),
		chromedp.SendKeys(chromedp.ID("tenant"), "acme"),
		chromedp.SendKeys(chromedp.ID("email"), "super_admin@acme.test"),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Click(chromedp.ID("login-button")),
		chromedp.WaitVisible(chromedp.ID("dashboard")),
	))

	// Six snapshots (10 s): five intervals for the rate charts.
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](`(() => {
	  const n = (id) => Number(document.getElementById(id).dataset.points);
	  return ['chart-pool', 'chart-latency-simple', 'chart-latency-standard', 'chart-latency-complex'].every((id) => n(id) >= 6)
	    && ['chart-wait', 'chart-requests'].every((id) => n(id) >= 5)
	    && document.querySelectorAll('#checks tbody tr').length > 0;
	})()`, chromedp.WithPollingInterval(250*time.Millisecond), chromedp.WithPollingTimeout(60*time.Second)))
	state, stateErr := chromedp.Run(ctx, chromedp.Evaluate[chartState](chartStateJS))
	require.NoError(t, stateErr)
	require.NoError(t, err, "charts not drawn with data: %+v", state)

	for _, id := range []string{"chart-pool", "chart-wait", "chart-requests", "chart-latency-simple", "chart-latency-standard", "chart-latency-complex"} {
		require.Positive(t, state.Points[id], "%s has no data: %+v", id, state)
	}
	// No operation of the report class exists yet: its chart is there, empty, and says why.
	require.Contains(t, state.Points, "chart-latency-report")
	require.Contains(t, state.Empty, "no queries")
	require.Greater(t, state.Rows, 10, "checks table")
	require.Equal(t, "degraded", state.Banner, "latency.simple is over its 20 µs target")
	require.Equal(t, "warn", state.First, "checks that need attention come first")
	require.True(t, state.Token, "the token is kept in sessionStorage")
	require.NotContains(t, state.URL, "?", "nothing in the URL")

	screenshot(t, ctx, "")

	// Until here nothing failed: no exception, no resource refused (the 401 and 403 below log some).
	mu.Lock()
	require.Empty(t, problems, "console errors")
	mu.Unlock()

	// A wrong password, then a judge's account and a tenant ADMIN's: the form says what is wrong.
	signIn := func(email, password, wantMessage string) {
		t.Helper()
		require.NoError(t, chromedp.Do(ctx,
			chromedp.WaitVisible(chromedp.ID("login-form")),
			chromedp.SetValue(chromedp.ID("email"), email),
			chromedp.SetValue(chromedp.ID("password"), password),
			chromedp.Click(chromedp.ID("login-button")),
		))
		_, err := chromedp.Run(ctx, chromedp.PollFunction[bool](`(want) => {
		  const m = document.getElementById('signin-message');
		  return !m.hidden && m.textContent.includes(want);
		}`, chromedp.WithPollingArgs(wantMessage), chromedp.WithPollingTimeout(15*time.Second)))
		require.NoError(t, err, "the sign-in form should say %q", wantMessage)
	}
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.ID("signout"))))
	signIn("admin@acme.test", "wrong password", "the tenant, email or password is wrong")
	signIn("judge@acme.test", testPassword, "sign in as the operator (SUPER_ADMIN)")
	signIn("admin@acme.test", testPassword, "sign in as the operator (SUPER_ADMIN)")
	screenshot(t, ctx, "-signin")
	token, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!sessionStorage.getItem('eventmanager.status.token')`))
	require.NoError(t, err)
	require.False(t, token, "a refused token is dropped")
}

// screenshot saves the page as status-page{suffix}.png in the test's artifact folder and, when
// STATUS_SCREENSHOT names a file, next to it (status-page.png, status-page-signin.png).
func screenshot(t *testing.T, ctx context.Context, suffix string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	paths := []string{filepath.Join(t.ArtifactDir(), "status-page"+suffix+".png")}
	if p := os.Getenv("STATUS_SCREENSHOT"); p != "" {
		paths = append(paths, strings.TrimSuffix(p, ".png")+suffix+".png")
	}
	for _, p := range paths {
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, png, 0o644))
		t.Logf("screenshot: %s", p)
	}
}
