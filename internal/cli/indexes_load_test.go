package cli_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/eventmanager/eventmanager/internal/seed"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// The index migration 00009 (and those after it) goes down, up, down and up on a database seeded at
// the medium scale while a writer inserts scores without pause: no write fails, none is lost, and
// the indexes end valid.
func TestIndexMigrationUnderWriteLoad(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := dbtest.NewDatabase(t)
	_, err := seed.Run(ctx, url, seed.Options{Scale: seed.Scales["medium"], Seed: 5})
	require.NoError(t, err)

	admin, err := pgx.Connect(ctx, dbtest.AdminURL(t, url))
	require.NoError(t, err)
	defer admin.Close(ctx)
	// Scores that are not there yet: judge × contestant × criterion of unscored categories.
	type slot struct{ tenant, category, contestant, judge, criterion string }
	rows, err := admin.Query(ctx, `
		SELECT c.tenant_id::text, c.id::text, cc.contestant_id::text, a.judge_id::text, cr.id::text
		FROM categories c
		JOIN assignments a ON a.category_id = c.id
		JOIN category_contestants cc ON cc.category_id = c.id
		JOIN criteria cr ON cr.category_id = c.id
		WHERE NOT EXISTS (SELECT 1 FROM scores s WHERE s.category_id = c.id)
		ORDER BY c.id, a.judge_id, cc.contestant_id, cr.id LIMIT 100000`)
	require.NoError(t, err)
	slots, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (slot, error) {
		var s slot
		return s, r.Scan(&s.tenant, &s.category, &s.contestant, &s.judge, &s.criterion)
	})
	require.NoError(t, err)
	require.Greater(t, len(slots), 10_000)
	count := func() int {
		var n int
		require.NoError(t, admin.QueryRow(ctx, "SELECT count(*) FROM scores").Scan(&n))
		return n
	}
	before := count()

	writer, err := pgx.Connect(ctx, url) // the service role, bound by row-level security
	require.NoError(t, err)
	defer writer.Close(ctx)
	var (
		stop     atomic.Bool
		written  int
		writeErr error
		wg       sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for _, s := range slots {
			if stop.Load() {
				return
			}
			b := &pgx.Batch{}
			b.Queue("SELECT set_config('app.tenant_id', $1, true)", s.tenant)
			b.Queue(`INSERT INTO scores (tenant_id, category_id, contestant_id, judge_id, criterion_id, score)
				VALUES ($1, $2, $3, $4, $5, 1)`, s.tenant, s.category, s.contestant, s.judge, s.criterion)
			if err := writer.SendBatch(ctx, b).Close(); err != nil {
				writeErr = err
				return
			}
			written++
		}
		writeErr = errSlotsExhausted
	}()

	vars := map[string]string{"DATABASE_URL": url}
	for range 2 {
		migrateDownTo(t, url, versionBeforeOnePerPath) // 00009 down: its indexes built again, concurrently
		code, stdout, stderr := run(t, vars, "migrate", "up")
		require.Equal(t, 0, code, stderr)
		require.Contains(t, stdout, onePerPathMigrationFile)
		require.NotContains(t, stdout, "INVALID")
	}
	stop.Store(true)
	wg.Wait()
	require.NoError(t, writeErr)
	require.Positive(t, written)
	require.Equal(t, before+written, count())
	requireAllValid(t, url)
	t.Logf("%d scores written during the migrations", written)
}

var errSlotsExhausted = errors.New("the writer ran out of free score slots before the migrations ended")
