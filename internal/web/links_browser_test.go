package web_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// The organiser shows a judge's QR code; the judge's tablet opens its link, signs in with one
// press and lands on their categories; the same link does not work twice.
func TestJudgeSignsInByQRCode(t *testing.T) {
	e := newEnv(t, false)
	e.buildNight("qr", 2, []string{"10"}, 1, "")
	desk := newBrowser(t, 1440, 900)
	desk.signIn(e.srv.URL, "qr", "organizer@qr.test", testPassword, "#category-list")
	desk.do(chromedp.Navigate(e.srv.URL+"/judges"), chromedp.WaitVisible(chromedp.ID("judge-list")),
		chromedp.Click(chromedp.CSS(`button[data-action="new-link"]`)))
	desk.until(`(() => { const i = document.querySelector('figure.qr img'); return !document.querySelector('figure.qr').hidden && i.complete && i.naturalWidth >= 200; })()`,
		15*time.Second, "the QR code is drawn")
	link := eval[string](desk, `document.querySelector('a.signin-link').href`)
	require.Contains(t, link, "/sign-in/link?token=")
	desk.screenshot("organiser-judge-qr")

	tablet := newBrowser(t, 820, 1180)
	tablet.do(chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("link-button")))
	require.Equal(t, 0, e.count(`SELECT count(*) FROM sessions`)-1, "opening the link does not use it (only the organiser is signed in)")
	tablet.do(chromedp.Click(chromedp.ID("link-button")), chromedp.WaitVisible(chromedp.ID("my-categories")))
	require.Contains(t, eval[string](tablet, `document.querySelector('.who').textContent`), "Judge 1")

	// Used once: a second device gets told what to do.
	other := newBrowser(t, 390, 844)
	other.do(chromedp.Navigate(link), chromedp.Click(chromedp.ID("link-button")), chromedp.WaitVisible(chromedp.ID("link-message")))
	require.Contains(t, eval[string](other, `document.getElementById('link-message').textContent`), "already used")
	desk.noProblems()
	tablet.noProblems()
}
