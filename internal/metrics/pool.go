package metrics

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// poolCollector reads pgxpool's statistics at each scrape. A Collector rather than gauges updated
// by a goroutine: the figures are exact at the moment of the scrape, and nothing runs between
// scrapes.
type poolCollector struct {
	pool *pgxpool.Pool
	// Gauges.
	total, idle, acquired, constructing, maxConns *prometheus.Desc
	// Counters, cumulative since the pool was created.
	acquires, acquireSeconds, emptyAcquires, emptyAcquireSeconds, canceledAcquires *prometheus.Desc
	newConns, lifetimeDestroys, idleDestroys                                       *prometheus.Desc
}

// NewPoolCollector returns a collector of the statistics of pool, for reg.MustRegister.
func NewPoolCollector(pool *pgxpool.Pool) prometheus.Collector {
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(namespace, "db_pool", name), help, nil, nil)
	}
	return &poolCollector{
		pool:                pool,
		total:               desc("total_connections", "Connections open in the pool (idle, acquired and being opened)."),
		idle:                desc("idle_connections", "Open connections waiting to be used."),
		acquired:            desc("acquired_connections", "Connections in use by a query or transaction."),
		constructing:        desc("constructing_connections", "Connections being opened."),
		maxConns:            desc("max_connections", "The pool's limit (connection_limit)."),
		acquires:            desc("acquires_total", "Connections handed out."),
		acquireSeconds:      desc("acquire_duration_seconds_total", "Total time spent getting connections that were handed out (waits included)."),
		emptyAcquires:       desc("empty_acquires_total", "Acquires that had to wait: no idle connection was there."),
		emptyAcquireSeconds: desc("empty_acquire_wait_seconds_total", "Total time acquires waited for a connection when none was idle."),
		canceledAcquires:    desc("canceled_acquires_total", "Acquires abandoned while waiting (pool_timeout or the caller went away)."),
		newConns:            desc("new_connections_total", "Connections opened."),
		lifetimeDestroys:    desc("max_lifetime_closed_total", "Connections closed because they reached their maximum lifetime."),
		idleDestroys:        desc("max_idle_closed_total", "Connections closed because they were idle too long."),
	}
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.total, c.idle, c.acquired, c.constructing, c.maxConns,
		c.acquires, c.acquireSeconds, c.emptyAcquires, c.emptyAcquireSeconds, c.canceledAcquires,
		c.newConns, c.lifetimeDestroys, c.idleDestroys} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(c.total, float64(s.TotalConns()))
	gauge(c.idle, float64(s.IdleConns()))
	gauge(c.acquired, float64(s.AcquiredConns()))
	gauge(c.constructing, float64(s.ConstructingConns()))
	gauge(c.maxConns, float64(s.MaxConns()))
	counter(c.acquires, float64(s.AcquireCount()))
	counter(c.acquireSeconds, s.AcquireDuration().Seconds())
	counter(c.emptyAcquires, float64(s.EmptyAcquireCount()))
	counter(c.emptyAcquireSeconds, s.EmptyAcquireWaitTime().Seconds())
	counter(c.canceledAcquires, float64(s.CanceledAcquireCount()))
	counter(c.newConns, float64(s.NewConnsCount()))
	counter(c.lifetimeDestroys, float64(s.MaxLifetimeDestroyCount()))
	counter(c.idleDestroys, float64(s.MaxIdleDestroyCount()))
}
