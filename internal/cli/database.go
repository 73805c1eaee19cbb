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
// localpg.ServiceRole, which the pool and the migrations connect as.
const privateDatabase = "eventmanager"

// database is where the service's data lives: DATABASE_URL, or the private PostgreSQL.
type database struct {
	pooled config.Database // what the pool uses
	direct string          // what migrations use: DIRECT_DATABASE_URL, or the pooled URL
	local  *localpg.Server // nil unless running a private PostgreSQL
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
		// The service connects as an ordinary role that owns its database, never as the superuser:
		// row-level security does not bind superusers (nor BYPASSRLS roles), and the tables FORCE it
		// on their owner. A database made before the role existed is handed over to it.
		if err := srv.EnsureRole(ctx, localpg.ServiceRole); err != nil {
			d.close(ctx)
			return nil, err
		}
		if err := srv.EnsureDatabaseOwnedBy(ctx, privateDatabase, localpg.ServiceRole); err != nil {
			d.close(ctx)
			return nil, err
		}
		pooled, err := config.ParseDatabaseURL(srv.URLAs(privateDatabase, localpg.ServiceRole))
		if err != nil {
			d.close(ctx)
			return nil, fmt.Errorf("private PostgreSQL URL: %w", err)
		}
		d.pooled = pooled
		log.Info("using private PostgreSQL", "data_dir", srv.DataDir(), "url", pooled.Redacted)
	}
	d.direct = d.pooled.ConnString
	if cfg.DirectSet {
		d.direct = cfg.Direct.ConnString
	}
	return d, nil
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
	log.Info("using the private PostgreSQL of the running server", "data_dir", dataDir, "url", pooled.Redacted)
	d := &database{pooled: pooled, direct: pooled.ConnString}
	if cfg.DirectSet {
		d.direct = cfg.Direct.ConnString
	}
	return d, nil
}

// close stops the private PostgreSQL, if one runs.
func (d *database) close(ctx context.Context) {
	if d.local != nil {
		_ = d.local.Stop(context.WithoutCancel(ctx))
	}
}
