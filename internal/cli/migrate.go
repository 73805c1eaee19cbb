package cli

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/pressly/goose/v3"
)

const migrateUsage = `Usage: eventmanager migrate up|down|status|redo|repair [flags]

  up      apply every pending migration
  down    roll back the latest migration
  status  list migrations and whether each is applied, and any invalid index
  redo    roll back the latest migration and apply it again
  repair  drop each invalid index concurrently and build it again from its definition

An index build that fails (lock timeout, cancel, crash) leaves an INVALID index that queries never
use and that CREATE INDEX ... IF NOT EXISTS then skips: "up" and "status" name such indexes, and
"repair" rebuilds them without blocking writes.

Migrations run as the schema's owner: on MIGRATION_DATABASE_URL when set, else DIRECT_DATABASE_URL
(never through PgBouncer), else DATABASE_URL, else as the owner role of the private PostgreSQL. A
PostgreSQL advisory lock makes concurrent runs apply each migration once.
`

func migrate(ctx context.Context, args []string, env Env) int {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(env.Stderr, migrateUsage); fs.PrintDefaults() }
	cfg, ok := loadConfig(env)
	if !ok {
		return exitUsage
	}
	dataDir := fs.String("data-dir", cfg.PGDataDir, "data folder of the private PostgreSQL (PG_DATA_DIR)")
	lockTimeout := fs.Duration("lock-timeout", 5*time.Second, "repair: how long each index drop or build may wait for the table's writers (0: no limit)")
	if len(args) == 0 {
		fs.Usage()
		return exitUsage
	}
	command := args[0]
	if command == "-h" || command == "--help" || command == "help" {
		fs.Usage()
		return exitOK
	}
	if done, code := parseFlags(fs, args[1:], env); done {
		return code
	}
	switch command {
	case "up", "down", "status", "redo", "repair":
	default:
		fmt.Fprintf(env.Stderr, "eventmanager migrate: unknown command %q (want up, down, status, redo or repair)\n", command)
		return exitUsage
	}
	log := newLogger(cfg, env.Stderr)
	database, err := openDatabase(ctx, cfg, *dataDir, log, true)
	if err != nil {
		printErr(env, "eventmanager migrate: ", err)
		return exitFailed
	}
	defer database.close(ctx)
	if err := runMigrate(ctx, command, database.migration, *lockTimeout, env); err != nil {
		printErr(env, "eventmanager migrate "+command+": ", err)
		return exitFailed
	}
	return exitOK
}

func runMigrate(ctx context.Context, command, connString string, lockTimeout time.Duration, env Env) error {
	m, err := db.NewMigrator(connString)
	if err != nil {
		return err
	}
	defer m.Close()
	switch command {
	case "up":
		results, err := m.Up(ctx)
		for _, r := range results {
			fmt.Fprintf(env.Stdout, "applied %s (%s)\n", r.Source.Path, r.Duration.Round(1e6))
		}
		if err == nil && len(results) == 0 {
			fmt.Fprintln(env.Stdout, "no pending migrations")
		}
		// Also after a failure: a failed concurrent build is exactly what leaves an invalid index.
		if ierr := printInvalidIndexes(context.WithoutCancel(ctx), m, env); err == nil {
			err = ierr
		}
		return err
	case "repair":
		repaired, err := m.RepairIndexes(ctx, lockTimeout)
		for _, ix := range repaired {
			fmt.Fprintf(env.Stdout, "repaired index %s on %s\n", ix.Name, ix.Table)
		}
		if err != nil {
			return err
		}
		if len(repaired) == 0 {
			fmt.Fprintln(env.Stdout, "no invalid indexes")
		}
		return nil
	case "down":
		r, err := m.Down(ctx)
		if r != nil {
			fmt.Fprintf(env.Stdout, "rolled back %s\n", r.Source.Path)
		}
		return err
	case "redo":
		if err := m.Redo(ctx); err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, "redone the latest migration")
		return nil
	}
	statuses, err := m.Status(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tMIGRATION\tAPPLIED")
	for _, s := range statuses {
		applied := "pending"
		if s.State == goose.StateApplied {
			applied = s.AppliedAt.UTC().Format("2006-01-02 15:04:05Z")
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\n", s.Source.Version, s.Source.Path, applied)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return printInvalidIndexes(ctx, m, env)
}

// printInvalidIndexes prints one line per invalid index, or nothing when there is none.
func printInvalidIndexes(ctx context.Context, m *db.Migrator, env Env) error {
	invalid, err := m.InvalidIndexes(ctx)
	if err != nil {
		return err
	}
	for _, ix := range invalid {
		fmt.Fprintf(env.Stdout, "INVALID index %s on %s: queries do not use it; run \"eventmanager migrate repair\"\n", ix.Name, ix.Table)
	}
	return nil
}
