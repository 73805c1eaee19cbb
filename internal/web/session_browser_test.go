package web_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// The session ends while the judge scores (signed out elsewhere, expired): the row is kept, the
// page asks to sign in again, and after signing in the row is sent, once.
func TestJudgeSessionEndsWhileRowsWait(t *testing.T) {
	e := newEnv(t, false)
	n := e.buildNight("expiry", 2, []string{"10", "10"}, 1, "")
	b := newBrowser(t, 1440, 900)
	b.signIn(e.srv.URL, "expiry", "judge1@expiry.test", testPassword, "#my-categories")
	b.do(chromedp.Navigate(e.srv.URL+"/judge/categories/"+n.categoryID), chromedp.WaitVisible(chromedp.ID("sheet")))
	b.sheetReady()
	require.Equal(t, 1, e.count(`SELECT count(*) FROM sessions`))
	// The session ends on the server (as a sign-out on another device or an expiry would).
	e.exec(`UPDATE sessions SET expires_at = now() - interval '1 second'`)

	b.do(chromedp.Focus(chromedp.ID("s-1-0")), chromedp.KeyEvent("6\t7\t"))
	b.until(`document.getElementById('signin-dialog').open`, 15*time.Second, "the page asks to sign in again")
	require.Contains(t, eval[string](b, `document.getElementById('signin-text').textContent`), "1 row is safe on this device")
	require.Equal(t, "waiting", eval[string](b, `document.getElementById('row-1').dataset.state`))
	require.Zero(t, e.count(`SELECT count(*) FROM scores`))

	// Signing in again brings the judge back to the sheet, and the row goes.
	b.do(chromedp.Click(chromedp.ID("signin-again")), chromedp.WaitVisible(chromedp.ID("signin-form")),
		chromedp.SendKeys(chromedp.ID("tenant"), "expiry"),
		chromedp.SendKeys(chromedp.ID("email"), "judge1@expiry.test"),
		chromedp.SendKeys(chromedp.ID("password"), testPassword+"\r"),
		chromedp.WaitVisible(chromedp.ID("sheet")))
	b.sheetReady()
	b.until(`document.getElementById('row-1').dataset.state === 'saved'`, 15*time.Second, "the kept row is sent after signing in")
	require.Equal(t, 2, e.count(`SELECT count(*) FROM scores`))
	require.Equal(t, 2, e.count(`SELECT count(*) FROM audit_logs WHERE action = 'score.submitted'`))
	// The browser logs the refused request; nothing else went wrong.
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems {
		require.Contains(t, p, "401 (Unauthorized)")
	}
}
