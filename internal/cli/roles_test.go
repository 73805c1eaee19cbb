package cli_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/cli"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/eventmanager/eventmanager/internal/localpg"
	"github.com/eventmanager/eventmanager/internal/testproc"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// serving is `serve` running in process.
type serving struct {
	port           int
	stdout, stderr *syncBuffer
	stop           context.CancelFunc
	done           chan int
}

// startServing runs serve with vars (PORT and LOG_FORMAT=text added) and returns once it listens,
// or once it exited.
func startServing(t *testing.T, vars map[string]string, args ...string) *serving {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	s := &serving{port: testproc.FreePort(t), stdout: &syncBuffer{}, stderr: &syncBuffer{}, stop: stop, done: make(chan int, 1)}
	all := map[string]string{"PORT": strconv.Itoa(s.port), "LOG_FORMAT": "text"}
	for k, v := range vars {
		all[k] = v
	}
	go func() {
		s.done <- cli.Main(ctx, append([]string{"serve"}, args...), cli.Env{Stdout: s.stdout, Stderr: s.stderr, Getenv: func(k string) string { return all[k] }})
	}()
	t.Cleanup(func() { stop(); <-s.done })
	listening := regexp.MustCompile(`msg=listening addr="?\[::\]:` + strconv.Itoa(s.port) + `\b`)
	require.Eventually(t, func() bool {
		if len(s.done) > 0 {
			return true
		}
		return listening.MatchString(s.stderr.String())
	}, time.Minute, 20*time.Millisecond, "serve did not start: %s", s.stderr)
	return s
}

// exited waits for serve to end on its own and returns its exit code.
func (s *serving) exited(t *testing.T) int {
	t.Helper()
	select {
	case code := <-s.done:
		s.done <- code // for the clean-up
		return code
	case <-time.After(time.Minute):
		t.Fatalf("serve still running: %s", s.stderr)
		return -1
	}
}

// shutdown stops serve as SIGTERM does and returns its exit code.
func (s *serving) shutdown(t *testing.T) int {
	t.Helper()
	s.stop()
	return s.exited(t)
}

func (s *serving) get(t *testing.T, port int, path, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", "http://127.0.0.1:"+strconv.Itoa(port)+path, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// lastLine is the last line of out.
func lastLine(out string) string {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	return lines[len(lines)-1]
}

// serve refuses a role that row-level security does not bind or that owns the tables, in one line
// with exit code 2, unless --allow-rls-bypass, which it then logs as an error. The service's own
// role, with the owner's URL for the migrations, starts quietly.
func TestServeRefusesAnUnsafeRole(t *testing.T) {
	t.Parallel()
	owner := dbtest.NewDatabase(t)
	service := dbtest.ServiceURL(t, owner)
	const unsafe = "UNSAFE: started with --allow-rls-bypass"

	for name, c := range map[string]struct{ url, want string }{
		"owner":     {owner, "owns"},
		"superuser": {dbtest.AdminURL(t, owner), "superuser"},
	} {
		s := startServing(t, map[string]string{"DATABASE_URL": c.url})
		require.Equal(t, 2, s.exited(t), "%s: %s", name, s.stderr)
		line := lastLine(s.stderr.String())
		require.True(t, strings.HasPrefix(line, "eventmanager serve: refusing to start: "), "%s: %s", name, line)
		require.Contains(t, line, c.want, name)
		require.Contains(t, line, "--allow-rls-bypass", name)
		require.NotContains(t, s.stderr.String(), "msg=listening", name)
	}

	s := startServing(t, map[string]string{"DATABASE_URL": owner}, "--allow-rls-bypass")
	require.Equal(t, 0, s.shutdown(t), s.stderr.String())
	require.Regexp(t, `level=ERROR msg="`+regexp.QuoteMeta(unsafe)+`[^\n]*owns`, s.stderr.String())

	s = startServing(t, map[string]string{"DATABASE_URL": service, "MIGRATION_DATABASE_URL": owner})
	require.Equal(t, 0, s.shutdown(t), s.stderr.String())
	require.NotContains(t, s.stderr.String(), unsafe)
	require.NotContains(t, s.stderr.String(), "level=ERROR")
	require.NotContains(t, s.stderr.String(), "may not read some tables")
}

// Without DATABASE_URL (make run), the private PostgreSQL has both roles: the owner owns the
// database and everything in it and runs the migrations; the service connects as a role that owns
// nothing and is a member of the group role with the grants. A database left by an earlier version,
// owned by the service's role, is handed over to the owner.
func TestPrivateDatabaseHasOwnerAndServiceRoles(t *testing.T) {
	t.Parallel()
	if dbtest.Server(t) == nil {
		t.Skip("needs the PostgreSQL binaries of the throwaway cluster")
	}
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "eventmanager-private-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	dataDir := filepath.Join(dir, "pg")

	// An earlier version: role "eventmanager" owned the database and migrated it.
	pg, err := localpg.Start(ctx, localpg.Options{DataDir: dataDir, ServerSettings: map[string]string{"fsync": "off"}})
	require.NoError(t, err)
	require.NoError(t, pg.EnsureRole(ctx, localpg.ServiceRole))
	require.NoError(t, pg.EnsureDatabaseOwnedBy(ctx, "eventmanager", localpg.ServiceRole))
	m, err := db.NewMigrator(pg.URLAs("eventmanager", localpg.ServiceRole))
	require.NoError(t, err)
	_, err = m.UpTo(ctx, 5)
	require.NoError(t, err)
	require.NoError(t, m.Close())
	require.NoError(t, pg.Stop(ctx))

	vars := map[string]string{"PG_DATA_DIR": dataDir}
	s := startServing(t, vars, "--demo")
	// While it runs, as the superuser over the socket.
	url, err := localpg.RunningURL(dataDir, "eventmanager", "postgres")
	require.NoError(t, err)
	admin, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer admin.Close(ctx)

	var dbOwner string
	var notOwners, serviceOwns, serviceSessions int
	var member, super, bypass bool
	require.NoError(t, admin.QueryRow(ctx, `SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'eventmanager'`).Scan(&dbOwner))
	require.Equal(t, localpg.OwnerRole, dbOwner)
	require.NoError(t, admin.QueryRow(ctx, `SELECT count(*) FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
		AND pg_get_userbyid(c.relowner) <> $1`, localpg.OwnerRole).Scan(&notOwners))
	require.Zero(t, notOwners, "everything belongs to the owner")
	require.NoError(t, admin.QueryRow(ctx, `SELECT count(*) FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
		AND pg_has_role($1, c.relowner, 'USAGE')`, localpg.ServiceRole).Scan(&serviceOwns))
	require.Zero(t, serviceOwns)
	require.NoError(t, admin.QueryRow(ctx, `SELECT pg_has_role($1, $2, 'MEMBER'), rolsuper, rolbypassrls FROM pg_roles WHERE rolname = $1`,
		localpg.ServiceRole, localpg.AppRole).Scan(&member, &super, &bypass))
	require.True(t, member)
	require.False(t, super)
	require.False(t, bypass)
	require.NoError(t, admin.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = 'eventmanager' AND usename = $1`,
		localpg.ServiceRole).Scan(&serviceSessions))
	require.Positive(t, serviceSessions, "the service connects as its role")
	// The demo data went through the service's role: the operator exists.
	var operators int
	require.NoError(t, admin.QueryRow(ctx, `SELECT count(*) FROM users WHERE role = 'SUPER_ADMIN' AND email = 'operator@platform.test'`).Scan(&operators))
	require.Equal(t, 1, operators)
	require.Equal(t, 0, s.shutdown(t), s.stderr.String())
	require.NotContains(t, s.stderr.String(), "UNSAFE")
}
