package health_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/config"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/eventmanager/eventmanager/internal/health"
	"github.com/eventmanager/eventmanager/internal/querywindow"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

var timeouts = config.QueryTimeouts{Simple: time.Second, Standard: 5 * time.Second, Complex: 15 * time.Second, Report: 30 * time.Second}

// open returns a pool of connectionLimit connections on a fresh database, and the database's URL.
func open(t testing.TB, connectionLimit int32) (*db.DB, string) {
	t.Helper()
	url := dbtest.NewDatabase(t)
	settings, err := config.ParseDatabaseURL(url)
	require.NoError(t, err)
	settings.ConnectionLimit = connectionLimit
	settings.PoolTimeout = 2 * time.Second
	d, err := db.Open(settings, db.Options{Timeouts: timeouts})
	require.NoError(t, err)
	t.Cleanup(d.Close)
	return d, url
}

func connect(t testing.TB, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

func check(t *testing.T, r health.Report, name string) health.Check {
	t.Helper()
	c, ok := r.Check(name)
	require.True(t, ok, "no check %q in %+v", name, r.Checks)
	return c
}

func hasItem(c health.Check, sub string) bool {
	for _, it := range c.Items {
		if strings.Contains(it, sub) {
			return true
		}
	}
	return false
}

func TestFreshDatabaseIsHealthy(t *testing.T) {
	t.Parallel()
	d, _ := open(t, 10)
	lat := func(db.Class) querywindow.Latency {
		return querywindow.Latency{Count: 100, P50: time.Millisecond, P95: 2 * time.Millisecond, P99: 3 * time.Millisecond}
	}
	r := health.New(d, lat, health.Thresholds{}).Run(context.Background())
	for _, c := range r.Checks {
		require.Equal(t, health.OK, c.Status, "%+v", c)
		require.NotEmpty(t, c.Explanation)
		require.NotContains(t, c.Explanation, "\n")
	}
	require.Equal(t, health.Healthy, r.Status)
	for _, name := range []string{"pool", "connectivity", "latency.simple", "latency.report", "query_timeout_rate", "index_hit_ratio",
		"table_hit_ratio", "connections", "long_running_queries", "idle_in_transaction", "invalid_indexes",
		"unused_indexes", "redundant_indexes", "sequential_scans", "dead_tuples", "database_size"} {
		check(t, r, name)
	}
}

func TestHeldPoolWarnsThenFails(t *testing.T) {
	t.Parallel()
	d, _ := open(t, 10)
	ctx := context.Background()
	c := health.New(d, nil, health.Thresholds{})
	var held []*pgxpool.Conn
	hold := func(n int) {
		for range n {
			conn, err := d.Pool().Acquire(ctx)
			require.NoError(t, err)
			held = append(held, conn)
		}
	}
	t.Cleanup(func() {
		for _, conn := range held {
			conn.Release()
		}
	})
	hold(7)
	r := c.Run(ctx)
	require.Equal(t, health.Warn, check(t, r, "pool").Status, "%+v", check(t, r, "pool"))
	require.Equal(t, health.Degraded, r.Status)
	hold(2)
	r = c.Run(ctx)
	require.Equal(t, health.Fail, check(t, r, "pool").Status)
	require.Equal(t, health.Unhealthy, r.Status)
}

func TestSlowLatencyAndTimeoutsWarn(t *testing.T) {
	t.Parallel()
	d, _ := open(t, 5)
	lat := func(c db.Class) querywindow.Latency {
		return querywindow.Latency{Count: 1000, Timeouts: 5, P50: time.Millisecond, P95: 300 * time.Millisecond, P99: time.Second}
	}
	r := health.New(d, lat, health.Thresholds{}).Run(context.Background())
	require.Equal(t, health.Warn, check(t, r, "latency.standard").Status)
	require.Equal(t, health.OK, check(t, r, "latency.complex").Status)
	require.Equal(t, health.Warn, check(t, r, "query_timeout_rate").Status)
}

func TestIndexProblemsAreReported(t *testing.T) {
	t.Parallel()
	d, url := open(t, 5)
	ctx := context.Background()
	conn := connect(t, url)
	for _, sql := range []string{
		"CREATE TABLE health_probe (a int, b int, c int)",
		"INSERT INTO health_probe SELECT 1, g, g FROM generate_series(1, 10) g",
		"CREATE INDEX health_probe_ab_idx ON health_probe (a, b)",
		"CREATE INDEX health_probe_a_idx ON health_probe (a)", // a prefix of (a, b)
		"CREATE INDEX health_probe_c_idx ON health_probe (c)", // never scanned
	} {
		_, err := conn.Exec(ctx, sql)
		require.NoError(t, err, sql)
	}
	// A unique index built concurrently over duplicates fails and stays behind, invalid.
	_, err := conn.Exec(ctx, "CREATE UNIQUE INDEX CONCURRENTLY health_probe_broken_idx ON health_probe (a)")
	require.Error(t, err)

	r := health.New(d, nil, health.Thresholds{}).Run(ctx)
	inv := check(t, r, "invalid_indexes")
	require.Equal(t, health.Warn, inv.Status)
	require.Equal(t, []string{"health_probe_broken_idx"}, inv.Items)

	red := check(t, r, "redundant_indexes")
	require.Equal(t, health.OK, red.Status)
	require.True(t, hasItem(red, "health_probe_a_idx (covered by health_probe_ab_idx)"), "%+v", red)
	require.False(t, hasItem(red, "health_probe_ab_idx ("), "%+v", red)
	require.False(t, hasItem(red, "health_probe_c_idx"), "%+v", red)

	unused := check(t, r, "unused_indexes")
	require.Equal(t, health.OK, unused.Status)
	require.True(t, hasItem(unused, "health_probe.health_probe_c_idx"), "%+v", unused)
	require.Equal(t, health.Degraded, r.Status)
}

func TestLongRunningAndIdleInTransactionAreListed(t *testing.T) {
	t.Parallel()
	d, url := open(t, 5)
	ctx := context.Background()

	sleeper := connect(t, url)
	done := make(chan error, 1)
	go func() {
		_, err := sleeper.Exec(ctx, "SELECT pg_sleep(5) /* health_probe_sleep */")
		done <- err
	}()
	idle := connect(t, url)
	tx, err := idle.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, "SELECT 1 /* health_probe_idle */")
	require.NoError(t, err)
	t.Cleanup(func() { _ = tx.Rollback(ctx) })

	c := health.New(d, nil, health.Thresholds{LongQuery: 200 * time.Millisecond, IdleInTransaction: 200 * time.Millisecond})
	// Poll: the sleep must first have started and both sessions have passed the short thresholds.
	var r health.Report
	require.Eventually(t, func() bool {
		r = c.Run(ctx)
		return hasItem(check(t, r, "long_running_queries"), "health_probe_sleep") &&
			hasItem(check(t, r, "idle_in_transaction"), "health_probe_idle")
	}, 4*time.Second, 100*time.Millisecond, "%+v", r.Checks)
	require.Equal(t, health.Warn, check(t, r, "long_running_queries").Status)
	require.Equal(t, health.Warn, check(t, r, "idle_in_transaction").Status)
	require.False(t, hasItem(check(t, r, "long_running_queries"), "health_probe_idle"))

	_, err = idle.Exec(ctx, "SELECT pg_cancel_backend($1)", sleeper.PgConn().PID())
	require.NoError(t, err)
	<-done
}

// exec runs each statement on conn.
func exec(t *testing.T, conn *pgx.Conn, sqls ...string) {
	t.Helper()
	for _, sql := range sqls {
		_, err := conn.Exec(context.Background(), sql)
		require.NoError(t, err, sql)
	}
}

// flushStats makes this session's table statistics visible to others now: since PostgreSQL 15 a
// backend flushes them at most once a second, or when asked.
func flushStats(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	exec(t, conn, "SELECT pg_stat_force_next_flush()")
}

func TestSequentialScansOnBigTablesAreListed(t *testing.T) {
	t.Parallel()
	d, url := open(t, 5)
	ctx := context.Background()
	conn := connect(t, url)
	exec(t, conn,
		"CREATE TABLE health_seq (id int, v int)",
		"INSERT INTO health_seq SELECT g, g FROM generate_series(1, 2000) g",
		"CREATE TABLE health_small (id int, v int)",
		"INSERT INTO health_small SELECT g, g FROM generate_series(1, 100) g",
		"CREATE TABLE health_indexed (id int PRIMARY KEY, v int)",
		"INSERT INTO health_indexed SELECT g, g FROM generate_series(1, 2000) g",
	)
	// Flushed before ANALYZE: ANALYZE sets the live row count, and the inserts flushed after it
	// would be counted a second time.
	flushStats(t, conn)
	exec(t, conn, "ANALYZE health_seq, health_small, health_indexed")
	for i := range 30 {
		for _, sql := range []string{
			"SELECT count(*) FROM health_seq WHERE v = $1",   // no index: a sequential scan of 2000 rows
			"SELECT count(*) FROM health_small WHERE v = $1", // sequential too, but a small table
			"SELECT v FROM health_indexed WHERE id = $1",     // an index scan
		} {
			_, err := conn.Exec(ctx, sql, i)
			require.NoError(t, err, sql)
		}
	}
	// A few sequential scans of the indexed table: fewer than its index scans.
	for range 5 {
		exec(t, conn, "SELECT count(*) FROM health_indexed WHERE v > 0")
	}
	flushStats(t, conn)

	// Thresholds scaled down to the test's tables: ≥ 1000 rows and 10000 rows read sequentially.
	c := health.New(d, nil, health.Thresholds{SeqScanMinRows: 1000, SeqScanRowsRead: 10000})
	var seq health.Check
	require.Eventually(t, func() bool {
		seq = check(t, c.Run(ctx), "sequential_scans")
		return hasItem(seq, "health_seq:")
	}, 5*time.Second, 100*time.Millisecond, "%+v", seq)
	require.Equal(t, health.Warn, seq.Status)
	require.Equal(t, 1, seq.Value, "%+v", seq)
	require.True(t, hasItem(seq, "health_seq: 30 sequential scans read 60000 rows (2000 per scan) against 0 index scans; 2000 live rows"), "%+v", seq)
	require.False(t, hasItem(seq, "health_small"), "%+v", seq)
	require.False(t, hasItem(seq, "health_indexed"), "%+v", seq)

	// With the default thresholds (10000 rows) the same tables are too small to matter.
	def := check(t, health.New(d, nil, health.Thresholds{}).Run(ctx), "sequential_scans")
	require.Equal(t, health.OK, def.Status, "%+v", def)
	require.Empty(t, def.Items)
}

func TestDeadTuplesOnBigTablesAreListed(t *testing.T) {
	t.Parallel()
	d, url := open(t, 5)
	ctx := context.Background()
	conn := connect(t, url)
	// Autovacuum off on the tables, so that it cannot clean them up before the check runs.
	exec(t, conn,
		"CREATE TABLE health_dead (id int) WITH (autovacuum_enabled = false)",
		"INSERT INTO health_dead SELECT g FROM generate_series(1, 20000) g",
		"DELETE FROM health_dead WHERE id % 2 = 0", // 10000 dead of 20000: 50 %
		"CREATE TABLE health_clean (id int) WITH (autovacuum_enabled = false)",
		"INSERT INTO health_clean SELECT g FROM generate_series(1, 20000) g",
		"DELETE FROM health_clean WHERE id <= 1000", // 5 %
		"CREATE TABLE health_tiny (id int) WITH (autovacuum_enabled = false)",
		"INSERT INTO health_tiny SELECT g FROM generate_series(1, 500) g",
		"DELETE FROM health_tiny", // 100 %, but of a small table
	)
	flushStats(t, conn) // before ANALYZE, which would otherwise count the rows twice
	exec(t, conn, "ANALYZE health_clean")
	flushStats(t, conn)

	c := health.New(d, nil, health.Thresholds{})
	var dead health.Check
	require.Eventually(t, func() bool {
		dead = check(t, c.Run(ctx), "dead_tuples")
		return hasItem(dead, "health_dead:")
	}, 5*time.Second, 100*time.Millisecond, "%+v", dead)
	require.Equal(t, health.Warn, dead.Status)
	require.Len(t, dead.Items, 1, "%+v", dead)
	require.Contains(t, dead.Items[0], "health_dead: 50.0 % dead (10000 dead, 10000 live rows); last autovacuum never, last vacuum never, last autoanalyze never")
	require.Contains(t, dead.Items[0], "autovacuum is disabled on this table")

	v := dead.Value.(map[string]any)
	require.Equal(t, 1, v["over_threshold"], "%+v", v)
	tables := v["tables"].([]health.TableVacuum)
	require.Len(t, tables, 2, "%+v", tables) // health_tiny is under 10000 rows
	require.Equal(t, "health_dead", tables[0].Table)
	require.Equal(t, "health_clean", tables[1].Table)
	require.InDelta(t, 0.05, tables[1].DeadRatio, 1e-9)
	require.NotNil(t, tables[1].LastAnalyze)
	require.Nil(t, tables[1].LastAutoanalyze)

	// Vacuumed, the table is clean again.
	exec(t, conn, "VACUUM health_dead")
	flushStats(t, conn)
	require.Eventually(t, func() bool {
		dead = check(t, c.Run(ctx), "dead_tuples")
		return dead.Status == health.OK
	}, 5*time.Second, 100*time.Millisecond, "%+v", dead)
	require.Empty(t, dead.Items)
}

func TestRecommendedConnectionLimit(t *testing.T) {
	t.Parallel()
	cases := []struct{ maxConns, reserved, instances, want int }{
		{100, 3, 4, 19},
		{100, 3, 1, 77},
		{100, 3, 2, 38},
		{100, 0, 4, 20},
		{200, 3, 3, 52},
		{10, 3, 8, 1},   // never below one
		{3, 3, 1, 1},    // nothing left
		{100, 3, 0, 77}, // no instance counts as one
	}
	for _, c := range cases {
		require.Equal(t, c.want, health.RecommendedConnectionLimit(c.maxConns, c.reserved, c.instances), "%+v", c)
	}
	require.Equal(t, health.OK, health.BudgetCheck(100, 3, 4, 19).Status)
	w := health.BudgetCheck(100, 3, 4, 30)
	require.Equal(t, health.Warn, w.Status)
	require.Contains(t, w.Explanation, "connection_limit=19")
}
