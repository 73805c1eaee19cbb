package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/eventmanager/eventmanager/internal/health"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// SnapshotSource reads the database-wide figures; *health.Checker is one.
type SnapshotSource interface {
	Snapshot(ctx context.Context) (health.Snapshot, error)
}

// DatabaseCollectTimeout bounds the catalogue query of a scrape, pool acquire included.
const DatabaseCollectTimeout = time.Second

// DatabaseMaxAge is how long one read of the database figures serves every scrape: /metrics is
// public and unlimited, so a flood of scrapes must not become a flood of catalogue queries holding
// pool connections. Prometheus scrapes every 15 s or more; 5 s old figures cost it nothing.
const DatabaseMaxAge = 5 * time.Second

// databaseCollector exports the health package's Snapshot: cache hit counters, invalid indexes and
// sessions idle in a transaction, which the alert rules need and no other metric carries.
//
// It reads them at scrape time rather than from gauges that a background loop refreshes: the
// figures are as fresh as the scrape, nothing queries the database when nobody scrapes, and there
// is no loop to start, stop or test, as with the pool collector. The cost is one cheap catalogue
// round trip per scrape (aggregates over the statistics views, which hold one row per table, index
// or session, never per row of data). A scrape never hangs on the database: the query has
// DatabaseCollectTimeout, pool wait included; when it fails or times out, only
// eventmanager_db_stats_up 0 is exported (no stale figures), and an alert watches that.
type databaseCollector struct {
	source  SnapshotSource
	timeout time.Duration
	maxAge  time.Duration
	// mu serialises reads: concurrent scrapes wait for one read and share it (also a failed one,
	// so that an outage is not retried by every scrape).
	mu   sync.Mutex
	last struct {
		at  time.Time
		s   health.Snapshot
		err error
	}
	// Counters, cumulative since the database's statistics were reset (rate() copes with a reset).
	indexHit, indexRead, tableHit, tableRead *prometheus.Desc
	// Gauges.
	invalidIndexes, idleInTx, idleInTxLongest, up, duration *prometheus.Desc
}

// NewDatabaseCollector returns a collector of source's Snapshot, each read bounded by timeout
// (DatabaseCollectTimeout when 0) and shared by the scrapes of the next maxAge (serve uses
// DatabaseMaxAge; 0 reads at every scrape), for reg.MustRegister.
func NewDatabaseCollector(source SnapshotSource, timeout, maxAge time.Duration) prometheus.Collector {
	if timeout <= 0 {
		timeout = DatabaseCollectTimeout
	}
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(namespace, "db", name), help, nil, nil)
	}
	return &databaseCollector{
		source:          source,
		timeout:         timeout,
		maxAge:          maxAge,
		indexHit:        desc("index_blocks_hit_total", "Index blocks found in shared buffers (pg_statio_user_indexes.idx_blks_hit, summed)."),
		indexRead:       desc("index_blocks_read_total", "Index blocks read from outside shared buffers (pg_statio_user_indexes.idx_blks_read, summed)."),
		tableHit:        desc("table_blocks_hit_total", "Table blocks found in shared buffers (pg_statio_user_tables.heap_blks_hit, summed)."),
		tableRead:       desc("table_blocks_read_total", "Table blocks read from outside shared buffers (pg_statio_user_tables.heap_blks_read, summed)."),
		invalidIndexes:  desc("invalid_indexes", "Invalid indexes (a failed concurrent build) in the schemas on the search path."),
		idleInTx:        desc("idle_in_transaction_sessions", "Sessions of this database idle in a transaction now (other roles' only with pg_read_all_stats)."),
		idleInTxLongest: desc("idle_in_transaction_longest_seconds", "The longest time a session of this database has been idle in a transaction now; 0 when none is."),
		up:              desc("stats_up", "1 when the database statistics of this scrape were read, 0 when the query failed or timed out."),
		duration:        desc("stats_collect_duration_seconds", "Time the database statistics of this scrape took to read."),
	}
}

func (c *databaseCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.indexHit, c.indexRead, c.tableHit, c.tableRead,
		c.invalidIndexes, c.idleInTx, c.idleInTxLongest, c.up, c.duration} {
		ch <- d
	}
}

func (c *databaseCollector) Collect(ch chan<- prometheus.Metric) {
	start := time.Now()
	s, err := c.shared()
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(c.duration, time.Since(start).Seconds())
	if err != nil {
		gauge(c.up, 0)
		return
	}
	gauge(c.up, 1)
	counter(c.indexHit, float64(s.IndexBlocksHit))
	counter(c.indexRead, float64(s.IndexBlocksRead))
	counter(c.tableHit, float64(s.TableBlocksHit))
	counter(c.tableRead, float64(s.TableBlocksRead))
	gauge(c.invalidIndexes, float64(s.InvalidIndexes))
	gauge(c.idleInTx, float64(s.IdleInTransaction))
	gauge(c.idleInTxLongest, s.IdleInTransactionLongest.Seconds())
}

// shared returns the last read when it is younger than maxAge, else reads again.
func (c *databaseCollector) shared() (health.Snapshot, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.last.at.IsZero() && time.Since(c.last.at) < c.maxAge {
		return c.last.s, c.last.err
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	c.last.s, c.last.err = c.snapshot(ctx)
	c.last.at = time.Now()
	return c.last.s, c.last.err
}

// snapshot runs the source's query, but returns when ctx ends even if the source does not: the
// database layer honours ctx, yet a scrape must not depend on it.
func (c *databaseCollector) snapshot(ctx context.Context) (health.Snapshot, error) {
	type result struct {
		s   health.Snapshot
		err error
	}
	done := make(chan result, 1)
	go func() {
		s, err := c.source.Snapshot(ctx)
		done <- result{s, err}
	}()
	select {
	case r := <-done:
		return r.s, r.err
	case <-ctx.Done():
		return health.Snapshot{}, ctx.Err()
	}
}

// PoolTimeouts is the count of queries that got no connection within pool_timeout, for the
// database metrics route (health.Checker.WithPoolTimeouts).
func (q *Queries) PoolTimeouts() uint64 {
	var m dto.Metric
	if err := q.poolTimeouts.Write(&m); err != nil {
		return 0
	}
	return uint64(m.GetCounter().GetValue())
}
