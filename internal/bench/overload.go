package bench

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Overload figures: with a small pool far below the concurrency, the service must stay answerable
// (fast 503s with Retry-After, no 5xx of another kind) and keep its throughput.
const (
	OverloadConnectionLimit = 10
	OverloadLow             = 50
	OverloadHigh            = 1000
	// OverloadRSSLimitMB is the peak RSS the server may reach at OverloadHigh.
	OverloadRSSLimitMB = 200
	// OverloadMinRatio is the share of its throughput at OverloadLow that the server must keep at
	// OverloadHigh.
	OverloadMinRatio = 0.8
	// overloadSlack is what a request may take beyond pool_timeout: answering and queueing in the
	// HTTP server and the client.
	overloadSlack = time.Second
)

// OverloadResult is the verdict on the overload scenario's rows.
type OverloadResult struct {
	// Broken lists the properties that must hold in every run and do not: every answer a 2xx or a
	// 503 DB_POOL_TIMEOUT with Retry-After, no request slower than pool_timeout + 1 s, the
	// server's peak RSS under 200 MB (when measured), some request served at each concurrency.
	Broken []string
	// Ratio is the throughput at OverloadHigh over that at OverloadLow; it must be at least
	// OverloadMinRatio (no collapse). It is kept apart because, unlike the others, it also
	// measures the machine: on a shared machine a neighbour's burst during one step moves it.
	Ratio float64
}

// Holds reports whether every property holds, the throughput ratio included.
func (o OverloadResult) Holds() bool { return len(o.Broken) == 0 && o.Ratio >= OverloadMinRatio }

// Problems lists every broken property, the throughput ratio included.
func (o OverloadResult) Problems() []string {
	p := slices.Clone(o.Broken)
	if o.Ratio < OverloadMinRatio {
		p = append(p, fmt.Sprintf("throughput collapsed: at concurrency %d it is %.0f%% of that at %d (at least %.0f%% required)",
			OverloadHigh, 100*o.Ratio, OverloadLow, 100*OverloadMinRatio))
	}
	return p
}

// CheckOverload judges the overload scenario's API rows at OverloadLow and OverloadHigh against a
// server whose pool_timeout is poolTimeout.
func CheckOverload(rows []Row, poolTimeout time.Duration) OverloadResult {
	var low, high *Row
	for i, r := range rows {
		if r.Scenario != "overload" || r.Mode != ModeAPI {
			continue
		}
		switch r.Concurrency {
		case OverloadLow:
			low = &rows[i]
		case OverloadHigh:
			high = &rows[i]
		}
	}
	if low == nil || high == nil {
		return OverloadResult{Broken: []string{fmt.Sprintf("overload rows at concurrency %d and %d are missing", OverloadLow, OverloadHigh)}}
	}
	var res OverloadResult
	for _, r := range []*Row{low, high} {
		for kind, n := range r.Errors {
			if kind != "503 DB_POOL_TIMEOUT" {
				res.Broken = append(res.Broken, fmt.Sprintf("concurrency %d: %d answers %q (only 2xx and 503 DB_POOL_TIMEOUT with Retry-After are allowed)", r.Concurrency, n, kind))
			}
		}
		if limit := poolTimeout + overloadSlack; r.MaxMS > float64(limit.Milliseconds()) {
			res.Broken = append(res.Broken, fmt.Sprintf("concurrency %d: slowest request took %.0f ms, more than pool_timeout + 1 s (%s)", r.Concurrency, r.MaxMS, limit))
		}
		if r.ServerPeakRSSMB >= OverloadRSSLimitMB {
			res.Broken = append(res.Broken, fmt.Sprintf("concurrency %d: server peak RSS %.0f MB, not under %d MB", r.Concurrency, r.ServerPeakRSSMB, OverloadRSSLimitMB))
		}
		if r.Requests == r.Failed {
			res.Broken = append(res.Broken, fmt.Sprintf("concurrency %d: no request succeeded", r.Concurrency))
		}
	}
	if low.RPS > 0 {
		res.Ratio = high.RPS / low.RPS
	}
	return res
}

// OverloadVerdict is a one-line summary of CheckOverload's result.
func OverloadVerdict(o OverloadResult) string {
	if o.Holds() {
		return fmt.Sprintf("overload: every property holds (throughput at %d is %.0f%% of that at %d)", OverloadHigh, 100*o.Ratio, OverloadLow)
	}
	return "overload: BROKEN\n  " + strings.Join(o.Problems(), "\n  ")
}
