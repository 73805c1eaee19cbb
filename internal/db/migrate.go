package db

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/eventmanager/eventmanager/internal/db/migrations"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// Migrator applies the embedded migrations. It holds a PostgreSQL session advisory lock while it works
// (goose's session locker), so several instances starting at once migrate exactly once. It must use a
// direct connection (DIRECT_DATABASE_URL), never one through PgBouncer in transaction mode.
type Migrator struct {
	sqlDB    *sql.DB
	provider *goose.Provider
}

// NewMigrator opens one direct connection for migrations. Close it when done.
func NewMigrator(connString string) (*Migrator, error) {
	connCfg, err := pgx.ParseConfig(connString)
	if err != nil {
		return nil, err
	}
	sqlDB := stdlib.OpenDB(*connCfg)
	sqlDB.SetMaxOpenConns(1)
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		sqlDB.Close()
		return nil, err
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS, goose.WithSessionLocker(locker))
	if err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	return &Migrator{sqlDB: sqlDB, provider: provider}, nil
}

// Close closes the migrator's connection.
func (m *Migrator) Close() error { return m.sqlDB.Close() }

// Up applies every pending migration.
func (m *Migrator) Up(ctx context.Context) ([]*goose.MigrationResult, error) {
	return m.provider.Up(ctx)
}

// Down rolls back the latest applied migration.
func (m *Migrator) Down(ctx context.Context) (*goose.MigrationResult, error) {
	return m.provider.Down(ctx)
}

// DownTo rolls back every applied migration newer than version, newest first.
func (m *Migrator) DownTo(ctx context.Context, version int64) ([]*goose.MigrationResult, error) {
	return m.provider.DownTo(ctx, version)
}

// UpTo applies the pending migrations up to and including version.
func (m *Migrator) UpTo(ctx context.Context, version int64) ([]*goose.MigrationResult, error) {
	return m.provider.UpTo(ctx, version)
}

// Redo rolls back the latest migration and applies it again.
func (m *Migrator) Redo(ctx context.Context) error {
	if _, err := m.provider.Down(ctx); err != nil {
		return err
	}
	_, err := m.provider.UpByOne(ctx)
	return err
}

// Status lists every migration with whether it is applied.
func (m *Migrator) Status(ctx context.Context) ([]*goose.MigrationStatus, error) {
	return m.provider.Status(ctx)
}

// Pending reports whether any migration is not applied yet.
func (m *Migrator) Pending(ctx context.Context) (bool, error) {
	return m.provider.HasPending(ctx)
}

// LatestVersion is the version of the newest embedded migration. The embedded files never change,
// so it is read once (/readyz asks on every probe).
var LatestVersion = sync.OnceValues(latestVersion)

func latestVersion() (int64, error) {
	names, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		return 0, err
	}
	var latest int64
	for _, name := range names {
		v, err := goose.NumericComponent(name)
		if err != nil {
			return 0, err
		}
		latest = max(latest, v)
	}
	if latest == 0 {
		return 0, goose.ErrNoMigrations
	}
	return latest, nil
}

// SchemaVersion is the newest migration applied to the database, read from goose's table.
func (d *DB) SchemaVersion(ctx context.Context) (int64, error) {
	var v int64
	err := d.QueryRow(ctx, opSchemaVersion, "",
		"SELECT coalesce(max(version_id), 0) FROM goose_db_version WHERE is_applied", nil, &v)
	return v, err
}

var opSchemaVersion = Op{Name: "db.schema_version", Class: Simple}

// MigrateUp applies every pending migration on connString, logs each one applied (when logger is
// not nil) and closes its connection. Whether or not the run succeeded, it then looks for invalid
// indexes (left by a concurrent build that failed) and logs a WARN naming each: IF NOT EXISTS would
// skip them on the next run, so only `eventmanager migrate repair` mends them.
func MigrateUp(ctx context.Context, connString string, logger *slog.Logger) error {
	m, err := NewMigrator(connString)
	if err != nil {
		return err
	}
	defer m.Close()
	results, err := m.Up(ctx)
	if logger != nil {
		for _, r := range results {
			logger.Info("migration applied", "migration", r.Source.Path, "duration_ms", r.Duration.Milliseconds())
		}
		WarnInvalidIndexes(ctx, m, logger)
	}
	return err
}

// WarnInvalidIndexes logs a WARN for each invalid index (and one if they cannot be listed).
func WarnInvalidIndexes(ctx context.Context, m *Migrator, logger *slog.Logger) {
	invalid, err := m.InvalidIndexes(context.WithoutCancel(ctx))
	if err != nil {
		logger.Warn("could not check for invalid indexes", "error", err)
		return
	}
	for _, ix := range invalid {
		logger.Warn("invalid index: queries do not use it; run `eventmanager migrate repair`",
			"index", ix.Name, "table", ix.Table, "schema", ix.Schema)
	}
}

// InvalidIndex is an index that PostgreSQL keeps up to date on writes but never uses for reads
// (pg_index.indisvalid is false): what a failed CREATE INDEX CONCURRENTLY or REINDEX CONCURRENTLY
// leaves behind (lock timeout, cancel, unique violation, crash).
type InvalidIndex struct {
	Schema, Table, Name string
	// Definition is pg_get_indexdef: the CREATE INDEX statement that rebuilds it.
	Definition string
}

// invalidIndexesSQL lists the invalid indexes of the schemas on the search path. An index being built
// right now is invalid too until its build ends: those are left out (pg_stat_progress_create_index).
const invalidIndexesSQL = `
SELECT n.nspname, t.relname, i.relname, pg_get_indexdef(x.indexrelid)
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace n ON n.oid = i.relnamespace
WHERE NOT x.indisvalid
  AND n.nspname = ANY (current_schemas(false))
  AND NOT EXISTS (SELECT 1 FROM pg_stat_progress_create_index p WHERE p.index_relid = x.indexrelid)
ORDER BY n.nspname, t.relname, i.relname`

// InvalidIndexNames lists, through the pool, the names of the invalid indexes of the schemas on the
// search path, for /readyz: the service still works without them, but an operator must repair them.
func (d *DB) InvalidIndexNames(ctx context.Context) ([]string, error) {
	names := []string{}
	err := d.Query(ctx, opInvalidIndexes, "", func(rows pgx.Rows) error {
		for rows.Next() {
			var schema, table, name, def string
			if err := rows.Scan(&schema, &table, &name, &def); err != nil {
				return err
			}
			names = append(names, name)
		}
		return rows.Err()
	}, invalidIndexesSQL)
	return names, err
}

var opInvalidIndexes = Op{Name: "db.invalid_indexes", Class: Simple}

// InvalidIndexes lists the invalid indexes of the schemas on the search path.
func (m *Migrator) InvalidIndexes(ctx context.Context) ([]InvalidIndex, error) {
	rows, err := m.sqlDB.QueryContext(ctx, invalidIndexesSQL)
	if err != nil {
		return nil, fmt.Errorf("list invalid indexes: %w", err)
	}
	defer rows.Close()
	var out []InvalidIndex
	for rows.Next() {
		var ix InvalidIndex
		if err := rows.Scan(&ix.Schema, &ix.Table, &ix.Name, &ix.Definition); err != nil {
			return nil, err
		}
		out = append(out, ix)
	}
	return out, rows.Err()
}

// reindexLeftover names the transient copies of a failed REINDEX CONCURRENTLY: the original index
// still exists beside them, so they are dropped, not rebuilt.
var reindexLeftover = regexp.MustCompile(`_cc(new|old)[0-9]*$`)

// RepairIndexes drops each invalid index concurrently and builds it again concurrently from its own
// definition (pg_get_indexdef), so it repairs any invalid index, whichever migration or person made
// it. lockTimeout bounds each statement's wait for the table's writers (0: no limit). It returns
// the indexes repaired; on error, the ones repaired before it. A build that fails again (a unique
// index over duplicate rows, a writer holding the table past lockTimeout) leaves the index invalid
// once more and is reported, so the repair can be run again once the cause is gone.
func (m *Migrator) RepairIndexes(ctx context.Context, lockTimeout time.Duration) ([]InvalidIndex, error) {
	invalid, err := m.InvalidIndexes(ctx)
	if err != nil || len(invalid) == 0 {
		return nil, err
	}
	conn, err := m.sqlDB.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	// Session settings on this one connection, as the index migration does; reset before the
	// connection is closed (it is not reused: the migrator's pool holds only it).
	setup := fmt.Sprintf("SET lock_timeout = %d; SET statement_timeout = 0", lockTimeout.Milliseconds())
	if _, err := conn.ExecContext(ctx, setup); err != nil {
		return nil, err
	}
	defer func() {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "RESET lock_timeout; RESET statement_timeout")
	}()
	var repaired []InvalidIndex
	for _, ix := range invalid {
		drop := "DROP INDEX CONCURRENTLY IF EXISTS " + pgx.Identifier{ix.Schema, ix.Name}.Sanitize()
		if _, err := conn.ExecContext(ctx, drop); err != nil {
			return repaired, fmt.Errorf("drop invalid index %s: %w", ix.Name, err)
		}
		if !reindexLeftover.MatchString(ix.Name) {
			create, err := concurrentDefinition(ix.Definition)
			if err != nil {
				return repaired, err
			}
			if _, err := conn.ExecContext(ctx, create); err != nil {
				// The invalid index is gone: name its definition so that it is never lost.
				return repaired, fmt.Errorf("rebuild index %s (%s): %w", ix.Name, ix.Definition, err)
			}
		}
		repaired = append(repaired, ix)
	}
	return repaired, nil
}

// concurrentDefinition turns pg_get_indexdef's "CREATE [UNIQUE] INDEX name ON ..." into its
// CONCURRENTLY form.
func concurrentDefinition(def string) (string, error) {
	for _, prefix := range []string{"CREATE UNIQUE INDEX ", "CREATE INDEX "} {
		if rest, ok := strings.CutPrefix(def, prefix); ok {
			return prefix + "CONCURRENTLY " + rest, nil
		}
	}
	return "", fmt.Errorf("unexpected index definition %q", def)
}
