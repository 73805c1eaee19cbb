package web_test

import (
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkScoresheetPage measures the judge's scoresheet page of 40 contestants × 6 criteria,
// every cell filled, through the whole server (cookie check, sheet query, template): time per page
// with its 95th percentile, and the page's weight (HTML, then HTML with its script and style sheet).
//
//	go test -run '^$' -bench ScoresheetPage -benchtime 2000x ./internal/web/
func BenchmarkScoresheetPage(b *testing.B) {
	e := newEnv(b, false)
	n := e.buildNight("bench", 40, []string{"10", "10", "10", "10", "10", "5"}, 1, "")
	rows := make([][]float64, len(n.contestants))
	for k := range rows {
		rows[k] = []float64{7.5, 8, 6.25, 9, 5, 4.5}
	}
	tok := e.apiLogin("judge1@bench.test")
	e.scoreAs(tok, rows)
	c := e.client()
	e.signIn(c, "judge1@bench.test")
	url := e.srv.URL + "/judge/categories/" + n.categoryID
	page := func() []byte {
		resp, err := c.Get(url)
		require.NoError(b, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(b, err)
		require.Equal(b, http.StatusOK, resp.StatusCode)
		return body
	}
	html := page()
	weight := len(html)
	for _, asset := range []string{"scoresheet.js", "app.css", "favicon.svg"} {
		resp, err := http.Get(e.srv.URL + assetPath(b, string(html), asset))
		require.NoError(b, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		weight += len(body)
	}
	var times []time.Duration
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		page()
		times = append(times, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)*95/100].Microseconds())/1000, "p95-ms")
	b.ReportMetric(float64(len(html)), "html-bytes")
	b.ReportMetric(float64(weight), "page-bytes")
}
