package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// apiLogin signs in through the JSON API and returns the bearer token.
func (e *env) apiLogin(email string) string {
	e.t.Helper()
	status, body := e.api("POST", "/api/v1/auth/login", "", map[string]string{"tenant": e.night.slug, "email": email, "password": testPassword})
	require.Equal(e.t, http.StatusOK, status, body)
	var s struct{ Token string }
	require.NoError(e.t, json.Unmarshal([]byte(body), &s))
	return s.Token
}

func (e *env) api(method, path, token string, body any) (int, string) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(e.t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	require.NoError(e.t, err)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// scoreAs enters a judge's whole sheet through the API: rows[contestant] = scores per criterion.
func (e *env) scoreAs(token string, rows [][]float64) {
	e.t.Helper()
	var items []map[string]any
	for k, row := range rows {
		for c, v := range row {
			items = append(items, map[string]any{"contestant_id": e.night.contestants[k], "criterion_id": e.night.criteria[c], "score": v})
		}
	}
	status, body := e.api("PUT", "/api/v1/categories/"+e.night.categoryID+"/scores", token, map[string]any{"scores": items})
	require.Equal(e.t, http.StatusOK, status, body)
}

// The event night end to end in three browsers: a judge scores on a phone while the tally master's
// board follows without a reload; deductions; certification in order through the buttons (tally
// master, auditor, board); the emcee's reveal only after BOARD, with a tie shown as a tie; the
// contestant sees only certified results; the board withdraws with a reason.
func TestBoardFollowsLiveAndCertifiesInOrder(t *testing.T) {
	e := newEnv(t, true)
	n := e.buildNight("gala", 3, []string{"10", "10"}, 3, "OLYMPIC")
	cat := n.categoryID
	board := newBrowser(t, 1440, 900)
	board.signIn(e.srv.URL, "gala", "tally_master@gala.test", testPassword, "#category-list")
	board.do(chromedp.Navigate(e.srv.URL+"/categories/"+cat+"/board"), chromedp.WaitVisible(chromedp.ID("results")))
	board.until(`document.getElementById('live-banner').dataset.live === '1'`, 15*time.Second, "the board is live")
	_ = eval[bool](board, `window.stayed = true`)

	// The judge scores on a phone: one card at a time, Enter to the next cell and the next card.
	phone := newBrowser(t, 390, 844)
	phone.do(chromedp.Navigate(e.srv.URL+"/judge"), chromedp.WaitVisible(chromedp.ID("signin-form")))
	phone.screenshot("phone-sign-in")
	phone.signIn(e.srv.URL, "gala", "judge1@gala.test", testPassword, "#my-categories")
	phone.screenshot("phone-judge-categories")
	phone.do(chromedp.Click(chromedp.CSS("#my-categories a")), chromedp.WaitVisible(chromedp.ID("s-1-0")))
	phone.sheetReady()
	require.False(t, eval[bool](phone, `document.getElementById('card-nav').hidden`), "phone layout shows the card navigation")
	require.True(t, eval[bool](phone, `getComputedStyle(document.getElementById('row-2')).display === 'none'`), "one card at a time")
	phone.do(chromedp.Focus(chromedp.ID("s-1-0")), chromedp.KeyEvent("8\r8\r"))
	phone.until(`document.getElementById('row-1').dataset.state === 'saved' && document.activeElement.id === 's-2-0'`, 15*time.Second, "card 1 saved, card 2 shown")
	// The board shows it without a reload.
	board.until(`document.querySelector('#judges li').textContent.includes('2/6 scores')`, 10*time.Second, "the board shows judge 1's progress")
	board.until(`document.querySelector('#results tbody').textContent.includes('16')`, 10*time.Second, "the board shows judge 1's total")
	phone.do(chromedp.KeyEvent("7\r7\r"))
	phone.until(`document.getElementById('row-2').dataset.state === 'saved'`, 15*time.Second, "card 2 saved")
	phone.do(chromedp.KeyEvent("9\r9"))
	phone.screenshot("phone-judge-scoresheet")
	phone.do(chromedp.KeyEvent("\r"))
	phone.until(`document.getElementById('row-3').dataset.state === 'saved'`, 15*time.Second, "card 3 saved")
	board.until(`document.querySelector('#judges li').textContent.includes('6/6 scores')`, 10*time.Second, "the board shows judge 1 done")
	require.True(t, eval[bool](board, `window.stayed === true`), "the board was not reloaded")

	// Judges 2 and 3 through the API; OLYMPIC keeps each contestant's middle judge total:
	// A {16,12,18} -> 16, B {14,16,18} -> 16, C {18,10,17} -> 17.
	j2, j3 := e.apiLogin("judge2@gala.test"), e.apiLogin("judge3@gala.test")
	e.scoreAs(j2, [][]float64{{6, 6}, {8, 8}, {5, 5}})
	e.scoreAs(j3, [][]float64{{9, 9}, {9, 9}, {9, 8}})
	board.until(`document.querySelectorAll('#results tbody s').length === 6`, 10*time.Second, "two dropped totals per contestant, struck through")

	// The tally master's deduction: C 17 - 0.5 = 16.5, first; A and B tie for second.
	board.do(
		chromedp.SetValue(chromedp.ID("ded-contestant"), n.contestants[2]),
		chromedp.SendKeys(chromedp.ID("ded-amount"), "0.5"),
		chromedp.SendKeys(chromedp.ID("ded-reason"), "Over time"),
		chromedp.Click(chromedp.ID("ded-button")),
	)
	board.until(`document.getElementById('deductions').textContent.includes('Over time')`, 10*time.Second, "deduction listed")
	board.until(`(() => { const r = Array.from(document.querySelectorAll('#results tbody tr')).map((tr) => tr.cells[0].textContent + ' ' + tr.cells[2].textContent + ' ' + tr.lastChild.textContent); return r.join('|') === '1 Singer C 16.5|=2 Singer A 16|=2 Singer B 16'; })()`,
		10*time.Second, "ranks with the tie and the deduction")

	// Before any certification: no reveal for the emcee, nothing for the contestant.
	stage := newBrowser(t, 390, 844)
	stage.signIn(e.srv.URL, "gala", "emcee@gala.test", testPassword, "#category-list")
	stage.do(chromedp.Navigate(e.srv.URL+"/categories/"+cat+"/emcee"), chromedp.WaitVisible(chromedp.ID("running-order")))
	require.True(t, eval[bool](stage, `!!document.getElementById('not-certified') && !document.getElementById('reveal')`))
	require.NotContains(t, eval[string](stage, `document.body.innerHTML`), "16.5", "no result in the page before BOARD")
	stage.screenshot("phone-emcee-running-order")
	c := e.client()
	e.signIn(c, "contestant@gala.test")
	_, body := e.get(c, "/results")
	require.Contains(t, body, "Not certified yet")
	require.NotContains(t, body, "Final score")

	// The tally master's button waits for the judges.
	board.until(`document.getElementById('certify-step').hidden && document.getElementById('next-step-text').textContent.includes('Judge 1')`, 5*time.Second, "waiting for judges")
	for _, tok := range []string{j2, j3} {
		status, body := e.api("POST", "/api/v1/categories/"+cat+"/certification", tok, map[string]string{"step": "JUDGE"})
		require.Equal(t, http.StatusCreated, status, body)
	}
	phone.until(`!document.getElementById('certify-button').disabled`, 10*time.Second, "judge may certify")
	phone.do(chromedp.Click(chromedp.ID("certify-button")), chromedp.Click(chromedp.ID("certify-confirm")), chromedp.WaitVisible(chromedp.ID("certified-note")))

	certify := func(b *browser, step string) {
		t.Helper()
		b.until(fmt.Sprintf(`!document.getElementById('certify-step').hidden && document.getElementById('certify-step').dataset.step === '%s'`, step), 10*time.Second, "button for "+step)
		b.do(chromedp.Click(chromedp.ID("certify-step")), chromedp.Click(chromedp.ID("confirm-yes")))
		b.until(fmt.Sprintf(`document.getElementById('steps').textContent.includes('%s ✓')`, map[string]string{"TALLY_MASTER": "tally master", "AUDITOR": "auditor", "BOARD": "board"}[step]), 10*time.Second, step+" certified")
	}
	certify(board, "TALLY_MASTER")
	board.screenshot("board-desktop")
	board.do(chromedp.EmulateViewport(390, 844))
	board.screenshot("phone-board")
	board.do(chromedp.EmulateViewport(1440, 900))
	switchUser := func(b *browser, email string) {
		t.Helper()
		b.do(chromedp.Click(chromedp.CSS(".signout button")), chromedp.WaitVisible(chromedp.ID("signin-form")))
		b.signIn(e.srv.URL, "gala", email, testPassword, "#category-list")
		b.do(chromedp.Navigate(e.srv.URL+"/categories/"+cat+"/board"), chromedp.WaitVisible(chromedp.ID("results")))
	}
	switchUser(board, "auditor@gala.test")
	require.True(t, eval[bool](board, `document.getElementById('deduction-form').hidden`), "no deductions after the tally master")
	certify(board, "AUDITOR")
	// Still no reveal after AUDITOR.
	stage.do(chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("running-order")))
	require.True(t, eval[bool](stage, `!document.getElementById('reveal')`))
	switchUser(board, "board@gala.test")
	certify(board, "BOARD")
	require.Equal(t, 1, e.count(`SELECT count(*) FROM category_certifications WHERE step = 'BOARD' AND revoked_at IS NULL`))

	// The reveal: last place first, the tie said as a tie.
	stage.do(chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("reveal")))
	require.Equal(t, 0, eval[int](stage, `document.querySelectorAll('#places .place:not([hidden])').length`))
	stage.do(chromedp.Click(chromedp.ID("reveal-next")))
	require.Equal(t, "Tie for second place", eval[string](stage, `document.querySelector('#places .place:not([hidden]) .big').textContent`))
	require.Contains(t, eval[string](stage, `document.querySelector('#places .place:not([hidden])').textContent`), "Singer B")
	stage.do(chromedp.Click(chromedp.ID("reveal-next")))
	require.Contains(t, eval[string](stage, `document.querySelectorAll('#places .place:not([hidden])')[1].textContent`), "First place")
	stage.screenshot("phone-emcee-reveal")

	// The contestant (Singer A) sees their own certified line only.
	stage.do(chromedp.Click(chromedp.CSS(".signout button")), chromedp.WaitVisible(chromedp.ID("signin-form")))
	stage.signIn(e.srv.URL, "gala", "contestant@gala.test", testPassword, "#my-results")
	text := eval[string](stage, `document.getElementById('my-results').textContent`)
	require.Contains(t, text, "Tied for second place of 3")
	require.Contains(t, text, "Final score 16")
	require.NotContains(t, text, "Singer B")
	stage.screenshot("phone-contestant-results")

	// The board withdraws its certification with a reason.
	board.do(chromedp.SendKeys(chromedp.ID("revoke-reason"), "Wrong sheet for judge 2"), chromedp.Click(chromedp.ID("revoke-button")), chromedp.Click(chromedp.ID("confirm-yes")))
	board.until(`!document.getElementById('steps').textContent.includes('board ✓')`, 10*time.Second, "BOARD withdrawn")
	require.Equal(t, 1, e.count(`SELECT count(*) FROM category_certifications WHERE step = 'BOARD' AND revoke_reason = 'Wrong sheet for judge 2'`))

	for _, b := range []*browser{board, phone, stage} {
		b.noProblems()
	}
}
