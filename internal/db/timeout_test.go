package db_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/bouncertest"
	"github.com/eventmanager/eventmanager/internal/config"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
)

// watched is a DB under test and, beside it, a pool that looks at it from the server's side
// (pg_stat_activity), under another application_name.
type watched struct {
	t     *testing.T
	db    *db.DB
	app   string // application_name of db's connections
	watch *pgxpool.Pool
}

// openWatched opens a DB on a fresh database, directly or through PgBouncer (mode); params are
// appended to its URL. The watching pool always sees the server itself.
func openWatched(t *testing.T, mode bouncertest.Mode, params string, tm config.QueryTimeouts, adjust func(*pgxpool.Config)) *watched {
	t.Helper()
	url := dbtest.NewDatabase(t)
	settings, err := config.ParseDatabaseURL(mode.URL(t, url) + params)
	require.NoError(t, err)
	app := "emtest_" + unique()
	d, err := db.OpenAdjusted(settings, db.Options{Timeouts: tm, AppName: app, Logger: discard}, adjust)
	require.NoError(t, err)
	t.Cleanup(d.Close)
	watch, err := pgxpool.New(context.Background(), url+"&application_name=watcher")
	require.NoError(t, err)
	t.Cleanup(watch.Close)
	return &watched{t: t, db: d, app: app, watch: watch}
}

func unique() string { return fmt.Sprintf("%012x", rand.Uint64()&(1<<48-1)) }

// busy counts the service's backends that are not idle (running a statement, or inside a
// transaction) and, when marker is not empty, whose statement contains marker.
func (w *watched) busy(marker string) int {
	w.t.Helper()
	var n int
	require.NoError(w.t, w.watch.QueryRow(context.Background(),
		`SELECT count(*) FROM pg_stat_activity
		WHERE application_name = $1 AND state IS DISTINCT FROM 'idle' AND ($2 = '' OR strpos(query, $2) > 0)`,
		w.app, marker).Scan(&n))
	return n
}

// backends counts the service's backends on the server, whatever their state.
func (w *watched) backends() int {
	w.t.Helper()
	var n int
	require.NoError(w.t, w.watch.QueryRow(context.Background(),
		`SELECT count(*) FROM pg_stat_activity WHERE application_name = $1`, w.app).Scan(&n))
	return n
}

// runningPID returns the pid of the backend running a statement that contains marker, or 0.
func (w *watched) runningPID(marker string) int32 {
	w.t.Helper()
	var pid int32
	err := w.watch.QueryRow(context.Background(),
		`SELECT pid FROM pg_stat_activity WHERE state = 'active' AND strpos(query, $1) > 0 AND pid <> pg_backend_pid()`,
		marker).Scan(&pid)
	if err != nil {
		return 0
	}
	return pid
}

// pidActive reports whether backend pid is still running a statement.
func (w *watched) pidActive(pid int32) bool {
	w.t.Helper()
	var n int
	require.NoError(w.t, w.watch.QueryRow(context.Background(),
		`SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND state = 'active'`, pid).Scan(&n))
	return n > 0
}

// within polls cond every 10 ms until it holds or d has passed, and reports whether it held.
func within(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var (
	opSleepSimple = db.Op{Name: "test.sleep_simple", Class: db.Simple}
	opSleepReport = db.Op{Name: "test.sleep_report", Class: db.Report}
	opSleepTx     = db.Op{Name: "test.sleep_tx", Class: db.Simple}
)

// A query past its class deadline is cancelled on the server, the caller gets ErrQueryTimeout at
// once, the connection goes back to the pool clean, and the pool carries on within its limit.
func TestQueryTimeoutCancelsOnServer(t *testing.T) {
	t.Parallel()
	bouncertest.Run(t, testQueryTimeoutCancelsOnServer)
}

func testQueryTimeoutCancelsOnServer(t *testing.T, mode bouncertest.Mode) {
	const (
		limit   = 3
		timeout = 300 * time.Millisecond
	)
	tm := timeouts
	tm.Simple = timeout
	w := openWatched(t, mode, fmt.Sprintf("&connection_limit=%d&pool_timeout=5", limit), tm, nil)
	ctx := context.Background()
	var one int
	require.NoError(t, w.db.QueryRow(ctx, opTest, "", `SELECT 1`, nil, &one)) // one warm connection

	marker := "timeout_" + unique()
	start := time.Now()
	_, err := w.db.Exec(ctx, opSleepSimple, "", `SELECT pg_sleep(10) /* `+marker+` */`)
	elapsed := time.Since(start)
	require.ErrorIs(t, err, db.ErrQueryTimeout)
	t.Logf("pg_sleep(10) under a %s class returned %v after %s", timeout, err, elapsed)
	require.Less(t, elapsed, timeout+200*time.Millisecond)

	stopped := within(200*time.Millisecond, func() bool { return w.busy(marker) == 0 })
	require.True(t, stopped, "the query still runs on the server 200 ms after the timeout")

	// The cancel request stopped the query and left the connection usable: it was kept, not
	// replaced (a replacement would show as a second new connection).
	stat := w.db.Pool().Stat()
	require.EqualValues(t, 1, stat.NewConnsCount(), "the timed-out connection was replaced")
	require.EqualValues(t, 1, stat.IdleConns())

	// 100 ordinary queries from 10 goroutines, while watching the pool's size.
	var maxTotal atomic.Int32
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if n := w.db.Pool().Stat().TotalConns(); n > maxTotal.Load() {
				maxTotal.Store(n)
			}
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for g := range 10 {
		wg.Go(func() {
			for i := range 10 {
				var got int
				err := w.db.QueryRow(ctx, opTest, "", `SELECT $1::int`, []any{g*10 + i}, &got)
				if err == nil && got != g*10+i {
					err = fmt.Errorf("got %d, want %d", got, g*10+i)
				}
				errs <- err
			}
		})
	}
	wg.Wait()
	close(stop)
	<-sampled
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.LessOrEqual(t, maxTotal.Load(), int32(limit))
	require.LessOrEqual(t, w.backends(), limit)
}

// A storm of timeouts: 50 queries that all run past their deadline, on a pool of 10. Each gets
// ErrQueryTimeout or ErrPoolTimeout within a bounded time, and nothing is left running.
func TestTimeoutStorm(t *testing.T) {
	t.Parallel()
	bouncertest.Run(t, testTimeoutStorm)
}

func testTimeoutStorm(t *testing.T, mode bouncertest.Mode) {
	const (
		limit       = 10
		queries     = 50
		timeout     = 300 * time.Millisecond
		poolTimeout = time.Second
		// The worst case of one call: the whole pool_timeout waiting, then the class timeout, then
		// a server that never answers the cancel request (cancelDeadlineDelay, 2 s), plus slack.
		bound = poolTimeout + timeout + 2*time.Second + time.Second
	)
	tm := timeouts
	tm.Simple = timeout
	w := openWatched(t, mode, fmt.Sprintf("&connection_limit=%d&pool_timeout=1", limit), tm, nil)
	ctx := context.Background()
	marker := "storm_" + unique()

	type result struct {
		err     error
		elapsed time.Duration
	}
	results := make(chan result, queries)
	for range queries {
		go func() {
			start := time.Now()
			_, err := w.db.Exec(ctx, opSleepSimple, "", `SELECT pg_sleep(10) /* `+marker+` */`)
			results <- result{err, time.Since(start)}
		}()
	}
	var timeouts, poolTimeouts int
	var slowest time.Duration
	hang := time.After(2 * bound)
	for range queries {
		select {
		case r := <-results:
			switch {
			case errors.Is(r.err, db.ErrQueryTimeout):
				timeouts++
			case errors.Is(r.err, db.ErrPoolTimeout):
				poolTimeouts++
			default:
				t.Fatalf("want ErrQueryTimeout or ErrPoolTimeout, got %v", r.err)
			}
			require.Less(t, r.elapsed, bound)
			slowest = max(slowest, r.elapsed)
		case <-hang:
			t.Fatal("a query hangs")
		}
	}
	t.Logf("%d timeouts, %d pool timeouts; slowest call %s", timeouts, poolTimeouts, slowest)
	require.Positive(t, timeouts)

	require.True(t, within(time.Second, func() bool { return w.busy("") == 0 }),
		"backends of the service are still busy after the storm")
	require.LessOrEqual(t, w.db.Pool().Stat().TotalConns(), int32(limit))
	require.LessOrEqual(t, w.backends(), limit)
	var one int
	require.NoError(t, w.db.QueryRow(ctx, opTest, "", `SELECT 1`, nil, &one))
}

// killSwitch stands in for the client machine: once killed, its connections are cut and it cannot
// open new ones, so no cancel request can reach the server either (pgx sends one when a connection
// breaks, through the same dialer).
type killSwitch struct {
	mu    sync.Mutex
	conns []net.Conn
	dead  bool
}

func (k *killSwitch) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.dead {
		return nil, errors.New("client killed")
	}
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err == nil {
		k.conns = append(k.conns, c)
	}
	return c, err
}

func (k *killSwitch) kill() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.dead = true
	for _, c := range k.conns {
		c.Close()
	}
}

// A client that dies mid-query (no cancel request, no goodbye) leaves its query to the server's
// statement_timeout backstop, which stops it at the class timeout plus margin instead of letting it
// run to its end. Directly, the backstop comes in the startup packet; behind PgBouncer (which does
// not forward it), in front of each query in its batch.
func TestBackstopStopsQueryOfDeadClient(t *testing.T) {
	t.Parallel()
	// Every class at 1 s: the session backstop (longest class) and the class backstop are both
	// 1 s + 0.5 s.
	tm := config.QueryTimeouts{Simple: time.Second, Standard: time.Second, Complex: time.Second, Report: time.Second}
	bouncertest.Run(t, func(t *testing.T, mode bouncertest.Mode) {
		ks := &killSwitch{}
		w := openWatched(t, mode, "&connection_limit=1", tm, func(c *pgxpool.Config) {
			c.ConnConfig.DialFunc = ks.dial
		})
		backstop := w.db.Backstop(db.Report)
		require.Equal(t, 1500*time.Millisecond, backstop)
		marker := "dead_client_" + unique()

		start := time.Now()
		errc := make(chan error, 1)
		go func() {
			_, err := w.db.Exec(context.Background(), opSleepReport, "", `SELECT pg_sleep(10) /* `+marker+` */`)
			errc <- err
		}()
		var pid int32
		require.True(t, within(5*time.Second, func() bool { pid = w.runningPID(marker); return pid != 0 }))
		ks.kill()
		require.ErrorIs(t, <-errc, db.ErrUnavailable)
		// The server has not noticed: nothing told it.
		require.True(t, w.pidActive(pid), "the query stopped although no cancel could reach the server")

		require.True(t, within(backstop+3*time.Second, func() bool { return !w.pidActive(pid) }),
			"the query of the dead client still runs")
		stoppedAfter := time.Since(start)
		t.Logf("%s: the query of the dead client stopped after %s (backstop %s)", mode, stoppedAfter, backstop)
		// It ran until the backstop: nothing else (a cancel request) stopped it.
		require.GreaterOrEqual(t, stoppedAfter, backstop)
	})
}

// The server-side limits each kind of query runs under, read from inside the query.
func TestBackstopSettings(t *testing.T) {
	t.Parallel()
	const tenant = "6f1c7a52-3f9e-4a57-9a8e-0c2b5d9e1a11"
	ctx := context.Background()
	setting := func(t *testing.T, d *db.DB, op db.Op, tenantID, name string) string {
		t.Helper()
		var v string
		require.NoError(t, d.QueryRow(ctx, op, tenantID, `SELECT setting FROM pg_settings WHERE name = $1`, []any{name}, &v))
		return v
	}
	inTx := func(t *testing.T, d *db.DB, op db.Op, name string) string {
		t.Helper()
		var v string
		require.NoError(t, d.InTx(ctx, op, "", func(tx *db.Tx) error {
			return tx.QueryRow(`SELECT setting FROM pg_settings WHERE name = $1`, name).Scan(&v)
		}))
		return v
	}
	// raw reads a setting on a pooled connection outside our query API: what the session holds.
	raw := func(t *testing.T, d *db.DB, name string) string {
		t.Helper()
		var v string
		require.NoError(t, d.Pool().QueryRow(ctx, `SELECT setting FROM pg_settings WHERE name = $1`, name).Scan(&v))
		return v
	}
	opStandard := db.Op{Name: "test.standard", Class: db.Standard}

	t.Run("direct", func(t *testing.T) {
		t.Parallel()
		d := open(t, dbtest.NewDatabase(t)+"&connection_limit=1")
		// The session limits come with the connection: the longest class (30 s) plus 5 s.
		require.Equal(t, "35000", setting(t, d, opTest, "", "statement_timeout"))
		require.Equal(t, "10000", setting(t, d, opTest, "", "lock_timeout"))
		require.Equal(t, "60000", setting(t, d, opTest, "", "idle_in_transaction_session_timeout"))
		// A transaction lowers them to its class: 1 s + 0.5 s.
		require.Equal(t, "1500", inTx(t, d, opTest, "statement_timeout"))
		require.Equal(t, "1500", inTx(t, d, opTest, "idle_in_transaction_session_timeout"))
		require.Equal(t, "7500", inTx(t, d, opStandard, "statement_timeout"))
		// ... for the transaction only.
		require.Equal(t, "35000", raw(t, d, "statement_timeout"))
		require.Equal(t, "60000", raw(t, d, "idle_in_transaction_session_timeout"))
	})

	t.Run("pgbouncer", func(t *testing.T) {
		t.Parallel()
		// Through PgBouncer in transaction mode, which passes no startup parameter on.
		d := open(t, bouncertest.PgBouncer.URL(t, dbtest.NewDatabase(t))+"&connection_limit=1")
		require.Equal(t, "0", raw(t, d, "statement_timeout"), "startup parameters were sent")
		// Every query carries its class's limit, with or without a tenant.
		require.Equal(t, "1500", setting(t, d, opTest, "", "statement_timeout"))
		require.Equal(t, "7500", setting(t, d, opStandard, "", "statement_timeout"))
		require.Equal(t, "1500", setting(t, d, opTest, tenant, "statement_timeout"))
		require.Equal(t, "10000", setting(t, d, opTest, "", "lock_timeout"))
		var got string
		require.NoError(t, d.QueryRow(ctx, opTest, tenant, `SELECT current_setting('app.tenant_id', true)`, nil, &got))
		require.Equal(t, tenant, got)
		// Query too.
		var rows []string
		require.NoError(t, d.Query(ctx, opStandard, "", func(r pgx.Rows) error {
			for r.Next() {
				var v string
				if err := r.Scan(&v); err != nil {
					return err
				}
				rows = append(rows, v)
			}
			return r.Err()
		}, `SELECT setting FROM pg_settings WHERE name IN ('statement_timeout', 'lock_timeout') ORDER BY name`))
		require.Equal(t, []string{"10000", "7500"}, rows)
		// Exec too: the statement fails unless the backstop is in place.
		_, err := d.Exec(ctx, opTest, "", `DO $$ BEGIN
			IF (SELECT setting FROM pg_settings WHERE name = 'statement_timeout') <> '1500' THEN
				RAISE EXCEPTION 'no backstop';
			END IF; END $$`)
		require.NoError(t, err)
		require.Equal(t, "1500", inTx(t, d, opTest, "statement_timeout"))
		require.Equal(t, "10000", inTx(t, d, opTest, "lock_timeout"))
		require.Equal(t, "1500", inTx(t, d, opTest, "idle_in_transaction_session_timeout"))
		// Nothing stays on the session, which PgBouncer would hand to another client.
		require.Equal(t, "0", raw(t, d, "statement_timeout"))
		require.Equal(t, "0", raw(t, d, "lock_timeout"))
		require.Equal(t, "", func() string {
			var v string
			require.NoError(t, d.Pool().QueryRow(ctx, `SELECT coalesce(current_setting('app.tenant_id', true), '')`).Scan(&v))
			return v
		}())
	})
}

// A transaction left idle by its client (a goroutine stuck between two statements) is ended by
// the server after its class backstop, so that it does not hold its locks and connection.
func TestIdleTransactionBackstop(t *testing.T) {
	t.Parallel()
	bouncertest.Run(t, testIdleTransactionBackstop)
}

func testIdleTransactionBackstop(t *testing.T, mode bouncertest.Mode) {
	tm := timeouts
	tm.Simple = 300 * time.Millisecond // backstop 450 ms
	w := openWatched(t, mode, "&connection_limit=1", tm, nil)
	var pid int32
	var goneWhileIdle bool
	err := w.db.InTx(context.Background(), opSleepTx, "", func(tx *db.Tx) error {
		if err := tx.QueryRow(`SELECT pg_backend_pid()`).Scan(&pid); err != nil {
			return err
		}
		// Idle in transaction, without a word to the server, until it gives up on us.
		goneWhileIdle = within(3*time.Second, func() bool {
			var n int
			require.NoError(t, w.watch.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity WHERE pid = $1`, pid).Scan(&n))
			return n == 0
		})
		return nil
	})
	require.Error(t, err)
	require.True(t, goneWhileIdle, "the server kept the idle transaction open")
}

// The caller's own deadline counts as a timeout; the caller going away is a cancellation. Both
// stop the query on the server.
func TestCallerDeadlineAndCancel(t *testing.T) {
	t.Parallel()
	bouncertest.Run(t, testCallerDeadlineAndCancel)
}

func testCallerDeadlineAndCancel(t *testing.T, mode bouncertest.Mode) {
	w := openWatched(t, mode, "&connection_limit=2", timeouts, nil)
	opStandard := db.Op{Name: "test.standard_sleep", Class: db.Standard}
	// A warm connection: on a busy machine opening one (through PgBouncer, two) can take longer
	// than the 200 ms deadline, which then ends the wait for a connection, not the query.
	var one int
	require.NoError(t, w.db.QueryRow(context.Background(), opTest, "", `SELECT 1`, nil, &one))

	marker := "deadline_" + unique()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := w.db.Exec(ctx, opStandard, "", `SELECT pg_sleep(10) /* `+marker+` */`)
	require.ErrorIs(t, err, db.ErrQueryTimeout)
	require.True(t, within(time.Second, func() bool { return w.busy(marker) == 0 }))

	marker = "cancel_" + unique()
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	_, err = w.db.Exec(ctx, opStandard, "", `SELECT pg_sleep(10) /* `+marker+` */`)
	require.ErrorIs(t, err, db.ErrCanceled)
	require.True(t, within(time.Second, func() bool { return w.busy(marker) == 0 }))
}

// An Op without a name or a class never reaches the database.
func TestInvalidOpRefused(t *testing.T) {
	t.Parallel()
	d := open(t, dbtest.NewDatabase(t))
	ctx := context.Background()
	_, err := d.Exec(ctx, db.Op{Name: "test.no_class"}, "", `SELECT 1`)
	require.Error(t, err)
	_, err = d.Exec(ctx, db.Op{Class: db.Simple}, "", `SELECT 1`)
	require.Error(t, err)
	require.Error(t, d.InTx(ctx, db.Op{Name: "test.bad_class", Class: 9}, "", func(*db.Tx) error { return nil }))
	require.Zero(t, d.Pool().Stat().AcquireCount())
}
