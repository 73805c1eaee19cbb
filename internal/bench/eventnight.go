package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/health"
	"github.com/google/uuid"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// The event-night scenario: judges write rows of their scoresheets through the API the judge's
// page uses (PUT scores with an Idempotency-Key, one contestant per request, one request at a
// time per judge) while boards follow the judges' categories over server-sent events. It
// measures the writes, and the time from a write's acknowledgement to the event's arrival on
// every board of the category.

// EventNight limits checked by the scenario (the figures for 1 000 boards on one instance).
const (
	EventNightMaxP99     = time.Second
	EventNightMaxRSSMB   = 200
	eventNightOpenAtOnce = 50 // streams opened concurrently, so that opening 1 000 is not a storm
	eventNightDrain      = 3 * time.Second
)

// EventNightOptions configure RunEventNight.
type EventNightOptions struct {
	Writers    []Writer
	AdminToken string // the boards' account
	Boards     int
	Duration   time.Duration
	ServerPID  int // 0: RSS not measured
	// Listeners, if set, counts the database's listening connections during the run.
	Listeners func(context.Context) (int, error)
}

// EventNightResult is what the scenario measured.
type EventNightResult struct {
	Judges     int     `json:"judges"`
	Boards     int     `json:"boards"`
	Categories int     `json:"categories"`
	Seconds    float64 `json:"seconds"`
	Writes     uint64  `json:"writes"`
	WritesPS   float64 `json:"writes_per_second"`
	WriteP50MS float64 `json:"write_p50_ms"`
	WriteP99MS float64 `json:"write_p99_ms"`
	// Deliveries are score events received by boards; Expected is one per successful write and
	// board of its category.
	Deliveries uint64 `json:"deliveries"`
	Expected   uint64 `json:"expected"`
	// Stream latency: from the write's acknowledgement to the event on a board. An event that
	// arrived before the writer had its answer counts as 0 (BeforeAck counts them).
	LatencyP50MS float64 `json:"stream_latency_p50_ms"`
	LatencyP99MS float64 `json:"stream_latency_p99_ms"`
	LatencyMaxMS float64 `json:"stream_latency_max_ms"`
	BeforeAck    uint64  `json:"before_ack"`
	// Errors counts failures by kind: write answers, streams that failed or ended, resyncs.
	Errors          map[string]int `json:"errors"`
	ServerPeakRSSMB float64        `json:"server_peak_rss_mb,omitempty"`
	Listeners       int            `json:"listeners"`
	// CPU used while the judges wrote, in cores: the server's, and the bench's own (the boards'
	// stream readers and the writers compete with the server on one machine).
	ServerCPUCores float64 `json:"server_cpu_cores,omitempty"`
	BenchCPUCores  float64 `json:"bench_cpu_cores,omitempty"`
}

// Problems lists the limits the run broke: P99 over a second, RSS over 200 MB, more than one
// listener, lost events or failed requests.
func (r EventNightResult) Problems() []string {
	var out []string
	if r.LatencyP99MS > float64(EventNightMaxP99.Milliseconds()) {
		out = append(out, fmt.Sprintf("stream latency P99 %.0f ms > %s", r.LatencyP99MS, EventNightMaxP99))
	}
	if r.ServerPeakRSSMB > EventNightMaxRSSMB {
		out = append(out, fmt.Sprintf("server peak RSS %.0f MB > %d MB", r.ServerPeakRSSMB, EventNightMaxRSSMB))
	}
	if r.Listeners > 1 {
		out = append(out, fmt.Sprintf("%d listening connections, want 1", r.Listeners))
	}
	if r.Deliveries < r.Expected {
		out = append(out, fmt.Sprintf("%d of %d events not received", r.Expected-r.Deliveries, r.Expected))
	}
	if len(r.Errors) > 0 {
		out = append(out, "errors: "+ErrorSummary(r.Errors))
	}
	return out
}

// Verdict is one line saying whether the run held.
func (r EventNightResult) Verdict() string {
	head := fmt.Sprintf("event-night: %d judges, %d boards on %d categories: %.0f writes/s (P50 %.1f ms, P99 %.1f ms); "+
		"stream latency P50 %.1f ms, P99 %.1f ms, max %.1f ms; %d/%d events; listeners %d",
		r.Judges, r.Boards, r.Categories, r.WritesPS, r.WriteP50MS, r.WriteP99MS,
		r.LatencyP50MS, r.LatencyP99MS, r.LatencyMaxMS, r.Deliveries, r.Expected, r.Listeners)
	if r.ServerPeakRSSMB > 0 {
		head += fmt.Sprintf("; server peak RSS %.0f MB, CPU %.2f cores (bench %.2f)", r.ServerPeakRSSMB, r.ServerCPUCores, r.BenchCPUCores)
	}
	if p := r.Problems(); len(p) > 0 {
		return head + "\nevent-night: FAILED: " + strings.Join(p, "; ")
	}
	return head + "\nevent-night: holds"
}

// writeMark is when a judge's latest write of a contestant's row was acknowledged (zero while in
// flight).
type writeMark struct{ ack atomic.Int64 }

type eventNight struct {
	o      EventNightOptions
	client *http.Client

	mu     sync.Mutex
	marks  map[string]*writeMark // judge id | contestant id
	errs   map[string]int
	writes vegeta.Metrics
	stream vegeta.Metrics

	saved, deliveries, beforeAck atomic.Uint64
}

func (n *eventNight) fail(kind string) {
	n.mu.Lock()
	n.errs[kind]++
	n.mu.Unlock()
}

// RunEventNight runs the scenario against the server at base.
func RunEventNight(ctx context.Context, base string, o EventNightOptions) (EventNightResult, error) {
	if len(o.Writers) == 0 || o.Boards < 1 {
		return EventNightResult{}, errors.New("event-night needs judges (--writers) and boards (--boards)")
	}
	n := &eventNight{o: o, marks: map[string]*writeMark{}, errs: map[string]int{},
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: len(o.Writers) + 1}}}
	defer n.client.CloseIdleConnections()
	categories := map[string]int{} // boards per category
	var order []string
	for _, w := range o.Writers {
		if _, ok := categories[w.CategoryID]; !ok {
			categories[w.CategoryID] = 0
			order = append(order, w.CategoryID)
		}
	}
	if o.ServerPID > 0 {
		ResetPeakRSS(o.ServerPID)
	}

	// Boards, spread over the judges' categories, each streaming until the end.
	sctx, stopStreams := context.WithCancel(ctx)
	defer stopStreams()
	var streams sync.WaitGroup
	sem := make(chan struct{}, eventNightOpenAtOnce)
	for b := range o.Boards {
		cat := order[b%len(order)]
		categories[cat]++
		sem <- struct{}{}
		ready := make(chan struct{})
		streams.Add(1)
		go func() {
			defer streams.Done()
			n.board(sctx, base, cat, ready)
		}()
		select {
		case <-ready:
		case <-ctx.Done():
			return EventNightResult{}, ctx.Err()
		}
		<-sem
	}
	listeners := 0
	if o.Listeners != nil {
		var err error
		if listeners, err = o.Listeners(ctx); err != nil {
			return EventNightResult{}, err
		}
	}

	// Judges, one request at a time each, for the duration.
	serverBefore, serverErr := ReadUsage(o.ServerPID)
	benchBefore, benchErr := ReadUsage(os.Getpid())
	start := time.Now()
	end := start.Add(o.Duration)
	var writers sync.WaitGroup
	var expected atomic.Uint64
	for _, w := range o.Writers {
		writers.Add(1)
		go func() {
			defer writers.Done()
			// A write in flight at the end is let finish: its event is expected.
			for k := 0; time.Now().Before(end) && ctx.Err() == nil; k++ {
				if n.write(ctx, base, w, w.Rows[k%len(w.Rows)]) {
					expected.Add(uint64(categories[w.CategoryID]))
				}
			}
		}()
	}
	writers.Wait()
	elapsed := time.Since(start)
	serverAfter, serverErr2 := ReadUsage(o.ServerPID)
	benchAfter, benchErr2 := ReadUsage(os.Getpid())
	// The last events are on their way: wait until every one is in, or the drain time is over.
	drain := time.Now().Add(eventNightDrain)
	for n.deliveries.Load() < expected.Load() && time.Now().Before(drain) {
		time.Sleep(10 * time.Millisecond)
	}
	stopStreams()
	streams.Wait()

	n.writes.Close()
	n.stream.Close()
	r := EventNightResult{Judges: len(o.Writers), Boards: o.Boards, Categories: len(order), Seconds: elapsed.Seconds(),
		Writes: n.saved.Load(), Deliveries: n.deliveries.Load(), Expected: expected.Load(),
		BeforeAck: n.beforeAck.Load(), Errors: n.errs, Listeners: listeners,
		WriteP50MS: ms(n.writes.Latencies.P50), WriteP99MS: ms(n.writes.Latencies.P99),
		LatencyP50MS: ms(n.stream.Latencies.P50), LatencyP99MS: ms(n.stream.Latencies.P99), LatencyMaxMS: ms(n.stream.Latencies.Max)}
	r.WritesPS = float64(r.Writes) / elapsed.Seconds()
	if o.ServerPID > 0 && serverErr == nil && serverErr2 == nil {
		r.ServerCPUCores = Cores(serverBefore, serverAfter)
		if u, err := ReadUsage(o.ServerPID); err == nil {
			r.ServerPeakRSSMB = float64(u.PeakRSS) / (1 << 20)
		}
	}
	if benchErr == nil && benchErr2 == nil {
		r.BenchCPUCores = Cores(benchBefore, benchAfter)
	}
	return r, nil
}

// write sends one row as the judge's page does and reports whether it was saved.
func (n *eventNight) write(ctx context.Context, base string, w Writer, row []Cell) bool {
	body, _ := json.Marshal(scoresBody(row))
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, base+"/api/v1/categories/"+w.CategoryID+"/scores", bytes.NewReader(body))
	if err != nil {
		return false
	}
	req.Header.Set("Authorization", "Bearer "+w.Token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", uuid.NewString())
	key := w.JudgeID + "|" + row[0].ContestantID
	mark := &writeMark{}
	n.mu.Lock()
	n.marks[key] = mark
	n.mu.Unlock()
	sent := time.Now()
	resp, err := n.client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			n.fail("write transport: " + err.Error())
		}
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	ack := time.Now()
	mark.ack.Store(ack.UnixNano())
	res := &vegeta.Result{Code: uint16(resp.StatusCode), Latency: ack.Sub(sent), Timestamp: sent}
	n.mu.Lock()
	n.writes.Add(res)
	n.mu.Unlock()
	if resp.StatusCode != http.StatusOK {
		n.fail(fmt.Sprintf("write %d", resp.StatusCode))
		return false
	}
	n.saved.Add(1)
	return true
}

// board follows a category's stream until ctx ends; ready is closed once the stream is open (or
// failed to open).
func (n *eventNight) board(ctx context.Context, base, category string, ready chan<- struct{}) {
	once := sync.OnceFunc(func() { close(ready) })
	defer once()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/categories/"+category+"/stream", nil)
	if err != nil {
		n.fail("stream request: " + err.Error())
		return
	}
	req.Header.Set("Authorization", "Bearer "+n.o.AdminToken)
	resp, err := n.client.Do(req)
	if err != nil {
		n.fail("stream transport: " + err.Error())
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		n.fail(fmt.Sprintf("stream %d", resp.StatusCode))
		return
	}
	br := bufio.NewReader(resp.Body)
	var name, data string
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			if ctx.Err() == nil {
				n.fail("stream ended")
			}
			return
		}
		received := time.Now()
		line = strings.TrimSuffix(line, "\n")
		switch {
		case strings.HasPrefix(line, ": connected"):
			once()
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		case line == "":
			n.event(name, data, received)
			name, data = "", ""
		}
	}
}

// event records a score event's latency.
func (n *eventNight) event(name, data string, received time.Time) {
	switch name {
	case "score":
	case "resync":
		n.fail("stream resync (board fell behind)")
		return
	default:
		return
	}
	var e struct {
		ID   string `json:"id"`
		Data struct {
			ContestantIDs []string `json:"contestant_ids"`
		} `json:"data"`
	}
	if json.Unmarshal([]byte(data), &e) != nil || len(e.Data.ContestantIDs) == 0 {
		n.fail("stream bad event")
		return
	}
	n.mu.Lock()
	mark := n.marks[e.ID+"|"+e.Data.ContestantIDs[0]]
	n.mu.Unlock()
	if mark == nil {
		return // not one of ours
	}
	latency := time.Duration(0)
	if ack := mark.ack.Load(); ack == 0 {
		n.beforeAck.Add(1)
	} else if d := received.Sub(time.Unix(0, ack)); d > 0 {
		latency = d
	}
	n.deliveries.Add(1)
	n.mu.Lock()
	n.stream.Add(&vegeta.Result{Code: 200, Latency: latency, Timestamp: received})
	n.mu.Unlock()
}

// WriteEventNightJSON writes the result next to the bench report.
func WriteEventNightJSON(path string, r EventNightResult) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// runEventNight runs the scenario on a server of its own (or the target), counts the database's
// listening connections meanwhile, writes bench-event-night.json and prints the verdict.
func runEventNight(ctx context.Context, o Options, start func(url string) (string, int, func(), error), url string,
	f *Fixture, pool *db.DB) (EventNightResult, error) {
	base, pid, stop, err := start(url)
	if err != nil {
		return EventNightResult{}, err
	}
	defer stop()
	r, err := RunEventNight(ctx, base, EventNightOptions{Writers: f.Writers, AdminToken: f.AdminToken, Boards: o.Boards,
		Duration: o.Duration, ServerPID: pid, Listeners: func(ctx context.Context) (int, error) {
			return health.CountListeners(ctx, pool)
		}})
	if err != nil {
		return r, err
	}
	fmt.Fprintln(o.Stdout, "\n"+r.Verdict())
	return r, WriteEventNightJSON(filepath.Join(o.Out, "bench-event-night.json"), r)
}
