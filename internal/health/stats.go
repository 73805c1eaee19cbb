package health

import (
	"context"
	"fmt"
	"time"

	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/jackc/pgx/v5"
)

// Stats are the database's figures behind the checks, for an operator to look at: the largest
// tables and indexes, how much each index is used, and this instance's pool.
type Stats struct {
	CollectedAt time.Time `json:"collected_at"`
	// StatisticsSince is when the database's statistics (scan counts) were last reset; null: never.
	StatisticsSince *time.Time  `json:"statistics_since"`
	LargestTables   []TableSize `json:"largest_tables"`
	LargestIndexes  []IndexStat `json:"largest_indexes"`
	IndexUsage      IndexUsage  `json:"index_usage"`
	Pool            PoolStats   `json:"pool"`
}

// TableSize is one table's size on disk: the table itself (heap), its TOAST data and its indexes.
type TableSize struct {
	Table        string  `json:"table"`
	Schema       string  `json:"schema"`
	TotalBytes   int64   `json:"total_bytes"`
	TotalPretty  string  `json:"total_pretty"`
	TableBytes   int64   `json:"table_bytes"`
	ToastBytes   int64   `json:"toast_bytes"`
	IndexesBytes int64   `json:"indexes_bytes"`
	RowsEstimate float64 `json:"rows_estimate"` // the planner's estimate (pg_class.reltuples); -1: never analyzed
}

// IndexStat is one index: its size and how often it was scanned since statistics were reset.
type IndexStat struct {
	Index   string `json:"index"`
	Table   string `json:"table"`
	Bytes   int64  `json:"bytes"`
	Pretty  string `json:"pretty"`
	Scans   int64  `json:"scans"`
	Unique  bool   `json:"unique"`
	Primary bool   `json:"primary"`
}

// IndexUsage lists the most scanned indexes and the non-unique ones never scanned (the largest
// first: those cost the most writes and memory).
type IndexUsage struct {
	MostScanned []IndexStat `json:"most_scanned"`
	Unused      []IndexStat `json:"unused"`
}

// PoolStats is pgxpool's statistics of this instance's pool, and its settings.
type PoolStats struct {
	MaxConnections          int32   `json:"max_connections"`
	TotalConnections        int32   `json:"total_connections"`
	IdleConnections         int32   `json:"idle_connections"`
	AcquiredConnections     int32   `json:"acquired_connections"`
	ConstructingConnections int32   `json:"constructing_connections"`
	Utilisation             float64 `json:"utilisation"` // acquired / max
	AcquiresTotal           int64   `json:"acquires_total"`
	AcquireSecondsTotal     float64 `json:"acquire_duration_seconds_total"`
	AcquireAverageMS        float64 `json:"acquire_average_ms"`
	EmptyAcquiresTotal      int64   `json:"empty_acquires_total"` // acquires that had to wait for a connection
	EmptyAcquireWaitSeconds float64 `json:"empty_acquire_wait_seconds_total"`
	CanceledAcquiresTotal   int64   `json:"canceled_acquires_total"`
	NewConnectionsTotal     int64   `json:"new_connections_total"`
	// TimeoutsTotal counts the requests that got no connection within pool_timeout (503
	// DB_POOL_TIMEOUT); null when this process does not count them.
	TimeoutsTotal      *uint64 `json:"timeouts_total"`
	PoolTimeoutSeconds float64 `json:"pool_timeout_seconds"`
}

// StatsLimit is how many tables and indexes each list of Stats holds.
const StatsLimit = 10

// statsCandidates is how many relations, picked by their page count, get their exact size measured.
// pg_class.relpages is the planner's figure, refreshed by VACUUM, ANALYZE and CREATE INDEX: reading
// it costs nothing, while measuring a relation asks the file system about each of its files. So
// only the largest candidates by relpages are measured, and ranked by their real size.
const statsCandidates = 3 * StatsLimit

var (
	opStatsSince   = db.Op{Name: "health.stats_since", Class: db.Simple}
	opTableSizes   = db.Op{Name: "health.table_sizes", Class: db.Standard}
	opIndexSizes   = db.Op{Name: "health.index_sizes", Class: db.Standard}
	opIndexScans   = db.Op{Name: "health.index_scans", Class: db.Standard}
	opUnusedBySize = db.Op{Name: "health.unused_indexes_by_size", Class: db.Standard}
)

// userRelations restricts pg_class c (joined with pg_namespace n) to the relations of the
// application's schemas.
const userRelations = `n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'`

const tableSizesSQL = `SELECT relname, nspname, total, pg_size_pretty(total), heap, total - heap - idx, idx, reltuples::float8
FROM (
  SELECT relname, nspname, reltuples, pg_total_relation_size(oid) AS total, pg_relation_size(oid) AS heap, pg_indexes_size(oid) AS idx
  FROM (
    SELECT c.oid, c.relname, n.nspname, c.reltuples
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_class toast ON toast.oid = c.reltoastrelid
    WHERE c.relkind IN ('r', 'm') AND ` + userRelations + `
    ORDER BY c.relpages + COALESCE(toast.relpages, 0) DESC
    LIMIT $2
  ) candidates
) sized
ORDER BY total DESC, relname
LIMIT $1`

// indexStatSQL measures the indexes that the inner query %s picks (an oid column).
const indexStatSQL = `SELECT i.relname, t.relname, size, pg_size_pretty(size), pg_stat_get_numscans(i.oid), x.indisunique, x.indisprimary
FROM (SELECT oid, pg_relation_size(oid) AS size FROM (%s) picked) m
JOIN pg_class i ON i.oid = m.oid
JOIN pg_index x ON x.indexrelid = i.oid
JOIN pg_class t ON t.oid = x.indrelid
ORDER BY %s
LIMIT $1`

const largestIndexesSQL = `SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'i' AND ` + userRelations + ` ORDER BY c.relpages DESC LIMIT $2`

const mostScannedSQL = `SELECT indexrelid AS oid FROM pg_stat_user_indexes WHERE idx_scan > 0 ORDER BY idx_scan DESC LIMIT $1`

const unusedBySizeSQL = `SELECT c.oid FROM pg_stat_user_indexes s
JOIN pg_index x ON x.indexrelid = s.indexrelid
JOIN pg_class c ON c.oid = s.indexrelid
WHERE s.idx_scan = 0 AND NOT x.indisunique AND NOT x.indisprimary
ORDER BY c.relpages DESC LIMIT $2`

// Stats collects the figures; each list holds at most StatsLimit entries.
func (c *Checker) Stats(ctx context.Context) (Stats, error) {
	s := Stats{CollectedAt: c.now().UTC().Truncate(time.Second), LargestTables: []TableSize{}, LargestIndexes: []IndexStat{},
		IndexUsage: IndexUsage{MostScanned: []IndexStat{}, Unused: []IndexStat{}}, Pool: c.PoolStats()}
	if err := c.db.QueryRow(ctx, opStatsSince, "", "SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()",
		nil, &s.StatisticsSince); err != nil {
		return s, err
	}
	err := c.db.Query(ctx, opTableSizes, "", func(rows pgx.Rows) error {
		for rows.Next() {
			var t TableSize
			if err := rows.Scan(&t.Table, &t.Schema, &t.TotalBytes, &t.TotalPretty, &t.TableBytes, &t.ToastBytes, &t.IndexesBytes, &t.RowsEstimate); err != nil {
				return err
			}
			s.LargestTables = append(s.LargestTables, t)
		}
		return rows.Err()
	}, tableSizesSQL, StatsLimit, statsCandidates)
	if err != nil {
		return s, err
	}
	for _, q := range []struct {
		op    db.Op
		pick  string
		order string
		into  *[]IndexStat
	}{
		{opIndexSizes, largestIndexesSQL, "size DESC, i.relname", &s.LargestIndexes},
		{opIndexScans, mostScannedSQL, "pg_stat_get_numscans(i.oid) DESC, i.relname", &s.IndexUsage.MostScanned},
		{opUnusedBySize, unusedBySizeSQL, "size DESC, i.relname", &s.IndexUsage.Unused},
	} {
		sql := fmt.Sprintf(indexStatSQL, q.pick, q.order)
		args := []any{StatsLimit}
		if q.op != opIndexScans {
			args = append(args, statsCandidates)
		}
		err := c.db.Query(ctx, q.op, "", func(rows pgx.Rows) error {
			for rows.Next() {
				var ix IndexStat
				if err := rows.Scan(&ix.Index, &ix.Table, &ix.Bytes, &ix.Pretty, &ix.Scans, &ix.Unique, &ix.Primary); err != nil {
					return err
				}
				*q.into = append(*q.into, ix)
			}
			return rows.Err()
		}, sql, args...)
		if err != nil {
			return s, err
		}
	}
	return s, nil
}

// PoolStats reads this instance's pool statistics (no query).
func (c *Checker) PoolStats() PoolStats {
	st := c.db.Pool().Stat()
	p := PoolStats{
		MaxConnections:          st.MaxConns(),
		TotalConnections:        st.TotalConns(),
		IdleConnections:         st.IdleConns(),
		AcquiredConnections:     st.AcquiredConns(),
		ConstructingConnections: st.ConstructingConns(),
		AcquiresTotal:           st.AcquireCount(),
		AcquireSecondsTotal:     st.AcquireDuration().Seconds(),
		EmptyAcquiresTotal:      st.EmptyAcquireCount(),
		EmptyAcquireWaitSeconds: st.EmptyAcquireWaitTime().Seconds(),
		CanceledAcquiresTotal:   st.CanceledAcquireCount(),
		NewConnectionsTotal:     st.NewConnsCount(),
		PoolTimeoutSeconds:      c.db.Settings().PoolTimeout.Seconds(),
	}
	if p.MaxConnections > 0 { // from the same reading as the counts, not a second one
		p.Utilisation = float64(p.AcquiredConnections) / float64(p.MaxConnections)
	}
	if p.AcquiresTotal > 0 {
		p.AcquireAverageMS = ms(st.AcquireDuration() / time.Duration(p.AcquiresTotal))
	}
	if c.poolTimeouts != nil {
		n := c.poolTimeouts()
		p.TimeoutsTotal = &n
	}
	return p
}
