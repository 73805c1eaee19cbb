package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/eventmanager/eventmanager/internal/health"
	"github.com/eventmanager/eventmanager/internal/pgbouncer"
	"github.com/jackc/pgx/v5"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// InstancesRow is one step of the instances scenario: N serve processes on one database, directly
// or through PgBouncer, loaded together on the events list.
type InstancesRow struct {
	Row
	Instances int    `json:"instances"`
	Via       string `json:"via"` // "direct" or "pgbouncer"
	// ConnectionLimit is each instance's pool; PgBouncerPool PgBouncer's default_pool_size.
	ConnectionLimit int `json:"connection_limit"`
	PgBouncerPool   int `json:"pgbouncer_pool,omitempty"`
	// MaxServerConnections is the most client backends of the database seen on the PostgreSQL
	// server during the step (sampled every 20 ms in pg_stat_activity; the bench's own connections
	// left out), Budget what they may be: 80 % of max_connections minus the reserve.
	MaxServerConnections int `json:"max_server_connections"`
	Budget               int `json:"budget"`
}

// instancesSampleEvery is how often the server's connections are counted during a step.
const instancesSampleEvery = 20 * time.Millisecond

// benchAppPrefix starts the application_name of the bench's own connections, which the count of
// server connections leaves out.
const benchAppPrefix = "eventmanager-bench"

// runInstances starts o.Instances serve processes on the database (through a PgBouncer of its
// own with o.PgBouncer), spreads the events-list workload over them at each concurrency, and
// checks that every answer is a 2xx or a 503 with Retry-After and that the server's connections
// stay within the budget. The sizes: directly, each instance gets an equal share of the budget
// less one connection each for its listener; through PgBouncer, PgBouncer gets that whole share
// and each instance a pool as large (its connections are PgBouncer's clients, not the server's).
func runInstances(ctx context.Context, o Options, w Workload, logw io.Writer) ([]InstancesRow, []string, error) {
	n := max(o.Instances, 1)
	watch, err := pgx.Connect(ctx, withParams(o.DirectURL, "application_name="+benchAppPrefix+"-watch"))
	if err != nil {
		return nil, nil, err
	}
	defer watch.Close(context.WithoutCancel(ctx))
	var maxConns, reserved int
	if err := watch.QueryRow(ctx, `SELECT current_setting('max_connections')::int,
		current_setting('superuser_reserved_connections')::int`).Scan(&maxConns, &reserved); err != nil {
		return nil, nil, err
	}
	budget := health.ConnectionBudget(maxConns, reserved)
	share := max((budget-n)/n, 1) // each instance also holds its listener's connection
	via, limit, bouncerPool := "direct", share, 0
	serverURL := withParams(o.Database.ConnString, "connection_limit="+strconv.Itoa(limit))
	env := []string{}
	if o.PgBouncer {
		dir, err := os.MkdirTemp("", "eventmanager-bench-pgbouncer-")
		if err != nil {
			return nil, nil, err
		}
		defer os.RemoveAll(dir)
		if err := os.Chmod(dir, 0o755); err != nil { // read by the postgres user under root
			return nil, nil, err
		}
		port, err := freePort()
		if err != nil {
			return nil, nil, err
		}
		bouncerPool = budget - n // the listeners go directly
		pb, err := pgbouncer.Start(ctx, pgbouncer.Options{Upstream: o.Database.ConnString, Port: port, Dir: dir, PoolSize: bouncerPool})
		if err != nil {
			return nil, nil, err
		}
		defer pb.Stop()
		via, limit = "pgbouncer", bouncerPool
		serverURL = pb.URL() + "&connection_limit=" + strconv.Itoa(limit)
		env = append(env, "DIRECT_DATABASE_URL="+o.DirectURL)
	}
	env = append(env, "DATABASE_URL="+serverURL)
	bases := make([]string, 0, n)
	for range n {
		srv, err := StartServer(ctx, o.Executable, env, logw)
		if err != nil {
			return nil, nil, err
		}
		defer srv.Stop()
		bases = append(bases, srv.URL)
	}
	fmt.Fprintf(o.Progress, "bench: instances: %d serve processes, %s, connection_limit %d each; budget %d server connections\n", n, via, limit, budget)

	spread := w
	spread.Target = func(i uint64, _ string, t *vegeta.Target) { w.Target(i, bases[i%uint64(n)], t) }
	var rows []InstancesRow
	var broken []string
	for _, c := range o.Concurrency {
		stop := sampleServerConnections(ctx, watch)
		got, err := RunHTTP(ctx, bases[0], Step{Scenario: "instances", Workload: spread, Concurrency: c, Duration: o.Duration})
		maxSeen := stop()
		if err != nil {
			return rows, broken, err
		}
		for _, r := range got {
			row := InstancesRow{Row: r, Instances: n, Via: via, ConnectionLimit: limit, PgBouncerPool: bouncerPool,
				MaxServerConnections: maxSeen, Budget: budget}
			fmt.Fprintf(o.Progress, "bench: instances %d %-9s c=%-4d %7.0f req/s  p99 %7.1f ms  server connections ≤ %d (budget %d)  errors: %s\n",
				n, via, c, r.RPS, r.P99MS, maxSeen, budget, ErrorSummary(r.Errors))
			broken = append(broken, row.Problems()...)
			rows = append(rows, row)
		}
	}
	return rows, broken, nil
}

// Problems lists what the row breaks: an answer other than 2xx or 503 with Retry-After, or more
// server connections than the budget.
func (r InstancesRow) Problems() []string {
	var p []string
	for kind, count := range r.Errors {
		if !strings.HasPrefix(kind, "503 ") || strings.HasSuffix(kind, "without Retry-After") {
			p = append(p, fmt.Sprintf("instances %d %s c=%d: %d answers %q (only 2xx and 503 with Retry-After are allowed)",
				r.Instances, r.Via, r.Concurrency, count, kind))
		}
	}
	if r.MaxServerConnections > r.Budget {
		p = append(p, fmt.Sprintf("instances %d %s c=%d: %d server connections, past the budget of %d",
			r.Instances, r.Via, r.Concurrency, r.MaxServerConnections, r.Budget))
	}
	return p
}

// sampleServerConnections counts the database's client backends (the bench's own left out)
// until the returned stop is called, which returns the most it saw.
func sampleServerConnections(ctx context.Context, watch *pgx.Conn) (stop func() int) {
	var (
		mu   sync.Mutex
		most int
	)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(instancesSampleEvery)
		defer t.Stop()
		for {
			var count int
			err := watch.QueryRow(ctx, `SELECT count(*)::int FROM pg_stat_activity
				WHERE datname = current_database() AND backend_type = 'client backend'
				  AND pid <> pg_backend_pid() AND application_name NOT LIKE $1`, benchAppPrefix+"%").Scan(&count)
			if err == nil {
				mu.Lock()
				most = max(most, count)
				mu.Unlock()
			}
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() int {
		close(done)
		<-finished
		mu.Lock()
		defer mu.Unlock()
		return most
	}
}

// WriteInstancesTable prints the instances scenario's rows.
func WriteInstancesTable(w io.Writer, rows []InstancesRow) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "instances\tvia\tconnection_limit\tconc\trequests\treq/s\tP50 ms\tP99 ms\tmax ms\tserver conns (max)\tbudget\terrors\t")
	for _, r := range rows {
		pool := strconv.Itoa(r.ConnectionLimit)
		if r.PgBouncerPool > 0 {
			pool += " (PgBouncer " + strconv.Itoa(r.PgBouncerPool) + ")"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%d\t%.0f\t%.1f\t%.1f\t%.0f\t%d\t%d\t%s\t\n", r.Instances, r.Via, pool, r.Concurrency,
			r.Requests, r.RPS, r.P50MS, r.P99MS, r.MaxMS, r.MaxServerConnections, r.Budget, ErrorSummary(r.Errors))
	}
	return tw.Flush()
}

// writeInstancesJSON writes the rows to path.
func writeInstancesJSON(path string, rows []InstancesRow) error {
	b, err := json.MarshalIndent(rows, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
