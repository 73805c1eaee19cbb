// Package health checks the database behind this instance: connectivity, this instance's pool,
// query latency, cache hit ratios, connections, long-running and idle-in-transaction sessions,
// index problems, big tables read by sequential scans and dead rows. Every check is a cheap catalogue query run through the db package, and reports
// a value, its threshold, a status and a one-line explanation. The API, the doctor command and the
// status page all show the same Report.
package health

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/querywindow"
	"github.com/jackc/pgx/v5"
)

// Status is the verdict of one check.
type Status string

// The statuses of a check, from best to worst.
const (
	OK   Status = "ok"
	Warn Status = "warn"
	Fail Status = "fail"
)

// Overall is the verdict of a whole report.
type Overall string

// The overall statuses: healthy (every check ok), degraded (a warning), unhealthy (a failure).
const (
	Healthy   Overall = "healthy"
	Degraded  Overall = "degraded"
	Unhealthy Overall = "unhealthy"
)

// Check is the result of one check.
type Check struct {
	Name        string   `json:"name"`
	Value       any      `json:"value"`
	Threshold   string   `json:"threshold"`
	Status      Status   `json:"status"`
	Explanation string   `json:"explanation"`
	Items       []string `json:"items,omitempty"` // what the check lists (indexes, sessions)
}

// Report is every check and the overall status.
type Report struct {
	Status    Overall   `json:"status"`
	CheckedAt time.Time `json:"checked_at"`
	Checks    []Check   `json:"checks"`
}

// Add appends a check and updates the overall status.
func (r *Report) Add(c Check) {
	r.Checks = append(r.Checks, c)
	r.Status = overall(r.Checks)
}

// Check returns the check of that name, if the report has it.
func (r *Report) Check(name string) (Check, bool) {
	for _, c := range r.Checks {
		if c.Name == name {
			return c, true
		}
	}
	return Check{}, false
}

func overall(checks []Check) Overall {
	o := Healthy
	for _, c := range checks {
		switch c.Status {
		case Fail:
			return Unhealthy
		case Warn:
			o = Degraded
		}
	}
	return o
}

// LatencySource gives the recent latency of a query class; nil leaves the latency and timeout
// rate checks out (a process that serves no queries, such as the doctor command, has none).
type LatencySource func(db.Class) querywindow.Latency

// Thresholds are the limits of the checks; the zero value of a field takes its default.
type Thresholds struct {
	PoolWarn, PoolFail float64       // pool and server connection utilisation: 0.70, 0.90
	LatencyP95         time.Duration // P95 of simple and standard queries: 200 ms
	TimeoutRate        float64       // share of queries that timed out: 0.001
	HitRatio           float64       // index and table cache hit ratio: 0.99
	HitMinBlocks       int64         // fewer block reads+hits than this is too little traffic to judge: 10000
	LongQuery          time.Duration // an active query older than this is long-running: the report class timeout
	IdleInTransaction  time.Duration // a session idle in a transaction longer than this is listed: 30 s
	ListLimit          int           // most items listed per check: 20
	SeqScanMinRows     int64         // a table of fewer live rows is never a missing-index candidate: 10000
	SeqScanRowsRead    int64         // ...nor one whose sequential scans read fewer rows in all: 1,000,000
	DeadTupleRatio     float64       // dead share of a table's rows (dead / (live + dead)) over which it warns: 0.20
	DeadTupleMinRows   int64         // tables of fewer row versions (live + dead) are left out: 10000
}

func (t Thresholds) withDefaults(d *db.DB) Thresholds {
	def := func(v *float64, x float64) {
		if *v == 0 {
			*v = x
		}
	}
	def(&t.PoolWarn, 0.70)
	def(&t.PoolFail, 0.90)
	def(&t.TimeoutRate, 0.001)
	def(&t.HitRatio, 0.99)
	if t.LatencyP95 == 0 {
		t.LatencyP95 = 200 * time.Millisecond
	}
	if t.HitMinBlocks == 0 {
		t.HitMinBlocks = 10000
	}
	if t.LongQuery == 0 {
		t.LongQuery = d.Timeout(db.Report)
	}
	if t.IdleInTransaction == 0 {
		t.IdleInTransaction = 30 * time.Second
	}
	if t.ListLimit == 0 {
		t.ListLimit = 20
	}
	if t.SeqScanMinRows == 0 {
		t.SeqScanMinRows = 10000
	}
	if t.SeqScanRowsRead == 0 {
		t.SeqScanRowsRead = 1_000_000
	}
	def(&t.DeadTupleRatio, 0.20)
	if t.DeadTupleMinRows == 0 {
		t.DeadTupleMinRows = 10000
	}
	return t
}

// Checker runs the checks against one pool.
type Checker struct {
	db      *db.DB
	latency LatencySource
	sampler *PoolSampler
	// poolTimeouts counts the acquires that gave up at pool_timeout; nil when not known.
	poolTimeouts func() uint64
	th           Thresholds
	now          func() time.Time
}

// New returns a checker of d; latency may be nil.
func New(d *db.DB, latency LatencySource, th Thresholds) *Checker {
	return &Checker{db: d, latency: latency, th: th.withDefaults(d), now: time.Now}
}

// WithPoolSampler makes the pool check report the sampler's average (warn) and peak (fail) besides
// the utilisation now. The caller runs the sampler.
func (c *Checker) WithPoolSampler(s *PoolSampler) *Checker {
	c.sampler = s
	return c
}

// WithPoolTimeouts makes Stats report the count of requests that got no connection within
// pool_timeout, which the metrics package keeps (pgxpool counts them among all canceled acquires).
func (c *Checker) WithPoolTimeouts(count func() uint64) *Checker {
	c.poolTimeouts = count
	return c
}

// Run runs every check. A check whose query fails reports fail with the error; when the database
// cannot be reached at all only the checks that need no query are run.
func (c *Checker) Run(ctx context.Context) Report {
	r := Report{Status: Healthy, CheckedAt: c.now().UTC().Truncate(time.Second), Checks: []Check{}}
	// The pool first: the checks below hold one of its connections while they run.
	r.Add(c.pool())
	conn := c.connectivity(ctx)
	r.Add(conn)
	if c.latency != nil {
		for _, cl := range db.Classes() {
			r.Add(c.classLatency(cl))
		}
		r.Add(c.timeoutRate())
	}
	if conn.Status == Fail {
		return r
	}
	for _, check := range []func(context.Context) Check{
		c.indexHitRatio, c.tableHitRatio, c.connections, c.longRunning, c.idleInTransaction,
		c.invalidIndexes, c.unusedIndexes, c.redundantIndexes, c.sequentialScans, c.deadTuples, c.databaseSize,
	} {
		r.Add(check(ctx))
	}
	return r
}

func pct(f float64) string { return fmt.Sprintf("%.1f %%", f*100) }

func failed(name, threshold string, err error) Check {
	return Check{Name: name, Threshold: threshold, Status: Fail, Explanation: "check could not run: " + oneLine(err.Error())}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// level grades a utilisation against the pool thresholds.
func (c *Checker) level(u float64) Status {
	switch {
	case u >= c.th.PoolFail:
		return Fail
	case u >= c.th.PoolWarn:
		return Warn
	}
	return OK
}

// pool is this instance's pool utilisation now and, with a sampler, its average (warn at PoolWarn)
// and peak (fail at PoolFail) over the sampler's window. Now counts as a sample of its own.
func (c *Checker) pool() Check {
	st := c.db.Pool().Stat()
	maxConns := st.MaxConns()
	u := utilisation(c.db)
	avg, peak, n := u, u, 0
	if c.sampler != nil {
		var sAvg float64
		sAvg, peak, n = c.sampler.Summary()
		peak = max(peak, u)
		avg = (sAvg*float64(n) + u) / float64(n+1)
	}
	s := c.level(u)
	if avg >= c.th.PoolWarn && s == OK {
		s = Warn
	}
	if peak >= c.th.PoolFail {
		s = Fail
	}
	explanation := fmt.Sprintf("%d of %d connections of this instance's pool in use now (%s)", st.AcquiredConns(), maxConns, pct(u))
	if c.sampler != nil {
		explanation += fmt.Sprintf("; recent average %s, peak %s over %d samples", pct(avg), pct(peak), n)
	} else {
		explanation += " (no recent history)"
	}
	explanation += fmt.Sprintf("; %d acquires waited for a connection since start", st.EmptyAcquireCount())
	return Check{
		Name: "pool",
		Value: map[string]any{"utilisation": u, "average": avg, "peak": peak, "samples": n, "acquired": st.AcquiredConns(),
			"idle": st.IdleConns(), "max": maxConns, "waited_total": st.EmptyAcquireCount()},
		Threshold:   "warn when average or now ≥ " + pct(c.th.PoolWarn) + ", fail when peak or now ≥ " + pct(c.th.PoolFail),
		Status:      s,
		Explanation: explanation,
	}
}

var opConnectivity = db.Op{Name: "health.connectivity", Class: db.Simple}

func (c *Checker) connectivity(ctx context.Context) Check {
	start := time.Now()
	var one int
	if err := c.db.QueryRow(ctx, opConnectivity, "", "SELECT 1", nil, &one); err != nil {
		return Check{Name: "connectivity", Threshold: "answers within the simple query timeout", Status: Fail,
			Explanation: "database not reachable: " + oneLine(err.Error())}
	}
	rt := time.Since(start)
	return Check{Name: "connectivity", Value: map[string]any{"round_trip_ms": ms(rt)}, Threshold: "answers within the simple query timeout",
		Status: OK, Explanation: fmt.Sprintf("SELECT 1 answered in %.1f ms (pool acquire included)", ms(rt))}
}

func (c *Checker) classLatency(cl db.Class) Check {
	l := c.latency(cl)
	name := "latency." + cl.String()
	v := map[string]any{"count": l.Count, "p50_ms": ms(l.P50), "p95_ms": ms(l.P95), "p99_ms": ms(l.P99)}
	summary := fmt.Sprintf("%d queries in the last 5 minutes: P50 %.1f ms, P95 %.1f ms, P99 %.1f ms", l.Count, ms(l.P50), ms(l.P95), ms(l.P99))
	if cl != db.Simple && cl != db.Standard {
		return Check{Name: name, Value: v, Threshold: "none (informational)", Status: OK, Explanation: summary}
	}
	th := fmt.Sprintf("P95 ≤ %g ms", ms(c.th.LatencyP95))
	if l.Count > 0 && l.P95 > c.th.LatencyP95 {
		return Check{Name: name, Value: v, Threshold: th, Status: Warn, Explanation: summary + ": P95 over the target"}
	}
	return Check{Name: name, Value: v, Threshold: th, Status: OK, Explanation: summary}
}

func (c *Checker) timeoutRate() Check {
	var count, timeouts uint64
	for _, cl := range db.Classes() {
		l := c.latency(cl)
		count += l.Count
		timeouts += l.Timeouts
	}
	rate := 0.0
	if count > 0 {
		rate = float64(timeouts) / float64(count)
	}
	ch := Check{Name: "query_timeout_rate", Value: map[string]any{"rate": rate, "queries": count, "timeouts": timeouts},
		Threshold: "warn ≥ " + fmt.Sprintf("%.2g %%", c.th.TimeoutRate*100), Status: OK,
		Explanation: fmt.Sprintf("%d of %d queries timed out in the last 5 minutes (%.3f %%)", timeouts, count, rate*100)}
	if count > 0 && rate >= c.th.TimeoutRate {
		ch.Status = Warn
	}
	return ch
}

var (
	opIndexHit = db.Op{Name: "health.index_hit_ratio", Class: db.Standard}
	opTableHit = db.Op{Name: "health.table_hit_ratio", Class: db.Standard}
)

func (c *Checker) indexHitRatio(ctx context.Context) Check {
	return c.hitRatio(ctx, opIndexHit, "index_hit_ratio", "index",
		"SELECT COALESCE(sum(idx_blks_hit), 0)::bigint, COALESCE(sum(idx_blks_read), 0)::bigint FROM pg_statio_user_indexes")
}

func (c *Checker) tableHitRatio(ctx context.Context) Check {
	return c.hitRatio(ctx, opTableHit, "table_hit_ratio", "table",
		"SELECT COALESCE(sum(heap_blks_hit), 0)::bigint, COALESCE(sum(heap_blks_read), 0)::bigint FROM pg_statio_user_tables")
}

func (c *Checker) hitRatio(ctx context.Context, op db.Op, name, what, sql string) Check {
	th := "warn < " + pct(c.th.HitRatio)
	var hit, read int64
	if err := c.db.QueryRow(ctx, op, "", sql, nil, &hit, &read); err != nil {
		return failed(name, th, err)
	}
	total := hit + read
	ratio := 1.0
	if total > 0 {
		ratio = float64(hit) / float64(total)
	}
	ch := Check{Name: name, Value: map[string]any{"ratio": ratio, "hits": hit, "reads": read}, Threshold: th, Status: OK}
	switch {
	case total < c.th.HitMinBlocks:
		ch.Explanation = fmt.Sprintf("too little %s traffic to judge (%d block accesses since statistics were reset)", what, total)
	case ratio < c.th.HitRatio:
		ch.Status = Warn
		ch.Explanation = fmt.Sprintf("%s of %s blocks found in shared buffers: the working set may not fit in memory", pct(ratio), what)
	default:
		ch.Explanation = fmt.Sprintf("%s of %s blocks found in shared buffers", pct(ratio), what)
	}
	return ch
}

var opConnections = db.Op{Name: "health.connections", Class: db.Standard}

// ServerLimits reads max_connections and superuser_reserved_connections.
func ServerLimits(ctx context.Context, d *db.DB) (maxConnections, reserved int, err error) {
	_, maxConnections, reserved, err = connectionCounts(ctx, d)
	return maxConnections, reserved, err
}

func connectionCounts(ctx context.Context, d *db.DB) (used, maxConnections, reserved int, err error) {
	err = d.QueryRow(ctx, opConnections, "", `SELECT
  (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int,
  current_setting('max_connections')::int,
  current_setting('superuser_reserved_connections')::int`, nil, &used, &maxConnections, &reserved)
	return used, maxConnections, reserved, err
}

func (c *Checker) connections(ctx context.Context) Check {
	th := "warn ≥ " + pct(c.th.PoolWarn) + ", fail ≥ " + pct(c.th.PoolFail) + " of max_connections - superuser_reserved_connections"
	used, maxConns, reserved, err := connectionCounts(ctx, c.db)
	if err != nil {
		return failed("connections", th, err)
	}
	avail := maxConns - reserved
	u := 1.0
	if avail > 0 {
		u = float64(used) / float64(avail)
	}
	mine := c.db.Pool().Stat().TotalConns()
	return Check{
		Name:      "connections",
		Value:     map[string]any{"used": used, "available": avail, "utilisation": u, "max_connections": maxConns, "superuser_reserved": reserved, "this_instance": mine},
		Threshold: th,
		Status:    c.level(u),
		Explanation: fmt.Sprintf("%d client connections of %d available (%s; max_connections %d - %d reserved); this instance holds %d",
			used, avail, pct(u), maxConns, reserved, mine),
	}
}

var (
	opLongRunning = db.Op{Name: "health.long_running", Class: db.Standard}
	opIdleInTx    = db.Op{Name: "health.idle_in_transaction", Class: db.Standard}
)

// Sessions of other roles show no state or query to an ordinary role unless it has pg_read_all_stats
// (pg_monitor): then only this role's sessions are seen.
const sessionsSQL = `SELECT pid, usename, EXTRACT(EPOCH FROM now() - %[1]s)::float8, left(regexp_replace(query, '\s+', ' ', 'g'), 120)
FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
  AND state %[2]s AND %[1]s < now() - make_interval(secs => $1)
ORDER BY %[1]s
LIMIT $2`

func (c *Checker) sessions(ctx context.Context, op db.Op, name, column, stateCond, what string, older time.Duration) Check {
	th := fmt.Sprintf("none %s longer than %s", what, older)
	items := []string{}
	err := c.db.Query(ctx, op, "", func(rows pgx.Rows) error {
		for rows.Next() {
			var pid int32
			var user *string
			var secs float64
			var query *string
			if err := rows.Scan(&pid, &user, &secs, &query); err != nil {
				return err
			}
			items = append(items, fmt.Sprintf("pid %d (%s) for %.0f s: %s", pid, deref(user), secs, deref(query)))
		}
		return rows.Err()
	}, fmt.Sprintf(sessionsSQL, column, stateCond), older.Seconds(), c.th.ListLimit)
	if err != nil {
		return failed(name, th, err)
	}
	ch := Check{Name: name, Value: len(items), Threshold: th, Status: OK, Items: items,
		Explanation: fmt.Sprintf("no session %s longer than %s", what, older)}
	if len(items) > 0 {
		ch.Status = Warn
		ch.Explanation = fmt.Sprintf("%d sessions %s longer than %s (listed, at most %d)", len(items), what, older, c.th.ListLimit)
	}
	return ch
}

func deref(s *string) string {
	if s == nil {
		return "?"
	}
	return *s
}

func (c *Checker) longRunning(ctx context.Context) Check {
	return c.sessions(ctx, opLongRunning, "long_running_queries", "query_start", "= 'active'", "running a query", c.th.LongQuery)
}

func (c *Checker) idleInTransaction(ctx context.Context) Check {
	return c.sessions(ctx, opIdleInTx, "idle_in_transaction", "state_change",
		"IN ('idle in transaction', 'idle in transaction (aborted)')", "idle in a transaction", c.th.IdleInTransaction)
}

func (c *Checker) invalidIndexes(ctx context.Context) Check {
	const th = "none"
	names, err := c.db.InvalidIndexNames(ctx)
	if err != nil {
		return failed("invalid_indexes", th, err)
	}
	ch := Check{Name: "invalid_indexes", Value: len(names), Threshold: th, Status: OK, Items: names, Explanation: "no invalid index"}
	if len(names) > 0 {
		ch.Status = Warn
		ch.Explanation = fmt.Sprintf("%d invalid indexes (a failed concurrent build): run \"eventmanager migrate repair\"", len(names))
	}
	return ch
}

var opUnusedIndexes = db.Op{Name: "health.unused_indexes", Class: db.Standard}

// unusedIndexes lists the indexes never scanned since statistics were reset. It stays ok: a fresh
// or recently reset database has many, and whether to drop one is a decision, not an alarm.
func (c *Checker) unusedIndexes(ctx context.Context) Check {
	const th = "informational (never warns)"
	items := []string{}
	var total int
	err := c.db.Query(ctx, opUnusedIndexes, "", func(rows pgx.Rows) error {
		for rows.Next() {
			var table, index string
			if err := rows.Scan(&table, &index, &total); err != nil {
				return err
			}
			items = append(items, table+"."+index)
		}
		return rows.Err()
	}, `SELECT s.relname, s.indexrelname, (count(*) OVER ())::int
FROM pg_stat_user_indexes s
JOIN pg_index i ON i.indexrelid = s.indexrelid
WHERE s.idx_scan = 0 AND NOT i.indisunique AND NOT i.indisprimary
ORDER BY s.relname, s.indexrelname
LIMIT $1`, c.th.ListLimit)
	if err != nil {
		return failed("unused_indexes", th, err)
	}
	return Check{Name: "unused_indexes", Value: total, Threshold: th, Status: OK, Items: items,
		Explanation: fmt.Sprintf("%d non-unique indexes never scanned since statistics were reset (listed, at most %d): candidates to review, not to drop blindly", total, c.th.ListLimit)}
}

var opRedundantIndexes = db.Op{Name: "health.redundant_indexes", Class: db.Standard}

// redundantIndexSQL finds non-unique, plain (no expression, no predicate) indexes whose columns
// (with the same operator classes and sort options) are a leading prefix of another index's key
// columns on the same table with the same access method. Of two identical non-unique indexes only
// the newer one is named.
const redundantIndexSQL = `SELECT t.relname, ai.relname, bi.relname
FROM pg_index a
JOIN pg_index b ON b.indrelid = a.indrelid AND b.indexrelid <> a.indexrelid
JOIN pg_class ai ON ai.oid = a.indexrelid
JOIN pg_class bi ON bi.oid = b.indexrelid
JOIN pg_class t ON t.oid = a.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = ANY (current_schemas(false))
  AND NOT a.indisunique AND a.indisvalid AND b.indisvalid
  AND a.indexprs IS NULL AND a.indpred IS NULL AND b.indexprs IS NULL AND b.indpred IS NULL
  AND ai.relam = bi.relam
  AND a.indnatts <= b.indnkeyatts
  AND (b.indkey::text || ' ') LIKE (a.indkey::text || ' %')
  AND (b.indclass::text || ' ') LIKE (a.indclass::text || ' %')
  AND (b.indoption::text || ' ') LIKE (a.indoption::text || ' %')
  AND (a.indnatts < b.indnkeyatts OR b.indisunique OR a.indexrelid > b.indexrelid)
ORDER BY t.relname, ai.relname, bi.relname
LIMIT $1`

// redundantIndexes lists them but stays ok: a redundant index wastes writes and memory, yet the
// service works, and only a migration removes it; a permanent "degraded" would hide real trouble.
func (c *Checker) redundantIndexes(ctx context.Context) Check {
	const th = "informational (never warns)"
	items := []string{}
	seen := map[string]bool{}
	err := c.db.Query(ctx, opRedundantIndexes, "", func(rows pgx.Rows) error {
		for rows.Next() {
			var table, index, covering string
			if err := rows.Scan(&table, &index, &covering); err != nil {
				return err
			}
			if !seen[index] {
				seen[index] = true
				items = append(items, fmt.Sprintf("%s.%s (covered by %s)", table, index, covering))
			}
		}
		return rows.Err()
	}, redundantIndexSQL, c.th.ListLimit)
	if err != nil {
		return failed("redundant_indexes", th, err)
	}
	ch := Check{Name: "redundant_indexes", Value: len(items), Threshold: th, Status: OK, Items: items, Explanation: "no index is a prefix of another"}
	if len(items) > 0 {
		ch.Explanation = fmt.Sprintf("%d indexes are a prefix of another index on the same table: they cost writes and memory for nothing: drop them in a migration", len(items))
	}
	return ch
}

var opDatabaseSize = db.Op{Name: "health.database_size", Class: db.Standard}

func (c *Checker) databaseSize(ctx context.Context) Check {
	const th = "informational"
	var size int64
	var pretty string
	if err := c.db.QueryRow(ctx, opDatabaseSize, "", "SELECT pg_database_size(current_database()), pg_size_pretty(pg_database_size(current_database()))", nil, &size, &pretty); err != nil {
		return failed("database_size", th, err)
	}
	return Check{Name: "database_size", Value: map[string]any{"bytes": size}, Threshold: th, Status: OK, Explanation: "the database takes " + pretty}
}

// RecommendedConnectionLimit is the runbook's connection budget: each of instances gets
// floor((maxConnections - reserved) × 0.8 / instances) connections, leaving 20 % for
// migrations, maintenance and operators. It is never below 1.
func RecommendedConnectionLimit(maxConnections, reserved, instances int) int {
	if instances < 1 {
		instances = 1
	}
	avail := maxConnections - reserved
	if avail <= 0 {
		return 1
	}
	return max(avail*8/(10*instances), 1)
}

// BudgetCheck compares the configured connection_limit of instances instances with the budget.
func BudgetCheck(maxConnections, reserved, instances, connectionLimit int) Check {
	rec := RecommendedConnectionLimit(maxConnections, reserved, instances)
	ch := Check{
		Name: "connection_budget",
		Value: map[string]any{"recommended_connection_limit": rec, "connection_limit": connectionLimit, "instances": instances,
			"max_connections": maxConnections, "superuser_reserved": reserved},
		Threshold: fmt.Sprintf("connection_limit × %d ≤ 80 %% of (%d - %d)", instances, maxConnections, reserved),
		Status:    OK,
		Explanation: fmt.Sprintf("recommended connection_limit %d for %d instances; configured %d (× %d = %d)",
			rec, instances, connectionLimit, instances, connectionLimit*instances),
	}
	if connectionLimit > rec {
		ch.Status = Warn
		ch.Explanation = fmt.Sprintf("configured connection_limit %d × %d instances = %d exceeds the budget: set connection_limit=%d",
			connectionLimit, instances, connectionLimit*instances, rec)
	}
	return ch
}
