package cli_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/bouncertest"
	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/eventmanager/eventmanager/internal/health"
	"github.com/eventmanager/eventmanager/internal/testproc"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// serveProcess is `eventmanager serve` in a process of its own (the test binary acting as the
// command), so that each instance has its own pid, as in production.
type serveProcess struct {
	cmd  *exec.Cmd
	log  *syncBuffer
	done chan struct{}
}

func startServeProcess(t *testing.T, dbURL string, env ...string) *serveProcess {
	t.Helper()
	p := &serveProcess{log: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(os.Args[0], "serve", "--no-migrate")
	p.cmd.Env = append(append(os.Environ(), subprocessEnv+"=1", "DATABASE_URL="+dbURL,
		"PORT="+strconv.Itoa(testproc.FreePort(t)), "LOG_FORMAT=text"), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	p.cmd.SysProcAttr = testproc.SysProcAttr()
	require.NoError(t, p.cmd.Start())
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(p.stop)
	require.Eventually(t, func() bool { return strings.Contains(p.log.String(), "listening") },
		30*time.Second, 20*time.Millisecond, "serve did not start: %s", p.log)
	return p
}

// stop ends the process gracefully (SIGTERM) and waits for it.
func (p *serveProcess) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// doctorInstances runs doctor and returns its instances check.
func doctorInstances(t *testing.T, dbURL string) health.Check {
	t.Helper()
	_, stdout, stderr := run(t, map[string]string{"DATABASE_URL": dbURL}, "doctor", "--json")
	var r health.Report
	require.NoError(t, json.Unmarshal([]byte(stdout), &r), stdout+stderr)
	c, ok := r.Check("instances")
	require.True(t, ok, stdout)
	return c
}

// Each serve instance names itself in pg_stat_activity; doctor lists the live ones with their
// connection_limit against the budget, and an instance that would push the sum past the budget
// warns when it starts.
func TestDoctorShowsLiveInstancesAndServeWarnsPastTheBudget(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	owner := dbtest.NewDatabase(t)
	url := dbtest.ServiceURL(t, owner) // serve refuses the owner role
	admin, err := pgx.Connect(ctx, dbtest.AdminURL(t, owner))
	require.NoError(t, err)
	defer admin.Close(ctx)
	var maxConns, reserved int
	require.NoError(t, admin.QueryRow(ctx, `SELECT current_setting('max_connections')::int,
		current_setting('superuser_reserved_connections')::int`).Scan(&maxConns, &reserved))
	budget := health.ConnectionBudget(maxConns, reserved)
	// Two instances within the budget, and a third that takes the sum one past it.
	first := budget / 3
	third := budget - 2*first + 1
	limit := func(n int) string { return url + "&connection_limit=" + strconv.Itoa(n) }

	a := startServeProcess(t, limit(first))
	b := startServeProcess(t, limit(first))
	for _, p := range []*serveProcess{a, b} {
		require.NotContains(t, p.log.String(), "connection budget exceeded")
	}
	c := doctorInstances(t, url)
	require.Equal(t, health.OK, c.Status, c.Explanation)
	require.Len(t, c.Items, 2, c.Items)
	for i, p := range []*serveProcess{a, b} {
		require.Contains(t, strings.Join(c.Items, "\n"), "pid "+strconv.Itoa(p.cmd.Process.Pid)+": connection_limit "+strconv.Itoa(first), i)
	}
	// Each instance has one listening connection, named for the instance and counted as such.
	var listeners int
	require.NoError(t, admin.QueryRow(ctx, `SELECT count(*)::int FROM pg_stat_activity
		WHERE datname = current_database() AND application_name LIKE 'eventmanager/%/listener'`).Scan(&listeners))
	require.Equal(t, 2, listeners)

	over := startServeProcess(t, limit(third))
	require.Contains(t, over.log.String(), "connection budget exceeded")
	require.Contains(t, over.log.String(), "connection_limit_sum="+strconv.Itoa(budget+1))
	c = doctorInstances(t, url)
	require.Equal(t, health.Warn, c.Status, c.Explanation)
	require.Len(t, c.Items, 3, c.Items)

	// A stopped instance leaves the list: its connections are gone.
	over.stop()
	require.Eventually(t, func() bool { return len(doctorInstances(t, url).Items) == 2 }, 10*time.Second, 50*time.Millisecond)

	// Behind PgBouncer a pool is made of PgBouncer's clients: listed, not summed, no warning.
	bouncer := bouncertest.Start(t, url, bouncertest.Options{})
	behind := startServeProcess(t, bouncer.URL()+"&connection_limit="+strconv.Itoa(budget), "DIRECT_DATABASE_URL="+url)
	require.NotContains(t, behind.log.String(), "connection budget exceeded")
	c = doctorInstances(t, url)
	require.Equal(t, health.OK, c.Status, c.Explanation)
	require.Len(t, c.Items, 3, c.Items)
	require.Contains(t, strings.Join(c.Items, "\n"), "pid "+strconv.Itoa(behind.cmd.Process.Pid)+": connection_limit "+strconv.Itoa(budget)+" through PgBouncer")
}

func TestInstanceNameRoundTrip(t *testing.T) {
	t.Parallel()
	name := health.InstanceName("web-1.example.org", 4242, 12, false)
	require.Equal(t, "eventmanager/web-1.example.org/4242/12", name)
	in, ok := health.ParseInstanceName(name)
	require.True(t, ok)
	require.Equal(t, health.Instance{Name: name, Host: "web-1.example.org", PID: 4242, ConnectionLimit: 12}, in)
	listener, ok := health.ParseInstanceName(health.ListenerName(name))
	require.True(t, ok)
	require.Equal(t, in, listener, "the listener's connection belongs to its instance")
	long := health.InstanceName(strings.Repeat("h", 100), 4194304, 10000, true)
	require.LessOrEqual(t, len(health.ListenerName(long)), 63)
	in, ok = health.ParseInstanceName(long)
	require.True(t, ok)
	require.Equal(t, 4194304, in.PID)
	require.Equal(t, 10000, in.ConnectionLimit)
	require.True(t, in.PgBouncer)
	for _, other := range []string{"eventmanager", "eventmanager doctor", "eventmanager/x/y/z", "psql", "eventmanager/h/1", "eventmanager/h/1/q"} {
		_, ok := health.ParseInstanceName(other)
		require.False(t, ok, other)
	}
}
