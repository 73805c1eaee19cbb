package api

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/health"
	"github.com/eventmanager/eventmanager/internal/metrics"
	"github.com/eventmanager/eventmanager/internal/statuspage"
)

// statusHealthTTL is how long the status data reuses a health report. The checks run catalogue
// queries; every open page polls every 2 s, and they should not each cost a full run.
const statusHealthTTL = 5 * time.Second

// statusHealthTimeout bounds one run of the checks, so that a page waits at most that long for
// a database that does not answer.
const statusHealthTimeout = 10 * time.Second

func (s *Server) statusFile(w http.ResponseWriter, r *http.Request) error {
	if !statuspage.Serve(w, r.PathValue("file")) {
		return &Error{Status: http.StatusNotFound, Code: "NOT_FOUND", Message: "no such route"}
	}
	return nil
}

// statusSnapshot is what the page draws: gauges as of now, counters since start (the page turns
// two snapshots into rates), latencies of the rolling window and the (cached) health report.
type statusSnapshot struct {
	Time     time.Time          `json:"time"`
	Pool     poolSnapshot       `json:"pool"`
	Latency  []classLatency     `json:"latency"`
	Requests metrics.HTTPTotals `json:"requests"`
	Health   health.Report      `json:"health"`
}

type poolSnapshot struct {
	Acquired     int32   `json:"acquired"`
	Idle         int32   `json:"idle"`
	Total        int32   `json:"total"`
	Max          int32   `json:"max"`
	Utilisation  float64 `json:"utilisation"` // acquired / max
	AcquireCount int64   `json:"acquire_count"`
	// Time spent getting the connections handed out, waits included; the difference between two
	// snapshots over the difference of acquire_count is the mean acquire wait of the interval.
	AcquireSeconds float64 `json:"acquire_seconds"`
	WaitedCount    int64   `json:"waited_count"` // acquires that found no idle connection
	Canceled       int64   `json:"canceled_acquires"`
}

type classLatency struct {
	Class    string  `json:"class"`
	Count    uint64  `json:"count"`
	Timeouts uint64  `json:"timeouts"`
	P50      float64 `json:"p50_ms"`
	P95      float64 `json:"p95_ms"`
	P99      float64 `json:"p99_ms"`
}

type statusData struct {
	server *Server
	health *healthCache
}

func (d *statusData) serve(w http.ResponseWriter, r *http.Request) error {
	s := d.server
	p := s.health.PoolStats()
	snap := statusSnapshot{
		Time: time.Now().UTC(),
		Pool: poolSnapshot{
			Acquired: p.AcquiredConnections, Idle: p.IdleConnections, Total: p.TotalConnections, Max: p.MaxConnections,
			Utilisation: p.Utilisation, AcquireCount: p.AcquiresTotal, AcquireSeconds: p.AcquireSecondsTotal,
			WaitedCount: p.EmptyAcquiresTotal, Canceled: p.CanceledAcquiresTotal,
		},
		Latency: []classLatency{},
		Health:  d.health.get(r.Context()),
	}
	for _, c := range db.Classes() {
		l := classLatency{Class: c.String()}
		if s.queryWindow != nil {
			m := s.queryWindow.Latency(c)
			l.Count, l.Timeouts, l.P50, l.P95, l.P99 = m.Count, m.Timeouts, millis(m.P50), millis(m.P95), millis(m.P99)
		}
		snap.Latency = append(snap.Latency, l)
	}
	if s.httpMetrics != nil {
		snap.Requests = s.httpMetrics.Totals()
	}
	writeJSON(w, http.StatusOK, snap)
	return nil
}

func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// healthCache runs the checks at most once per ttl, whatever the number of pages polling. A caller
// that finds the report stale runs the checks while the others wait for its result.
type healthCache struct {
	checker *health.Checker
	ttl     time.Duration
	now     func() time.Time

	mu     sync.Mutex
	report health.Report
	at     time.Time
}

func (c *healthCache) get(ctx context.Context) health.Report {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() && c.now().Sub(c.at) < c.ttl {
		return c.report
	}
	// The report is shared: a caller that goes away must not leave a report of cancelled checks.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), statusHealthTimeout)
	defer cancel()
	c.report = c.checker.Run(ctx)
	c.at = c.now()
	return c.report
}
