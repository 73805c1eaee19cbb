package seed

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// Scale says how much data to generate. Events, Scores and AuditLogs are totals over all tenants.
type Scale struct {
	Name                               string
	Tenants, Events, Scores, AuditLogs int
}

// Scales are the named scales of `eventmanager seed --scale`.
var Scales = map[string]Scale{
	"small":  {Name: "small", Tenants: 1, Events: 12, Scores: 5_000, AuditLogs: 1_000},
	"medium": {Name: "medium", Tenants: 50, Events: 5_000, Scores: 250_000, AuditLogs: 50_000},
	"large":  {Name: "large", Tenants: 200, Events: 50_000, Scores: 2_000_000, AuditLogs: 500_000},
}

// Options of a run.
type Options struct {
	Scale Scale
	Seed  uint64
	// Workers is the number of tenants loaded at once, each on its own connection (default 2).
	Workers int
	// Progress, when set, is called after each tenant (from any worker, one call at a time).
	Progress func(Progress)
}

// Progress is the state of a run.
type Progress struct {
	Done, Total, Skipped int
	Rows                 int64
	Elapsed              time.Duration
}

// Result sums up a run.
type Result struct {
	Created, Skipped int
	Rows             int64
	Duration         time.Duration
}

// TenantSlug is the slug of seeded tenant i (0-based): the scale and seed are part of it, so that
// runs of other scales or seeds never collide with it, and a run that sees it skips that tenant.
func TenantSlug(scale string, seed uint64, i int) string {
	return fmt.Sprintf("seed-%s-%d-%04d", scale, seed, i+1)
}

// Run generates the data on connString, one transaction per tenant. A tenant whose slug already
// exists is skipped, so a run that was interrupted can be run again to finish. The role may be
// bound by row-level security: COPY FROM is refused on such tables, so rows are copied into
// temporary tables (which have no policies) and moved with INSERT ... SELECT in a transaction that
// sets app.tenant_id. It ends with ANALYZE, so that query plans reflect the new volumes.
func Run(ctx context.Context, connString string, opts Options) (Result, error) {
	sc := opts.Scale
	if sc.Tenants < 1 || sc.Events < sc.Tenants || sc.Scores < 0 || sc.AuditLogs < 0 {
		return Result{}, errors.New("seed: a scale needs at least one tenant and one event per tenant")
	}
	if !tenantSlugForm(TenantSlug(sc.Name, opts.Seed, sc.Tenants-1)) {
		return Result{}, fmt.Errorf("seed: scale name %q makes an invalid tenant slug", sc.Name)
	}
	workers := max(1, min(opts.Workers, sc.Tenants))
	if opts.Workers == 0 {
		workers = min(2, sc.Tenants)
	}
	start := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	jobs := make(chan int)
	var (
		mu       sync.Mutex
		res      Result
		firstErr error
		rows     atomic.Int64
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
		cancel()
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := connect(ctx, connString)
			if err != nil {
				fail(err)
				return
			}
			defer conn.Close(context.WithoutCancel(ctx))
			for i := range jobs {
				t := generateTenant(sc, opts.Seed, i)
				created, err := load(ctx, conn, t)
				if err != nil {
					fail(fmt.Errorf("seed tenant %s: %w", t.slug, err))
					return
				}
				mu.Lock()
				if created {
					res.Created++
					res.Rows += t.rows()
				} else {
					res.Skipped++
				}
				rows.Store(res.Rows)
				if opts.Progress != nil {
					opts.Progress(Progress{Done: res.Created + res.Skipped, Total: sc.Tenants, Skipped: res.Skipped, Rows: res.Rows, Elapsed: time.Since(start)})
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for i := range sc.Tenants {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return res, firstErr
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if res.Created > 0 {
		conn, err := connect(ctx, connString)
		if err != nil {
			return res, err
		}
		defer conn.Close(context.WithoutCancel(ctx))
		if _, err := conn.Exec(ctx, "ANALYZE "+strings.Join(seededTables, ", ")); err != nil {
			return res, fmt.Errorf("seed: analyze: %w", err)
		}
	}
	res.Duration = time.Since(start)
	return res, nil
}

// seededTables are the tables Run writes, parents first.
var seededTables = []string{"tenants", "events", "contests", "categories", "criteria", "contestants",
	"category_contestants", "judges", "assignments", "scores", "audit_logs", "system_settings", "rate_limit_configs"}

func connect(ctx context.Context, connString string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(connString)
	if err != nil {
		return nil, err
	}
	// Bulk loading: the service's per-query backstops do not fit a transaction that moves a tenant.
	cfg.RuntimeParams["statement_timeout"] = "0"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	for _, tb := range stagedTables {
		// ON COMMIT DELETE ROWS: each tenant's transaction starts with empty staging tables.
		sql := fmt.Sprintf("CREATE TEMP TABLE %s (LIKE %s INCLUDING DEFAULTS) ON COMMIT DELETE ROWS", "stage_"+tb.name, tb.name)
		if _, err := conn.Exec(ctx, sql); err != nil {
			conn.Close(ctx)
			return nil, fmt.Errorf("seed: staging table for %s: %w", tb.name, err)
		}
	}
	return conn, nil
}

// load writes one tenant in one transaction; it reports false when the tenant already exists.
func load(ctx context.Context, conn *pgx.Conn, t *tenant) (bool, error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	tag, err := tx.Exec(ctx, `INSERT INTO tenants (id, slug, name, settings, scoring_type, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (slug) DO NOTHING`,
		t.id, t.slug, t.name, t.settings, t.scoringType, t.createdAt)
	if err != nil {
		return false, err
	}
	if tag.RowsAffected() == 0 {
		return false, nil
	}
	if _, err := tx.Exec(ctx, "SELECT set_config('app.tenant_id', $1, true)", uuidString(t.id)); err != nil {
		return false, err
	}
	for _, tb := range stagedTables {
		rows := tb.rows(t)
		if len(rows) == 0 {
			continue
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"stage_" + tb.name}, tb.columns, pgx.CopyFromRows(rows)); err != nil {
			return false, fmt.Errorf("copy %s: %w", tb.name, err)
		}
		cols := strings.Join(tb.columns, ", ")
		if _, err := tx.Exec(ctx, fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM stage_%s", tb.name, cols, cols, tb.name)); err != nil {
			return false, fmt.Errorf("insert %s: %w", tb.name, err)
		}
	}
	return true, tx.Commit(ctx)
}
