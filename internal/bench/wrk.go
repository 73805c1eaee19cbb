package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// Load drivers: what sends the API steps' requests.
const (
	// DriverVegeta is vegeta's attacker, in this process (every scenario).
	DriverVegeta = "vegeta"
	// DriverWrk is wrk (https://github.com/wg/wrk, C, one event loop per thread) as a child
	// process: closed-loop GET steps of a fixed duration only (the read sweep).
	DriverWrk = "wrk"
)

// WrkPath is the wrk binary on PATH, or "" when there is none.
func WrkPath() string {
	p, err := exec.LookPath("wrk")
	if err != nil {
		return ""
	}
	return p
}

// WrkVersion is the first line of `wrk -v` ("wrk 4.1.0 [epoll] ..."), or "".
func WrkVersion(path string) string {
	out, _ := exec.Command(path, "-v").CombinedOutput() // wrk -v exits 1 after printing
	line, _, _ := strings.Cut(string(out), "\n")
	if i := strings.Index(line, " Copyright"); i > 0 {
		line = line[:i]
	}
	return strings.TrimSpace(line)
}

// CanWrk says whether the wrk driver can run the step: a closed loop of GET requests for a
// duration. A fixed number of requests (the runbook) is not something wrk can do, nor requests
// with bodies (the mixed scenario's writes).
func CanWrk(s Step) bool {
	return len(s.Workload.Paths) > 0 && s.Duration > 0 && s.Requests == 0
}

// wrkThreads is wrk's -t: two event loops (the machine's cores are shared with the server and
// PostgreSQL anyway), or one when the connections do not split evenly: wrk gives each thread
// connections/threads of them, and would drop the remainder.
func wrkThreads(concurrency int) int {
	if concurrency >= 2 && concurrency%2 == 0 {
		return 2
	}
	return 1
}

// wrkMarker starts the line the script's done() prints, among wrk's own report.
const wrkMarker = "EVENTMANAGER_WRK "

// wrkScript is the Lua script of a step. Each thread cycles through the workload's paths (the
// requests are formatted once, in init), starting at its own offset so that the threads spread
// over the list as vegeta's shared counter does; a single path is wrk's static request, which
// costs no Lua call per request. The token goes in wrk.headers rather than on wrk's command line,
// where any process listing would show it. response() is defined only with wrkByStatus: it makes
// wrk copy every answer's headers and body into Lua (see docs/performance.md for what it costs),
// and it names each failure as vegeta's driver does ("503 DB_POOL_TIMEOUT", "... without
// Retry-After"). done() prints one JSON line: wrk's own counts and latency quantiles (µs).
var wrkScript = template.Must(template.New("wrk").Funcs(template.FuncMap{"lua": luaString}).Parse(`-- written by eventmanager bench (internal/bench/wrk.go)
local paths = { {{range .Paths}}{{lua .}}, {{end}} }
{{range $k, $v := .Headers}}wrk.headers[{{lua $k}}] = {{lua $v}}
{{end}}
local nthreads = {{.Threads}}
local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

local reqs, k = {}, 0

function init(args)
   for i, p in ipairs(paths) do
      reqs[i] = wrk.format("GET", p)
   end
   k = math.floor(id * #reqs / nthreads)
end
{{if gt (len .Paths) 1}}
function request()
   k = k % #reqs + 1
   return reqs[k]
end
{{end}}{{if .ByStatus}}
failures = {}

function response(status, headers, body)
   if status >= 200 and status < 300 then
      return
   end
   local kind = tostring(status)
   local code = body and string.match(body, '"code"%s*:%s*"([^"]*)"')
   if code then
      kind = kind .. " " .. code
   end
   if status == 503 and not headers["Retry-After"] then
      kind = kind .. " without Retry-After"
   end
   failures[kind] = (failures[kind] or 0) + 1
end
{{end}}
local function quote(s)
   return '"' .. string.gsub(s, '[%c"\\]', function(c) return string.format("\\u%04x", string.byte(c)) end) .. '"'
end

function done(summary, latency, requests)
   local all, parts = {}, {}
   for _, t in ipairs(threads) do
      local f = t:get("failures")
      if type(f) == "table" then
         for kind, n in pairs(f) do
            all[kind] = (all[kind] or 0) + n
         end
      end
   end
   for kind, n in pairs(all) do
      table.insert(parts, quote(kind) .. ":" .. string.format("%d", n))
   end
   local e = summary.errors
   io.write(string.format('{{.Marker}}{"requests":%d,"duration_us":%d,"bytes":%d,' ..
      '"p50_us":%d,"p95_us":%d,"p99_us":%d,"max_us":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},"failures":{%s}}\n',
      summary.requests, summary.duration, summary.bytes,
      latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
      e.connect, e.read, e.write, e.status, e.timeout, table.concat(parts, ",")))
end
`))

// luaString quotes s as a Lua 5.1 string literal: printable ASCII as it is, every other byte,
// quotes and backslashes as decimal escapes.
func luaString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x20 && c < 0x7f && c != '"' && c != '\\' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "\\%03d", c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// wrkSummary is the line done() prints.
type wrkSummary struct {
	Requests   uint64 `json:"requests"`
	DurationUS int64  `json:"duration_us"`
	Bytes      uint64 `json:"bytes"`
	P50US      int64  `json:"p50_us"`
	P95US      int64  `json:"p95_us"`
	P99US      int64  `json:"p99_us"`
	MaxUS      int64  `json:"max_us"`
	Errors     struct {
		Connect uint64 `json:"connect"`
		Read    uint64 `json:"read"`
		Write   uint64 `json:"write"`
		Status  uint64 `json:"status"`
		Timeout uint64 `json:"timeout"`
	} `json:"errors"`
	// Failures are the non-2xx answers by kind, when the script counted them (byStatus).
	Failures map[string]int `json:"failures"`
}

// ParseWrkOutput reads the summary line of the step's script out of wrk's stdout and turns it into
// a row (scenario, endpoint, mode and concurrency left to the caller).
//
// Throughput is wrk's own: the 2xx answers over the time wrk ran (its -d). wrk opens the
// connections as it starts and drops the requests still in flight when the time is up, so there
// is no ramp or drain to cut off as vegeta's steady window does. Failures are the answers of
// status 400 and above (wrk's "status" errors, by kind when the script named them) and the
// transport errors by kind: connect, read, write, and timeout (no answer within --timeout).
func ParseWrkOutput(out []byte) (Row, error) {
	var line []byte
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if rest, ok := bytes.CutPrefix(sc.Bytes(), []byte(wrkMarker)); ok {
			line = append([]byte(nil), rest...)
		}
	}
	if line == nil {
		return Row{}, errors.New("wrk printed no summary (did the script's done() run?)")
	}
	var s wrkSummary
	if err := json.Unmarshal(line, &s); err != nil {
		return Row{}, fmt.Errorf("wrk summary %q: %w", line, err)
	}
	r := Row{Requests: s.Requests, Seconds: float64(s.DurationUS) / 1e6, Errors: map[string]int{},
		P50MS: float64(s.P50US) / 1000, P95MS: float64(s.P95US) / 1000, P99MS: float64(s.P99US) / 1000, MaxMS: float64(s.MaxUS) / 1000}
	named := 0
	for kind, n := range s.Failures {
		r.Errors[kind] += n
		named += n
	}
	// Statuses the script did not name (without byStatus, all of them).
	if rest := int(s.Errors.Status) - named; rest > 0 {
		r.Errors["status >= 400"] += rest
	}
	for kind, n := range map[string]uint64{"connect": s.Errors.Connect, "read": s.Errors.Read, "write": s.Errors.Write, "timeout": s.Errors.Timeout} {
		if n > 0 {
			r.Errors["transport: "+kind] += int(n)
		}
	}
	var bad uint64
	for kind, n := range r.Errors {
		r.Failed += uint64(n)
		if !strings.HasPrefix(kind, "transport: ") {
			bad += uint64(n)
		}
	}
	if len(r.Errors) == 0 {
		r.Errors = nil
	}
	if r.Seconds > 0 && s.Requests >= bad {
		// Transport errors are not among wrk's completed requests; failed answers are.
		r.RPS = float64(s.Requests-bad) / r.Seconds
	}
	return r, nil
}

// wrkTimeout is wrk's --timeout: as vegeta's requestTimeout. wrk's default (2 s) would also drop
// the latencies above it from the quantiles, and at concurrency 1 000 category results queue
// longer than that.
const wrkTimeout = requestTimeout

// wrkByStatus makes the script define response(), naming each failure by status and error code
// as vegeta's driver does, instead of counting them as wrk's "status" errors. wrk then hands
// every answer to Lua: measured on the events list at concurrency 50, wrk's CPU went from 0.09 to
// 0.10 cores (about 2 µs a request) and throughput moved less than between two runs of either
// (docs/performance.md), so the failures are named.
const wrkByStatus = true

// RunWrk runs a read step (see CanWrk) with wrk, the binary at wrkPath, against the API at base,
// and returns its row. The server's CPU and peak RSS are measured around it as in RunHTTP; the
// bench CPU is wrk's own (its rusage as a child) plus this process's.
func RunWrk(ctx context.Context, wrkPath, base string, s Step) ([]Row, error) {
	if !CanWrk(s) {
		return nil, fmt.Errorf("wrk runs closed-loop GET steps of a duration, not %s/%s", s.Scenario, s.Workload.Name)
	}
	dir, err := os.MkdirTemp("", "eventmanager-wrk-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	threads := wrkThreads(s.Concurrency)
	headers := map[string]string{}
	for k, v := range s.Workload.Header {
		if len(v) > 0 {
			headers[k] = v[0]
		}
	}
	var script bytes.Buffer
	if err := wrkScript.Execute(&script, map[string]any{"Paths": s.Workload.Paths, "Headers": headers,
		"Threads": threads, "ByStatus": wrkByStatus, "Marker": wrkMarker}); err != nil {
		return nil, err
	}
	scriptPath := dir + "/step.lua"
	if err := os.WriteFile(scriptPath, script.Bytes(), 0o600); err != nil {
		return nil, err
	}
	secs := max(1, int(s.Duration.Round(time.Second)/time.Second))
	cmd := exec.CommandContext(ctx, wrkPath, "-t"+strconv.Itoa(threads), "-c"+strconv.Itoa(s.Concurrency),
		"-d"+strconv.Itoa(secs)+"s", "--timeout", strconv.Itoa(int(wrkTimeout/time.Second))+"s", "--latency",
		"-s", scriptPath, base+s.Workload.Paths[0])
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr

	before, usageErr := usageStart(s.ServerPID)
	self, selfErr := ReadUsage(os.Getpid())
	start := time.Now()
	runErr := cmd.Run()
	wall := time.Since(start)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if runErr != nil {
		return nil, fmt.Errorf("wrk: %w: %s", runErr, strings.TrimSpace(stderr.String()+stdout.String()))
	}
	r, err := ParseWrkOutput(stdout.Bytes())
	if err != nil {
		return nil, err
	}
	r.Scenario, r.Endpoint, r.Mode, r.Concurrency, r.Driver = s.Scenario, s.Workload.Name, ModeAPI, s.Concurrency, DriverWrk
	rows := []Row{r}
	setBenchCPU(rows, self, selfErr)
	if ps := cmd.ProcessState; ps != nil && wall > 0 {
		rows[0].BenchCPUCores += float64(ps.UserTime()+ps.SystemTime()) / float64(wall)
	}
	if err := setServerUsage(rows, s.ServerPID, before, usageErr); err != nil {
		return nil, err
	}
	return rows, nil
}
