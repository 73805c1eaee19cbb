package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/eventmanager/eventmanager/internal/config"
	"github.com/eventmanager/eventmanager/internal/localpg"
)

// privateDatabase is the database name used on the private PostgreSQL, owned by role
// localpg.OwnerRole, which the migrations connect as; the pool connects as localpg.ServiceRole.
const privateDatabase = "eventmanager"

// database is where the service's data lives: DATABASE_URL, or the private PostgreSQL.
type database struct {
	pooled config.Database // what the pool uses: the service's role
	direct string          // what must bypass PgBouncer (LISTEN): DIRECT_DATABASE_URL, or the pooled URL
	// migration is what migrations and bulk loads use, as the schema's owner:
	// MIGRATION_DATABASE_URL, else DIRECT_DATABASE_URL, else the pooled URL.
	migration string
	local     *localpg.Server // nil unless running a private PostgreSQL
}

// openDatabase resolves the database, starting the private PostgreSQL when DATABASE_URL is unset.
// Call close when done: it stops the private server.
//
// With shared, a private PostgreSQL that a running `serve` holds is used as it is (doctor, seed,
// tenants create and migrate next to `make run`); without, that is an error: two servers must not
// share one private cluster, which stops with the process that started it.
func openDatabase(ctx context.Context, cfg config.Config, dataDir string, log *slog.Logger, shared bool) (*database, error) {
	d := &database{pooled: cfg.Database}
	if !cfg.DatabaseSet {
		srv, err := localpg.Start(ctx, localpg.Options{DataDir: dataDir, Logger: log})
		if shared && errors.Is(err, localpg.ErrInUse) {
			return attachDatabase(cfg, dataDir, log, err)
		}
		if err != nil {
			return nil, err
		}
		d.local = srv
		// Neither role is the superuser. The owner role owns the database and runs the migrations;
		// the service connects as a role that owns nothing and has only the migrations' grants, so
		// that row-level security binds it and it cannot undo it. A database made before the roles
		// existed (owned by the service's role) is handed over to the owner with its objects.
		if err := srv.EnsureServiceRoles(ctx); err != nil {
			d.close(ctx)
			return nil, err
		}
		if err := srv.EnsureDatabaseOwnedBy(ctx, privateDatabase, localpg.OwnerRole); err != nil {
			d.close(ctx)
			return nil, err
		}
		pooled, err := config.ParseDatabaseURL(srv.URLAs(privateDatabase, localpg.ServiceRole))
		if err != nil {
			d.close(ctx)
			return nil, fmt.Errorf("private PostgreSQL URL: %w", err)
		}
		d.pooled = pooled
		d.migration = srv.URLAs(privateDatabase, localpg.OwnerRole)
		log.Info("using private PostgreSQL", "data_dir", srv.DataDir(), "url", pooled.Redacted)
	}
	d.setDirect(cfg)
	return d, nil
}

// setDirect fills in direct and (unless set) migration from the configuration.
func (d *database) setDirect(cfg config.Config) {
	d.direct = d.pooled.ConnString
	if cfg.DirectSet {
		d.direct = cfg.Direct.ConnString
	}
	switch {
	case cfg.MigrationSet:
		d.migration = cfg.Migration.ConnString
	case d.migration == "":
		d.migration = d.direct
	}
}

// attachDatabase connects to the private PostgreSQL that another process runs in dataDir, as the
// service role; inUse is the error to return when it cannot be reached.
func attachDatabase(cfg config.Config, dataDir string, log *slog.Logger, inUse error) (*database, error) {
	url, err := localpg.RunningURL(dataDir, privateDatabase, localpg.ServiceRole)
	if err != nil {
		return nil, fmt.Errorf("%w (%v)", inUse, err)
	}
	pooled, err := config.ParseDatabaseURL(url)
	if err != nil {
		return nil, fmt.Errorf("private PostgreSQL URL: %w", err)
	}
	owner, err := localpg.RunningURL(dataDir, privateDatabase, localpg.OwnerRole)
	if err != nil {
		return nil, fmt.Errorf("%w (%v)", inUse, err)
	}
	log.Info("using the private PostgreSQL of the running server", "data_dir", dataDir, "url", pooled.Redacted)
	d := &database{pooled: pooled, migration: owner}
	d.setDirect(cfg)
	return d, nil
}

// close stops the private PostgreSQL, if one runs.
func (d *database) close(ctx context.Context) {
	if d.local != nil {
		_ = d.local.Stop(context.WithoutCancel(ctx))
	}
}
