package localpg

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

func TestServiceRoleAndOwnedDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := startServer(t, filepath.Join(t.TempDir(), "pg"), nil)
	admin := connect(t, s.URL("postgres"))

	// Concurrent callers all succeed, and the role is an ordinary one.
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.EnsureRole(ctx, ServiceRole)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	roleIs := func(name string) (super, bypass, login bool) {
		t.Helper()
		require.NoError(t, admin.QueryRow(ctx, `SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = $1`, name).
			Scan(&super, &bypass, &login))
		return super, bypass, login
	}
	super, bypass, login := roleIs(ServiceRole)
	require.False(t, super)
	require.False(t, bypass)
	require.True(t, login)
	// A role that was given privileges since is made ordinary again.
	_, err := admin.Exec(ctx, `ALTER ROLE eventmanager SUPERUSER BYPASSRLS`)
	require.NoError(t, err)
	require.NoError(t, s.EnsureRole(ctx, ServiceRole))
	super, bypass, _ = roleIs(ServiceRole)
	require.False(t, super)
	require.False(t, bypass)
	// With a password (servers that ask for one), over TCP.
	require.NoError(t, EnsureRoleAt(ctx, s.URL("postgres"), "app user", "it's a secret"))
	c := connect(t, s.TCPURL("postgres", "app user", "it's a secret"))
	var who string
	require.NoError(t, c.QueryRow(ctx, "SELECT current_user").Scan(&who))
	require.Equal(t, "app user", who)

	// A new database owned by the role, reached as the role over the socket.
	require.NoError(t, s.EnsureDatabaseOwnedBy(ctx, "owned", ServiceRole))
	require.NoError(t, s.EnsureDatabaseOwnedBy(ctx, "owned", ServiceRole))
	c = connect(t, s.URLAs("owned", ServiceRole))
	require.NoError(t, c.QueryRow(ctx, "SELECT current_user").Scan(&who))
	require.Equal(t, ServiceRole, who)
	_, err = c.Exec(ctx, "CREATE TABLE mine (id serial PRIMARY KEY)")
	require.NoError(t, err)

	// A database of the superuser, with objects in it, is handed over with its objects.
	require.NoError(t, s.EnsureDatabase(ctx, "legacy"))
	legacy := connect(t, s.URL("legacy"))
	_, err = legacy.Exec(ctx, `CREATE SCHEMA extra;
		CREATE TABLE t (id serial PRIMARY KEY, v text);
		CREATE TABLE extra.u (id bigint GENERATED ALWAYS AS IDENTITY, w text);
		CREATE SEQUENCE free_seq;
		CREATE VIEW tv AS SELECT id FROM t;
		CREATE MATERIALIZED VIEW tm AS SELECT id FROM t;
		CREATE TYPE mood AS ENUM ('ok');
		CREATE DOMAIN positive AS int CHECK (VALUE > 0);
		CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';`)
	require.NoError(t, err)
	require.NoError(t, s.EnsureDatabaseOwnedBy(ctx, "legacy", ServiceRole))
	var notOwned []string
	rows, err := legacy.Query(ctx, `
		SELECT 'database' FROM pg_database WHERE datname = 'legacy' AND pg_get_userbyid(datdba) <> $1
		UNION ALL SELECT nspname::text FROM pg_namespace WHERE nspname = 'extra' AND pg_get_userbyid(nspowner) <> $1
		UNION ALL SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname IN ('public', 'extra') AND pg_get_userbyid(c.relowner) <> $1
		UNION ALL SELECT p.proname::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
			WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> $1
		UNION ALL SELECT t.typname::text FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
			WHERE n.nspname = 'public' AND t.typname IN ('mood', 'positive') AND pg_get_userbyid(t.typowner) <> $1`, ServiceRole)
	require.NoError(t, err)
	for rows.Next() {
		var name string
		require.NoError(t, rows.Scan(&name))
		notOwned = append(notOwned, name)
	}
	require.NoError(t, rows.Err())
	require.Empty(t, notOwned)
	c = connect(t, s.URLAs("legacy", ServiceRole))
	_, err = c.Exec(ctx, `INSERT INTO t (v) VALUES ('x'); INSERT INTO extra.u (w) VALUES ('y'); SELECT nextval('free_seq');
		REFRESH MATERIALIZED VIEW tm; ALTER TABLE t ADD COLUMN z int`)
	require.NoError(t, err)
}

func TestURLAs(t *testing.T) {
	t.Parallel()
	s := &Server{sockDir: "/tmp/odd dir/with%and?", port: 54321}
	cfg, err := pgx.ParseConfig(s.URLAs("my db", "app role"))
	require.NoError(t, err)
	require.Equal(t, "/tmp/odd dir/with%and?", cfg.Host)
	require.Equal(t, uint16(54321), cfg.Port)
	require.Equal(t, "app role", cfg.User)
	require.Equal(t, "my db", cfg.Database)
	require.Empty(t, cfg.Password)
}
