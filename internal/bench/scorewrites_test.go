package bench_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/bench"
	"github.com/eventmanager/eventmanager/internal/config"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/eventmanager/eventmanager/internal/seed"
	"github.com/eventmanager/eventmanager/internal/store"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// versionBeforeOnePerPath is the schema version before the migration that drops the redundant
// indexes (00009).
const versionBeforeOnePerPath = 8

// BenchmarkScoreWrites measures score submissions (store.SubmitScores, one judge's row of a
// contestant per call, 10 callers at once) with the redundant indexes of migration 00004
// ("before": the schema rolled back before 00009) and without them ("after": every migration).
// Each run first deletes the cells it will write, so that every submission inserts its scores as on
// the night, then VACUUMs and CHECKPOINTs the tables, untimed. The states alternate in one process
// (before, after, after, before, before, after: sub-benchmarks "before", "after", "after#01", ...).
// Besides the rates it reports the WAL written per score: index maintenance drives it, and it
// moves much less than the rates with the machine's other load (full-page images after a
// checkpoint still vary):
//
//	go test -run '^$' -bench BenchmarkScoreWrites -benchtime 300x ./internal/bench/
//
// SCORE_WRITES_SCALE picks the seed scale (default medium).
func BenchmarkScoreWrites(b *testing.B) {
	ctx := context.Background()
	scale := os.Getenv("SCORE_WRITES_SCALE")
	if scale == "" {
		scale = "medium"
	}
	url := dbtest.NewDatabase(b)
	_, err := seed.Run(ctx, url, seed.Options{Scale: seed.Scales[scale], Seed: 1})
	require.NoError(b, err)
	settings, err := config.ParseDatabaseURL(url + "&connection_limit=5")
	require.NoError(b, err)
	d, err := db.Open(settings, db.Options{Timeouts: testTimeouts, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(b, err)
	b.Cleanup(d.Close)
	st := store.New(d)
	f, err := bench.PrepareTenant(ctx, st, d, seed.TenantSlug(scale, 1, 0), 20)
	require.NoError(b, err)
	type submission struct {
		w   bench.Writer
		row []bench.Cell
	}
	var subs []submission
	for k := 0; ; k++ {
		added := false
		for _, w := range f.Writers {
			if k < len(w.Rows) {
				subs = append(subs, submission{w, w.Rows[k]})
				added = true
			}
		}
		if !added {
			break
		}
	}
	admin, err := pgx.Connect(ctx, dbtest.AdminURL(b, url))
	require.NoError(b, err)
	b.Cleanup(func() { _ = admin.Close(ctx) })
	migrator, err := db.NewMigrator(dbtest.AdminURL(b, url))
	require.NoError(b, err)
	b.Cleanup(func() { _ = migrator.Close() })

	// ABBA: drift of the shared machine weighs on both states alike (Go runs the -count repeats
	// of a sub-benchmark back to back, so the alternation is here).
	for _, state := range []string{"before", "after", "after", "before", "before", "after"} {
		b.Run(state, func(b *testing.B) {
			if state == "before" {
				_, err = migrator.DownTo(ctx, versionBeforeOnePerPath)
			} else {
				_, err = migrator.Up(ctx)
			}
			require.NoError(b, err)
			if b.N > len(subs) {
				b.Fatalf("-benchtime %dx: at most %dx (the writable rows of the bench tenant's judges)", b.N, len(subs))
			}
			todo := subs[:b.N]
			for _, s := range todo {
				for _, c := range s.row {
					_, err := admin.Exec(ctx, `DELETE FROM scores WHERE tenant_id = $1 AND judge_id = $2 AND contestant_id = $3 AND criterion_id = $4`,
						f.TenantID, s.w.JudgeID, c.ContestantID, c.CriterionID)
					require.NoError(b, err)
				}
			}
			_, err := admin.Exec(ctx, "VACUUM ANALYZE scores")
			require.NoError(b, err)
			_, err = admin.Exec(ctx, "CHECKPOINT")
			require.NoError(b, err)

			const callers = 10
			var (
				next  atomic.Int64
				cells atomic.Int64
				wg    sync.WaitGroup
				mu    sync.Mutex
				first error
			)
			var walStart string
			require.NoError(b, admin.QueryRow(ctx, "SELECT pg_current_wal_insert_lsn()::text").Scan(&walStart))
			b.ResetTimer()
			start := time.Now()
			for range callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := next.Add(1) - 1; i < int64(len(todo)); i = next.Add(1) - 1 {
						s := todo[i]
						sub := store.ScoreSubmission{CategoryID: s.w.CategoryID, JudgeID: s.w.JudgeID}
						for _, c := range s.row {
							sub.Scores = append(sub.Scores, store.ScoreInput{ContestantID: c.ContestantID, CriterionID: c.CriterionID,
								Score: fmt.Sprintf("%.2f", c.MaxScore/2)})
						}
						rctx := db.WithRequestID(ctx, fmt.Sprintf("score-writes-%d", i))
						if _, _, err := st.SubmitScores(rctx, f.TenantID, store.Actor{UserID: s.w.UserID, RequestID: db.RequestID(rctx)}, sub, nil); err != nil {
							mu.Lock()
							first = err
							mu.Unlock()
							return
						}
						cells.Add(int64(len(s.row)))
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			require.NoError(b, first)
			var wal float64
			require.NoError(b, admin.QueryRow(ctx, "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1::pg_lsn)::float8", walStart).Scan(&wal))
			b.ReportMetric(wal/float64(cells.Load()), "WAL-bytes/score")
			b.ReportMetric(float64(len(todo))/elapsed.Seconds(), "submissions/s")
			b.ReportMetric(float64(cells.Load())/elapsed.Seconds(), "scores/s")
		})
	}
}
