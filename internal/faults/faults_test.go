package faults_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/eventmanager/eventmanager/internal/localpg"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"
)

// The fault tests run one after the other (no t.Parallel): each drives a load that a concurrent
// test would slow down, and the timing bounds they assert are the feature's promises, not
// measurements.

// Sizes of the fixture: 4 judges writing, a category large enough that no writer runs out of
// contestants during a test.
const (
	judges      = 4
	contestants = 1000
	criteria    = 2
)

// mixedLoad paces every client (20 ms between requests), as a browser would, so that a fast
// failure during an outage does not turn into a busy loop.
var mixedLoad = loadConfig{writers: judges, readers: 2, contestantsPerSheet: 1, pace: 20 * time.Millisecond}

// PostgreSQL restarted with a fast shutdown during a mixed load: during the outage the service
// answers only 503, it serves again within 5 s of the database without a restart of its own, and
// every score write it acknowledged is in the database afterwards.
func TestDatabaseRestartDuringLoad(t *testing.T) {
	pc := newPrivateCluster(t, nil)
	fx := newFixture(t, pc.serviceURL(), pc.adminURL(), judges, contestants, criteria)
	c := newClient(inProcessService(t, pc.serviceURL()))
	defer c.close()
	l := startLoad(t, fx, c, mixedLoad)
	l.waitAcked(t, 20, 30*time.Second)

	stopped, back := pc.restartAfter(t, 2*time.Second)
	time.Sleep(recoveryBound + time.Second - time.Since(back))
	l.stop()

	as := l.answers(t)
	requireOnlyUnavailable(t, as, false)
	outage := between(as, stopped, back)
	failed := len(outage) - tally(outage)["2xx"]
	require.NotZero(t, failed, "no request failed while the database was down: the test saw no outage")
	firstOK := requireRecovered(t, as, back)
	figures := requireLedgerAndRetries(t, pc.adminURL(), c, fx, l.writes)
	t.Logf("outage %s (fast shutdown + 2 s down + start); during it: %v; first 2xx %s after the database was back; "+
		"whole run: %v; %s", back.Sub(stopped).Round(time.Millisecond), tally(outage), firstOK.Round(time.Millisecond),
		tally(as), figures)
}

// Every backend of the service terminated (pg_terminate_backend) during a mixed load, again and
// again for a second (a wave every 50 ms, so that many land on transactions in flight, some on
// their commit): the same recovery, no acknowledged write lost, no half-written sheet.
func TestBackendsTerminatedDuringLoad(t *testing.T) {
	url := dbtest.NewDatabase(t)
	adminURL := dbtest.AdminURL(t, url)
	fx := newFixture(t, url, adminURL, judges, contestants, criteria)
	c := newClient(inProcessService(t, url))
	defer c.close()
	l := startLoad(t, fx, c, mixedLoad)
	l.waitAcked(t, 20, 30*time.Second)

	ctx := context.Background()
	admin, err := pgx.Connect(ctx, adminURL)
	require.NoError(t, err)
	defer admin.Close(ctx)
	var terminated, inTx int
	first := time.Now()
	const waves = 20
	for wave := range waves {
		if wave > 0 {
			time.Sleep(50 * time.Millisecond)
		}
		var n, busy int
		require.NoError(t, admin.QueryRow(ctx, `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)),
			count(*) FILTER (WHERE state IN ('active', 'idle in transaction'))
			FROM pg_stat_activity WHERE datname = current_database() AND usename = $1 AND pid <> pg_backend_pid()`,
			dbtest.Role(t)).Scan(&n, &busy))
		terminated += n
		inTx += busy
	}
	back := time.Now()
	require.NotZero(t, terminated, "no backend of the service to terminate: the load was not running")
	time.Sleep(recoveryBound + time.Second - time.Since(back))
	l.stop()

	as := l.answers(t)
	requireOnlyUnavailable(t, as, false)
	firstOK := requireRecovered(t, as, back)
	figures := requireLedgerAndRetries(t, adminURL, c, fx, l.writes)
	t.Logf("%d backends terminated in %d waves over %s (%d busy in a statement or transaction); answers sent meanwhile: %v; "+
		"first 2xx %s after the last wave; whole run: %v; %s", terminated, waves, back.Sub(first).Round(time.Millisecond), inTx,
		tally(between(as, first, back)), firstOK.Round(time.Millisecond), tally(as), figures)
}

// PostgreSQL at max_connections because of another client: the service's requests get 503
// DB_UNAVAILABLE or DB_POOL_TIMEOUT within pool_timeout + 1 s, and it serves again once the other
// client lets go.
func TestMaxConnectionsTakenByAnotherClient(t *testing.T) {
	pc := newPrivateCluster(t, map[string]string{"max_connections": "20", "superuser_reserved_connections": "3"})
	fx := newFixture(t, pc.serviceURL(), pc.adminURL(), judges, contestants, criteria)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, pc.adminURL())
	require.NoError(t, err)
	defer admin.Close(ctx)
	_, err = admin.Exec(ctx, "CREATE ROLE other_app LOGIN")
	require.NoError(t, err)

	// The fixture's sessions must be gone before the other client counts the free slots.
	require.Eventually(t, func() bool {
		var n int
		err := admin.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE usename = $1`, localpg.ServiceRole).Scan(&n)
		return err == nil && n == 0
	}, 10*time.Second, 20*time.Millisecond)

	// The other client, an ordinary role, takes every connection slot not reserved for superusers.
	// It counts the slots instead of stopping at the first refusal: a backend that is still exiting
	// keeps its slot for a moment after it has left pg_stat_activity, and that slot, freed later,
	// would go to the service. The only other client backend that stays is the test's admin.
	var maxConns, reserved int
	require.NoError(t, admin.QueryRow(ctx, `SELECT current_setting('max_connections')::int,
		current_setting('superuser_reserved_connections')::int`).Scan(&maxConns, &reserved))
	want := maxConns - reserved - 1
	var hog []*pgx.Conn
	release := func() {
		for _, conn := range hog {
			conn.Close(ctx)
		}
		hog = nil
	}
	defer release()
	deadline := time.Now().Add(30 * time.Second)
	for len(hog) < want {
		require.True(t, time.Now().Before(deadline), "the other client got only %d of %d slots in 30 s", len(hog), want)
		conn, err := pgx.Connect(ctx, pc.urlAs("postgres", "other_app"))
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "53300" { // too_many_connections: a slot is still being freed
			time.Sleep(20 * time.Millisecond)
			continue
		}
		require.NoError(t, err)
		hog = append(hog, conn)
	}
	// Every slot an ordinary role may use is now held by a live session of ours,
	_, err = pgx.Connect(ctx, pc.urlAs("postgres", "other_app"))
	var pgErr *pgconn.PgError
	require.True(t, errors.As(err, &pgErr) && pgErr.Code == "53300", "a connection beyond the slots was not refused: %v", err)
	// and nobody else is connected (a superuser backend still exiting may show for a moment).
	require.Eventually(t, func() bool {
		var clients int
		err := admin.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'`).Scan(&clients)
		return err == nil && clients == maxConns-reserved
	}, 10*time.Second, 20*time.Millisecond, "client backends other than the other client and the admin stay connected")
	taken := len(hog)

	// The service starts now, with an empty pool: every request needs a new connection.
	c := newClient(inProcessService(t, pc.serviceURL()))
	defer c.close()
	l := startLoad(t, fx, c, mixedLoad)
	full := time.Now()
	time.Sleep(3 * time.Second)
	released := time.Now()
	release()
	time.Sleep(recoveryBound + time.Second - time.Since(released))
	l.stop()

	as := l.answers(t)
	requireOnlyUnavailable(t, as, false)
	during := between(as, full, released.Add(-100*time.Millisecond)) // requests answered before the release
	require.NotEmpty(t, during)
	var slowest time.Duration
	for _, a := range during {
		require.False(t, a.ok(), "a request succeeded with every connection slot taken")
		slowest = max(slowest, a.answered.Sub(a.sent))
	}
	require.LessOrEqual(t, slowest, poolTimeout+time.Second, "a refused request must be answered within pool_timeout + 1 s")
	firstOK := requireRecovered(t, as, released)
	figures := requireLedgerAndRetries(t, pc.adminURL(), c, fx, l.writes)
	t.Logf("other client held %d connections (max_connections 20, 3 reserved) for 3 s; answers meanwhile: %v, slowest %s; "+
		"first 2xx %s after it let go; whole run: %v; %s", taken, tally(during), slowest.Round(time.Millisecond),
		firstOK.Round(time.Millisecond), tally(as), figures)
}

// The service killed with SIGKILL in the middle of score writes, three times, and started again on
// the same database each time: no score sheet is half-written (each is one transaction), every
// acknowledged write is there, and an idempotent retry of each interrupted request succeeds once:
// the first retry writes (or replays a write that committed before the kill), the second is a
// replay, and no score is written twice.
func TestServiceKilledMidWrite(t *testing.T) {
	url := dbtest.NewDatabase(t)
	adminURL := dbtest.AdminURL(t, url)
	fx := newFixture(t, url, adminURL, judges, contestants, criteria)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, adminURL)
	require.NoError(t, err)
	defer admin.Close(ctx)
	port := freePort(t)
	// As the service's role: serve refuses to start as the tables' owner.
	child := startServe(t, dbtest.ServiceURL(t, url)+poolParams, port)

	const kills = 3
	var (
		writes     []*write
		answers    []answer
		seq        int
		inTx, cuts []int
	)
	for range kills {
		c := newClient(child.base)
		// Larger sheets (10 contestants × 2 criteria) and no pause: the service is always inside a
		// transaction when the kill comes.
		l := startLoad(t, fx, c, loadConfig{writers: judges, readers: 1, contestantsPerSheet: 10, firstSeq: seq})
		l.waitAcked(t, 20, time.Minute)
		var open int
		require.NoError(t, admin.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND usename = $1 AND xact_start IS NOT NULL`, dbtest.ServiceRole(t)).Scan(&open))
		l.stopping.Store(true) // no new request: the ones in flight are cut by the kill
		child.kill()
		l.stop()
		c.close()

		as := l.answers(t)
		requireOnlyUnavailable(t, as, true)
		cut := tally(as)["no answer"]
		require.NotZero(t, cut, "the kill cut no request: the test showed nothing")
		inTx, cuts = append(inTx, open), append(cuts, cut)
		writes, answers, seq = append(writes, l.writes...), append(answers, as...), l.nextSeq()

		child = startServe(t, dbtest.ServiceURL(t, url)+poolParams, port)
		// Before any retry: what the kill left is consistent.
		requireLedgerHeld(t, readState(t, adminURL, fx), fx, writes)
	}
	c := newClient(child.base)
	defer c.close()
	figures := requireLedgerAndRetries(t, adminURL, c, fx, writes)
	t.Logf("%d kills with %v service transactions open on the server; requests cut %v; whole run: %v; %s",
		kills, inTx, cuts, tally(answers), figures)
}

// requireLedgerAndRetries checks the ledger against the database, retries every write that got no
// 2xx with its Idempotency-Key, and checks again that every sheet is now there, written once.
func requireLedgerAndRetries(t *testing.T, adminURL string, c *client, fx *fixture, writes []*write) string {
	t.Helper()
	lf := requireLedgerHeld(t, readState(t, adminURL, fx), fx, writes)
	rf := retryUnacknowledged(t, c, fx, writes)
	require.Equal(t, lf.committed, rf.replayedFirst,
		"the first retry must replay exactly the writes that had committed without their answer")
	acknowledgeAll(writes)
	after := requireLedgerHeld(t, readState(t, adminURL, fx), fx, writes)
	require.Equal(t, len(writes), after.acked)
	return fmtFigures(len(writes), lf, rf)
}
