package faults_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// cell is one score of a score sheet.
type cell struct{ contestant, criterion, score string }

// sheet is one score-sheet write (PUT /categories/{id}/scores). No two sheets share a cell, so the
// database shows exactly what became of each: all of its cells with its values, or none.
type sheet struct {
	judge int    // index in fixture.judges
	seq   int    // the judge's seq-th sheet: its block of contestants
	key   string // Idempotency-Key, also the stem of its requests' X-Request-ID
	cells []cell
	body  []byte
}

// answer is what the client saw of one request.
type answer struct {
	sent, answered time.Time
	status         int
	code           string // error.code of an error answer
	replayed       bool   // Idempotent-Replayed: true
	body           []byte
	err            error // no (complete) answer: connection refused, reset, EOF
}

func (a answer) ok() bool { return a.err == nil && a.status >= 200 && a.status < 300 }

// outcome names the answer for the tallies: "2xx", "503 DB_UNAVAILABLE", "no answer".
func (a answer) outcome() string {
	switch {
	case a.err != nil:
		return "no answer"
	case a.ok():
		return "2xx"
	}
	return fmt.Sprintf("%d %s", a.status, a.code)
}

// write is a sheet in the ledger with the answer to its first sending.
type write struct {
	sheet
	first answer
}

// client talks to the service under test.
type client struct {
	base string
	http *http.Client
}

func newClient(base string) *client {
	return &client{base: base, http: &http.Client{
		Timeout:   30 * time.Second, // far above any bound the tests assert: a hang shows as a failure
		Transport: &http.Transport{MaxIdleConnsPerHost: 32},
	}}
}

func (c *client) close() { c.http.CloseIdleConnections() }

func (c *client) do(method, path, token string, body []byte, key, requestID string) answer {
	a := answer{sent: time.Now()}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		panic(err) // a bug of the test
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	req.Header.Set("X-Request-ID", requestID)
	resp, err := c.http.Do(req)
	if err != nil {
		a.err, a.answered = err, time.Now()
		return a
	}
	defer resp.Body.Close()
	a.body, a.err = io.ReadAll(resp.Body)
	a.answered = time.Now()
	if a.err != nil {
		return a // cut off in the middle of the answer: as good as none
	}
	a.status = resp.StatusCode
	a.replayed = resp.Header.Get("Idempotent-Replayed") == "true"
	if a.status >= 400 {
		var e struct {
			Error struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		if json.Unmarshal(a.body, &e) == nil {
			a.code = e.Error.Code
		}
	}
	return a
}

func (c *client) putSheet(fx *fixture, s sheet, requestID string) answer {
	return c.do("PUT", "/api/v1/categories/"+fx.categoryID+"/scores", fx.judges[s.judge].token, s.body, s.key, requestID)
}

// loadConfig shapes the load: writers judges sending score sheets, readers listing events and
// asking who they are, each pausing pace between two requests.
type loadConfig struct {
	writers, readers    int
	contestantsPerSheet int
	pace                time.Duration
	firstSeq            int // the first sheet of each writer: a later load must not reuse an earlier one's blocks
}

// load is a running mixed load with its ledger.
type load struct {
	fx  *fixture
	c   *client
	cfg loadConfig

	stopping  atomic.Bool
	exhausted atomic.Bool // a writer used every block of contestants and stopped early
	wg        sync.WaitGroup
	acked     atomic.Int64 // writes answered 2xx so far

	mu     sync.Mutex
	writes []*write
	reads  []answer
}

func startLoad(t *testing.T, fx *fixture, c *client, cfg loadConfig) *load {
	t.Helper()
	if cfg.writers > len(fx.judges) {
		t.Fatalf("%d writers for %d judges", cfg.writers, len(fx.judges))
	}
	l := &load{fx: fx, c: c, cfg: cfg}
	for w := range cfg.writers {
		l.wg.Add(1)
		go l.writer(w)
	}
	for r := range cfg.readers {
		l.wg.Add(1)
		go l.reader(r)
	}
	t.Cleanup(l.stop) // a failed test must not leave clients running
	return l
}

// stop lets every client finish its request in flight and start no other.
func (l *load) stop() {
	l.stopping.Store(true)
	l.wg.Wait()
}

// newSheet is writer w's seq-th sheet: the next block of contestants, every criterion, values
// that differ from sheet to sheet. ok is false once the category has no unused block left.
func (l *load) newSheet(w, seq int) (s sheet, ok bool) {
	k := l.cfg.contestantsPerSheet
	if (seq+1)*k > len(l.fx.contestants) {
		return sheet{}, false
	}
	s = sheet{judge: w, seq: seq, key: fmt.Sprintf("w%d-s%d", w, seq)}
	type item struct {
		ContestantID string          `json:"contestant_id"`
		CriterionID  string          `json:"criterion_id"`
		Score        json.RawMessage `json:"score"`
	}
	var body struct {
		Scores []item `json:"scores"`
	}
	for _, contestant := range l.fx.contestants[seq*k : (seq+1)*k] {
		for ci, criterion := range l.fx.criteria {
			v := (w*131 + seq*17 + ci*7 + len(s.cells)) % 1000
			score := fmt.Sprintf("%d.%02d", v/100, v%100) // 0.00 to 9.99, as the database prints numeric(8,2)
			s.cells = append(s.cells, cell{contestant: contestant, criterion: criterion, score: score})
			body.Scores = append(body.Scores, item{contestant, criterion, json.RawMessage(score)})
		}
	}
	var err error
	if s.body, err = json.Marshal(body); err != nil {
		panic(err)
	}
	return s, true
}

func (l *load) writer(w int) {
	defer l.wg.Done()
	for seq := l.cfg.firstSeq; !l.stopping.Load(); seq++ {
		s, ok := l.newSheet(w, seq)
		if !ok {
			l.exhausted.Store(true) // answers reports it: the category is sized so that this does not happen
			return
		}
		wr := &write{sheet: s}
		wr.first = l.c.putSheet(l.fx, s, s.key+"-a0")
		if wr.first.ok() {
			l.acked.Add(1)
		}
		l.mu.Lock()
		l.writes = append(l.writes, wr)
		l.mu.Unlock()
		time.Sleep(l.cfg.pace)
	}
}

func (l *load) reader(r int) {
	defer l.wg.Done()
	paths := []string{"/api/v1/events?limit=10", "/api/v1/auth/me"}
	for i := 0; !l.stopping.Load(); i++ {
		a := l.c.do("GET", paths[i%len(paths)], l.fx.adminToken, nil, "", fmt.Sprintf("r%d-%d", r, i))
		l.mu.Lock()
		l.reads = append(l.reads, a)
		l.mu.Unlock()
		time.Sleep(l.cfg.pace)
	}
}

// waitAcked waits until n writes have been acknowledged since the load began.
func (l *load) waitAcked(t *testing.T, n int64, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for l.acked.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d writes acknowledged after %s", l.acked.Load(), n, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// nextSeq is the firstSeq of a load that follows this one.
func (l *load) nextSeq() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	next := l.cfg.firstSeq
	for _, w := range l.writes {
		next = max(next, w.seq+1)
	}
	return next
}

// answers returns the first answer of every write and every read, once the load has stopped.
func (l *load) answers(t *testing.T) []answer {
	t.Helper()
	if l.exhausted.Load() {
		t.Errorf("a writer ran out of contestants and stopped early: make the fixture's category larger")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	out := append([]answer(nil), l.reads...)
	for _, w := range l.writes {
		out = append(out, w.first)
	}
	return out
}

// tally counts answers by outcome.
func tally(as []answer) map[string]int {
	m := map[string]int{}
	for _, a := range as {
		m[a.outcome()]++
	}
	return m
}

// between keeps the answers to requests sent in [from, to).
func between(as []answer, from, to time.Time) []answer {
	var out []answer
	for _, a := range as {
		if !a.sent.Before(from) && a.sent.Before(to) {
			out = append(out, a)
		}
	}
	return out
}

// unavailableCodes are the answers a request may get while the database cannot serve it.
var unavailableCodes = map[string]bool{"DB_UNAVAILABLE": true, "DB_POOL_TIMEOUT": true}

// requireOnlyUnavailable fails on any answer other than 2xx or 503 DB_UNAVAILABLE/DB_POOL_TIMEOUT:
// a 500 or a 504 during an outage, a 401 because the session could not be read, and so on. With
// noAnswerAllowed false, a request without an answer fails too.
func requireOnlyUnavailable(t *testing.T, as []answer, noAnswerAllowed bool) {
	t.Helper()
	bad := map[string]int{}
	for _, a := range as {
		switch {
		case a.ok():
		case a.err != nil:
			if !noAnswerAllowed {
				bad["no answer: "+a.err.Error()]++
			}
		case a.status == http.StatusServiceUnavailable && unavailableCodes[a.code]:
		default:
			bad[fmt.Sprintf("%d %s %.200s", a.status, a.code, a.body)]++
		}
	}
	if len(bad) > 0 {
		t.Errorf("answers other than 2xx and 503 DB_UNAVAILABLE/DB_POOL_TIMEOUT: %v", bad)
	}
}

// recoveryBound is what the service promises: serving again within 5 s of the database, without
// a restart of its own.
const recoveryBound = 5 * time.Second

// requireRecovered checks the recovery after back, the moment the database could serve again: a
// request sent after back got a 2xx within recoveryBound, and every request sent from back +
// recoveryBound on got a 2xx (the load must have run past that). It returns when the first 2xx
// came.
func requireRecovered(t *testing.T, as []answer, back time.Time) time.Duration {
	t.Helper()
	return requireRecoveredWithin(t, as, back, recoveryBound)
}

// requireRecoveredWithin is requireRecovered with another bound than recoveryBound.
func requireRecoveredWithin(t *testing.T, as []answer, back time.Time, recoveryBound time.Duration) time.Duration {
	t.Helper()
	firstOK := time.Duration(-1)
	for _, a := range as {
		if a.ok() && !a.sent.Before(back) {
			if d := a.answered.Sub(back); firstOK < 0 || d < firstOK {
				firstOK = d
			}
		}
	}
	switch {
	case firstOK < 0:
		t.Errorf("no 2xx after the database came back, want one within %s", recoveryBound)
	case firstOK > recoveryBound:
		t.Errorf("first 2xx %s after the database came back, want within %s", firstOK, recoveryBound)
	}
	late := between(as, back.Add(recoveryBound), time.Now().Add(time.Hour))
	if len(late) == 0 {
		t.Errorf("no request sent %s after the database came back: the load stopped too early", recoveryBound)
	}
	if n := len(late) - tally(late)["2xx"]; n > 0 {
		t.Errorf("%d of %d requests sent %s or more after the database came back failed: %v",
			n, len(late), recoveryBound, tally(late))
	}
	return firstOK
}
