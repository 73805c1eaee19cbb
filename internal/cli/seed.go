package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/eventmanager/eventmanager/internal/seed"
)

const seedUsage = `Usage: eventmanager seed --scale small|medium|large [--seed N] [flags]

Generates realistic competition data: tenants with events (most archived), contests, categories
(3 to 8 criteria, 5 to 12 judges, 10 to 60 contestants), scores, audit log rows, settings.

  small   1 tenant, 12 events, 5 000 scores, 1 000 audit rows (a demo)
  medium  50 tenants, 5 000 events, 250 000 scores, 50 000 audit rows
  large   200 tenants, 50 000 events, 2 000 000 scores, 500 000 audit rows

The same --seed gives the same rows, ids included. Each tenant is written in one transaction and a
tenant whose slug (seed-SCALE-SEED-NNNN) exists is skipped: running it again finishes an interrupted
run and adds nothing otherwise. --tenants, --events, --scores and --audit-logs override the scale's
figures (the scale is then named "custom"). The schema must be current ("eventmanager migrate up").

Flags:
`

func seedCommand(ctx context.Context, args []string, env Env) int {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(env.Stderr, seedUsage); fs.PrintDefaults() }
	cfg, ok := loadConfig(env)
	if !ok {
		return exitUsage
	}
	dataDir := fs.String("data-dir", cfg.PGDataDir, "data folder of the private PostgreSQL (PG_DATA_DIR)")
	scaleName := fs.String("scale", "small", "small, medium or large")
	seedN := fs.Uint64("seed", 1, "seed of the generator")
	workers := fs.Int("workers", 2, "tenants loaded at once, one connection each")
	tenantsN := fs.Int("tenants", 0, "number of tenants (overrides the scale)")
	eventsN := fs.Int("events", 0, "number of events (overrides the scale)")
	scoresN := fs.Int("scores", -1, "number of scores (overrides the scale)")
	auditN := fs.Int("audit-logs", -1, "number of audit log rows (overrides the scale)")
	if done, code := parseFlags(fs, args, env); done {
		return code
	}
	sc, known := seed.Scales[*scaleName]
	if !known {
		fmt.Fprintf(env.Stderr, "eventmanager seed: unknown scale %q (want small, medium or large)\n", *scaleName)
		return exitUsage
	}
	if *tenantsN > 0 || *eventsN > 0 || *scoresN >= 0 || *auditN >= 0 {
		sc.Name = "custom"
		if *tenantsN > 0 {
			sc.Tenants = *tenantsN
		}
		if *eventsN > 0 {
			sc.Events = *eventsN
		}
		if *scoresN >= 0 {
			sc.Scores = *scoresN
		}
		if *auditN >= 0 {
			sc.AuditLogs = *auditN
		}
	}
	if sc.Events < sc.Tenants || *workers < 1 {
		fmt.Fprintln(env.Stderr, "eventmanager seed: --events must be at least --tenants, and --workers at least 1")
		return exitUsage
	}

	log := newLogger(cfg, env.Stderr)
	database, err := openDatabase(ctx, cfg, *dataDir, log, true)
	if err != nil {
		printErr(env, "eventmanager seed: ", err)
		return exitFailed
	}
	defer database.close(ctx)

	terminal := isTerminal(env.Stderr)
	step := max(1, sc.Tenants/10)
	progress := func(p seed.Progress) {
		switch {
		case terminal:
			fmt.Fprintf(env.Stderr, "\r%s %3d%% %d/%d tenants (%d skipped), %d rows, %s ",
				bar(p.Done, p.Total, 30), 100*p.Done/p.Total, p.Done, p.Total, p.Skipped, p.Rows, p.Elapsed.Round(time.Second))
		case p.Done%step == 0 || p.Done == p.Total:
			fmt.Fprintf(env.Stderr, "seed: %d/%d tenants (%d skipped), %d rows, %s\n", p.Done, p.Total, p.Skipped, p.Rows, p.Elapsed.Round(time.Millisecond))
		}
	}
	// As the schema's owner: the load ends with ANALYZE, which only an owner may run.
	res, err := seed.Run(ctx, database.migration, seed.Options{Scale: sc, Seed: *seedN, Workers: *workers, Progress: progress})
	if terminal {
		fmt.Fprintln(env.Stderr)
	}
	if err != nil {
		printErr(env, "eventmanager seed: ", err)
		return exitFailed
	}
	fmt.Fprintf(env.Stdout, "seeded scale %s, seed %d: %d tenants created, %d skipped (already there), %d rows in %s\n",
		sc.Name, *seedN, res.Created, res.Skipped, res.Rows, res.Duration.Round(time.Millisecond))
	return exitOK
}

func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func bar(done, total, width int) string {
	n := width * done / max(total, 1)
	b := make([]byte, width+2)
	b[0], b[width+1] = '[', ']'
	for i := range width {
		b[i+1] = ' '
		if i < n {
			b[i+1] = '#'
		}
	}
	return string(b)
}
