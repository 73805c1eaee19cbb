package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/eventmanager/eventmanager/internal/config"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/health"
)

const doctorUsage = `Usage: eventmanager doctor [--instances N] [--json] [flags]

Checks the database: connectivity, connections, cache hit ratios, long-running queries, sessions
idle in a transaction, invalid, unused and redundant indexes, big tables read by sequential scans
(missing index candidates), dead rows and the last (auto)vacuum, size; and the connection budget of
the runbook: with N instances each should have connection_limit at most
floor((max_connections - superuser_reserved_connections) × 0.8 / N); and the serve instances
connected now (each names itself eventmanager/<host>/<pid>/<connection_limit> in
pg_stat_activity, with a "p" after the limit behind PgBouncer) with the sum of their
connection_limit against that budget (instances behind PgBouncer are listed, not summed).

Exit code 0 when healthy, 1 when degraded (a warning), 2 when unhealthy (a failure, or the database
cannot be reached). Query latency and pool use are per serving instance: see
GET /api/v1/admin/database/health.

Flags:
`

func doctor(ctx context.Context, args []string, env Env) int {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(env.Stderr, doctorUsage); fs.PrintDefaults() }
	cfg, ok := loadConfig(env)
	if !ok {
		return exitUsage
	}
	dataDir := fs.String("data-dir", cfg.PGDataDir, "data folder of the private PostgreSQL (PG_DATA_DIR)")
	instances := fs.Int("instances", 1, "number of instances that share the database, for the connection budget")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if done, code := parseFlags(fs, args, env); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "eventmanager doctor: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if *instances < 1 {
		fmt.Fprintln(env.Stderr, "eventmanager doctor: --instances must be at least 1")
		return exitUsage
	}
	log := newLogger(cfg, env.Stderr)
	database, err := openDatabase(ctx, cfg, *dataDir, log, true)
	if err != nil {
		printErr(env, "eventmanager doctor: ", err)
		return 2
	}
	defer database.close(ctx)
	pool, err := db.Open(database.pooled, db.Options{Timeouts: cfg.QueryTimeouts, SlowQuery: cfg.SlowQuery, Logger: log, AppName: "eventmanager doctor"})
	if err != nil {
		printErr(env, "eventmanager doctor: ", err)
		return 2
	}
	defer pool.Close()

	full := health.New(pool, nil, health.Thresholds{}).Run(ctx)
	// This command's own pool says nothing about the serving instances: leave it out.
	report := health.Report{Status: health.Healthy, CheckedAt: full.CheckedAt, Checks: []health.Check{}}
	for _, c := range full.Checks {
		if c.Name != "pool" {
			report.Add(c)
		}
	}
	if conn, _ := report.Check("connectivity"); conn.Status != health.Fail {
		maxConns, reserved, err := health.ServerLimits(ctx, pool)
		if err != nil {
			report.Add(health.Check{Name: "connection_budget", Status: health.Fail, Explanation: "could not read max_connections: " + config.RedactURL(err.Error())})
		} else {
			report.Add(health.BudgetCheck(maxConns, reserved, *instances, int(database.pooled.ConnectionLimit)))
			if live, err := health.LiveInstances(ctx, pool); err != nil {
				report.Add(health.Check{Name: "instances", Status: health.Fail, Explanation: "could not list the live instances: " + config.RedactURL(err.Error())})
			} else {
				report.Add(health.InstancesCheck(live, maxConns, reserved))
			}
		}
	}

	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(report); err != nil {
			return exitFailed
		}
	} else {
		printReport(env.Stdout, report, isTerminal(env.Stdout))
	}
	switch report.Status {
	case health.Healthy:
		return 0
	case health.Degraded:
		return 1
	}
	return 2
}

// printReport writes one line per check, the listed items below it, and the overall status last.
func printReport(w io.Writer, r health.Report, colour bool) {
	paint := func(s string, status health.Status) string {
		if !colour {
			return s
		}
		code := "32" // green
		switch status {
		case health.Warn:
			code = "33" // yellow
		case health.Fail:
			code = "31" // red
		}
		return "\x1b[" + code + "m" + s + "\x1b[0m"
	}
	width := 0
	for _, c := range r.Checks {
		width = max(width, len(c.Name))
	}
	for _, c := range r.Checks {
		fmt.Fprintf(w, "%s  %-*s  %s\n", paint(fmt.Sprintf("%-4s", strings.ToUpper(string(c.Status))), c.Status), width, c.Name, c.Explanation)
		for _, it := range c.Items {
			fmt.Fprintf(w, "      %*s  - %s\n", width, "", it)
		}
	}
	overall := health.OK
	switch r.Status {
	case health.Degraded:
		overall = health.Warn
	case health.Unhealthy:
		overall = health.Fail
	}
	fmt.Fprintf(w, "\nDatabase: %s (checked %s)\n", paint(string(r.Status), overall), r.CheckedAt.Format("2006-01-02T15:04:05Z07:00"))
}
