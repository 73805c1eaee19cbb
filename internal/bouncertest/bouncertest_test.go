package bouncertest_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/bouncertest"
	"github.com/eventmanager/eventmanager/internal/config"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

var timeouts = config.QueryTimeouts{Simple: time.Second, Standard: 5 * time.Second, Complex: 15 * time.Second, Report: 30 * time.Second}

// TestQueriesGoThroughPgBouncer runs the service's pool through PgBouncer: many clients, few server
// connections, and the server sees PgBouncer's connections only.
func TestQueriesGoThroughPgBouncer(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.NewDatabase(t)
	b := bouncertest.Start(t, dbURL, bouncertest.Options{PoolSize: 2})
	settings, err := config.ParseDatabaseURL(b.URL() + "&connection_limit=10")
	require.NoError(t, err)
	require.True(t, settings.PgBouncer)
	d, err := db.Open(settings, db.Options{Timeouts: timeouts, AppName: "bouncertest"})
	require.NoError(t, err)
	t.Cleanup(d.Close)
	ctx := context.Background()

	// Ten clients hold a transaction each in turn; the server never sees more than two backends.
	admin, err := pgx.Connect(ctx, dbtest.AdminURL(t, dbURL))
	require.NoError(t, err)
	t.Cleanup(func() { admin.Close(context.Background()) })
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			for range 20 {
				var n int
				if err := d.QueryRow(ctx, db.Op{Name: "test", Class: db.Simple}, "", "SELECT count(*) FROM pg_sleep(0.001)", nil, &n); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	var backends int
	require.NoError(t, admin.QueryRow(ctx,
		"SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()").Scan(&backends))
	require.LessOrEqual(t, backends, 2, "PgBouncer opened more server connections than its pool size")
	require.Positive(t, backends)
}

// TestSchemaBehindPgBouncer: PgBouncer refuses search_path in the startup packet, so behind it the
// service sets the schema in every query's and transaction's batch instead.
func TestSchemaBehindPgBouncer(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.NewDatabase(t)
	ctx := context.Background()
	owner, err := pgx.Connect(ctx, dbURL)
	require.NoError(t, err)
	_, err = owner.Exec(ctx, "CREATE SCHEMA other")
	require.NoError(t, err)
	owner.Close(ctx)

	b := bouncertest.Start(t, dbURL, bouncertest.Options{PoolSize: 1})
	settings, err := config.ParseDatabaseURL(b.URL() + "&schema=other")
	require.NoError(t, err)
	d, err := db.Open(settings, db.Options{Timeouts: timeouts})
	require.NoError(t, err)
	t.Cleanup(d.Close)
	op := db.Op{Name: "test", Class: db.Simple}
	var schema string
	require.NoError(t, d.QueryRow(ctx, op, "", "SELECT current_schema()", nil, &schema))
	require.Equal(t, "other", schema)
	require.NoError(t, d.InTx(ctx, op, "", func(tx *db.Tx) error {
		return tx.QueryRow("SELECT current_schema()").Scan(&schema)
	}))
	require.Equal(t, "other", schema)
}
