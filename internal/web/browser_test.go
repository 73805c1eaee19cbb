package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/eventmanager/eventmanager/internal/browsertest"
	"github.com/stretchr/testify/require"
)

// browser is one Chromium (its own profile) with one tab; problems collects console errors and
// exceptions (a blocked resource under the CSP included).
type browser struct {
	t        *testing.T
	ctx      context.Context
	mu       sync.Mutex
	problems []string
}

func newBrowser(t *testing.T, width, height int64) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browsertest.ChromiumPath(t)),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.WindowSize(int(width), int(height)),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(ctx, chromedp.WithLogf(t.Logf))
	t.Cleanup(cancelTab)
	b := &browser{t: t, ctx: ctx}
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(width, height)))
	console := chromedp.Console(ctx)
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			// A load refused while the test has cut the network is expected, nothing else.
			if (m.IsException() || m.Type == chromedp.ConsoleError) && !strings.Contains(m.String(), "net::ERR_INTERNET_DISCONNECTED") {
				b.mu.Lock()
				b.problems = append(b.problems, m.String())
				b.mu.Unlock()
			}
		}
	}()
	return b
}

func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	require.NoError(b.t, chromedp.Do(b.ctx, steps...))
}

// signIn fills the sign-in form by keyboard and waits for the page it leads to.
func (b *browser) signIn(base, slug, email, password, landing string) {
	b.t.Helper()
	b.do(
		chromedp.Navigate(base+"/signin"),
		chromedp.WaitVisible(chromedp.ID("signin-form")),
		chromedp.SendKeys(chromedp.ID("tenant"), slug),
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), password+"\r"),
		chromedp.WaitVisible(chromedp.CSS(landing)),
	)
}

// until waits for a JavaScript condition to become true, up to timeout; msg explains a failure.
func (b *browser) until(expr string, timeout time.Duration, msg string) {
	b.t.Helper()
	_, err := chromedp.Run(b.ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(timeout)))
	require.NoError(b.t, err, "%s (waited for %s)", msg, expr)
}

func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	require.NoError(b.t, err, expr)
	return v
}

// network sets the browser's network: offline (every request fails and navigator.onLine is
// false), or online; apiDown cuts only the JSON API, so that pages still load.
func (b *browser) network(offline, navigatorOffline bool, apiDown string) {
	b.t.Helper()
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		conds := []*network.Conditions{}
		if apiDown != "" {
			conds = append(conds, &network.Conditions{URLPattern: apiDown, Offline: true, DownloadThroughput: -1, UploadThroughput: -1})
		}
		if offline {
			conds = append(conds, &network.Conditions{Offline: true, DownloadThroughput: -1, UploadThroughput: -1})
		}
		// The service worker goes offline with the page.
		if _, err := cdp.Call(ctx, t, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			MatchedNetworkConditions: conds, EmulateOfflineServiceWorker: &offline}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: navigatorOffline, DownloadThroughput: -1, UploadThroughput: -1})
		return err
	}))
}

// screenshot saves the page as name.png in the test's artifact folder and, when WEB_SCREENSHOTS
// names a folder, there too (docs/screenshots is refreshed that way).
func (b *browser) screenshot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	require.NoError(b.t, err)
	dirs := []string{b.t.ArtifactDir()}
	if d := os.Getenv("WEB_SCREENSHOTS"); d != "" {
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		require.NoError(b.t, os.MkdirAll(d, 0o755))
		p := filepath.Join(d, name+".png")
		require.NoError(b.t, os.WriteFile(strings.TrimSpace(p), png, 0o644))
		b.t.Logf("screenshot: %s", p)
	}
}

func (b *browser) noProblems() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	require.Empty(b.t, b.problems, "console errors")
}

// sheetReady waits until the scoresheet's script has started (module scripts run after the page is
// shown): keys typed before would reach no listener.
func (b *browser) sheetReady() {
	b.t.Helper()
	b.until(`document.getElementById('sheet-page').dataset.ready === '1'`, 15*time.Second, "the scoresheet's script started")
}
