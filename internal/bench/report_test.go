package bench_test

import (
	"bytes"
	"encoding/xml"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/bench"
	"github.com/stretchr/testify/require"
)

// overloadRows are rows of the overload scenario: a clean one at 50 and one at 1000 with the
// given figures.
func overloadRows(lowRPS, highRPS, maxMS, rss float64, errs map[string]int) []bench.Row {
	return []bench.Row{
		{Scenario: "overload", Endpoint: "events", Mode: bench.ModeAPI, Concurrency: 50, Requests: 1000, RPS: lowRPS, MaxMS: 50, ServerPeakRSSMB: 30},
		{Scenario: "overload", Endpoint: "events", Mode: bench.ModeAPI, Concurrency: 1000, Requests: 1000, RPS: highRPS,
			MaxMS: maxMS, ServerPeakRSSMB: rss, Errors: errs},
	}
}

func TestCheckOverload(t *testing.T) {
	t.Parallel()
	const poolTimeout = 2 * time.Second
	cases := []struct {
		name   string
		rows   []bench.Row
		broken string // "" when every property holds
	}{
		{"holds", overloadRows(1000, 850, 2900, 90, map[string]int{"503 DB_POOL_TIMEOUT": 10}), ""},
		{"500", overloadRows(1000, 900, 100, 90, map[string]int{"500 INTERNAL": 1}), `"500 INTERNAL"`},
		{"503 without Retry-After", overloadRows(1000, 900, 100, 90, map[string]int{"503 DB_POOL_TIMEOUT without Retry-After": 1}), "without Retry-After"},
		{"transport error", overloadRows(1000, 900, 100, 90, map[string]int{"transport: connection reset by peer": 1}), "transport"},
		{"slow request", overloadRows(1000, 900, 3100, 90, nil), "slowest request took 3100 ms"},
		{"memory", overloadRows(1000, 900, 100, 200, nil), "peak RSS 200 MB"},
		{"collapse", overloadRows(1000, 790, 100, 90, nil), "throughput collapsed: at concurrency 1000 it is 79%"},
		{"missing rows", overloadRows(1000, 900, 100, 90, nil)[:1], "missing"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := bench.CheckOverload(c.rows, poolTimeout)
			if c.broken == "" {
				require.True(t, res.Holds(), res.Problems())
				return
			}
			require.False(t, res.Holds())
			require.NotEmpty(t, res.Problems())
			require.Contains(t, res.Problems()[0], c.broken)
		})
	}
}

func TestFillRatiosAndTable(t *testing.T) {
	t.Parallel()
	rows := []bench.Row{
		{Scenario: "read", Endpoint: "events", Mode: bench.ModeAPI, Concurrency: 50, RPS: 600, Requests: 6000, P95MS: 30},
		{Scenario: "read", Endpoint: "events", Mode: bench.ModeCeiling, Concurrency: 50, RPS: 1000, Requests: 10000, P95MS: 20},
		{Scenario: "read", Endpoint: "events", Mode: bench.ModeAPI, Concurrency: 10, RPS: 500, Requests: 5000, P95MS: 8,
			Errors: map[string]int{"503 DB_POOL_TIMEOUT": 3, "500 INTERNAL": 7}, Failed: 10},
	}
	bench.FillRatios(rows)
	require.InDelta(t, 0.6, rows[0].CeilingRatio, 1e-9)
	require.Zero(t, rows[2].CeilingRatio, "no ceiling at concurrency 10")
	var b bytes.Buffer
	require.NoError(t, bench.WriteTable(&b, rows))
	require.Contains(t, b.String(), "0.60")
	require.Contains(t, b.String(), "500 INTERNAL: 7, 503 DB_POOL_TIMEOUT: 3")

	var svg bytes.Buffer
	require.NoError(t, bench.WriteChart(&svg, rows))
	require.NoError(t, xml.Unmarshal(svg.Bytes(), new(struct{})), "the chart is well-formed XML")
	require.Equal(t, 4, strings.Count(svg.String(), "<polyline"), "API and ceiling lines in both panels")
}

func TestReadUsage(t *testing.T) {
	t.Parallel()
	u, err := bench.ReadUsage(os.Getpid())
	require.NoError(t, err)
	require.Positive(t, u.PeakRSS)
	require.Positive(t, u.CPU)
}

// Medians groups the rounds' rows by scenario, endpoint, mode, driver and concurrency, in their
// first order, with the median of each figure (the mean of the middle two for an even count).
func TestMedians(t *testing.T) {
	t.Parallel()
	row := func(mode string, round int, rps, ratio float64) bench.Row {
		return bench.Row{Scenario: "read", Endpoint: "events", Mode: mode, Concurrency: 50, Round: round, Requests: 10,
			RPS: rps, P99MS: rps / 100, CeilingRatio: ratio, Errors: map[string]int{}}
	}
	rows := []bench.Row{
		row(bench.ModeAPI, 1, 300, 0.3), row(bench.ModeCeiling, 1, 1000, 0),
		row(bench.ModeAPI, 2, 500, 0.5), row(bench.ModeCeiling, 2, 1000, 0),
		row(bench.ModeAPI, 3, 100, 0.2), row(bench.ModeCeiling, 3, 500, 0),
	}
	rows[5].Failed, rows[5].Errors = 2, map[string]int{"503 DB_POOL_TIMEOUT": 2}
	m := bench.Medians(rows)
	require.Len(t, m, 2)
	require.Equal(t, bench.ModeAPI, m[0].Mode)
	require.Equal(t, 300.0, m[0].RPS)
	require.Equal(t, 3.0, m[0].P99MS)
	require.Equal(t, 0.3, m[0].CeilingRatio, "the median of the rounds' ratios")
	require.EqualValues(t, 30, m[0].Requests)
	require.Equal(t, bench.ModeCeiling, m[1].Mode)
	require.Equal(t, 1000.0, m[1].RPS)
	require.EqualValues(t, 2, m[1].Failed)
	require.Equal(t, map[string]int{"503 DB_POOL_TIMEOUT": 2}, m[1].Errors)
	require.Equal(t, 750.0, bench.Medians(rows[3:])[0].RPS, "even count: mean of the middle two")
}
