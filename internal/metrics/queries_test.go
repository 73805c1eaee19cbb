package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/config"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/eventmanager/eventmanager/internal/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

var (
	opList = db.Op{Name: "events.list", Class: db.Standard}
	opGet  = db.Op{Name: "events.get", Class: db.Simple}
)

// find returns the metric of family name whose labels include want, or nil.
func find(t *testing.T, g prometheus.Gatherer, name string, want map[string]string) *dto.Metric {
	t.Helper()
	families, err := g.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			for k, v := range want {
				found := false
				for _, l := range m.GetLabel() {
					if l.GetName() == k && l.GetValue() == v {
						found = true
					}
				}
				if !found {
					continue next
				}
			}
			return m
		}
	}
	return nil
}

// Each outcome lands in the right series: durations of every query that ran, timeouts and errors
// apart, missing rows and callers that left not counted as errors, pool timeouts on their own.
func TestQueriesObserve(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	q := metrics.NewQueries(reg)
	timeout := fmt.Errorf("wrapped: %w", db.ErrQueryTimeout)

	q.ObserveQuery(opList, 3*time.Millisecond, nil)
	q.ObserveQuery(opList, 40*time.Millisecond, nil)
	q.ObserveQuery(opList, 5*time.Second, timeout)
	q.ObserveQuery(opGet, time.Millisecond, db.ErrNotFound)
	q.ObserveQuery(opGet, time.Millisecond, &db.ConstraintError{Kind: db.ErrConflict})
	q.ObserveQuery(opGet, time.Millisecond, fmt.Errorf("x: %w", db.ErrCanceled))
	q.ObserveQuery(opGet, time.Millisecond, errors.New("syntax error"))
	q.ObserveAcquireFailure(opGet, db.ErrPoolTimeout)
	q.ObserveAcquireFailure(opGet, db.ErrPoolTimeout)
	q.ObserveAcquireFailure(opGet, db.ErrUnavailable)
	q.ObserveAcquireFailure(opGet, db.ErrCanceled)

	list := map[string]string{"class": "standard", "operation": "events.list"}
	get := map[string]string{"class": "simple", "operation": "events.get"}
	h := find(t, reg, "eventmanager_db_query_duration_seconds", list).GetHistogram()
	require.EqualValues(t, 3, h.GetSampleCount())
	require.InDelta(t, 5.043, h.GetSampleSum(), 1e-9)
	require.Len(t, h.GetBucket(), len(metrics.DurationBuckets))
	require.EqualValues(t, 4, find(t, reg, "eventmanager_db_query_duration_seconds", get).GetHistogram().GetSampleCount())

	require.EqualValues(t, 1, find(t, reg, "eventmanager_db_query_timeouts_total", list).GetCounter().GetValue())
	require.EqualValues(t, 0, find(t, reg, "eventmanager_db_query_errors_total", list).GetCounter().GetValue())
	// The conflict, the syntax error and the unreachable database.
	require.EqualValues(t, 3, find(t, reg, "eventmanager_db_query_errors_total", get).GetCounter().GetValue())
	require.EqualValues(t, 2, find(t, reg, "eventmanager_db_pool_timeouts_total", nil).GetCounter().GetValue())

	l := q.Window().Latency(db.Standard)
	require.EqualValues(t, 3, l.Count)
	require.EqualValues(t, 1, l.Timeouts)
	require.InEpsilon(t, float64(40*time.Millisecond), float64(l.P50), 0.033)
	require.InEpsilon(t, float64(5*time.Second), float64(l.P99), 0.033)
}

// The pool collector reports pgxpool's statistics of a real pool, fed by the database layer.
func TestPoolCollector(t *testing.T) {
	t.Parallel()
	settings, err := config.ParseDatabaseURL(dbtest.NewDatabase(t) + "&connection_limit=4")
	require.NoError(t, err)
	reg := metrics.NewRegistry()
	q := metrics.NewQueries(reg)
	d, err := db.Open(settings, db.Options{Timeouts: config.DefaultQueryTimeouts, Observer: q})
	require.NoError(t, err)
	t.Cleanup(d.Close)
	reg.MustRegister(metrics.NewPoolCollector(d.Pool()))

	ctx := context.Background()
	for range 5 {
		var one int
		require.NoError(t, d.QueryRow(ctx, opGet, "", `SELECT 1`, nil, &one))
	}
	gauge := func(name string) float64 {
		m := find(t, reg, name, nil)
		require.NotNil(t, m, name)
		return m.GetGauge().GetValue()
	}
	counter := func(name string) float64 {
		m := find(t, reg, name, nil)
		require.NotNil(t, m, name)
		return m.GetCounter().GetValue()
	}
	require.EqualValues(t, 4, gauge("eventmanager_db_pool_max_connections"))
	require.EqualValues(t, 1, gauge("eventmanager_db_pool_total_connections"))
	require.EqualValues(t, 1, gauge("eventmanager_db_pool_idle_connections"))
	require.EqualValues(t, 0, gauge("eventmanager_db_pool_acquired_connections"))
	require.EqualValues(t, 5, counter("eventmanager_db_pool_acquires_total"))
	require.EqualValues(t, 1, counter("eventmanager_db_pool_new_connections_total"))
	require.EqualValues(t, 1, counter("eventmanager_db_pool_empty_acquires_total"))
	require.Positive(t, counter("eventmanager_db_pool_acquire_duration_seconds_total"))
	require.EqualValues(t, 5, find(t, reg, "eventmanager_db_query_duration_seconds",
		map[string]string{"operation": "events.get"}).GetHistogram().GetSampleCount())
	// The registry also carries the Go runtime and the process.
	require.NotNil(t, find(t, reg, "go_goroutines", nil))
	require.NotNil(t, find(t, reg, "process_cpu_seconds_total", nil))
	// And it passes the linter of the Prometheus conventions.
	problems, err := testutil.GatherAndLint(reg)
	require.NoError(t, err)
	require.Empty(t, problems)
}

// The cost that every query pays: one ObserveQuery (histogram, window, counter lookup).
func BenchmarkQueriesObserve(b *testing.B) {
	q := metrics.NewQueries(prometheus.NewRegistry())
	for i := 0; b.Loop(); i++ {
		q.ObserveQuery(opList, time.Duration(i%5000)*time.Microsecond, nil)
	}
}

func BenchmarkQueriesObserveParallel(b *testing.B) {
	q := metrics.NewQueries(prometheus.NewRegistry())
	ops := []db.Op{opList, opGet, {Name: "results.category", Class: db.Complex}, {Name: "users.get", Class: db.Simple}}
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			q.ObserveQuery(ops[i%len(ops)], time.Duration(i%5000)*time.Microsecond, nil)
			i++
		}
	})
}

// What a query costs with and without the observer, for scale: a round trip to PostgreSQL on a
// Unix socket against the observer's fraction of a microsecond.
func BenchmarkQueryRow(b *testing.B) {
	settings, err := config.ParseDatabaseURL(dbtest.NewDatabase(b) + "&connection_limit=2")
	require.NoError(b, err)
	for _, bc := range []struct {
		name     string
		observer db.Observer
	}{
		{"unobserved", nil},
		{"observed", metrics.NewQueries(prometheus.NewRegistry())},
	} {
		b.Run(bc.name, func(b *testing.B) {
			d, err := db.Open(settings, db.Options{Timeouts: config.DefaultQueryTimeouts, Observer: bc.observer})
			require.NoError(b, err)
			defer d.Close()
			ctx := context.Background()
			var one int
			for b.Loop() {
				if err := d.QueryRow(ctx, opGet, "", `SELECT 1`, nil, &one); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
