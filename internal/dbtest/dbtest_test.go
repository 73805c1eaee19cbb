package dbtest_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func connect(t *testing.T, connString string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), connString)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func tableExists(t *testing.T, conn *pgx.Conn, table string) bool {
	t.Helper()
	var exists bool
	require.NoError(t, conn.QueryRow(context.Background(), "SELECT to_regclass($1) IS NOT NULL", table).Scan(&exists))
	return exists
}

func TestNewDatabaseIsMigratedAndIndependent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	urlA, urlB := dbtest.NewDatabase(t), dbtest.NewDatabase(t)
	require.NotEqual(t, urlA, urlB)
	a, b := connect(t, urlA), connect(t, urlB)

	latest, err := db.LatestVersion()
	require.NoError(t, err)
	for _, conn := range []*pgx.Conn{a, b} {
		require.True(t, tableExists(t, conn, "goose_db_version"))
		var version int64
		require.NoError(t, conn.QueryRow(ctx, "SELECT max(version_id) FROM goose_db_version").Scan(&version))
		require.Equal(t, latest, version)
	}

	_, err = a.Exec(ctx, "CREATE TABLE only_in_a (id int)")
	require.NoError(t, err)
	require.True(t, tableExists(t, a, "only_in_a"))
	require.False(t, tableExists(t, b, "only_in_a"))
}

func TestNewEmptyDatabase(t *testing.T) {
	t.Parallel()
	url := dbtest.NewEmptyDatabase(t)
	require.False(t, tableExists(t, connect(t, url), "goose_db_version"))
	require.NoError(t, db.MigrateUp(context.Background(), url, nil))
	require.True(t, tableExists(t, connect(t, url), "goose_db_version"))
}

// Many parallel tests asking at once must get one template and clones that do not collide.
func TestParallelDatabases(t *testing.T) {
	t.Parallel()
	for i := range 8 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			require.True(t, tableExists(t, connect(t, dbtest.NewDatabase(t)), "goose_db_version"))
		})
	}
}

// A database is gone once its test has finished, even with a session still open on it.
func TestDatabaseDroppedAtCleanup(t *testing.T) {
	t.Parallel()
	var name string
	t.Run("owner", func(t *testing.T) {
		conn, err := pgx.Connect(context.Background(), dbtest.NewDatabase(t))
		require.NoError(t, err) // deliberately left open
		require.NoError(t, conn.QueryRow(context.Background(), "SELECT current_database()").Scan(&name))
	})
	admin := connect(t, dbtest.NewDatabase(t))
	var exists bool
	require.NoError(t, admin.QueryRow(context.Background(),
		"SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists))
	require.False(t, exists)
}

func TestServer(t *testing.T) {
	t.Parallel()
	srv := dbtest.Server(t)
	if os.Getenv(dbtest.EnvURL) != "" {
		require.Nil(t, srv)
		t.Skip("runs against", dbtest.EnvURL)
	}
	require.NotNil(t, srv)
	var fsync string
	require.NoError(t, connect(t, srv.URL("postgres")).QueryRow(context.Background(), "SHOW fsync").Scan(&fsync))
	require.Equal(t, "off", fsync)
}
