package db

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"log/slog"

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

// LatestVersion is the version of the newest embedded migration.
func LatestVersion() (int64, error) {
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
// not nil) and closes its connection.
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
	}
	return err
}
