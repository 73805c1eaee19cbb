package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Modes of a row: through the HTTP API; the endpoint's store call alone without HTTP (its SQL
// and tenant setting in one batch: what the database and pgx can give, the ceiling); the same
// after the token check the API makes on every request.
const (
	ModeAPI          = "api"
	ModeCeiling      = "ceiling"
	ModeCeilingToken = "ceiling+token"
)

// Row is one measured step: one scenario, endpoint and mode at one concurrency.
type Row struct {
	Scenario string `json:"scenario"` // runbook, read, mixed, overload
	Endpoint string `json:"endpoint"` // events, events-archived, results, scoresheet, mixed-read, mixed-write
	Mode     string `json:"mode"`     // api, ceiling or ceiling+token
	// Driver is the load generator of an API row: vegeta or wrk (DriverVegeta, DriverWrk).
	Driver      string `json:"driver,omitempty"`
	Concurrency int    `json:"concurrency"`
	// Round is the row's round (1, 2, ...) when the sweeps ran several times, alternating; 0 for
	// a single round, and in the medians.
	Round    int     `json:"round,omitempty"`
	Seconds  float64 `json:"seconds"`
	Requests uint64  `json:"requests"`
	// RPS counts successful (2xx) answers per second in the step's steady window: failures,
	// however fast, are not throughput.
	RPS    float64 `json:"rps"`
	P50MS  float64 `json:"p50_ms"`
	P95MS  float64 `json:"p95_ms"`
	P99MS  float64 `json:"p99_ms"`
	MaxMS  float64 `json:"max_ms"`
	Failed uint64  `json:"failed"`
	// Errors counts failures by kind: "503 DB_POOL_TIMEOUT", "500 INTERNAL", "transport: ...".
	Errors map[string]int `json:"errors"`
	// CeilingRatio is this row's RPS over the ceiling row (the query alone) of the same
	// scenario, endpoint and concurrency (API and ceiling+token rows measured with their ceiling).
	CeilingRatio float64 `json:"ceiling_ratio,omitempty"`
	// ServerCPUCores and ServerPeakRSSMB describe the server process during the step (API rows
	// with a known server pid); PeakRSSStep says whether the peak was reset at the step's start.
	ServerCPUCores float64 `json:"server_cpu_cores,omitempty"`
	// BenchCPUCores is the bench process's own CPU during the step: the load generator (API rows)
	// or the store calls through pgx (ceiling rows). On one machine it competes with the server.
	BenchCPUCores   float64 `json:"bench_cpu_cores,omitempty"`
	ServerPeakRSSMB float64 `json:"server_peak_rss_mb,omitempty"`
	PeakRSSStep     bool    `json:"peak_rss_per_step,omitempty"`
}

// Machine describes where the figures were measured.
type Machine struct {
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpu_model"`
	Kernel    string `json:"kernel"`
	GoVersion string `json:"go_version"`
	GOOS      string `json:"goos"`
	GOARCH    string `json:"goarch"`
}

// Report is bench-results.json.
type Report struct {
	Started  time.Time         `json:"started"`
	Machine  Machine           `json:"machine"`
	Settings map[string]string `json:"settings"`
	Rows     []Row             `json:"rows"`
	// Medians are the read and mixed rows' medians over the rounds (Options.Rounds > 1).
	Medians []Row `json:"medians,omitempty"`
}

// ThisMachine reads what the report says about the machine.
func ThisMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}

// rowFrom fills a row's figures from vegeta's metrics (percentiles, counts) and the failures.
// Throughput is the successes inside the step's steady window per second (see window), or over
// the wall time for a step of a fixed number of requests.
func rowFrom(t *tally, wall time.Duration) Row {
	m := &t.metrics
	m.Close()
	r := Row{Requests: m.Requests, Seconds: wall.Seconds(), Errors: t.errs,
		P50MS: ms(m.Latencies.P50), P95MS: ms(m.Latencies.P95), P99MS: ms(m.Latencies.P99), MaxMS: ms(m.Latencies.Max)}
	for _, n := range t.errs {
		r.Failed += uint64(n)
	}
	switch {
	case t.window.length() > 0:
		r.RPS = float64(t.steady) / t.window.length().Seconds()
	case wall > 0:
		r.RPS = float64(r.Requests-r.Failed) / wall.Seconds()
	}
	return r
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// FillRatios sets CeilingRatio of each API and ceiling+token row that has a ceiling row of the
// same scenario, endpoint, concurrency and round.
func FillRatios(rows []Row) {
	ceiling := map[string]float64{}
	key := func(r Row) string { return fmt.Sprintf("%s/%s/%d/%d", r.Scenario, r.Endpoint, r.Concurrency, r.Round) }
	for _, r := range rows {
		if r.Mode == ModeCeiling {
			ceiling[key(r)] = r.RPS
		}
	}
	for i, r := range rows {
		if c := ceiling[key(r)]; r.Mode != ModeCeiling && c > 0 {
			rows[i].CeilingRatio = r.RPS / c
		}
	}
}

// Medians sums up rows measured over several rounds: one row per scenario, endpoint, mode, driver
// and concurrency, in the order they first appear, with the median of each figure over the rounds
// (the ratio is the median of each round's ratio, not a ratio of medians) and the requests and
// failures summed.
func Medians(rows []Row) []Row {
	type group struct {
		first Row
		rows  []Row
	}
	var order []string
	groups := map[string]*group{}
	for _, r := range rows {
		k := fmt.Sprintf("%s/%s/%s/%s/%d", r.Scenario, r.Endpoint, r.Mode, r.Driver, r.Concurrency)
		g := groups[k]
		if g == nil {
			g = &group{first: r}
			groups[k] = g
			order = append(order, k)
		}
		g.rows = append(g.rows, r)
	}
	out := make([]Row, 0, len(order))
	for _, k := range order {
		g := groups[k]
		m := Row{Scenario: g.first.Scenario, Endpoint: g.first.Endpoint, Mode: g.first.Mode, Driver: g.first.Driver,
			Concurrency: g.first.Concurrency, Errors: map[string]int{}}
		pick := func(f func(Row) float64) float64 {
			v := make([]float64, len(g.rows))
			for i, r := range g.rows {
				v[i] = f(r)
			}
			return median(v)
		}
		m.Seconds = pick(func(r Row) float64 { return r.Seconds })
		m.RPS = pick(func(r Row) float64 { return r.RPS })
		m.P50MS = pick(func(r Row) float64 { return r.P50MS })
		m.P95MS = pick(func(r Row) float64 { return r.P95MS })
		m.P99MS = pick(func(r Row) float64 { return r.P99MS })
		m.MaxMS = pick(func(r Row) float64 { return r.MaxMS })
		m.CeilingRatio = pick(func(r Row) float64 { return r.CeilingRatio })
		m.ServerCPUCores = pick(func(r Row) float64 { return r.ServerCPUCores })
		m.BenchCPUCores = pick(func(r Row) float64 { return r.BenchCPUCores })
		m.ServerPeakRSSMB = pick(func(r Row) float64 { return r.ServerPeakRSSMB })
		for _, r := range g.rows {
			m.Requests += r.Requests
			m.Failed += r.Failed
			for kind, n := range r.Errors {
				m.Errors[kind] += n
			}
		}
		out = append(out, m)
	}
	return out
}

// median of v (the mean of the middle two for an even count); v is reordered.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	sort.Float64s(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// WriteTable prints the rows as an aligned table.
func WriteTable(w io.Writer, rows []Row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tendpoint\tmode\tdriver\tconc\tround\trequests\treq/s\tP50 ms\tP95 ms\tP99 ms\tmax ms\tAPI/ceiling\tserver CPU\tpeak RSS MB\tbench CPU\terrors\t")
	for _, r := range rows {
		ratio, cpu, rss := "", "", ""
		if r.CeilingRatio > 0 {
			ratio = fmt.Sprintf("%.2f", r.CeilingRatio)
		}
		if r.ServerCPUCores > 0 {
			cpu = fmt.Sprintf("%.2f", r.ServerCPUCores)
		}
		if r.ServerPeakRSSMB > 0 {
			rss = fmt.Sprintf("%.0f", r.ServerPeakRSSMB)
		}
		driver := r.Driver
		if driver == "" {
			driver = "-"
		}
		round := "-"
		if r.Round > 0 {
			round = strconv.Itoa(r.Round)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%d\t%.0f\t%.1f\t%.1f\t%.1f\t%.0f\t%s\t%s\t%s\t%.2f\t%s\t\n",
			r.Scenario, r.Endpoint, r.Mode, driver, r.Concurrency, round, r.Requests, r.RPS, r.P50MS, r.P95MS, r.P99MS, r.MaxMS,
			ratio, cpu, rss, r.BenchCPUCores, ErrorSummary(r.Errors))
	}
	return tw.Flush()
}

// ErrorSummary is "none" or the failures by kind, most frequent first.
func ErrorSummary(errs map[string]int) string {
	if len(errs) == 0 {
		return "none"
	}
	kinds := make([]string, 0, len(errs))
	for k := range errs {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool {
		if errs[kinds[i]] != errs[kinds[j]] {
			return errs[kinds[i]] > errs[kinds[j]]
		}
		return kinds[i] < kinds[j]
	})
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = fmt.Sprintf("%s: %d", k, errs[k])
	}
	return strings.Join(parts, ", ")
}

// WriteJSON writes the report to path.
func WriteJSON(path string, rep Report) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// ReadJSON reads a report written by WriteJSON.
func ReadJSON(path string) (Report, error) {
	var rep Report
	b, err := os.ReadFile(path)
	if err != nil {
		return rep, err
	}
	return rep, json.Unmarshal(b, &rep)
}
