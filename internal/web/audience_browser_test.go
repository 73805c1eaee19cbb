package web_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// The venue's big screen: an organiser makes a link from the categories list; the screen opens it
// without signing in, shows the running order and the progress live, and results only once the
// board has certified; names and numbers only.
func TestAudienceScreenShowsResultsOnlyAfterBoard(t *testing.T) {
	e := newEnv(t, true)
	n := e.buildNight("aud", 3, []string{"10"}, 1, "")
	desk := newBrowser(t, 1440, 900)
	desk.signIn(e.srv.URL, "aud", "organizer@aud.test", testPassword, "#category-list")
	desk.do(chromedp.Click(chromedp.CSS(`button[data-action="screen-link"]`)))
	desk.until(`!!document.querySelector('a.screen-link')`, 15*time.Second, "the big-screen link is shown")
	link := eval[string](desk, `document.querySelector('a.screen-link').href`)
	require.Contains(t, link, "/audience?token=")

	screen := newBrowser(t, 1440, 900)
	screen.do(chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(".aud-category")))
	screen.until(`document.getElementById('aud-status').textContent === 'Live'`, 15*time.Second, "the screen is live")
	require.Contains(t, eval[string](screen, `document.querySelector('.aud-order').textContent`), "#1 Singer A")
	require.NotContains(t, eval[string](screen, `document.body.textContent`), "Judge 1", "no judges' names on the screen")
	_ = eval[bool](screen, `window.stayed = true`)

	judge := e.apiLogin("judge1@aud.test")
	e.scoreAs(judge, [][]float64{{7}, {9}, {8}})
	screen.until(`document.querySelector('.aud-progress').textContent.includes('3 of 3 scores')`, 10*time.Second, "progress follows the scores")
	require.Zero(t, eval[int](screen, `document.querySelectorAll('.aud-results').length`), "no results before the board")

	for _, step := range []struct{ email, step string }{{"judge1@aud.test", "JUDGE"}, {"tally_master@aud.test", "TALLY_MASTER"},
		{"auditor@aud.test", "AUDITOR"}} {
		status, body := e.api("POST", "/api/v1/categories/"+n.categoryID+"/certification", e.apiLogin(step.email), map[string]string{"step": step.step})
		require.Equal(t, http.StatusCreated, status, body)
	}
	// Still nothing after the auditor.
	screen.until(`document.querySelector('.aud-progress').textContent.includes('1 of 1 judges certified')`, 10*time.Second, "judge certified")
	require.Zero(t, eval[int](screen, `document.querySelectorAll('.aud-results').length`), "no results before the board")
	status, body := e.api("POST", "/api/v1/categories/"+n.categoryID+"/certification", e.apiLogin("board@aud.test"), map[string]string{"step": "BOARD"})
	require.Equal(t, http.StatusCreated, status, body)
	screen.until(`!!document.querySelector('.aud-results') && document.querySelector('.aud-results li').textContent.includes('Singer B')`, 10*time.Second, "results after the board, winner first")
	require.True(t, eval[bool](screen, `window.stayed === true`), "no reload")
	screen.screenshot("audience-screen")
	desk.noProblems()
	screen.noProblems()
}
