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
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

var timeouts = config.QueryTimeouts{Simple: time.Second, Standard: 5 * time.Second, Complex: 15 * time.Second, Report: 30 * time.Second}

// open returns a pool of connectionLimit connections on a fresh database, and the database's URL.
func open(t *testing.T, connectionLimit int32) (*db.DB, string) {
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

func connect(t *testing.T, url string) *pgx.Conn {
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
	lat := func(db.Class) health.Latency {
		return health.Latency{Count: 100, P50: time.Millisecond, P95: 2 * time.Millisecond, P99: 3 * time.Millisecond}
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
		"unused_indexes", "redundant_indexes", "database_size"} {
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
	lat := func(c db.Class) health.Latency {
		return health.Latency{Count: 1000, Timeouts: 5, P50: time.Millisecond, P95: 300 * time.Millisecond, P99: time.Second}
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
