package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventmanager/eventmanager/internal/db"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Step is one measurement: a workload at a concurrency, for a duration or a number of requests.
type Step struct {
	Scenario    string
	Workload    Workload
	Concurrency int
	Duration    time.Duration // 0 with Requests set
	Requests    uint64        // 0: as many as fit in Duration
	// ServerPID, when set, is the server process whose CPU and peak RSS the API rows report.
	ServerPID int
}

// requestTimeout is the HTTP client's limit: far above any answer the service should give, so
// that slow answers are measured rather than cut.
const requestTimeout = 60 * time.Second

// pacer is a closed loop: the next request leaves as soon as one of the Concurrency workers is
// free (vegeta's zero rate with a fixed number of workers), until the duration or the request
// count is reached.
type pacer struct{ max uint64 }

func (p pacer) Pace(_ time.Duration, hits uint64) (time.Duration, bool) {
	return 0, p.max > 0 && hits >= p.max
}

func (p pacer) Rate(time.Duration) float64 { return 0 }

// tally collects the results of one row: vegeta's metrics (latency quantiles) and the failures
// by kind.
type tally struct {
	metrics vegeta.Metrics
	errs    map[string]int
	window  window
	// steady counts the successes that ended inside the window.
	steady uint64
}

// window is the steady part of a timed step, over which throughput is counted: after the first
// second (or fifth of the step), when the connections are open, and before the end of the
// step, after which the closed loop no longer refills and the last requests drain. A step of a
// fixed number of requests (runbook) counts over its whole wall time instead.
type window struct{ from, to time.Time }

func stepWindow(s Step, start time.Time) window {
	if s.Duration <= 0 {
		return window{}
	}
	warm := min(time.Second, s.Duration/5)
	return window{from: start.Add(warm), to: start.Add(s.Duration)}
}

func (w window) length() time.Duration { return w.to.Sub(w.from) }

func (t *tally) add(r *vegeta.Result, failure string) {
	if failure != "" {
		t.errs[failure]++
	} else if end := r.End(); !t.window.from.IsZero() && !end.Before(t.window.from) && !end.After(t.window.to) {
		t.steady++
	}
	t.metrics.Add(r)
}

func newTally(w window) *tally { return &tally{errs: map[string]int{}, window: w} }

// maxBody is how much of an answer the load generator keeps: enough for an error envelope's code
// (all a failure needs), not the 2xx bodies, whose copies would cost the generator CPU that the
// server shares on this machine; the rest of each body is still read and discarded.
const maxBody = 1 << 10

// RunHTTP runs the step against the API at base and returns its rows (one, or two for mixed).
func RunHTTP(ctx context.Context, base string, s Step) ([]Row, error) {
	var seq atomic.Uint64
	targeter := func(t *vegeta.Target) error {
		s.Workload.Target(seq.Add(1)-1, base, t)
		return nil
	}
	c := uint64(s.Concurrency)
	atk := vegeta.NewAttacker(vegeta.Workers(c), vegeta.MaxWorkers(c), vegeta.Connections(s.Concurrency),
		vegeta.Timeout(requestTimeout), vegeta.KeepAlive(true), vegeta.MaxBody(maxBody))
	before, usageErr := usageStart(s.ServerPID)
	self, selfErr := ReadUsage(os.Getpid())
	tallies := map[string]*tally{}
	start := time.Now()
	win := stepWindow(s, start)
	results := atk.Attack(targeter, pacer{max: s.Requests}, s.Duration, s.Scenario)
	stop := context.AfterFunc(ctx, func() { atk.Stop() })
	defer stop()
	for r := range results {
		row := s.Workload.Name
		if s.Workload.Name == EndpointMixed {
			row = EndpointMixedRead
			if r.Method == http.MethodPut {
				row = EndpointMixedWrite
			}
		}
		t := tallies[row]
		if t == nil {
			t = newTally(win)
			tallies[row] = t
		}
		kind := httpFailure(r)
		r.Body = nil
		t.add(r, kind)
	}
	wall := time.Since(start)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rows := rowsOf(s, ModeAPI, tallies, wall)
	for i := range rows {
		rows[i].Driver = DriverVegeta
	}
	setBenchCPU(rows, self, selfErr)
	if err := setServerUsage(rows, s.ServerPID, before, usageErr); err != nil {
		return nil, err
	}
	return rows, nil
}

// setServerUsage records the server's CPU since before and its peak RSS on every row of a step,
// when its pid is known.
func setServerUsage(rows []Row, pid int, before startUsage, usageErr error) error {
	if pid <= 0 || usageErr != nil {
		return nil
	}
	after, err := ReadUsage(pid)
	if err != nil {
		return fmt.Errorf("server process %d: %w", pid, err)
	}
	for i := range rows {
		rows[i].ServerCPUCores = Cores(before.Usage, after)
		rows[i].ServerPeakRSSMB = float64(after.PeakRSS) / (1 << 20)
		rows[i].PeakRSSStep = before.reset
	}
	return nil
}

type startUsage struct {
	Usage
	reset bool
}

func usageStart(pid int) (startUsage, error) {
	if pid <= 0 {
		return startUsage{}, fmt.Errorf("no server pid")
	}
	reset := ResetPeakRSS(pid)
	u, err := ReadUsage(pid)
	return startUsage{Usage: u, reset: reset}, err
}

// httpFailure names what went wrong with a request, or "" for a 2xx. Error answers are named by
// status and code; a 503 without Retry-After is told apart, since the service promises one.
func httpFailure(r *vegeta.Result) string {
	switch {
	case r.Code == 0:
		msg := r.Error
		if i := strings.LastIndex(msg, ": "); i >= 0 {
			msg = msg[i+2:]
		}
		return "transport: " + msg
	case r.Code >= 200 && r.Code < 300:
		return ""
	}
	var body struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &body)
	kind := fmt.Sprintf("%d %s", r.Code, body.Error.Code)
	if r.Code == http.StatusServiceUnavailable && r.Headers.Get("Retry-After") == "" {
		kind += " without Retry-After"
	}
	return kind
}

// RunCeiling makes the step's store call alone (Workload.Call) directly, from Concurrency
// goroutines in a closed loop, through the store's pool: the same SQL and tenant setting as the
// API, without HTTP and without the token check. Latencies go through vegeta's metrics like the
// API's.
func RunCeiling(ctx context.Context, s Step) ([]Row, error) { return runCeiling(ctx, s, ModeCeiling) }

// RunCeilingToken is RunCeiling with the token check (Workload.Check) before each call, as the
// API makes it: two round trips per request.
func RunCeilingToken(ctx context.Context, s Step) ([]Row, error) {
	return runCeiling(ctx, s, ModeCeilingToken)
}

func runCeiling(ctx context.Context, s Step, mode string) ([]Row, error) {
	var (
		seq     atomic.Uint64
		mu      sync.Mutex
		tallies = map[string]*tally{}
		wg      sync.WaitGroup
	)
	self, selfErr := ReadUsage(os.Getpid())
	start := time.Now()
	deadline := start.Add(s.Duration)
	win := stepWindow(s, start)
	for range s.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := seq.Add(1) - 1
				if s.Requests > 0 && i >= s.Requests || s.Requests == 0 && time.Now().After(deadline) {
					return
				}
				// Like an HTTP request: the query's pool wait counts against one pool_timeout.
				rctx := db.WithRequestID(ctx, fmt.Sprintf("bench-%d", i))
				t0 := time.Now()
				var err error
				row := s.Workload.Name
				if mode == ModeCeilingToken {
					err = s.Workload.Check(rctx, i)
				}
				if err == nil {
					row, err = s.Workload.Call(rctx, i)
				}
				res := &vegeta.Result{Timestamp: t0, Latency: time.Since(t0), Code: http.StatusOK}
				mu.Lock()
				t := tallies[row]
				if t == nil {
					t = newTally(win)
					tallies[row] = t
				}
				kind := ""
				if err != nil {
					res.Code = 0
					res.Error = err.Error()
					kind = errorKind(err)
				}
				t.add(res, kind)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rows := rowsOf(s, mode, tallies, time.Since(start))
	setBenchCPU(rows, self, selfErr)
	return rows, nil
}

// setBenchCPU records the bench process's CPU since before on every row of a step.
func setBenchCPU(rows []Row, before Usage, err error) {
	if err != nil {
		return
	}
	if after, err := ReadUsage(os.Getpid()); err == nil {
		for i := range rows {
			rows[i].BenchCPUCores = Cores(before, after)
		}
	}
}

// rowsOf turns the tallies into rows, in a fixed order.
func rowsOf(s Step, mode string, tallies map[string]*tally, wall time.Duration) []Row {
	var rows []Row
	for _, name := range []string{EndpointEvents, EndpointEventsArchived, EndpointResults, EndpointScoresheet, EndpointMixedRead, EndpointMixedWrite,
		EndpointMixed /* a mixed request whose token check failed, before it was a read or a write */} {
		t := tallies[name]
		if t == nil {
			continue
		}
		r := rowFrom(t, wall)
		r.Scenario, r.Endpoint, r.Mode, r.Concurrency = s.Scenario, name, mode, s.Concurrency
		rows = append(rows, r)
	}
	return rows
}
