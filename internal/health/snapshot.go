package health

import (
	"context"
	"time"

	"github.com/eventmanager/eventmanager/internal/db"
)

// Snapshot is the few database-wide figures that Prometheus alerts on and that no other metric
// carries: the cache counters behind the hit ratios, the invalid indexes and the sessions idle in
// a transaction. It is read in one cheap round trip, for a scrape.
type Snapshot struct {
	// Cumulative since the statistics were last reset (counters): blocks found in shared buffers
	// (hit) or read from the operating system (read).
	IndexBlocksHit, IndexBlocksRead int64
	TableBlocksHit, TableBlocksRead int64
	InvalidIndexes                  int
	// Sessions of this database idle in a transaction now, and the longest such idle time. Other
	// roles' sessions are seen only with pg_read_all_stats (pg_monitor).
	IdleInTransaction        int
	IdleInTransactionLongest time.Duration
}

var opSnapshot = db.Op{Name: "health.snapshot", Class: db.Standard}

// The invalid indexes are counted as db.InvalidIndexNames lists them: schemas on the search path,
// builds still in progress left out.
const snapshotSQL = `SELECT ix.hit, ix.read, tb.hit, tb.read, inv.n, idle.n, idle.longest
FROM (SELECT COALESCE(sum(idx_blks_hit), 0)::bigint AS hit, COALESCE(sum(idx_blks_read), 0)::bigint AS read FROM pg_statio_user_indexes) ix,
     (SELECT COALESCE(sum(heap_blks_hit), 0)::bigint AS hit, COALESCE(sum(heap_blks_read), 0)::bigint AS read FROM pg_statio_user_tables) tb,
     (SELECT count(*)::int AS n
      FROM pg_index x
      JOIN pg_class i ON i.oid = x.indexrelid
      JOIN pg_namespace n ON n.oid = i.relnamespace
      WHERE NOT x.indisvalid AND n.nspname = ANY (current_schemas(false))
        AND NOT EXISTS (SELECT 1 FROM pg_stat_progress_create_index p WHERE p.index_relid = x.indexrelid)) inv,
     (SELECT count(*)::int AS n, COALESCE(EXTRACT(EPOCH FROM max(now() - state_change)), 0)::float8 AS longest
      FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid()
        AND state IN ('idle in transaction', 'idle in transaction (aborted)')) idle`

// Snapshot reads the figures; ctx bounds the wait (pool acquire included).
func (c *Checker) Snapshot(ctx context.Context) (Snapshot, error) {
	var s Snapshot
	var longest float64
	err := c.db.QueryRow(ctx, opSnapshot, "", snapshotSQL, nil,
		&s.IndexBlocksHit, &s.IndexBlocksRead, &s.TableBlocksHit, &s.TableBlocksRead, &s.InvalidIndexes, &s.IdleInTransaction, &longest)
	s.IdleInTransactionLongest = time.Duration(longest * float64(time.Second))
	return s, err
}
