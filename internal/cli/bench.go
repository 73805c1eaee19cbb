package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/eventmanager/eventmanager/internal/bench"
)

const benchUsage = `Usage: eventmanager bench [flags]

Measures the API under load (docs/performance.md). Without --target it starts the server itself
(a child "eventmanager serve") on DATABASE_URL, or on the private PostgreSQL in PG_DATA_DIR, after
migrating and seeding it (--scale; tenants already there are kept). With --target it loads a
running server, which must use the same database as DATABASE_URL (the bench makes its accounts
and tokens there, and runs the ceiling on it); --pid names the server process to measure.

Scenarios (--scenario, comma-separated; default runbook,read,mixed,ceiling):
  runbook   the runbook's validation: 1000 requests at concurrency 50 on GET /api/v1/events
  read      closed loop at each --concurrency on each --endpoints: the events list (events: the
            live events, 5 on a seeded tenant; events-archived: ?archived=true, a page of 50),
            category results, scoresheet
  mixed     judges submitting scores (--write-share of requests) while others read results
  ceiling   after each read and mixed step, two rows without HTTP: "ceiling", the endpoint's
            query alone (the same SQL and tenant setting in one pgx batch, no token check), and
            "ceiling+token", the same after the token check; API/ceiling is the API's share of it
  overload  events list at concurrency 50 and 1000 on a server with connection_limit=10; checks
            that every answer is 2xx or 503 DB_POOL_TIMEOUT, none slower than pool_timeout + 1 s,
            peak RSS under 200 MB, and throughput at 1000 at least 80 % of that at 50
  event-night
            --writers judges save scoresheet rows (PUT scores with an Idempotency-Key) while
            --boards boards stream their categories (server-sent events) for --duration; reports
            writes/s, stream latency (write acknowledged to event on every board) P50/P99 and
            errors, and checks P99 under 1 s, server peak RSS under 200 MB and one database
            listener (bench-event-night.json)
  instances --instances N serve processes on the database (--pgbouncer: through a PgBouncer of
            the bench's own), the events list spread over them at each --concurrency; their pools
            share the budget (80 % of max_connections minus the reserve); checks that every answer
            is 2xx or 503 with Retry-After and that the server's connections (sampled every 20 ms
            in pg_stat_activity) never pass the budget; table also in bench-instances.json

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
	o := bench.Options{Timeouts: cfg.QueryTimeouts, Progress: env.Stderr, Stdout: env.Stdout}
	fs.StringVar(&o.Target, "target", "", "base URL of a running server (default: start one)")
	fs.IntVar(&o.PID, "pid", 0, "process id of the --target server, to record its CPU and peak RSS")
	scenarios := fs.String("scenario", "runbook,read,mixed,ceiling", "scenarios to run, comma-separated")
	fs.StringVar(&o.Scale, "scale", "medium", "seed scale of the data: small, medium or large")
	fs.Uint64Var(&o.Seed, "seed", 1, "seed of the generator (the bench tenant is the first tenant of this seed)")
	fs.DurationVar(&o.Duration, "duration", 10*time.Second, "length of each closed-loop step")
	fs.IntVar(&o.Rounds, "rounds", 1, "times the read and mixed sweeps run, one after the other; with more than one, the medians follow the table")
	concurrency := fs.String("concurrency", "10,50,200,1000", "concurrencies of the read and mixed sweeps")
	endpoints := fs.String("endpoints", strings.Join(bench.Endpoints, ","), "endpoints of the read sweep: "+strings.Join(bench.Endpoints, ", "))
	fs.Float64Var(&o.WriteShare, "write-share", 0.2, "share of score submissions in the mixed scenario (0 to 1)")
	fs.IntVar(&o.Writers, "writers", 20, "judges who submit scores in the mixed and event-night scenarios")
	fs.IntVar(&o.Boards, "boards", 100, "boards streaming live updates in the event-night scenario")
	fs.StringVar(&o.Out, "out", ".", "folder of bench-results.json, bench-chart.svg and bench-server.log")
	fs.IntVar(&o.ConnectionLimit, "connection-limit", 0, "connection_limit of the server started and of the ceiling's pool (0: as DATABASE_URL says)")
	dataDir := fs.String("data-dir", cfg.PGDataDir, "data folder of the private PostgreSQL (PG_DATA_DIR)")
	fs.IntVar(&o.Instances, "instances", 1, "serve processes of the instances scenario, on the same database, sharing its connection budget")
	fs.BoolVar(&o.PgBouncer, "pgbouncer", false, "instances scenario: the serve processes go through a PgBouncer (transaction mode) of the bench's own")
	fs.StringVar(&o.Driver, "driver", bench.DriverAuto, "load driver of the read sweep: auto (wrk when on PATH, else vegeta), wrk or vegeta")
	if done, code := parseFlags(fs, args, env); done {
		return code
	}
	o.Scenarios = splitList(*scenarios)
	o.Endpoints = splitList(*endpoints)
	for _, c := range splitList(*concurrency) {
		n, err := strconv.Atoi(c)
		if err != nil {
			fmt.Fprintf(env.Stderr, "eventmanager bench: bad concurrency %q\n", c)
			return exitUsage
		}
		o.Concurrency = append(o.Concurrency, n)
	}
	if err := o.Validate(); err != nil {
		fmt.Fprintln(env.Stderr, "eventmanager bench: "+err.Error())
		return exitUsage
	}
	log := newLogger(cfg, env.Stderr)
	o.Logger = log
	exe, err := os.Executable()
	if err != nil {
		printErr(env, "eventmanager bench: ", err)
		return exitFailed
	}
	o.Executable = exe
	database, err := openDatabase(ctx, cfg, *dataDir, log, false)
	if err != nil {
		printErr(env, "eventmanager bench: ", err)
		return exitFailed
	}
	defer database.close(ctx)
	// Migrations and the seed (which ends with ANALYZE) run as the schema's owner.
	o.Database, o.DirectURL, o.DatabaseURL = database.pooled, database.migration, database.pooled.ConnString
	if cfg.DatabaseSet {
		o.DatabaseURL = env.Getenv("DATABASE_URL")
	}
	if _, err := bench.Run(ctx, o); err != nil {
		printErr(env, "eventmanager bench: ", err)
		return exitFailed
	}
	return exitOK
}

// splitList splits a comma-separated flag value into its trimmed items.
func splitList(s string) []string {
	var items []string
	for _, item := range strings.Split(s, ",") {
		items = append(items, strings.TrimSpace(item))
	}
	return items
}
