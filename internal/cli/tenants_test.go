package cli_test

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/config"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/eventmanager/eventmanager/internal/store"
	"github.com/stretchr/testify/require"
)

func TestTenantsCreateBadFlags(t *testing.T) {
	t.Parallel()
	ok := []string{"--slug", "acme", "--name", "Acme", "--admin-email", "a@acme.test"}
	with := func(extra ...string) []string { return append(append([]string{"tenants", "create"}, ok...), extra...) }
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no slug", []string{"tenants", "create", "--name", "Acme", "--admin-email", "a@acme.test"}, "--slug"},
		{"bad slug", with("--slug", "Acme Inc"), "--slug"},
		{"no name", []string{"tenants", "create", "--slug", "acme", "--admin-email", "a@acme.test"}, "--name"},
		{"no email", []string{"tenants", "create", "--slug", "acme", "--name", "Acme"}, "--admin-email"},
		{"bad email", with("--admin-email", "not-an-email"), "--admin-email"},
		{"bad role", with("--admin-role", "JUDGE"), "--admin-role"},
		{"unknown role", with("--admin-role", "KING"), "--admin-role"},
		{"unknown flag", with("--plan", "gold"), "plan"},
		{"flag without value", with("--name"), "name"},
		{"stray argument", []string{"tenants", "create", "--slug", "acme", "--name", "Acme", "Shows", "--admin-email", "a@acme.test"}, "Shows"},
		{"unknown subcommand", []string{"tenants", "delete"}, "delete"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			// An unreachable database: a bad flag must be refused before any connection is tried.
			code, stdout, stderr := run(t, map[string]string{"DATABASE_URL": "postgresql://u:pw@127.0.0.1:1/x"}, c.args...)
			require.Equal(t, 2, code, stderr)
			require.Empty(t, stdout)
			require.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %q", stderr)
			require.Contains(t, stderr, c.want)
		})
	}
	code, stdout, stderr := run(t, nil, "tenants", "create", "--help")
	require.Equal(t, 0, code)
	require.Contains(t, stdout+stderr, "--admin-role")
	code, _, stderr = run(t, nil, "tenants")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, "Usage")
}

var oneTimePassword = regexp.MustCompile(`One-time password: (\S+)\n`)

// signIn checks a password through the store, as POST /auth/login does.
func signIn(t *testing.T, url, slug, email, password string) store.Session {
	t.Helper()
	settings, err := config.ParseDatabaseURL(url)
	require.NoError(t, err)
	d, err := db.Open(settings, db.Options{Timeouts: config.QueryTimeouts{Simple: time.Second, Standard: 5 * time.Second, Complex: 15 * time.Second, Report: 30 * time.Second}})
	require.NoError(t, err)
	defer d.Close()
	sess, err := store.New(d).Login(context.Background(), slug, email, password, time.Hour)
	require.NoError(t, err)
	return sess
}

func TestTenantsCreate(t *testing.T) {
	t.Parallel()
	url := dbtest.NewDatabase(t)
	vars := map[string]string{"DATABASE_URL": url}
	code, stdout, stderr := run(t, vars, "tenants", "create", "--slug", "acme", "--name", "Acme Shows", "--admin-email", "Boss@Acme.test")
	require.Equal(t, 0, code, stderr)
	m := oneTimePassword.FindStringSubmatch(stdout)
	require.NotNil(t, m, stdout)
	require.Len(t, m[1], auth.RandomPasswordLen)
	require.NotContains(t, stderr, m[1], "the password goes to stdout only, never to the log")
	sess := signIn(t, url, "acme", "boss@acme.test", m[1])
	require.Equal(t, auth.Admin, sess.User.Role)

	// The operators' own tenant, with a SUPER_ADMIN.
	code, stdout, stderr = run(t, vars, "tenants", "create", "--slug", "ops", "--name", "Operators", "--admin-email", "root@ops.test", "--admin-role", "super_admin", "--admin-name", "Root")
	require.Equal(t, 0, code, stderr)
	m = oneTimePassword.FindStringSubmatch(stdout)
	require.NotNil(t, m, stdout)
	sess = signIn(t, url, "ops", "root@ops.test", m[1])
	require.Equal(t, auth.SuperAdmin, sess.User.Role)
	require.Equal(t, "Root", sess.User.Name)

	// A slug that is taken is a run-time failure, in one line.
	code, stdout, stderr = run(t, vars, "tenants", "create", "--slug", "acme", "--name", "Again", "--admin-email", "x@acme.test")
	require.Equal(t, 1, code)
	require.Empty(t, stdout)
	require.Contains(t, stderr, `a tenant with slug "acme" already exists`)
}

func TestTenantsCreateNeedsMigratedSchema(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := run(t, map[string]string{"DATABASE_URL": dbtest.NewEmptyDatabase(t)},
		"tenants", "create", "--slug", "acme", "--name", "Acme", "--admin-email", "a@acme.test")
	require.Equal(t, 1, code)
	require.Empty(t, stdout)
	require.Contains(t, stderr, "migrate up")
}

// syncBuffer is a bytes.Buffer safe to read while the command writes to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
