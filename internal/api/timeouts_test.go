package api_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/bouncertest"
	"github.com/eventmanager/eventmanager/internal/config"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/jackc/pgx/v5/pgxpool"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

// observedEnv is an API server with its metrics, and a pool that watches its database from the
// server's side under another application_name.
type observedEnv struct {
	*env
	app   string
	watch *pgxpool.Pool
}

// newObservedEnv starts the API with metrics on a fresh database, directly or through PgBouncer
// (mode); the watching pool sees the server itself. Routes added with e.server.Handle before the
// first request are served.
func newObservedEnv(t *testing.T, mode bouncertest.Mode, params string, tm config.QueryTimeouts) *observedEnv {
	t.Helper()
	url := dbtest.ServiceURL(t, dbtest.NewDatabase(t))
	app := fmt.Sprintf("emapi_%012x", rand.Uint64()&(1<<48-1))
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))
	e := newEnv(t, onDatabase(url), viaMode(mode), withParams(params), withMetrics(),
		withDB(func(o *db.Options) { o.Timeouts, o.AppName, o.Logger = tm, app, discard }))
	watch, err := pgxpool.New(context.Background(), url+"&application_name=watcher")
	require.NoError(t, err)
	t.Cleanup(watch.Close)
	return &observedEnv{env: e, app: app, watch: watch}
}

// running reports whether a backend of the service runs a statement containing marker.
func (e *observedEnv) running(marker string) bool {
	e.t.Helper()
	var n int
	require.NoError(e.t, e.watch.QueryRow(context.Background(),
		`SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND state = 'active' AND strpos(query, $2) > 0`,
		e.app, marker).Scan(&n))
	return n > 0
}

// eventually polls cond every 10 ms until it holds or d has passed.
func eventually(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// A client that hangs up mid-request takes its query with it: net/http cancels the request's
// context, and the database layer cancels the query on the server.
func TestClientDisconnectCancelsQuery(t *testing.T) {
	t.Parallel()
	bouncertest.Run(t, testClientDisconnectCancelsQuery)
}

func testClientDisconnectCancelsQuery(t *testing.T, mode bouncertest.Mode) {
	e := newObservedEnv(t, mode, "&connection_limit=2", testTimeouts)
	marker := fmt.Sprintf("disconnect_%012x", rand.Uint64()&(1<<48-1))
	opSleep := db.Op{Name: "test.sleep", Class: db.Report} // 30 s: the deadline is not what stops it
	handlerErr := make(chan error, 1)
	e.server.Handle("GET /test/sleep", func(w http.ResponseWriter, r *http.Request) {
		_, err := e.db.Exec(r.Context(), opSleep, "", `SELECT pg_sleep(10) /* `+marker+` */`)
		handlerErr <- err
		w.WriteHeader(http.StatusNoContent)
	})

	ctx, hangUp := context.WithCancel(context.Background())
	defer hangUp()
	req, err := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/test/sleep", nil)
	require.NoError(t, err)
	clientDone := make(chan error, 1)
	go func() {
		resp, err := e.srv.Client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		clientDone <- err
	}()
	require.True(t, eventually(5*time.Second, func() bool { return e.running(marker) }), "the query never started")

	hangUp()
	start := time.Now()
	require.Error(t, <-clientDone)
	select {
	case err := <-handlerErr:
		require.ErrorIs(t, err, db.ErrCanceled)
	case <-time.After(5 * time.Second):
		t.Fatal("the handler's query was not cancelled when the client went away")
	}
	require.True(t, eventually(time.Second, func() bool { return !e.running(marker) }),
		"the query still runs on the server after the client went away")
	t.Logf("query cancelled on the server %s after the client hung up", time.Since(start))
}

// /metrics, scraped after some traffic, counts every query by class and operation, the timeouts,
// and shows the pool.
func TestMetricsEndpoint(t *testing.T) {
	t.Parallel()
	bouncertest.Run(t, testMetricsEndpoint)
}

func testMetricsEndpoint(t *testing.T, mode bouncertest.Mode) {
	tm := testTimeouts
	tm.Complex = 300 * time.Millisecond
	e := newObservedEnv(t, mode, "&connection_limit=3", tm)
	opSlow := db.Op{Name: "test.slow_report", Class: db.Complex}
	e.server.Handle("GET /test/slow", func(w http.ResponseWriter, r *http.Request) {
		_, err := e.db.Exec(r.Context(), opSlow, "", `SELECT pg_sleep(5)`)
		if errors.Is(err, db.ErrQueryTimeout) {
			w.WriteHeader(http.StatusGatewayTimeout)
			return
		}
		w.WriteHeader(http.StatusOK)
	})

	tok := e.tenant("metrics")
	const lists = 7
	for range lists {
		e.listEvents(tok, "")
	}
	require.Equal(t, http.StatusGatewayTimeout, e.do("GET", "/test/slow", "", nil).status)

	r := e.do("GET", "/metrics", "", nil)
	require.Equal(t, http.StatusOK, r.status)
	require.Contains(t, r.header.Get("Content-Type"), "text/plain")
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(r.body))
	require.NoError(t, err)

	metric := func(name string, labels map[string]string) *dto.Metric {
		t.Helper()
		f := families[name]
		require.NotNil(t, f, "no %s in /metrics", name)
	next:
		for _, m := range f.GetMetric() {
			for k, v := range labels {
				found := false
				for _, l := range m.GetLabel() {
					found = found || l.GetName() == k && l.GetValue() == v
				}
				if !found {
					continue next
				}
			}
			return m
		}
		t.Fatalf("no %s%v in /metrics", name, labels)
		return nil
	}
	list := map[string]string{"class": "standard", "operation": "events.list"}
	slow := map[string]string{"class": "complex", "operation": "test.slow_report"}
	h := metric("eventmanager_db_query_duration_seconds", list).GetHistogram()
	require.EqualValues(t, lists, h.GetSampleCount())
	require.Positive(t, h.GetSampleSum())
	require.EqualValues(t, 1, metric("eventmanager_db_query_duration_seconds", slow).GetHistogram().GetSampleCount())
	require.EqualValues(t, 1, metric("eventmanager_db_query_timeouts_total", slow).GetCounter().GetValue())
	require.EqualValues(t, 0, metric("eventmanager_db_query_timeouts_total", list).GetCounter().GetValue())

	require.EqualValues(t, 3, metric("eventmanager_db_pool_max_connections", nil).GetGauge().GetValue())
	total := metric("eventmanager_db_pool_total_connections", nil).GetGauge().GetValue()
	require.GreaterOrEqual(t, total, 1.0)
	require.LessOrEqual(t, total, 3.0)
	require.EqualValues(t, 0, metric("eventmanager_db_pool_acquired_connections", nil).GetGauge().GetValue())
	require.GreaterOrEqual(t, metric("eventmanager_db_pool_acquires_total", nil).GetCounter().GetValue(), float64(lists+1))
	require.EqualValues(t, 0, metric("eventmanager_db_pool_timeouts_total", nil).GetCounter().GetValue())
	require.NotNil(t, metric("go_goroutines", nil))
}

// Without a metrics handler there is no /metrics route.
func TestNoMetricsRoute(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	require.Equal(t, http.StatusNotFound, e.do("GET", "/metrics", "", nil).status)
}
