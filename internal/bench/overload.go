package bench

import (
	"fmt"
	"strings"
	"time"
)

// Overload figures of issue 7: with a small pool far below the concurrency, the service stays
// answerable and keeps its throughput.
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

// CheckOverload returns the overload properties that rows (the overload scenario's API rows at
// OverloadLow and OverloadHigh) break; none when they hold. Every answer must be a 2xx or a 503
// DB_POOL_TIMEOUT with Retry-After, no request may take longer than poolTimeout + 1 s, the
// server's peak RSS must stay under 200 MB (when measured), and the throughput at OverloadHigh
// must be at least 80 % of that at OverloadLow.
func CheckOverload(rows []Row, poolTimeout time.Duration) []string {
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
		return []string{fmt.Sprintf("overload rows at concurrency %d and %d are missing", OverloadLow, OverloadHigh)}
	}
	var broken []string
	for _, r := range []*Row{low, high} {
		for kind, n := range r.Errors {
			if kind != "503 DB_POOL_TIMEOUT" {
				broken = append(broken, fmt.Sprintf("concurrency %d: %d answers %q (only 2xx and 503 DB_POOL_TIMEOUT with Retry-After are allowed)", r.Concurrency, n, kind))
			}
		}
		if limit := poolTimeout + overloadSlack; r.MaxMS > float64(limit.Milliseconds()) {
			broken = append(broken, fmt.Sprintf("concurrency %d: slowest request took %.0f ms, more than pool_timeout + 1 s (%s)", r.Concurrency, r.MaxMS, limit))
		}
		if r.ServerPeakRSSMB >= OverloadRSSLimitMB {
			broken = append(broken, fmt.Sprintf("concurrency %d: server peak RSS %.0f MB, not under %d MB", r.Concurrency, r.ServerPeakRSSMB, OverloadRSSLimitMB))
		}
		if r.Requests == r.Failed {
			broken = append(broken, fmt.Sprintf("concurrency %d: no request succeeded", r.Concurrency))
		}
	}
	if low.RPS > 0 && high.RPS < OverloadMinRatio*low.RPS {
		broken = append(broken, fmt.Sprintf("throughput collapsed: %.0f req/s at %d is %.0f%% of %.0f req/s at %d (at least %.0f%% required)",
			high.RPS, OverloadHigh, 100*high.RPS/low.RPS, low.RPS, OverloadLow, 100*OverloadMinRatio))
	}
	return broken
}

// OverloadVerdict is a one-line summary of CheckOverload's result.
func OverloadVerdict(broken []string) string {
	if len(broken) == 0 {
		return "overload: every property holds"
	}
	return "overload: BROKEN\n  " + strings.Join(broken, "\n  ")
}
