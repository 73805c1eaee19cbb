package metrics_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/config"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/eventmanager/eventmanager/internal/health"
	"github.com/eventmanager/eventmanager/internal/metrics"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func value(t *testing.T, g prometheus.Gatherer, name string) (float64, bool) {
	t.Helper()
	m := find(t, g, name, nil)
	if m == nil {
		return 0, false
	}
	if m.GetCounter() != nil {
		return m.GetCounter().GetValue(), true
	}
	return m.GetGauge().GetValue(), true
}

// The collector exports what the database shows: an invalid index and a session idle in a
// transaction, read at scrape time from a real PostgreSQL.
func TestDatabaseCollector(t *testing.T) {
	t.Parallel()
	url := dbtest.NewDatabase(t)
	settings, err := config.ParseDatabaseURL(url)
	require.NoError(t, err)
	d, err := db.Open(settings, db.Options{Timeouts: config.DefaultQueryTimeouts})
	require.NoError(t, err)
	t.Cleanup(d.Close)
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.NewDatabaseCollector(health.New(d, nil, health.Thresholds{}), 0, 0))

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	for _, sql := range []string{
		"CREATE TABLE collector_probe (a int)",
		"INSERT INTO collector_probe SELECT 1 FROM generate_series(1, 3)",
	} {
		_, err := conn.Exec(ctx, sql)
		require.NoError(t, err, sql)
	}
	_, err = conn.Exec(ctx, "CREATE UNIQUE INDEX CONCURRENTLY collector_probe_broken ON collector_probe (a)")
	require.Error(t, err, "a unique index over duplicates fails and stays behind, invalid")
	tx, err := conn.Begin(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = tx.Rollback(context.Background()) })
	_, err = tx.Exec(ctx, "SELECT 1")
	require.NoError(t, err)

	require.Eventually(t, func() bool {
		v, ok := value(t, reg, "eventmanager_db_idle_in_transaction_longest_seconds")
		return ok && v > 0.2
	}, 5*time.Second, 50*time.Millisecond)
	up, _ := value(t, reg, "eventmanager_db_stats_up")
	require.Equal(t, 1.0, up)
	invalid, _ := value(t, reg, "eventmanager_db_invalid_indexes")
	require.Equal(t, 1.0, invalid)
	idle, _ := value(t, reg, "eventmanager_db_idle_in_transaction_sessions")
	require.Equal(t, 1.0, idle)
	for _, name := range []string{"eventmanager_db_index_blocks_hit_total", "eventmanager_db_index_blocks_read_total",
		"eventmanager_db_table_blocks_hit_total", "eventmanager_db_table_blocks_read_total", "eventmanager_db_stats_collect_duration_seconds"} {
		_, ok := value(t, reg, name)
		require.True(t, ok, name)
	}
	problems, err := testutil.GatherAndLint(reg)
	require.NoError(t, err)
	require.Empty(t, problems)
}

// stuck is a source that never answers, whatever its context says.
type stuck struct{ release chan struct{} }

func (s stuck) Snapshot(context.Context) (health.Snapshot, error) {
	<-s.release
	return health.Snapshot{InvalidIndexes: 7}, nil
}

// A scrape never waits for the database longer than the collector's timeout: it then exports
// stats_up 0 and no stale figures.
func TestDatabaseCollectorNeverHangs(t *testing.T) {
	t.Parallel()
	src := stuck{release: make(chan struct{})}
	t.Cleanup(func() { close(src.release) })
	reg := prometheus.NewRegistry()
	const timeout = 200 * time.Millisecond
	reg.MustRegister(metrics.NewDatabaseCollector(src, timeout, 0))
	start := time.Now()
	up, ok := value(t, reg, "eventmanager_db_stats_up")
	took := time.Since(start)
	require.True(t, ok)
	require.Equal(t, 0.0, up)
	require.Less(t, took, timeout+time.Second, "the scrape took %s", took)
	_, ok = value(t, reg, "eventmanager_db_invalid_indexes")
	require.False(t, ok)
}

// The database metrics route reads the pool timeouts counted here.
func TestPoolTimeoutsCount(t *testing.T) {
	t.Parallel()
	q := metrics.NewQueries(prometheus.NewRegistry())
	require.Zero(t, q.PoolTimeouts())
	q.ObserveAcquireFailure(opGet, db.ErrPoolTimeout)
	q.ObserveAcquireFailure(opGet, db.ErrPoolTimeout)
	q.ObserveAcquireFailure(opGet, db.ErrUnavailable)
	require.EqualValues(t, 2, q.PoolTimeouts())
}

// counting is a source that counts its reads.
type counting struct{ reads *atomic.Int32 }

func (c counting) Snapshot(context.Context) (health.Snapshot, error) {
	c.reads.Add(1)
	time.Sleep(20 * time.Millisecond) // a read takes a moment: concurrent scrapes overlap it
	return health.Snapshot{InvalidIndexes: 1}, nil
}

// /metrics is public and unlimited: concurrent and repeated scrapes within maxAge share one read
// instead of each holding a pool connection for a catalogue query.
func TestDatabaseCollectorSharesOneRead(t *testing.T) {
	t.Parallel()
	var reads atomic.Int32
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.NewDatabaseCollector(counting{&reads}, time.Second, time.Hour))
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			v, ok := value(t, reg, "eventmanager_db_invalid_indexes")
			assert.True(t, ok)
			assert.Equal(t, 1.0, v)
		})
	}
	wg.Wait()
	require.EqualValues(t, 1, reads.Load())
}
