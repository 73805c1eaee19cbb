package cli

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/eventmanager/eventmanager/internal/bench"
	"github.com/eventmanager/eventmanager/internal/config"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/seed"
	"github.com/eventmanager/eventmanager/internal/store"
)

const benchUsage = `Usage: eventmanager bench [flags]

Measures the API under load (docs/performance.md). Without --target it starts the server itself
(a child "eventmanager serve") on DATABASE_URL, or on the private PostgreSQL in PG_DATA_DIR, after
migrating and seeding it (--scale; tenants already there are kept). With --target it loads a
running server, which must use the same database as DATABASE_URL (the bench makes its accounts
and tokens there, and runs the ceiling on it); --pid names the server process to measure.

Scenarios (--scenario, comma-separated; default runbook,read,mixed,ceiling):
  runbook   the runbook's validation: 1000 requests at concurrency 50 on GET /api/v1/events
  read      closed loop at each --concurrency on the events list, category results, scoresheet
  mixed     judges submitting scores (--write-share of requests) while others read results
  ceiling   the same store calls as read and mixed, run directly through pgx, without HTTP
  overload  events list at concurrency 50 and 1000 on a server with connection_limit=10; checks
            that every answer is 2xx or 503 DB_POOL_TIMEOUT, none slower than pool_timeout + 1 s,
            peak RSS under 200 MB, and throughput at 1000 at least 80 % of that at 50

Load drivers (--driver): vegeta, a Go library in this process, sends every scenario's requests;
with wrk (a C load generator, when on PATH or with --driver wrk) the read sweep's API steps are
driven by wrk instead, which costs less CPU on the machine the server shares. The runbook (a
number of requests), mixed (writes with bodies) and overload (answers checked one by one) always
use vegeta. The driver of each row is in the table and in bench-results.json.

It prints a table, writes bench-results.json, bench-chart.svg and bench-server.log in --out.

Flags:
`

func benchCommand(ctx context.Context, args []string, env Env) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(env.Stderr, benchUsage); fs.PrintDefaults() }
	cfg, ok := loadConfig(env)
	if !ok {
		return exitUsage
	}
	o := benchOptions{}
	fs.StringVar(&o.target, "target", "", "base URL of a running server (default: start one)")
	fs.IntVar(&o.pid, "pid", 0, "process id of the --target server, to record its CPU and peak RSS")
	scenarios := fs.String("scenario", "runbook,read,mixed,ceiling", "scenarios to run, comma-separated")
	fs.StringVar(&o.scale, "scale", "medium", "seed scale of the data: small, medium or large")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the generator (the bench tenant is the first tenant of this seed)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "length of each closed-loop step")
	concurrency := fs.String("concurrency", "10,50,200,1000", "concurrencies of the read and mixed sweeps")
	endpoints := fs.String("endpoints", "events,results,scoresheet", "endpoints of the read sweep")
	fs.Float64Var(&o.writeShare, "write-share", 0.2, "share of score submissions in the mixed scenario (0 to 1)")
	fs.IntVar(&o.writers, "writers", 20, "judges who submit scores in the mixed scenario")
	fs.StringVar(&o.out, "out", ".", "folder of bench-results.json, bench-chart.svg and bench-server.log")
	fs.IntVar(&o.connectionLimit, "connection-limit", 0, "connection_limit of the server started and of the ceiling's pool (0: as DATABASE_URL says)")
	fs.StringVar(&o.dataDir, "data-dir", cfg.PGDataDir, "data folder of the private PostgreSQL (PG_DATA_DIR)")
	driver := fs.String("driver", "auto", "load driver of the read sweep: auto (wrk when on PATH, else vegeta), wrk or vegeta")
	if done, code := parseFlags(fs, args, env); done {
		return code
	}
	for _, s := range strings.Split(*scenarios, ",") {
		s = strings.TrimSpace(s)
		if !slices.Contains([]string{"runbook", "read", "mixed", "ceiling", "overload"}, s) {
			fmt.Fprintf(env.Stderr, "eventmanager bench: unknown scenario %q\n", s)
			return exitUsage
		}
		o.scenarios = append(o.scenarios, s)
	}
	for _, e := range strings.Split(*endpoints, ",") {
		e = strings.TrimSpace(e)
		if !slices.Contains([]string{bench.EndpointEvents, bench.EndpointResults, bench.EndpointScoresheet}, e) {
			fmt.Fprintf(env.Stderr, "eventmanager bench: unknown endpoint %q (want events, results or scoresheet)\n", e)
			return exitUsage
		}
		o.endpoints = append(o.endpoints, e)
	}
	for _, c := range strings.Split(*concurrency, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 1 {
			fmt.Fprintf(env.Stderr, "eventmanager bench: bad concurrency %q\n", c)
			return exitUsage
		}
		o.concurrency = append(o.concurrency, n)
	}
	switch *driver {
	case "auto":
		if o.wrkPath = bench.WrkPath(); o.wrkPath != "" {
			o.driver = bench.DriverWrk
		} else {
			o.driver = bench.DriverVegeta
		}
	case bench.DriverWrk:
		if o.wrkPath = bench.WrkPath(); o.wrkPath == "" {
			fmt.Fprintln(env.Stderr, "eventmanager bench: --driver wrk: wrk is not on PATH (apt-get install wrk, or make bench)")
			return exitUsage
		}
		o.driver = bench.DriverWrk
	case bench.DriverVegeta:
		o.driver = bench.DriverVegeta
	default:
		fmt.Fprintf(env.Stderr, "eventmanager bench: unknown driver %q (want auto, wrk or vegeta)\n", *driver)
		return exitUsage
	}
	if _, known := seed.Scales[o.scale]; !known || o.writeShare < 0 || o.writeShare > 1 || o.duration <= 0 {
		fmt.Fprintln(env.Stderr, "eventmanager bench: --scale must be small, medium or large, --write-share within 0 and 1, --duration positive")
		return exitUsage
	}
	if o.target != "" && slices.Contains(o.scenarios, "overload") && o.pid == 0 {
		fmt.Fprintln(env.Stderr, "eventmanager bench: the overload scenario against --target needs --pid (its RSS is part of the check)")
		return exitUsage
	}
	log := newLogger(cfg, env.Stderr)
	code, err := runBench(ctx, cfg, o, log, env)
	if err != nil {
		printErr(env, "eventmanager bench: ", err)
		return exitFailed
	}
	return code
}

type benchOptions struct {
	target          string
	pid             int
	scenarios       []string
	scale           string
	seed            uint64
	duration        time.Duration
	concurrency     []int
	endpoints       []string
	writeShare      float64
	writers         int
	out             string
	connectionLimit int
	dataDir         string
	// driver is the load driver of the read sweep's API steps (bench.DriverWrk or
	// bench.DriverVegeta); wrkPath is wrk's binary with DriverWrk.
	driver  string
	wrkPath string
}

func (o benchOptions) has(s string) bool { return slices.Contains(o.scenarios, s) }

// withParams adds our DATABASE_URL parameters to a URL-form connection string.
func withParams(conn string, params ...string) string {
	if len(params) == 0 {
		return conn
	}
	sep := "?"
	if strings.Contains(conn, "?") {
		sep = "&"
	}
	return conn + sep + strings.Join(params, "&")
}

func runBench(ctx context.Context, cfg config.Config, o benchOptions, log *slog.Logger, env Env) (int, error) {
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return exitFailed, err
	}
	database, err := openDatabase(ctx, cfg, o.dataDir, log, false)
	if err != nil {
		return exitFailed, err
	}
	defer database.close(ctx)
	if err := db.MigrateUp(ctx, database.migration, log); err != nil {
		return exitFailed, fmt.Errorf("migrate: %w", err)
	}
	sc := seed.Scales[o.scale]
	fmt.Fprintf(env.Stderr, "bench: seeding scale %s (tenants already there are kept)\n", sc.Name)
	progress := func(p seed.Progress) {
		if p.Done%10 == 0 || p.Done == p.Total {
			fmt.Fprintf(env.Stderr, "bench: seed %d/%d tenants (%d already there), %s\n", p.Done, p.Total, p.Skipped, p.Elapsed.Round(time.Second))
		}
	}
	if _, err := seed.Run(ctx, database.migration, seed.Options{Scale: sc, Seed: o.seed, Workers: 2, Progress: progress}); err != nil {
		return exitFailed, err
	}

	// The URL the server and the ceiling's pool use: the same pool settings for both.
	var params []string
	if o.connectionLimit > 0 {
		params = append(params, "connection_limit="+strconv.Itoa(o.connectionLimit))
	}
	serverURL := withParams(database.pooled.ConnString, params...)
	if cfg.DatabaseSet && len(params) == 0 {
		serverURL = env.Getenv("DATABASE_URL")
	}
	settings, err := config.ParseDatabaseURL(serverURL)
	if err != nil {
		return exitFailed, err
	}
	pool, err := db.Open(settings, db.Options{Timeouts: cfg.QueryTimeouts, Logger: log, AppName: "eventmanager-bench"})
	if err != nil {
		return exitFailed, err
	}
	defer pool.Close()
	st := store.New(pool)
	fixture, err := bench.PrepareTenant(ctx, st, pool, seed.TenantSlug(sc.Name, o.seed, 0), o.writers)
	if err != nil {
		return exitFailed, err
	}
	workloads := fixture.Workloads(st, o.writeShare)

	logFile, err := os.Create(filepath.Join(o.out, "bench-server.log"))
	if err != nil {
		return exitFailed, err
	}
	defer logFile.Close()
	exe, err := os.Executable()
	if err != nil {
		return exitFailed, err
	}
	startServer := func(url string) (base string, pid int, stop func(), err error) {
		if o.target != "" {
			return strings.TrimRight(o.target, "/"), o.pid, func() {}, nil
		}
		srv, err := bench.StartServer(ctx, exe, []string{"DATABASE_URL=" + url}, logFile)
		if err != nil {
			return "", 0, nil, err
		}
		return srv.URL, srv.PID(), srv.Stop, nil
	}

	rep := bench.Report{Started: time.Now().UTC(), Machine: bench.ThisMachine(), Settings: map[string]string{
		"scale": sc.Name, "seed": strconv.FormatUint(o.seed, 10), "step_duration": o.duration.String(),
		"write_share": strconv.FormatFloat(o.writeShare, 'f', -1, 64), "connection_limit": strconv.Itoa(int(settings.ConnectionLimit)),
		"pool_timeout": settings.PoolTimeout.String(), "target": o.target, "scenarios": strings.Join(o.scenarios, ","),
		"driver": o.driver, "ceiling": "store methods the handler calls (token check + endpoint query) on a db.DB with the server's pool settings, no HTTP",
	}}
	if o.driver == bench.DriverWrk {
		rep.Settings["wrk"] = bench.WrkVersion(o.wrkPath)
	}
	add := func(rows []bench.Row, err error) error {
		if err != nil {
			return err
		}
		for _, r := range rows {
			fmt.Fprintf(env.Stderr, "bench: %-8s %-11s %-7s %-6s c=%-4d %7.0f req/s  p95 %7.1f ms  errors: %s\n",
				r.Scenario, r.Endpoint, r.Mode, r.Driver, r.Concurrency, r.RPS, r.P95MS, bench.ErrorSummary(r.Errors))
		}
		rep.Rows = append(rep.Rows, rows...)
		return nil
	}

	needsServer := o.has("runbook") || o.has("read") || o.has("mixed")
	if needsServer || o.has("ceiling") {
		base, pid, stop, err := "", 0, func() {}, error(nil)
		if needsServer {
			if base, pid, stop, err = startServer(serverURL); err != nil {
				return exitFailed, err
			}
		}
		err = runSweeps(ctx, o, base, pid, workloads, add)
		stop()
		if err != nil {
			return exitFailed, err
		}
	}
	code := exitOK
	var overload bench.OverloadResult
	if o.has("overload") {
		// The pool is made small; pool_timeout stays what DATABASE_URL says (default 10 s).
		ourl := withParams(database.pooled.ConnString, "connection_limit="+strconv.Itoa(bench.OverloadConnectionLimit),
			"pool_timeout="+strconv.FormatFloat(database.pooled.PoolTimeout.Seconds(), 'f', 3, 64))
		osettings, err := config.ParseDatabaseURL(ourl)
		if err != nil {
			return exitFailed, err
		}
		base, pid, stop, err := startServer(ourl)
		if err != nil {
			return exitFailed, err
		}
		for _, c := range []int{bench.OverloadLow, bench.OverloadHigh} {
			err = add(bench.RunHTTP(ctx, base, bench.Step{Scenario: "overload", Workload: workloads[bench.EndpointEvents],
				Concurrency: c, Duration: o.duration, ServerPID: pid}))
			if err != nil {
				break
			}
		}
		stop()
		if err != nil {
			return exitFailed, err
		}
		overload = bench.CheckOverload(rep.Rows, osettings.PoolTimeout)
		if !overload.Holds() {
			code = exitFailed
		}
	}

	bench.FillRatios(rep.Rows)
	fmt.Fprintf(env.Stdout, "\nload driver: %s\n\n", driverNote(o))
	if err := bench.WriteTable(env.Stdout, rep.Rows); err != nil {
		return exitFailed, err
	}
	if o.has("runbook") {
		for _, r := range rep.Rows {
			if r.Scenario == "runbook" {
				fmt.Fprintf(env.Stdout, "\nrunbook: %d requests, %d failed; P50 %.1f ms, P95 %.1f ms, P99 %.1f ms\n",
					r.Requests, r.Failed, r.P50MS, r.P95MS, r.P99MS)
				if r.Failed > 0 {
					code = exitFailed
				}
			}
		}
	}
	if o.has("overload") {
		fmt.Fprintln(env.Stdout, "\n"+bench.OverloadVerdict(overload))
	}
	if err := bench.WriteJSON(filepath.Join(o.out, "bench-results.json"), rep); err != nil {
		return exitFailed, err
	}
	if err := writeChartFile(filepath.Join(o.out, "bench-chart.svg"), rep.Rows); err != nil {
		return exitFailed, err
	}
	fmt.Fprintf(env.Stdout, "\nwrote %s and %s\n", filepath.Join(o.out, "bench-results.json"), filepath.Join(o.out, "bench-chart.svg"))
	return code, nil
}

// runSweeps runs the runbook, then each endpoint's sweep: at every concurrency the API step and,
// right after it, the ceiling step, so that both see the same machine.
func runSweeps(ctx context.Context, o benchOptions, base string, pid int, w map[string]bench.Workload, add func([]bench.Row, error) error) error {
	if o.has("runbook") {
		if err := add(bench.RunHTTP(ctx, base, bench.Step{Scenario: "runbook", Workload: w[bench.EndpointEvents],
			Concurrency: 50, Requests: 1000, ServerPID: pid})); err != nil {
			return err
		}
	}
	type sweep struct{ scenario, endpoint string }
	var sweeps []sweep
	if o.has("read") || o.has("ceiling") {
		for _, e := range o.endpoints {
			sweeps = append(sweeps, sweep{"read", e})
		}
	}
	if o.has("mixed") {
		sweeps = append(sweeps, sweep{"mixed", bench.EndpointMixed})
	}
	for _, sw := range sweeps {
		for _, c := range o.concurrency {
			step := bench.Step{Scenario: sw.scenario, Workload: w[sw.endpoint], Concurrency: c, Duration: o.duration, ServerPID: pid}
			if sw.scenario == "mixed" || o.has("read") {
				run := bench.RunHTTP
				if o.driver == bench.DriverWrk && bench.CanWrk(step) {
					run = func(ctx context.Context, base string, s bench.Step) ([]bench.Row, error) {
						return bench.RunWrk(ctx, o.wrkPath, base, s)
					}
				}
				if err := add(run(ctx, base, step)); err != nil {
					return err
				}
			}
			if o.has("ceiling") {
				if err := add(bench.RunCeiling(ctx, step)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// driverNote says which driver sent which requests, for the table's header.
func driverNote(o benchOptions) string {
	if o.driver == bench.DriverWrk {
		return "wrk (" + bench.WrkVersion(o.wrkPath) + ") for the read sweep's API steps; vegeta for runbook, mixed and overload"
	}
	return "vegeta for every API step"
}

func writeChartFile(path string, rows []bench.Row) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := bench.WriteChart(f, rows); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
