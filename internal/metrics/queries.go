package metrics

import (
	"errors"
	"sync"
	"time"

	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/querywindow"
	"github.com/prometheus/client_golang/prometheus"
)

// DurationBuckets are the upper bounds (seconds) of the query duration histogram: from 1 ms (a
// lookup by key) to 30 s (the report class timeout), with the class timeouts 1, 5, 15 and 30 s
// among them so that "how many queries came close to their limit" can be read off the buckets.
var DurationBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30}

// Queries records every query: in Prometheus (duration histogram, timeout and error counters by
// class and operation, pool timeouts) and in the rolling querywindow.Window. It implements db.Observer.
type Queries struct {
	duration     *prometheus.HistogramVec
	timeouts     *prometheus.CounterVec
	errors       *prometheus.CounterVec
	poolTimeouts prometheus.Counter
	window       *querywindow.Window
	// byOp caches the labelled children of each operation: looking them up by label values costs a
	// hash of the labels and a lock on every query; a sync.Map read of a seen key costs neither.
	byOp sync.Map // db.Op → *opMetrics
}

type opMetrics struct {
	duration prometheus.Observer
	timeouts prometheus.Counter
	errors   prometheus.Counter
}

var _ db.Observer = (*Queries)(nil)

// NewQueries creates the query metrics and registers them with reg.
func NewQueries(reg prometheus.Registerer) *Queries {
	labels := []string{"class", "operation"}
	q := &Queries{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "db", Name: "query_duration_seconds",
			Help:    "Time queries ran on their connection (the wait for a connection excluded), whatever their outcome.",
			Buckets: DurationBuckets,
		}, labels),
		timeouts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "db", Name: "query_timeouts_total",
			Help: "Queries cancelled at their class deadline (or by the server's statement_timeout or lock_timeout).",
		}, labels),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "db", Name: "query_errors_total",
			Help: "Queries that failed other than by a timeout, a missing row or their caller going away: constraint violations, an unreachable database, SQL errors.",
		}, labels),
		poolTimeouts: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "db_pool", Name: "timeouts_total",
			Help: "Queries that got no connection within pool_timeout (answered 503 DB_POOL_TIMEOUT).",
		}),
		window: querywindow.New(),
	}
	reg.MustRegister(q.duration, q.timeouts, q.errors, q.poolTimeouts)
	return q
}

// Window is the rolling window of the last five minutes, for the health service.
func (q *Queries) Window() *querywindow.Window { return q.window }

func (q *Queries) forOp(op db.Op) *opMetrics {
	if m, ok := q.byOp.Load(op); ok {
		return m.(*opMetrics)
	}
	class := op.Class.String()
	m, _ := q.byOp.LoadOrStore(op, &opMetrics{
		duration: q.duration.WithLabelValues(class, op.Name),
		timeouts: q.timeouts.WithLabelValues(class, op.Name),
		errors:   q.errors.WithLabelValues(class, op.Name),
	})
	return m.(*opMetrics)
}

// ObserveQuery records a query that ran; see db.Observer.
func (q *Queries) ObserveQuery(op db.Op, elapsed time.Duration, err error) {
	m := q.forOp(op)
	m.duration.Observe(elapsed.Seconds())
	timedOut := false
	switch {
	case err == nil:
	case errors.Is(err, db.ErrQueryTimeout):
		timedOut = true
		m.timeouts.Inc()
	case !errors.Is(err, db.ErrNotFound) && !errors.Is(err, db.ErrCanceled):
		m.errors.Inc()
	}
	q.window.Observe(op.Class, elapsed, timedOut)
}

// ObserveAcquireFailure records a query that got no connection; see db.Observer.
func (q *Queries) ObserveAcquireFailure(op db.Op, err error) {
	switch {
	case errors.Is(err, db.ErrPoolTimeout):
		q.poolTimeouts.Inc()
	case errors.Is(err, db.ErrCanceled):
		// The caller went away while waiting: nothing went wrong on our side.
	default:
		q.forOp(op).errors.Inc()
	}
}
