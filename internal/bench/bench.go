package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/eventmanager/eventmanager/internal/config"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/seed"
	"github.com/eventmanager/eventmanager/internal/store"
)

// Scenarios are the names Options.Scenarios accepts, in the order they run.
var Scenarios = []string{"runbook", "read", "mixed", "ceiling", "overload", "event-night", "instances"}

// Endpoints are the names Options.Endpoints accepts (the read sweep's endpoints).
var Endpoints = []string{EndpointEvents, EndpointEventsArchived, EndpointResults, EndpointScoresheet}

// DriverAuto picks wrk when it is on PATH, else vegeta.
const DriverAuto = "auto"

// Options say what Run measures and where.
type Options struct {
	// Database is where the service's data lives (the parsed DATABASE_URL, or the private
	// PostgreSQL's); DatabaseURL is the same as written, handed to the server unchanged when
	// ConnectionLimit is 0; DirectURL is what migrations use.
	Database    config.Database
	DatabaseURL string
	DirectURL   string
	// Timeouts are the query classes' timeouts of the ceiling's pool.
	Timeouts config.QueryTimeouts
	// Executable is the eventmanager binary the bench runs as `serve` when Target is "".
	Executable string
	// Target is the base URL of a running server on the same database; PID its process.
	Target string
	PID    int

	Scenarios   []string
	Endpoints   []string
	Concurrency []int
	Scale       string // seed scale: small, medium or large
	Seed        uint64 // the bench tenant is the first tenant of this seed
	Duration    time.Duration
	// Rounds is how many times the read and mixed sweeps run, one after the other, so that a
	// neighbour's burst weighs on every mode alike; with more than one the table is followed by
	// the medians over the rounds. 0 is one round.
	Rounds     int
	WriteShare float64 // share of score submissions in the mixed scenario (0 to 1)
	Writers    int     // judges who submit scores in the mixed and event-night scenarios
	Boards     int     // boards streaming in the event-night scenario
	// ConnectionLimit, when above 0, is the connection_limit of the server started and of the
	// ceiling's pool.
	ConnectionLimit int
	Driver          string // DriverAuto, DriverWrk or DriverVegeta
	// Instances is the number of serve processes of the instances scenario (instances.go), on
	// the database directly or, with PgBouncer, through a PgBouncer of the bench's own.
	Instances int
	PgBouncer bool
	// Out is the folder of bench-results.json, bench-chart.svg and bench-server.log.
	Out string

	Logger *slog.Logger
	// Progress receives seeding progress and each row as it is measured; Stdout the table and
	// the verdicts.
	Progress, Stdout io.Writer
}

// ErrCheckFailed is returned (wrapped) by Run when the runbook had failures or the overload
// scenario broke a property; the figures are written all the same.
var ErrCheckFailed = errors.New("a check of the bench failed")

// Validate reports the first option Run would refuse.
func (o Options) Validate() error {
	for _, s := range o.Scenarios {
		if !slices.Contains(Scenarios, s) {
			return fmt.Errorf("unknown scenario %q (want %s)", s, strings.Join(Scenarios, ", "))
		}
	}
	for _, e := range o.Endpoints {
		if !slices.Contains(Endpoints, e) {
			return fmt.Errorf("unknown endpoint %q (want %s)", e, strings.Join(Endpoints, ", "))
		}
	}
	for _, c := range o.Concurrency {
		if c < 1 {
			return fmt.Errorf("bad concurrency %d", c)
		}
	}
	switch o.Driver {
	case DriverAuto, DriverVegeta:
	case DriverWrk:
		if WrkPath() == "" {
			return errors.New("driver wrk: wrk is not on PATH (apt-get install wrk, or make bench)")
		}
	default:
		return fmt.Errorf("unknown driver %q (want auto, wrk or vegeta)", o.Driver)
	}
	if _, known := seed.Scales[o.Scale]; !known {
		return fmt.Errorf("scale %q: want small, medium or large", o.Scale)
	}
	if o.WriteShare < 0 || o.WriteShare > 1 {
		return errors.New("write share must be within 0 and 1")
	}
	if o.Duration <= 0 {
		return errors.New("duration must be positive")
	}
	if o.Rounds < 0 {
		return errors.New("rounds must be 1 or more")
	}
	if o.has("event-night") && (o.Boards < 1 || o.Writers < 1) {
		return errors.New("the event-night scenario needs at least one judge (writers) and one board")
	}
	if o.has("instances") && (o.Target != "" || o.Instances < 1) {
		return errors.New("the instances scenario starts its own servers: no --target, and --instances at least 1")
	}
	if o.Target != "" && o.has("overload") && o.PID == 0 {
		return errors.New("the overload scenario against a target needs its pid (its RSS is part of the check)")
	}
	return nil
}

func (o Options) has(s string) bool { return slices.Contains(o.Scenarios, s) }

// wrkPath is wrk's binary when the read sweep's API steps go through wrk, else "".
func (o Options) wrkPath() string {
	if o.Driver == DriverVegeta {
		return ""
	}
	return WrkPath()
}

// Run migrates and seeds the database, prepares the bench tenant, runs the scenarios, prints the
// table and writes the report files in o.Out.
func Run(ctx context.Context, o Options) (Report, error) {
	if err := o.Validate(); err != nil {
		return Report{}, err
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return Report{}, err
	}
	if err := db.MigrateUp(ctx, o.DirectURL, o.Logger); err != nil {
		return Report{}, fmt.Errorf("migrate: %w", err)
	}
	sc := seed.Scales[o.Scale]
	fmt.Fprintf(o.Progress, "bench: seeding scale %s (tenants already there are kept)\n", sc.Name)
	progress := func(p seed.Progress) {
		if p.Done%10 == 0 || p.Done == p.Total {
			fmt.Fprintf(o.Progress, "bench: seed %d/%d tenants (%d already there), %s\n", p.Done, p.Total, p.Skipped, p.Elapsed.Round(time.Second))
		}
	}
	// As the owner (DirectURL): the seed ends with ANALYZE, which only a table's owner may run.
	if _, err := seed.Run(ctx, o.DirectURL, seed.Options{Scale: sc, Seed: o.Seed, Workers: 2, Progress: progress}); err != nil {
		return Report{}, err
	}

	// The URL the server and the ceiling's pool use: the same pool settings for both.
	serverURL := o.DatabaseURL
	if o.ConnectionLimit > 0 {
		serverURL = withParams(o.Database.ConnString, "connection_limit="+strconv.Itoa(o.ConnectionLimit))
	}
	settings, err := config.ParseDatabaseURL(serverURL)
	if err != nil {
		return Report{}, err
	}
	pool, err := db.Open(settings, db.Options{Timeouts: o.Timeouts, Logger: o.Logger, AppName: "eventmanager-bench"})
	if err != nil {
		return Report{}, err
	}
	defer pool.Close()
	st := store.New(pool)
	fixture, err := PrepareTenant(ctx, st, pool, seed.TenantSlug(sc.Name, o.Seed, 0), o.Writers)
	if err != nil {
		return Report{}, err
	}
	workloads := fixture.Workloads(st, o.WriteShare)

	logFile, err := os.Create(filepath.Join(o.Out, "bench-server.log"))
	if err != nil {
		return Report{}, err
	}
	defer logFile.Close()
	startServer := func(url string) (base string, pid int, stop func(), err error) {
		if o.Target != "" {
			return strings.TrimRight(o.Target, "/"), o.PID, func() {}, nil
		}
		srv, err := StartServer(ctx, o.Executable, []string{"DATABASE_URL=" + url}, logFile)
		if err != nil {
			return "", 0, nil, err
		}
		return srv.URL, srv.PID(), srv.Stop, nil
	}

	wrk := o.wrkPath()
	driver := DriverVegeta
	if wrk != "" {
		driver = DriverWrk
	}
	rep := Report{Started: time.Now().UTC(), Machine: ThisMachine(), Settings: map[string]string{
		"scale": sc.Name, "seed": strconv.FormatUint(o.Seed, 10), "step_duration": o.Duration.String(), "rounds": strconv.Itoa(max(1, o.Rounds)),
		"write_share": strconv.FormatFloat(o.WriteShare, 'f', -1, 64), "connection_limit": strconv.Itoa(int(settings.ConnectionLimit)),
		"pool_timeout": settings.PoolTimeout.String(), "target": o.Target, "scenarios": strings.Join(o.Scenarios, ","),
		"driver": driver, "ceiling": "the endpoint's store call alone (its SQL and tenant setting in one pgx batch) on a db.DB with the server's pool settings, no HTTP, no token check",
		"ceiling+token": "the ceiling after the token check an uncached token costs (store.Authenticate): two round trips",
	}}
	if wrk != "" {
		rep.Settings["wrk"] = WrkVersion(wrk)
	}
	perAnswer := fmt.Sprintf("%s: %d, %s: %d", EndpointEvents, fixture.LiveEvents, EndpointEventsArchived, fixture.ArchivedEvents)
	rep.Settings["events_per_answer"] = perAnswer
	add := func(rows []Row, err error) error {
		if err != nil {
			return err
		}
		for _, r := range rows {
			fmt.Fprintf(o.Progress, "bench: %-8s %-11s %-7s %-6s c=%-4d %7.0f req/s  p95 %7.1f ms  errors: %s\n",
				r.Scenario, r.Endpoint, r.Mode, r.Driver, r.Concurrency, r.RPS, r.P95MS, ErrorSummary(r.Errors))
		}
		rep.Rows = append(rep.Rows, rows...)
		return nil
	}

	needsServer := o.has("runbook") || o.has("read") || o.has("mixed")
	if needsServer || o.has("ceiling") {
		base, pid, stop, err := "", 0, func() {}, error(nil)
		if needsServer {
			if base, pid, stop, err = startServer(serverURL); err != nil {
				return rep, err
			}
		}
		err = runSweeps(ctx, o, wrk, base, pid, workloads, add)
		stop()
		if err != nil {
			return rep, err
		}
	}
	var failed []string
	var overload OverloadResult
	if o.has("overload") {
		// The pool is made small; pool_timeout stays what DATABASE_URL says (default 10 s).
		ourl := withParams(o.Database.ConnString, "connection_limit="+strconv.Itoa(OverloadConnectionLimit),
			"pool_timeout="+strconv.FormatFloat(o.Database.PoolTimeout.Seconds(), 'f', 3, 64))
		osettings, err := config.ParseDatabaseURL(ourl)
		if err != nil {
			return rep, err
		}
		base, pid, stop, err := startServer(ourl)
		if err != nil {
			return rep, err
		}
		for _, c := range []int{OverloadLow, OverloadHigh} {
			err = add(RunHTTP(ctx, base, Step{Scenario: "overload", Workload: workloads[EndpointEvents],
				Concurrency: c, Duration: o.Duration, ServerPID: pid}))
			if err != nil {
				break
			}
		}
		stop()
		if err != nil {
			return rep, err
		}
		overload = CheckOverload(rep.Rows, osettings.PoolTimeout)
		if !overload.Holds() {
			failed = append(failed, "overload")
		}
	}

	if o.has("event-night") {
		en, err := runEventNight(ctx, o, startServer, serverURL, fixture, pool)
		if err != nil {
			return rep, err
		}
		if len(en.Problems()) > 0 {
			failed = append(failed, "event-night")
		}
	}
	var instances []InstancesRow
	if o.has("instances") {
		rows, broken, err := runInstances(ctx, o, workloads[EndpointEvents], logFile)
		instances = rows
		if err != nil {
			return rep, err
		}
		if len(broken) > 0 {
			failed = append(failed, "instances")
			for _, b := range broken {
				fmt.Fprintln(o.Stdout, "instances: "+b)
			}
		}
	}

	FillRatios(rep.Rows)
	fmt.Fprintf(o.Stdout, "\nload driver: %s\nevents per answer: %s\n\n", driverNote(wrk), perAnswer)
	if len(rep.Rows) > 0 {
		if err := WriteTable(o.Stdout, rep.Rows); err != nil {
			return rep, err
		}
	}
	for _, r := range rep.Rows {
		if r.Scenario == "runbook" {
			fmt.Fprintf(o.Stdout, "\nrunbook: %d requests, %d failed; P50 %.1f ms, P95 %.1f ms, P99 %.1f ms\n",
				r.Requests, r.Failed, r.P50MS, r.P95MS, r.P99MS)
			if r.Failed > 0 {
				failed = append(failed, "runbook")
			}
		}
	}
	if o.Rounds > 1 {
		var swept []Row
		for _, r := range rep.Rows {
			if r.Round > 0 {
				swept = append(swept, r)
			}
		}
		rep.Medians = Medians(swept)
		fmt.Fprintf(o.Stdout, "\nmedians over %d rounds:\n\n", o.Rounds)
		if err := WriteTable(o.Stdout, rep.Medians); err != nil {
			return rep, err
		}
	}
	if o.has("overload") {
		fmt.Fprintln(o.Stdout, "\n"+OverloadVerdict(overload))
	}
	if len(instances) > 0 {
		fmt.Fprintln(o.Stdout)
		if err := WriteInstancesTable(o.Stdout, instances); err != nil {
			return rep, err
		}
		if err := writeInstancesJSON(filepath.Join(o.Out, "bench-instances.json"), instances); err != nil {
			return rep, err
		}
	}
	if err := WriteJSON(filepath.Join(o.Out, "bench-results.json"), rep); err != nil {
		return rep, err
	}
	chartRows := rep.Rows
	if len(rep.Medians) > 0 {
		chartRows = rep.Medians
	}
	if err := writeChartFile(filepath.Join(o.Out, "bench-chart.svg"), chartRows); err != nil {
		return rep, err
	}
	fmt.Fprintf(o.Stdout, "\nwrote %s and %s\n", filepath.Join(o.Out, "bench-results.json"), filepath.Join(o.Out, "bench-chart.svg"))
	if len(failed) > 0 {
		return rep, fmt.Errorf("%w: %s", ErrCheckFailed, strings.Join(failed, ", "))
	}
	return rep, nil
}

// runSweeps runs the runbook, then each endpoint's sweep: at every concurrency the API step and,
// right after it, the ceiling steps (the query alone, then with the token check), so that all
// three see the same machine; the sweeps are repeated o.Rounds times. wrk is wrk's binary when
// it drives the read sweep's API steps.
func runSweeps(ctx context.Context, o Options, wrk, base string, pid int, w map[string]Workload, add func([]Row, error) error) error {
	if o.has("runbook") {
		if err := add(RunHTTP(ctx, base, Step{Scenario: "runbook", Workload: w[EndpointEvents],
			Concurrency: 50, Requests: 1000, ServerPID: pid})); err != nil {
			return err
		}
	}
	type sweep struct{ scenario, endpoint string }
	var sweeps []sweep
	if o.has("read") || o.has("ceiling") {
		for _, e := range o.Endpoints {
			sweeps = append(sweeps, sweep{"read", e})
		}
	}
	if o.has("mixed") {
		sweeps = append(sweeps, sweep{"mixed", EndpointMixed})
	}
	rounds := max(1, o.Rounds)
	for round := 1; round <= rounds; round++ {
		tag := func(rows []Row, err error) ([]Row, error) {
			if rounds > 1 {
				for i := range rows {
					rows[i].Round = round
				}
			}
			return rows, err
		}
		for _, sw := range sweeps {
			for _, c := range o.Concurrency {
				step := Step{Scenario: sw.scenario, Workload: w[sw.endpoint], Concurrency: c, Duration: o.Duration, ServerPID: pid}
				if sw.scenario == "mixed" || o.has("read") {
					run := RunHTTP
					if wrk != "" && CanWrk(step) {
						run = func(ctx context.Context, base string, s Step) ([]Row, error) {
							return RunWrk(ctx, wrk, base, s)
						}
					}
					if err := add(tag(run(ctx, base, step))); err != nil {
						return err
					}
				}
				if o.has("ceiling") {
					if err := add(tag(RunCeiling(ctx, step))); err != nil {
						return err
					}
					if err := add(tag(RunCeilingToken(ctx, step))); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// driverNote says which driver sent which requests, for the table's header.
func driverNote(wrk string) string {
	if wrk != "" {
		return "wrk (" + WrkVersion(wrk) + ") for the read sweep's API steps; vegeta for runbook, mixed and overload"
	}
	return "vegeta for every API step"
}

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

func writeChartFile(path string, rows []Row) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := WriteChart(f, rows); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
