package dbtest_test

import (
	"context"
	"testing"

	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"
)

// The test databases are owned by an ordinary role, which their URLs connect as, so that row-level
// security applies to the tests as it does to the service; AdminURL is a superuser's way in.
func TestDatabasesBelongToAnOrdinaryRole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for name, url := range map[string]string{"migrated": dbtest.NewDatabase(t), "empty": dbtest.NewEmptyDatabase(t)} {
		var (
			user, owner, database string
			super, bypass         bool
		)
		conn := connect(t, url)
		require.NoError(t, conn.QueryRow(ctx, `SELECT current_user::text, current_database()::text, rolsuper, rolbypassrls,
				(SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database())
			FROM pg_roles WHERE rolname = current_user`).Scan(&user, &database, &super, &bypass, &owner))
		require.Equal(t, dbtest.Role(t), user, name)
		require.Equal(t, user, owner, name)
		require.False(t, super, name)
		require.False(t, bypass, name)

		admin := connect(t, dbtest.AdminURL(t, url))
		var adminDB string
		require.NoError(t, admin.QueryRow(ctx, `SELECT current_database()::text, rolsuper FROM pg_roles WHERE rolname = current_user`).
			Scan(&adminDB, &super))
		require.Equal(t, database, adminDB, name)
		require.True(t, super, name)
	}
	// The migrated schema is the role's too.
	conn := connect(t, dbtest.NewDatabase(t))
	var foreign int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner <> current_user`).Scan(&foreign))
	require.Zero(t, foreign)
}

// The service's role owns nothing and has only what the migrations grant: no TRUNCATE, no DDL, no
// turning row-level security off, audit_logs INSERT and SELECT only. Tables, sequences and functions
// that later migrations create (as the owner) are granted to it without their saying so.
func TestServiceRoleHasOnlyItsGrants(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	owner := dbtest.NewDatabase(t)
	svc := connect(t, dbtest.ServiceURL(t, owner))

	var (
		user          string
		super, bypass bool
		owned         int
	)
	require.NoError(t, svc.QueryRow(ctx, `SELECT current_user::text, rolsuper, rolbypassrls,
			(SELECT count(*) FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND pg_has_role(c.relowner, 'USAGE'))
		FROM pg_roles WHERE rolname = current_user`).Scan(&user, &super, &bypass, &owned))
	require.Equal(t, dbtest.ServiceRole(t), user)
	require.NotEqual(t, dbtest.Role(t), user)
	require.False(t, super)
	require.False(t, bypass)
	require.Zero(t, owned, "the service role owns no relation")

	denied := func(sql string) {
		t.Helper()
		_, err := svc.Exec(ctx, sql)
		require.Error(t, err, sql)
		var pgErr *pgconn.PgError
		require.ErrorAs(t, err, &pgErr, sql)
		require.Equal(t, "42501", pgErr.Code, "%s: %v", sql, err) // insufficient_privilege
	}
	for _, sql := range []string{
		"TRUNCATE audit_logs",
		"UPDATE audit_logs SET action = 'x.y'",
		"DELETE FROM audit_logs",
		"TRUNCATE events",
		"ALTER TABLE events DISABLE ROW LEVEL SECURITY",
		"ALTER TABLE audit_logs NO FORCE ROW LEVEL SECURITY",
		"ALTER TABLE events ADD COLUMN sneaky int",
		"DROP POLICY tenant_isolation ON events",
		"DROP TABLE events",
		"CREATE TABLE mine (id int)",
		"CREATE INDEX ON events (name)",
		"INSERT INTO goose_db_version (version_id, is_applied) VALUES (999999, true)",
	} {
		denied(sql)
	}
	// What the service does: read and append to the audit log, write tenants' rows.
	tx, err := svc.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `SELECT set_config('app.scope', 'system', true)`)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `INSERT INTO audit_logs (action, entity_type) VALUES ('test.appended', 'test')`)
	require.NoError(t, err)
	var n int
	require.NoError(t, tx.QueryRow(ctx, `SELECT count(*) FROM audit_logs WHERE action = 'test.appended'`).Scan(&n))
	require.Equal(t, 1, n)
	var tenantID string
	require.NoError(t, tx.QueryRow(ctx, `INSERT INTO tenants (slug, name) VALUES ('grants', 'Grants') RETURNING id::text`).Scan(&tenantID))
	_, err = tx.Exec(ctx, `UPDATE tenants SET name = 'Grants 2' WHERE id = $1`, tenantID)
	require.NoError(t, err)
	require.NoError(t, tx.Commit(ctx))

	// A later migration's objects, created by the owner: granted by default, TRUNCATE excepted.
	ownerConn := connect(t, owner)
	_, err = ownerConn.Exec(ctx, `CREATE TABLE later_things (id serial PRIMARY KEY, v text);
		CREATE FUNCTION later_answer() RETURNS int LANGUAGE sql AS 'SELECT 42';
		REVOKE EXECUTE ON FUNCTION later_answer() FROM PUBLIC`)
	require.NoError(t, err)
	_, err = svc.Exec(ctx, `INSERT INTO later_things (v) VALUES ('a'); UPDATE later_things SET v = 'b'; DELETE FROM later_things`)
	require.NoError(t, err, "a table of a later migration is the service's to use")
	require.NoError(t, svc.QueryRow(ctx, `SELECT later_answer()`).Scan(&n))
	require.Equal(t, 42, n)
	denied("TRUNCATE later_things")
	denied("ALTER TABLE later_things ADD COLUMN w int")
}
