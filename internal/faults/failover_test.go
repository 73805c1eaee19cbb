package faults_test

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/localpg"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// failoverBound is what the service promises after a promotion: serving again within 10 s, on its
// own (the pool reconnects to whichever host accepts writes).
const failoverBound = 10 * time.Second

// The primary is killed (SIGKILL to its whole process group, as a machine that loses power) under
// score-writing load, and its synchronous standby is promoted. The service, on a two-host
// DATABASE_URL with target_session_attrs=read-write, answers only 503 meanwhile, serves again
// within 10 s of the promotion without a restart, and every write it acknowledged is on the new
// primary (the writer's ledger against the database).
func TestFailoverToSynchronousStandby(t *testing.T) {
	pc := newPrivateCluster(t, nil)
	fx := newFixture(t, pc.serviceURL(), pc.adminURL(), judges, contestants, criteria)
	ctx := context.Background()

	// The standby: a base backup of the primary, streaming from it, then made synchronous, so that
	// a commit is acknowledged only once the standby has it.
	dir, err := os.MkdirTemp("", "eventmanager-faults-standby-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	pc.mu.Lock()
	primary := pc.pg
	pc.mu.Unlock()
	require.NoError(t, primary.BaseBackup(ctx, filepath.Join(dir, "data")))
	standby, err := localpg.Start(ctx, localpg.Options{DataDir: filepath.Join(dir, "data"), ServerSettings: map[string]string{"fsync": "off"}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = standby.Stop(context.Background()) })
	superuser(t, primary.URL("postgres"), `ALTER SYSTEM SET synchronous_standby_names = '*'`, `SELECT pg_reload_conf()`)
	require.Eventually(t, func() bool {
		var state string
		conn, err := pgx.Connect(ctx, primary.URL("postgres"))
		if err != nil {
			return false
		}
		defer conn.Close(ctx)
		err = conn.QueryRow(ctx, `SELECT coalesce(max(sync_state), '') FROM pg_stat_replication`).Scan(&state)
		return err == nil && state == "sync"
	}, 30*time.Second, 20*time.Millisecond, "the standby never became synchronous")

	// Both hosts in one URL; only the one that accepts writes is used.
	sock := func(s *localpg.Server) string { return strings.ReplaceAll(url.QueryEscape(s.SocketDir()), "+", "%20") }
	twoHosts := "postgresql://" + localpg.ServiceRole + "@/" + clusterDatabase + "?host=" + sock(primary) + "," + sock(standby) +
		"&port=" + strconv.Itoa(primary.Port()) + "," + strconv.Itoa(standby.Port()) + "&target_session_attrs=read-write"
	c := newClient(inProcessService(t, twoHosts))
	defer c.close()
	l := startLoad(t, fx, c, mixedLoad)
	l.waitAcked(t, 20, 30*time.Second)

	killed := time.Now()
	require.NoError(t, syscall.Kill(-primary.PID(), syscall.SIGKILL))
	// A failover manager needs a moment to decide; the service meanwhile has only the standby,
	// which refuses writes (target_session_attrs).
	time.Sleep(time.Second)
	superuser(t, standby.URL("postgres"), `SELECT pg_promote(true, 60)`)
	promoted := time.Now()
	time.Sleep(failoverBound + time.Second - time.Since(promoted))
	l.stop()

	as := l.answers(t)
	requireOnlyUnavailable(t, as, false)
	outage := between(as, killed, promoted)
	require.NotZero(t, len(outage)-tally(outage)["2xx"], "no request failed while there was no primary: the test saw no outage")
	firstOK := requireRecoveredWithin(t, as, promoted, failoverBound)
	figures := requireLedgerAndRetries(t, standby.URL(clusterDatabase), c, fx, l.writes)
	t.Logf("primary killed, standby promoted %s later; during it: %v; first 2xx %s after the promotion; whole run: %v; %s",
		promoted.Sub(killed).Round(time.Millisecond), tally(outage), firstOK.Round(time.Millisecond), tally(as), figures)
}

// superuser runs statements on a server as its superuser.
func superuser(t *testing.T, url string, statements ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	for _, s := range statements {
		_, err := conn.Exec(ctx, s)
		require.NoError(t, err, s)
	}
}
