package cli_test

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/eventmanager/eventmanager/internal/health"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// performanceIndexes are the indexes of migration 00004 that migration 00009 keeps, with their
// tables: one index per access path.
var performanceIndexes = map[string]string{
	"idx_scores_category_contestant": "scores",
	"idx_scores_judge_category":      "scores",
	"idx_categories_contest_created": "categories",
	"idx_tenants_settings_gin":       "tenants",
	"idx_system_settings_value_gin":  "system_settings",
	"idx_audit_logs_data_gin":        "audit_logs",
}

// redundantIndexes are the indexes that migration 00009 drops, each a prefix of another index of
// its table (or the same columns as a unique key), with the index that serves its queries.
var redundantIndexes = map[string]string{
	"idx_events_tenant_archived":             "events_list_idx",
	"idx_scores_category_contestant_created": "idx_scores_category_contestant",
	"idx_assignments_judge_category":         "assignments_judge_id_category_id_key",
	"categories_contest_idx":                 "idx_categories_contest_created",
	"idx_rate_limit_config_lookup":           "rate_limit_configs_tenant_id_user_id_endpoint_tier_key",
}

// Versions and files of the index migrations.
const (
	versionBeforeIndexes    = 3 // before 00004, the runbook's indexes
	versionBeforeOnePerPath = 8 // before 00009, which drops the redundant ones
	indexesMigrationFile    = "00004_performance_indexes.sql"
	onePerPathMigrationFile = "00009_one_index_per_access_path.sql"
)

// existingIndexes maps each index of names that exists to whether it is valid (and ready).
func existingIndexes(t *testing.T, url string, names []string) map[string]bool {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `
		SELECT i.relname, x.indisvalid AND x.indisready
		FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
		WHERE i.relname = ANY ($1)`, names)
	require.NoError(t, err)
	states := map[string]bool{}
	for rows.Next() {
		var name string
		var valid bool
		require.NoError(t, rows.Scan(&name, &valid))
		states[name] = valid
	}
	require.NoError(t, rows.Err())
	return states
}

// indexStates maps each of the performance indexes that exists to whether it is valid (and ready),
// and checks its table.
func indexStates(t *testing.T, url string) map[string]bool {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	for name, table := range performanceIndexes {
		var on string
		err := conn.QueryRow(ctx, `SELECT t.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
			JOIN pg_class t ON t.oid = x.indrelid WHERE i.relname = $1`, name).Scan(&on)
		if err == nil {
			require.Equal(t, table, on, name)
		}
	}
	return existingIndexes(t, url, slices.Collect(maps.Keys(performanceIndexes)))
}

// requireAllValid checks the indexes of the latest schema: every kept performance index valid,
// none of the redundant ones left.
func requireAllValid(t *testing.T, url string) {
	t.Helper()
	states := indexStates(t, url)
	require.Len(t, states, len(performanceIndexes), "%v", states)
	for name, valid := range states {
		require.True(t, valid, "index %s is invalid", name)
	}
	require.Empty(t, existingIndexes(t, url, slices.Collect(maps.Keys(redundantIndexes))), "redundant indexes left")
}

// migrateDownTo rolls the database back to version.
func migrateDownTo(t *testing.T, url string, version int64) {
	t.Helper()
	_, err := newMigrator(t, url).DownTo(context.Background(), version)
	require.NoError(t, err)
}

func TestPerformanceIndexesUpDownUp(t *testing.T) {
	t.Parallel()
	url := dbtest.NewEmptyDatabase(t)
	vars := map[string]string{"DATABASE_URL": url}
	code, stdout, stderr := run(t, vars, "migrate", "up")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, indexesMigrationFile)
	require.Contains(t, stdout, onePerPathMigrationFile)
	require.NotContains(t, stdout, "INVALID")
	requireAllValid(t, url)

	// Before 00009: the runbook's ten indexes, and the schema's own, all valid.
	migrateDownTo(t, url, versionBeforeOnePerPath)
	states := existingIndexes(t, url, append(slices.Collect(maps.Keys(performanceIndexes)), slices.Collect(maps.Keys(redundantIndexes))...))
	require.Len(t, states, len(performanceIndexes)+len(redundantIndexes), "%v", states)
	for name, valid := range states {
		require.True(t, valid, "index %s is invalid", name)
	}

	// Before 00004: none of the runbook's indexes; the schema's own are untouched.
	migrateDownTo(t, url, versionBeforeIndexes)
	require.Empty(t, indexStates(t, url))
	require.Equal(t, map[string]bool{"events_list_idx": true, "categories_contest_idx": true},
		existingIndexes(t, url, []string{"events_list_idx", "categories_contest_idx", "idx_events_tenant_archived"}))
	require.Equal(t, 1, countTables(t, url, "scores"))

	code, _, stderr = run(t, vars, "migrate", "up")
	require.Equal(t, 0, code, stderr)
	requireAllValid(t, url)
	code, stdout, _ = run(t, vars, "migrate", "status")
	require.Equal(t, 0, code)
	require.NotContains(t, stdout, "pending")
	require.NotContains(t, stdout, "INVALID")
}

// The project's own health check (doctor, GET /api/v1/admin/database/health) finds no index that
// another index of its table makes redundant on a freshly migrated database; before 00009 it finds
// the five pairs that 00009 resolves (of idx_scores_category_contestant and its wider sibling,
// 00009 drops the wider one).
func TestNoRedundantIndexes(t *testing.T) {
	t.Parallel()
	url := dbtest.NewEmptyDatabase(t)
	vars := map[string]string{"DATABASE_URL": url}
	code, _, stderr := run(t, vars, "migrate", "up")
	require.Equal(t, 0, code, stderr)
	check := redundantIndexCheck(t, url)
	require.Equal(t, float64(0), check.Value, "%v", check.Items)
	require.Empty(t, check.Items)

	migrateDownTo(t, url, versionBeforeOnePerPath)
	check = redundantIndexCheck(t, url)
	require.ElementsMatch(t, []string{
		"events.idx_events_tenant_archived (covered by events_list_idx)",
		"scores.idx_scores_category_contestant (covered by idx_scores_category_contestant_created)",
		"assignments.idx_assignments_judge_category (covered by assignments_judge_id_category_id_key)",
		"categories.categories_contest_idx (covered by idx_categories_contest_created)",
		"rate_limit_configs.idx_rate_limit_config_lookup (covered by rate_limit_configs_tenant_id_user_id_endpoint_tier_key)",
	}, check.Items)
	require.Equal(t, float64(len(check.Items)), check.Value)
}

// redundantIndexCheck runs doctor on the database and returns its redundant-index check.
func redundantIndexCheck(t *testing.T, url string) health.Check {
	t.Helper()
	_, stdout, stderr := run(t, map[string]string{"DATABASE_URL": url}, "doctor", "--json")
	var r health.Report
	require.NoError(t, json.Unmarshal([]byte(stdout), &r), stdout+stderr)
	c, ok := r.Check("redundant_indexes")
	require.True(t, ok, stdout)
	return c
}

// A writer holding its transaction open makes the concurrent build wait; the migration's
// lock_timeout (set on the same connection as the builds) stops the wait, which leaves an INVALID
// index. IF NOT EXISTS then skips it on the next run; status and up name it; repair rebuilds it.
func TestInvalidIndexReportedAndRepaired(t *testing.T) {
	t.Parallel()
	url := dbtest.NewEmptyDatabase(t)
	vars := map[string]string{"DATABASE_URL": url}
	ctx := context.Background()

	m := newMigrator(t, url)
	_, err := m.UpTo(ctx, 3)
	require.NoError(t, err)

	writer, err := pgx.Connect(ctx, dbtest.AdminURL(t, url))
	require.NoError(t, err)
	defer writer.Close(ctx)
	tx, err := writer.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, "LOCK TABLE scores IN ROW EXCLUSIVE MODE") // what any open INSERT holds
	require.NoError(t, err)

	start := time.Now()
	code, stdout, stderr := run(t, vars, "migrate", "up")
	elapsed := time.Since(start)
	require.Equal(t, 1, code, stdout)
	require.Contains(t, stderr, "lock timeout")
	require.GreaterOrEqual(t, elapsed, 5*time.Second)
	require.Less(t, elapsed, 30*time.Second)
	require.Contains(t, stdout, "INVALID index idx_scores_category_contestant on scores")
	require.NoError(t, tx.Rollback(ctx))

	code, stdout, _ = run(t, vars, "migrate", "status")
	require.Equal(t, 0, code)
	require.Contains(t, stdout, "pending")
	require.Contains(t, stdout, "INVALID index idx_scores_category_contestant on scores")

	// Without the writer the migration completes, but IF NOT EXISTS skipped the invalid index.
	code, stdout, stderr = run(t, vars, "migrate", "up")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "INVALID index idx_scores_category_contestant on scores")
	require.False(t, indexStates(t, url)["idx_scores_category_contestant"])

	code, stdout, stderr = run(t, vars, "migrate", "repair")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "repaired index idx_scores_category_contestant on scores")
	requireAllValid(t, url)
	code, stdout, _ = run(t, vars, "migrate", "status")
	require.Equal(t, 0, code)
	require.NotContains(t, stdout, "INVALID")
	code, stdout, _ = run(t, vars, "migrate", "repair")
	require.Equal(t, 0, code)
	require.Contains(t, stdout, "no invalid indexes")
}

// A concurrent build cancelled mid-way (pg_cancel_backend) leaves an invalid index too; repair also
// handles unique indexes, and one whose build fails again stays reported.
func TestRepairAfterCancelledBuild(t *testing.T) {
	t.Parallel()
	url := dbtest.NewDatabase(t)
	vars := map[string]string{"DATABASE_URL": url}
	ctx := context.Background()
	// The service role owns the table, as it owns the schema (repair runs as that role).
	admin, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer admin.Close(ctx)
	_, err = admin.Exec(ctx, `CREATE TABLE repair_probe (n int NOT NULL);
		INSERT INTO repair_probe SELECT g % 1000 FROM generate_series(1, 200000) g`)
	require.NoError(t, err)

	builder, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer builder.Close(ctx)
	var pid int
	require.NoError(t, builder.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid))
	// Cancel the build once it is under way: pg_sleep in the indexed expression keeps it busy.
	_, err = admin.Exec(ctx, `CREATE FUNCTION slow_probe(n int) RETURNS int IMMUTABLE LANGUAGE sql AS 'SELECT n + 0 * length(pg_sleep(0.001)::text)'`)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		_, err := builder.Exec(ctx, "CREATE INDEX CONCURRENTLY repair_probe_slow_idx ON repair_probe (slow_probe(n))")
		done <- err
	}()
	require.Eventually(t, func() bool {
		var building bool
		_ = admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_progress_create_index WHERE pid = $1 AND phase LIKE 'building%')`, pid).Scan(&building)
		return building
	}, 20*time.Second, 20*time.Millisecond)
	_, err = admin.Exec(ctx, "SELECT pg_cancel_backend($1)", pid)
	require.NoError(t, err)
	require.ErrorContains(t, <-done, "canceling statement")

	// A unique index over duplicates fails as well, and its rebuild fails again until they are gone.
	_, err = admin.Exec(ctx, "CREATE UNIQUE INDEX CONCURRENTLY repair_probe_unique_idx ON repair_probe (n)")
	require.ErrorContains(t, err, "could not create unique index")

	code, stdout, _ := run(t, vars, "migrate", "status")
	require.Equal(t, 0, code)
	require.Contains(t, stdout, "INVALID index repair_probe_slow_idx on repair_probe")
	require.Contains(t, stdout, "INVALID index repair_probe_unique_idx on repair_probe")

	_, err = admin.Exec(ctx, "DROP FUNCTION slow_probe CASCADE") // drops the slow index with it
	require.NoError(t, err)
	code, _, stderr := run(t, vars, "migrate", "repair")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "repair_probe_unique_idx")
	_, err = admin.Exec(ctx, "DELETE FROM repair_probe WHERE ctid NOT IN (SELECT min(ctid) FROM repair_probe GROUP BY n)")
	require.NoError(t, err)
	code, stdout, stderr = run(t, vars, "migrate", "repair")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "repaired index repair_probe_unique_idx on repair_probe")
	var valid bool
	require.NoError(t, admin.QueryRow(ctx, `SELECT indisvalid FROM pg_index WHERE indexrelid = 'repair_probe_unique_idx'::regclass`).Scan(&valid))
	require.True(t, valid)
	var plan string
	require.NoError(t, admin.QueryRow(ctx, `EXPLAIN (COSTS OFF) SELECT n FROM repair_probe WHERE n = 7`).Scan(&plan))
	require.Contains(t, plan, "repair_probe_unique_idx")
}

func newMigrator(t *testing.T, url string) *db.Migrator {
	t.Helper()
	m, err := db.NewMigrator(url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	return m
}
