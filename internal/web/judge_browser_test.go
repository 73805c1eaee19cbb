package web_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// A judge fills the grid by keyboard; a value over the maximum is refused in the row; the network
// is cut mid-sheet and the rows queue; a reload keeps them; the network comes back and every row is
// saved exactly once; the judge certifies through the button and the sheet turns read-only.
func TestJudgeFillsSheetThroughNetworkCut(t *testing.T) {
	e := newEnv(t, false)
	n := e.buildNight("night", 5, []string{"10", "10", "5"}, 2, "")
	b := newBrowser(t, 1440, 900)
	b.signIn(e.srv.URL, "night", "judge1@night.test", testPassword, "#my-categories")
	b.do(chromedp.Click(chromedp.CSS("#my-categories a")), chromedp.WaitVisible(chromedp.ID("sheet")))
	b.sheetReady()
	scores := func() int { return e.count(`SELECT count(*) FROM scores WHERE judge_id = $1`, n.judges[0]) }
	state := func(row int) string {
		return eval[string](b, fmt.Sprintf(`document.getElementById('row-%d').dataset.state + ': ' + document.getElementById('state-%d').textContent`, row, row))
	}
	typeRow := func(row int, keys string) {
		t.Helper()
		b.do(chromedp.Focus(chromedp.ID(fmt.Sprintf("s-%d-0", row))), chromedp.KeyEvent(keys))
	}

	// Row 1 with a value over the maximum: refused in the row, nothing sent.
	typeRow(1, "12\t7.5\t4\t")
	require.Contains(t, state(1), "invalid: Not sent: Technique over the maximum of 10")
	require.Equal(t, "true", eval[string](b, `document.getElementById('s-1-0').getAttribute('aria-invalid')`))
	require.Equal(t, "11.5", eval[string](b, `document.querySelector('#row-1 .total-value').textContent`))
	require.Zero(t, scores())
	// Corrected by keyboard: the row goes once focus leaves it.
	b.do(chromedp.Focus(chromedp.ID("s-1-0")), chromedp.Evaluate[chromedp.Void](`document.getElementById('s-1-0').select()`), chromedp.KeyEvent("8\t\t\t"))
	b.until(`document.getElementById('row-1').dataset.state === 'saved'`, 15*time.Second, "row 1 saved")
	// Row 2 ends with Enter (down the column), which also leaves the row.
	typeRow(2, "6\t6\t3\r")
	b.until(`document.getElementById('row-2').dataset.state === 'saved'`, 15*time.Second, "row 2 saved")
	require.Equal(t, 6, scores())
	require.Contains(t, state(2), "Saved")

	// The network goes (once the page's offline copy is kept); rows 3 to 5 wait on the device.
	b.until(`document.body.dataset.offlineReady === '1'`, 15*time.Second, "offline copy of the sheet kept")
	b.network(true, true, "")
	typeRow(3, "9\t9\t5\t")
	typeRow(4, "5.25\t4\t2\t")
	typeRow(5, "7\t8\t1\t")
	b.do(chromedp.Focus(chromedp.ID("s-1-0")))
	b.until(`document.getElementById('sheet-status').dataset.waiting === '3'`, 10*time.Second, "3 rows waiting")
	for _, r := range []int{3, 4, 5} {
		require.Contains(t, state(r), "waiting: Waiting")
	}
	require.Equal(t, 3, eval[int](b, `JSON.parse(localStorage.getItem(JSON.parse(document.getElementById('sheet-page').dataset.config).queue)).items.length`))
	require.Equal(t, 6, scores())
	b.screenshot("judge-sheet-offline-desktop")

	// Reload with the network still down: the offline copy of the page, and the rows are still there.
	b.do(chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("sheet")))
	b.sheetReady()
	require.True(t, eval[bool](b, `navigator.serviceWorker.controller !== null && !navigator.onLine`), "served offline by the page's worker")
	b.until(`document.getElementById('sheet-status').dataset.waiting === '3'`, 10*time.Second, "3 rows still waiting after the reload")
	require.Equal(t, "5.25", eval[string](b, `document.getElementById('s-4-0').value`))
	require.Equal(t, "11.25", eval[string](b, `document.querySelector('#row-4 .total-value').textContent`))
	require.Equal(t, 6, scores())

	// The network comes back: every row is saved, each cell exactly once.
	b.network(false, false, "")
	b.until(`document.getElementById('sheet-status').dataset.waiting === '0' && [1,2,3,4,5].every((r) => document.getElementById('row-' + r).dataset.state === 'saved')`,
		30*time.Second, "all rows saved once the network is back")
	require.Equal(t, 15, scores())
	require.Equal(t, 15, e.count(`SELECT count(*) FROM audit_logs WHERE action = 'score.submitted' AND data->>'judge_id' = $1`, n.judges[0]),
		"one write per cell: no row was applied twice")
	require.Equal(t, 5, e.count(`SELECT count(*) FROM idempotency_keys`), "one key per row sent")
	require.Equal(t, 0, eval[int](b, `JSON.parse(localStorage.getItem(JSON.parse(document.getElementById('sheet-page').dataset.config).queue)).items.length`))

	// Certify: the button is enabled now, asks once, and the sheet becomes read-only.
	b.until(`!document.getElementById('certify-button').disabled`, 5*time.Second, "certify enabled")
	b.do(chromedp.Click(chromedp.ID("certify-button")), chromedp.WaitVisible(chromedp.ID("certify-dialog")),
		chromedp.Click(chromedp.ID("certify-confirm")), chromedp.WaitVisible(chromedp.ID("certified-note")))
	require.True(t, eval[bool](b, `Array.from(document.querySelectorAll('input.score')).every((i) => i.readOnly)`))
	require.Equal(t, 1, e.count(`SELECT count(*) FROM category_certifications WHERE step = 'JUDGE' AND judge_id = $1 AND revoked_at IS NULL`, n.judges[0]))
	// A tablet: the grid, without scrolling sideways.
	b.do(chromedp.EmulateViewport(820, 1180))
	require.True(t, eval[bool](b, `document.getElementById('card-nav').hidden`), "the grid at tablet width")
	require.True(t, eval[bool](b, `(() => { const w = document.querySelector('.grid-wrap'); return w.scrollWidth <= w.clientWidth && document.documentElement.scrollWidth <= 820; })()`), "no sideways scroll at 820 px")
	b.screenshot("tablet-judge-sheet-certified")
	b.noProblems()
}
