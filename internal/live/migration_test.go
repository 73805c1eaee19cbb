package live_test

import (
	"context"
	"testing"

	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// The live migration goes down and up again cleanly: its tables, functions and triggers are gone
// below it and back above it.
func TestLiveMigrationDownAndUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := dbtest.NewDatabase(t)
	m, err := db.NewMigrator(url)
	require.NoError(t, err)
	defer m.Close()
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	objects := func() (tables, triggers, functions int) {
		require.NoError(t, conn.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM pg_tables WHERE tablename IN ('sign_in_links', 'audience_links', 'device_reports')),
			(SELECT count(*) FROM pg_trigger WHERE tgname LIKE '%live%' AND NOT tgisinternal),
			(SELECT count(*) FROM pg_proc WHERE proname LIKE 'live\_%')`).Scan(&tables, &triggers, &functions))
		return
	}
	tables, triggers, functions := objects()
	require.Equal(t, 3, tables)
	require.Equal(t, 9, triggers)
	require.Equal(t, 4, functions)

	_, err = m.DownTo(ctx, 9)
	require.NoError(t, err)
	tables, triggers, functions = objects()
	require.Zero(t, tables+triggers+functions)

	_, err = m.Up(ctx)
	require.NoError(t, err)
	tables, triggers, functions = objects()
	require.Equal(t, []int{3, 9, 4}, []int{tables, triggers, functions})
}
