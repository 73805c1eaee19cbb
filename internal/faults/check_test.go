package faults_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// cellKey names a score: judge, contestant, criterion.
type cellKey [3]string

// dbState is what the database holds of the fixture's category, read as the superuser.
type dbState struct {
	scores      map[cellKey]string // score as text
	audits      map[cellKey]int    // score.submitted audit rows
	pendingKeys int                // idempotency keys claimed without a stored answer
}

func readState(t *testing.T, adminURL string, fx *fixture) dbState {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, adminURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	st := dbState{scores: map[cellKey]string{}, audits: map[cellKey]int{}}
	rows, err := conn.Query(ctx, `SELECT judge_id::text, contestant_id::text, criterion_id::text, score::text
		FROM scores WHERE tenant_id = $1 AND category_id = $2`, fx.tenantID, fx.categoryID)
	require.NoError(t, err)
	var k cellKey
	var v string
	_, err = pgx.ForEachRow(rows, []any{&k[0], &k[1], &k[2], &v}, func() error { st.scores[k] = v; return nil })
	require.NoError(t, err)
	var n int
	rows, err = conn.Query(ctx, `SELECT data->>'judge_id', data->>'contestant_id', data->>'criterion_id', count(*)
		FROM audit_logs WHERE tenant_id = $1 AND action = 'score.submitted' AND data->>'category_id' = $2
		GROUP BY 1, 2, 3`, fx.tenantID, fx.categoryID)
	require.NoError(t, err)
	_, err = pgx.ForEachRow(rows, []any{&k[0], &k[1], &k[2], &n}, func() error { st.audits[k] = n; return nil })
	require.NoError(t, err)
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM idempotency_keys WHERE tenant_id = $1 AND response_status IS NULL`,
		fx.tenantID).Scan(&st.pendingKeys))
	return st
}

// ledgerFigures sum up a check of the ledger against the database.
type ledgerFigures struct {
	acked     int // writes answered 2xx, each found whole in the database
	committed int // writes without a 2xx that committed nonetheless (the answer was lost)
	absent    int // writes without a 2xx that left nothing
}

// requireLedgerHeld checks every write of the ledger against the database: each is all or nothing
// (no half-written score sheet), a present sheet holds its own values with exactly one audit row
// per cell (written once), every acknowledged write is present, and nothing else is there.
func requireLedgerHeld(t *testing.T, st dbState, fx *fixture, writes []*write) ledgerFigures {
	t.Helper()
	var (
		f        ledgerFigures
		cells    int
		problems []string
	)
	problem := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	for _, w := range writes {
		present := 0
		for _, c := range w.cells {
			k := cellKey{fx.judges[w.judge].id, c.contestant, c.criterion}
			v, ok := st.scores[k]
			if ok {
				present++
				if v != c.score {
					problem("write %s: score %v is %s, sent %s", w.key, k, v, c.score)
				}
			}
			if want := map[bool]int{true: 1, false: 0}[ok]; st.audits[k] != want {
				problem("write %s: %d audit rows for score %v, want %d", w.key, st.audits[k], k, want)
			}
		}
		switch {
		case present != 0 && present != len(w.cells):
			problem("write %s is half-written: %d of its %d scores are in the database (answer %s)",
				w.key, present, len(w.cells), w.first.outcome())
		case w.first.ok() && present == 0:
			problem("write %s was acknowledged (%d) but is not in the database", w.key, w.first.status)
		case w.first.ok():
			f.acked++
		case present > 0:
			f.committed++
		default:
			f.absent++
		}
		cells += present
	}
	if len(st.scores) != cells {
		problem("the database holds %d scores of the category, the ledger accounts for %d", len(st.scores), cells)
	}
	if st.pendingKeys != 0 {
		problem("%d idempotency keys are claimed without an answer: a write committed its key without its result", st.pendingKeys)
	}
	if len(problems) > 0 {
		t.Errorf("the database does not match the ledger of %d writes: %d problems, the first ones:\n%s",
			len(writes), len(problems), strings.Join(problems[:min(len(problems), 10)], "\n"))
	}
	return f
}

// retryFigures sum up the idempotent retries of the writes that got no 2xx.
type retryFigures struct {
	retried       int // writes sent again
	replayedFirst int // of which the first retry was a replay: the original had committed
}

// retryUnacknowledged sends every write that got no 2xx again with the same Idempotency-Key and
// body, twice. The first retry must succeed, as a new write or as the replay of an original that
// committed without its answer reaching the client; the second must be a replay with the first
// retry's exact body. A replay on the first retry must match what the database holds
// (requireLedgerHeld afterwards checks that every sheet is then present, written once).
func retryUnacknowledged(t *testing.T, c *client, fx *fixture, writes []*write) retryFigures {
	t.Helper()
	var todo []*write
	for _, w := range writes {
		if !w.first.ok() {
			todo = append(todo, w)
		}
	}
	var (
		mu  sync.Mutex
		f   = retryFigures{retried: len(todo)}
		bad []string
		wg  sync.WaitGroup
	)
	next := make(chan *write)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for w := range next {
				first := c.putSheet(fx, w.sheet, w.key+"-r1")
				second := c.putSheet(fx, w.sheet, w.key+"-r2")
				mu.Lock()
				switch {
				case first.status != 200:
					bad = append(bad, w.key+": first retry got "+first.outcome()+" "+string(first.body))
				case second.status != 200 || !second.replayed:
					bad = append(bad, w.key+": second retry got "+second.outcome()+", not a replay")
				case !bytes.Equal(first.body, second.body):
					bad = append(bad, w.key+": the replay differs from the first retry's answer")
				}
				if first.replayed {
					f.replayedFirst++
				}
				mu.Unlock()
			}
		}()
	}
	for _, w := range todo {
		next <- w
	}
	close(next)
	wg.Wait()
	if len(bad) > 0 {
		t.Errorf("%d of %d idempotent retries went wrong, e.g. %v", len(bad), len(todo), bad[:min(len(bad), 5)])
	}
	return f
}

// acknowledgeAll marks every write as acknowledged, once retries have succeeded, so that
// requireLedgerHeld then demands every sheet in the database.
func acknowledgeAll(writes []*write) {
	for _, w := range writes {
		if !w.first.ok() {
			w.first = answer{status: 200}
		}
	}
}

func fmtFigures(writes int, lf ledgerFigures, rf retryFigures) string {
	return fmt.Sprintf("ledger: %d writes, %d acknowledged and found whole, %d unacknowledged but committed, %d left nothing; "+
		"%d retried with their Idempotency-Key (%d first retries were replays), every sheet then present once",
		writes, lf.acked, lf.committed, lf.absent, rf.retried, rf.replayedFirst)
}
