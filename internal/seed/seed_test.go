package seed_test

import (
	"context"
	"testing"

	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/eventmanager/eventmanager/internal/seed"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

var countedTables = []string{"tenants", "events", "contests", "categories", "criteria", "contestants",
	"category_contestants", "judges", "assignments", "scores", "audit_logs", "system_settings", "rate_limit_configs"}

// snapshot reads past row-level security (as the superuser) the row count of each table and a
// checksum of the rows' ids and contents.
func snapshot(t *testing.T, url string) (map[string]int, string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbtest.AdminURL(t, url))
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "SET TimeZone = 'UTC'")
	require.NoError(t, err)
	counts := map[string]int{}
	for _, table := range countedTables {
		var n int
		q := "SELECT count(*) FROM " + table
		if table == "rate_limit_configs" {
			q += " WHERE tenant_id IS NOT NULL" // migration 00005 seeds the global tiers: not the seed's rows
		}
		require.NoError(t, conn.QueryRow(ctx, q).Scan(&n))
		counts[table] = n
	}
	var sum string
	require.NoError(t, conn.QueryRow(ctx, `
		SELECT md5(string_agg(x, ',' ORDER BY x)) FROM (
			SELECT concat_ws('|', id, slug, name, settings, scoring_type, created_at) FROM tenants
			UNION ALL SELECT concat_ws('|', id, tenant_id, name, location, start_date, end_date, archived, created_at) FROM events
			UNION ALL SELECT concat_ws('|', id, event_id, name) FROM contests
			UNION ALL SELECT concat_ws('|', id, contest_id, name, created_at) FROM categories
			UNION ALL SELECT concat_ws('|', id, category_id, name, max_score, position) FROM criteria
			UNION ALL SELECT concat_ws('|', id, name, number, email) FROM contestants
			UNION ALL SELECT concat_ws('|', category_id, contestant_id) FROM category_contestants
			UNION ALL SELECT concat_ws('|', id, name, is_head_judge) FROM judges
			UNION ALL SELECT concat_ws('|', id, judge_id, category_id, status) FROM assignments
			UNION ALL SELECT concat_ws('|', id, category_id, contestant_id, judge_id, criterion_id, score, certified_at, locked, created_at) FROM scores
			UNION ALL SELECT concat_ws('|', id, action, entity_type, entity_id, data, request_id, created_at) FROM audit_logs
			UNION ALL SELECT concat_ws('|', id, key, value) FROM system_settings
			UNION ALL SELECT concat_ws('|', id, endpoint, per_minute, per_hour, burst, priority) FROM rate_limit_configs
		) rows (x)`).Scan(&sum))
	return counts, sum
}

func TestSmallIsIdempotentAndDeterministic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := dbtest.NewDatabase(t)
	opts := seed.Options{Scale: seed.Scales["small"], Seed: 7}
	res, err := seed.Run(ctx, url, opts)
	require.NoError(t, err)
	require.Equal(t, 1, res.Created)
	counts, sum := snapshot(t, url)
	require.Equal(t, 1, counts["tenants"])
	require.Equal(t, 12, counts["events"])
	require.Equal(t, 5000, counts["scores"])
	require.Equal(t, 1000, counts["audit_logs"])
	require.Equal(t, res.Rows, int64(sumCounts(counts)))

	res, err = seed.Run(ctx, url, opts)
	require.NoError(t, err)
	require.Equal(t, seed.Result{Skipped: 1, Duration: res.Duration}, res)
	again, sumAgain := snapshot(t, url)
	require.Equal(t, counts, again)
	require.Equal(t, sum, sumAgain)

	// The same seed on another database gives the same rows; another seed gives others.
	other := dbtest.NewDatabase(t)
	_, err = seed.Run(ctx, other, opts)
	require.NoError(t, err)
	_, sumOther := snapshot(t, other)
	require.Equal(t, sum, sumOther)
	third := dbtest.NewDatabase(t)
	_, err = seed.Run(ctx, third, seed.Options{Scale: seed.Scales["small"], Seed: 8})
	require.NoError(t, err)
	_, sumThird := snapshot(t, third)
	require.NotEqual(t, sum, sumThird)
}

func TestCustomScaleWithWorkers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sc := seed.Scale{Name: "test", Tenants: 5, Events: 40, Scores: 6001, AuditLogs: 503}
	url := dbtest.NewDatabase(t)
	var calls int
	res, err := seed.Run(ctx, url, seed.Options{Scale: sc, Seed: 3, Workers: 3, Progress: func(p seed.Progress) {
		calls++
		require.Equal(t, 5, p.Total)
	}})
	require.NoError(t, err)
	require.Equal(t, 5, res.Created)
	require.Equal(t, 5, calls)
	counts, sum := snapshot(t, url)
	require.Equal(t, 5, counts["tenants"])
	require.Equal(t, 40, counts["events"])
	require.Equal(t, 6001, counts["scores"])
	require.Equal(t, 503, counts["audit_logs"])

	// Most events are archived, a few current; every category has 3 to 8 criteria, 5 to 12
	// judges and 10 to 60 contestants.
	conn, err := pgx.Connect(ctx, dbtest.AdminURL(t, url))
	require.NoError(t, err)
	defer conn.Close(ctx)
	var archived, current int
	require.NoError(t, conn.QueryRow(ctx, "SELECT count(*) FILTER (WHERE archived), count(*) FILTER (WHERE NOT archived) FROM events").Scan(&archived, &current))
	require.Greater(t, archived, 30)
	require.Positive(t, current)
	var badShapes int
	require.NoError(t, conn.QueryRow(ctx, `
		SELECT count(*) FROM categories c
		WHERE (SELECT count(*) FROM criteria WHERE category_id = c.id) NOT BETWEEN 3 AND 8
		   OR (SELECT count(*) FROM assignments WHERE category_id = c.id) NOT BETWEEN 5 AND 12
		   OR (SELECT count(*) FROM category_contestants WHERE category_id = c.id) NOT BETWEEN 10 AND 60`).Scan(&badShapes))
	require.Zero(t, badShapes)

	// A second run with one tenant more adds only that one, and the others are unchanged.
	sc.Tenants, sc.Events = 6, 48
	res, err = seed.Run(ctx, url, seed.Options{Scale: sc, Seed: 3, Workers: 2})
	require.NoError(t, err)
	require.Equal(t, 1, res.Created)
	require.Equal(t, 5, res.Skipped)
	again, _ := snapshot(t, url)
	require.Equal(t, 6, again["tenants"])
	_ = sum
}

func TestBadScaleRefused(t *testing.T) {
	t.Parallel()
	_, err := seed.Run(context.Background(), "postgres://unused", seed.Options{Scale: seed.Scale{Name: "x", Tenants: 2, Events: 1}})
	require.Error(t, err)
	_, err = seed.Run(context.Background(), "postgres://unused", seed.Options{Scale: seed.Scale{Name: "Bad Name", Tenants: 1, Events: 1}})
	require.Error(t, err)
}

func sumCounts(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
