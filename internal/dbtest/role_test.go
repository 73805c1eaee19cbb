package dbtest_test

import (
	"context"
	"testing"

	"github.com/eventmanager/eventmanager/internal/dbtest"
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
