package health

import (
	"context"
	"fmt"
	"time"

	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/jackc/pgx/v5"
)

// The table checks read pg_stat_user_tables: one row per table, filled from the statistics
// snapshot (no scan of the tables themselves), and filtered and LIMITed in SQL, so that they cost
// the same on a database of a million rows as on an empty one.

var opSequentialScans = db.Op{Name: "health.sequential_scans", Class: db.Standard}

// sequentialScansSQL lists the tables read mostly by sequential scans although they are big: the
// candidates for a missing index. A table without an index has idx_scan NULL.
const sequentialScansSQL = `SELECT relname, seq_scan, seq_tup_read, COALESCE(idx_scan, 0), n_live_tup, (count(*) OVER ())::int
FROM pg_stat_user_tables
WHERE n_live_tup >= $1::bigint AND seq_tup_read >= $2::bigint AND seq_scan > COALESCE(idx_scan, 0)
ORDER BY seq_tup_read DESC, relname
LIMIT $3`

// sequentialScans warns about big tables that sequential scans read more often than indexes do.
// Some are legitimate (a report that reads the whole table); the operator decides, with EXPLAIN.
func (c *Checker) sequentialScans(ctx context.Context) Check {
	const name = "sequential_scans"
	th := fmt.Sprintf("warn when a table of ≥ %d rows had more sequential than index scans, reading ≥ %d rows sequentially",
		c.th.SeqScanMinRows, c.th.SeqScanRowsRead)
	items := []string{}
	total := 0
	err := c.db.Query(ctx, opSequentialScans, "", func(rows pgx.Rows) error {
		for rows.Next() {
			var table string
			var seqScans, seqRows, idxScans, live int64
			if err := rows.Scan(&table, &seqScans, &seqRows, &idxScans, &live, &total); err != nil {
				return err
			}
			items = append(items, fmt.Sprintf("%s: %d sequential scans read %d rows (%d per scan) against %d index scans; %d live rows",
				table, seqScans, seqRows, seqRows/max(seqScans, 1), idxScans, live))
		}
		return rows.Err()
	}, sequentialScansSQL, c.th.SeqScanMinRows, c.th.SeqScanRowsRead, c.th.ListLimit)
	if err != nil {
		return failed(name, th, err)
	}
	ch := Check{Name: name, Value: total, Threshold: th, Status: OK, Items: items,
		Explanation: "no big table is read mostly by sequential scans"}
	if total > 0 {
		ch.Status = Warn
		ch.Explanation = fmt.Sprintf("%d big tables are read mostly by sequential scans (listed, at most %d): find their queries and check with EXPLAIN whether an index is missing",
			total, c.th.ListLimit)
	}
	return ch
}

var opDeadTuples = db.Op{Name: "health.dead_tuples", Class: db.Standard}

// deadTuplesSQL returns the tables of at least $1 row versions (live + dead): first those whose
// dead share is over $2, then the largest others, at most $3. The reloptions test runs on those
// rows only.
const deadTuplesSQL = `SELECT s.relname, s.n_live_tup, s.n_dead_tup,
  s.last_vacuum, s.last_autovacuum, s.last_analyze, s.last_autoanalyze,
  COALESCE(array_to_string(c.reloptions, ',') ~* 'autovacuum_enabled=(false|off|no|0)', false),
  (count(*) FILTER (WHERE s.n_dead_tup > $2::float8 * (s.n_live_tup + s.n_dead_tup)) OVER ())::int
FROM pg_stat_user_tables s
JOIN pg_class c ON c.oid = s.relid
WHERE s.n_live_tup + s.n_dead_tup >= $1::bigint
ORDER BY s.n_dead_tup > $2::float8 * (s.n_live_tup + s.n_dead_tup) DESC, s.n_live_tup + s.n_dead_tup DESC, s.relname
LIMIT $3`

// TableVacuum is what the dead tuples check reports of one big table.
type TableVacuum struct {
	Table           string     `json:"table"`
	LiveRows        int64      `json:"live_rows"`
	DeadRows        int64      `json:"dead_rows"`
	DeadRatio       float64    `json:"dead_ratio"`
	LastVacuum      *time.Time `json:"last_vacuum"`      // the later of manual and auto; null: never
	LastAutovacuum  *time.Time `json:"last_autovacuum"`  // null: never
	LastAnalyze     *time.Time `json:"last_analyze"`     // the later of manual and auto; null: never
	LastAutoanalyze *time.Time `json:"last_autoanalyze"` // null: never
	AutovacuumOff   bool       `json:"autovacuum_disabled,omitempty"`
}

// deadTuples warns about big tables with a large share of dead row versions: autovacuum is behind,
// disabled, or held back by a long transaction. Its value lists the largest tables with the time
// since their last (auto)vacuum and (auto)analyze; its items name the tables over the threshold.
func (c *Checker) deadTuples(ctx context.Context) Check {
	const name = "dead_tuples"
	th := fmt.Sprintf("warn when dead rows are over %s of a table of ≥ %d rows", pct(c.th.DeadTupleRatio), c.th.DeadTupleMinRows)
	now := c.now()
	tables := []TableVacuum{}
	items := []string{}
	over := 0
	err := c.db.Query(ctx, opDeadTuples, "", func(rows pgx.Rows) error {
		for rows.Next() {
			var t TableVacuum
			var vacuum, autovacuum, analyze, autoanalyze *time.Time
			if err := rows.Scan(&t.Table, &t.LiveRows, &t.DeadRows, &vacuum, &autovacuum, &analyze, &autoanalyze,
				&t.AutovacuumOff, &over); err != nil {
				return err
			}
			t.LastVacuum, t.LastAutovacuum = latest(vacuum, autovacuum), autovacuum
			t.LastAnalyze, t.LastAutoanalyze = latest(analyze, autoanalyze), autoanalyze
			if n := t.LiveRows + t.DeadRows; n > 0 {
				t.DeadRatio = float64(t.DeadRows) / float64(n)
			}
			tables = append(tables, t)
			if t.DeadRatio > c.th.DeadTupleRatio {
				item := fmt.Sprintf("%s: %s dead (%d dead, %d live rows); last autovacuum %s, last vacuum %s, last autoanalyze %s",
					t.Table, pct(t.DeadRatio), t.DeadRows, t.LiveRows, ago(now, t.LastAutovacuum), ago(now, t.LastVacuum), ago(now, t.LastAutoanalyze))
				if t.AutovacuumOff {
					item += "; autovacuum is disabled on this table"
				}
				items = append(items, item)
			}
		}
		return rows.Err()
	}, deadTuplesSQL, c.th.DeadTupleMinRows, c.th.DeadTupleRatio, c.th.ListLimit)
	if err != nil {
		return failed(name, th, err)
	}
	ch := Check{Name: name, Value: map[string]any{"over_threshold": over, "tables": tables}, Threshold: th, Status: OK, Items: items,
		Explanation: fmt.Sprintf("no table of ≥ %d rows has more than %s dead rows", c.th.DeadTupleMinRows, pct(c.th.DeadTupleRatio))}
	if over > 0 {
		ch.Status = Warn
		ch.Explanation = fmt.Sprintf("%d big tables have more than %s dead rows (listed): autovacuum is behind, disabled or held back by a long transaction",
			over, pct(c.th.DeadTupleRatio))
	}
	return ch
}

func latest(a, b *time.Time) *time.Time {
	switch {
	case a == nil:
		return b
	case b == nil || a.After(*b):
		return a
	}
	return b
}

// ago says how long before now t was, to the second, or "never".
func ago(now time.Time, t *time.Time) string {
	if t == nil {
		return "never"
	}
	return now.Sub(*t).Round(time.Second).String() + " ago"
}
