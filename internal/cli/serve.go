package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/eventmanager/eventmanager/internal/api"
	"github.com/eventmanager/eventmanager/internal/config"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/health"
	"github.com/eventmanager/eventmanager/internal/live"
	"github.com/eventmanager/eventmanager/internal/metrics"
	"github.com/eventmanager/eventmanager/internal/pglisten"
	"github.com/eventmanager/eventmanager/internal/querywindow"
	"github.com/eventmanager/eventmanager/internal/ratelimit"
	"github.com/eventmanager/eventmanager/internal/store"
	"github.com/eventmanager/eventmanager/internal/web"
)

const serveUsage = `Usage: eventmanager serve [flags]

Starts the HTTP API on PORT (default 3000). Without DATABASE_URL it runs a private PostgreSQL in
PG_DATA_DIR. It waits up to DB_STARTUP_WAIT for the database, applies pending migrations (unless
--no-migrate) and stops gracefully on SIGINT or SIGTERM.

It refuses to start (exit code 2) when DATABASE_URL's role is a superuser, has BYPASSRLS, or owns
the tables or the schema: row-level security would not bind it, or it could turn it off. Migrations
run as the owner (MIGRATION_DATABASE_URL); see docs/operations.md.

Flags:
`

func serve(ctx context.Context, args []string, env Env) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(env.Stderr, serveUsage); fs.PrintDefaults() }
	cfg, ok := loadConfig(env)
	if !ok {
		return exitUsage
	}
	noMigrate := fs.Bool("no-migrate", false, "do not apply pending migrations on start")
	allowBypass := fs.Bool("allow-rls-bypass", false, "start even when the database role escapes row-level security or owns the tables (logged as an error at every start)")
	demo := fs.Bool("demo", false, "create the demo tenant on first start and print a ready-to-paste curl command")
	dataDir := fs.String("data-dir", cfg.PGDataDir, "data folder of the private PostgreSQL (PG_DATA_DIR)")
	if done, code := parseFlags(fs, args, env); done {
		return code
	}
	log := newLogger(cfg, env.Stderr)
	err := runServe(ctx, cfg, serveOptions{noMigrate: *noMigrate, demo: *demo, dataDir: *dataDir, allowRLSBypass: *allowBypass}, log, env)
	var refused *unsafeRoleError
	if errors.As(err, &refused) {
		printErr(env, "eventmanager serve: ", err)
		return exitUsage
	}
	if err != nil {
		log.Error("serve failed", "error", config.RedactURL(err.Error()))
		printErr(env, "eventmanager serve: ", err)
		return exitFailed
	}
	return exitOK
}

type serveOptions struct {
	noMigrate      bool
	demo           bool
	dataDir        string
	allowRLSBypass bool
}

// unsafeRoleError refuses a database role that row-level security does not bind, or that could
// undo it.
type unsafeRoleError struct{ problems []string }

func (e *unsafeRoleError) Error() string {
	return "refusing to start: " + strings.Join(e.problems, "; ") +
		": connect DATABASE_URL as the service's role and run migrations as the owner with MIGRATION_DATABASE_URL (docs/operations.md), or pass --allow-rls-bypass"
}

// checkRole refuses a role unfit to run the service, unless allowed; allowed, it says so at ERROR
// on every start, so that it is never forgotten. Tables the role may not read get a warning: a
// migration ran as another role than the owner whose default privileges grant the service.
func checkRole(ctx context.Context, pool *db.DB, allow bool, log *slog.Logger) error {
	c, err := pool.CheckRole(ctx)
	if err != nil {
		return fmt.Errorf("check the database role: %w", err)
	}
	if len(c.Ungranted) > 0 {
		log.Warn("the database role may not read some tables: run migrations as the owner role", "role", c.Role, "tables", c.Ungranted)
	}
	problems := c.Problems()
	if len(problems) == 0 {
		return nil
	}
	if !allow {
		return &unsafeRoleError{problems: problems}
	}
	log.Error("UNSAFE: started with --allow-rls-bypass: row-level security does not protect tenants from each other, and the audit log is not append-only",
		"role", c.Role, "problems", strings.Join(problems, "; "))
	return nil
}

func runServe(ctx context.Context, cfg config.Config, opts serveOptions, log *slog.Logger, env Env) error {
	if addr := env.Getenv("PPROF_ADDR"); addr != "" {
		if _, err := startPprof(ctx, addr, log); err != nil {
			return err
		}
	}
	database, err := openDatabase(ctx, cfg, opts.dataDir, log, false)
	if err != nil {
		return err
	}
	defer database.close(ctx)

	registry := metrics.NewRegistry()
	queries := metrics.NewQueries(registry)
	name := instanceName(database.pooled)
	pool, err := db.Open(database.pooled, db.Options{Timeouts: cfg.QueryTimeouts, SlowQuery: cfg.SlowQuery, Logger: log, Observer: queries, AppName: name})
	if err != nil {
		return err
	}
	defer pool.Close()
	registry.MustRegister(metrics.NewPoolCollector(pool.Pool()))
	log.Info("database pool configured", "url", database.pooled.Redacted,
		"connection_limit", database.pooled.ConnectionLimit, "pool_timeout", database.pooled.PoolTimeout.String(),
		"connect_timeout", database.pooled.ConnectTimeout.String())
	if err := pool.WaitReady(ctx, cfg.DBStartupWait); err != nil {
		return err
	}
	if cfg.ReplicaSet {
		// Not waited for: while it cannot be reached its queries simply run on the primary.
		replica, err := db.Open(cfg.Replica, db.Options{Timeouts: cfg.QueryTimeouts, SlowQuery: cfg.SlowQuery, Logger: log, Observer: queries, AppName: name})
		if err != nil {
			return err
		}
		defer replica.Close()
		pool.UseReplica(ctx, replica, cfg.ReplicaMaxLag)
		log.Info("read replica configured", "url", cfg.Replica.Redacted, "max_lag", cfg.ReplicaMaxLag.String())
	}
	warnConnectionBudget(ctx, pool, name, database.pooled, log)
	if !opts.noMigrate {
		if err := db.MigrateUp(ctx, database.migration, log); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	// Tenant isolation is enforced twice only when the role is bound by row-level security.
	if err := checkRole(ctx, pool, opts.allowRLSBypass, log); err != nil {
		return err
	}
	st := store.New(pool)
	go purgeExpired(ctx, st, log)
	if opts.demo {
		if err := ensureDemo(ctx, st, cfg, env); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
	}
	window := queries.Window()
	// The pool check reports the average and peak of the last 5 minutes, sampled every second.
	sampler := health.NewPoolSampler(int(querywindow.Length / time.Second))
	go sampler.Run(ctx, pool, time.Second)
	checker := health.New(pool, window.Latency, health.Thresholds{}).
		WithPoolSampler(sampler).WithPoolTimeouts(queries.PoolTimeouts)
	registry.MustRegister(metrics.NewDatabaseCollector(checker, metrics.DatabaseCollectTimeout, metrics.DatabaseMaxAge))
	// One listening connection per instance, outside the pool, for every NOTIFY consumer. It
	// carries the instance's name too, so that an idle instance still shows in pg_stat_activity.
	listener := pglisten.New(database.direct, log)
	listener.AppName = health.ListenerName(name)
	limits, closeLimits, err := startRateLimits(ctx, cfg, st, listener, registry, log)
	if err != nil {
		return err
	}
	defer closeLimits()
	hub := live.NewHub(0, log)
	hub.Listen(listener)
	hub.Register(registry)
	sessions := startSessionCache(cfg, st, listener, log)
	go listener.Run(ctx)
	// Open streams end with the service, so that the graceful shutdown is not held up by them.
	go func() { <-ctx.Done(); hub.Close() }()
	metricsHandler := metrics.Handler(registry)
	deps := api.Deps{DB: pool, Store: st, Logger: log, TokenTTL: cfg.TokenTTL, Metrics: metricsHandler, Health: checker,
		HTTPMetrics: metrics.NewHTTP(registry), QueryWindow: window, RateLimits: limits,
		Live:     api.Live{Hub: hub, SignInLinkTTL: cfg.SignInLinkTTL, PublicURL: cfg.PublicURL},
		Sessions: sessions, TokenFailures: ratelimit.NewFailures(limits.Limiter(), cfg.AuthFailuresPerMinute),
		TrustedProxies: cfg.TrustedProxies}
	if cfg.MetricsAddr != "" {
		deps.Metrics = nil // on its own address only
	}
	srv := api.New(deps)
	app, err := web.New(web.Deps{Store: st, Auth: srv, Logger: log, Live: true, Zone: cfg.TimeZone,
		SecureCookies: strings.HasPrefix(cfg.PublicURL, "https://")})
	if err != nil {
		return err
	}
	srv.SetPages(app)
	ln, err := net.Listen("tcp", ":"+strconv.Itoa(cfg.Port))
	if err != nil {
		return err
	}
	if cfg.MetricsAddr == "" {
		return ServeHTTP(ctx, ln, srv.Handler(), cfg.ShutdownTimeout, log)
	}
	mln, err := net.Listen("tcp", cfg.MetricsAddr)
	if err != nil {
		ln.Close()
		return fmt.Errorf("METRICS_ADDR: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metricsHandler)
	// The metrics listener stops with the main one, whichever way that ends.
	mctx, stopMetrics := context.WithCancel(ctx)
	metricsDone := make(chan error, 1)
	go func() { metricsDone <- ServeHTTP(mctx, mln, mux, cfg.ShutdownTimeout, log.With("listener", "metrics")) }()
	err = ServeHTTP(ctx, ln, srv.Handler(), cfg.ShutdownTimeout, log)
	stopMetrics()
	if merr := <-metricsDone; err == nil {
		err = merr
	}
	return err
}

// ServeHTTP serves h on ln until ctx ends, then shuts down gracefully: it stops accepting, lets
// in-flight requests finish for up to shutdownTimeout, and returns.
func ServeHTTP(ctx context.Context, ln net.Listener, h http.Handler, shutdownTimeout time.Duration, log *slog.Logger) error {
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      90 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests", "timeout", shutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		log.Warn("shutdown timeout reached: closing remaining connections")
		_ = hs.Close()
	}
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	log.Info("stopped")
	return nil
}

// purgeInterval is how often expired sessions, sign-in links a day past their expiry and
// idempotency keys past their retention are
// deleted. Expired tokens are already refused (the token check compares expires_at); the purge only
// keeps the tables small. Every instance runs it: the DELETEs are idempotent and bounded.
const purgeInterval = 10 * time.Minute

func purgeExpired(ctx context.Context, st *store.Store, log *slog.Logger) {
	t := time.NewTicker(purgeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := st.DeleteExpiredSessions(ctx); err != nil {
				log.Warn("purging expired sessions failed", "error", err.Error())
			} else if n > 0 {
				log.Info("purged expired sessions", "count", n)
			}
			if n, err := st.DeleteExpiredSignInLinks(ctx); err != nil {
				log.Warn("purging expired sign-in links failed", "error", err.Error())
			} else if n > 0 {
				log.Info("purged expired sign-in links", "count", n)
			}
			if n, err := st.PurgeIdempotencyKeys(ctx, store.IdempotencyKeyRetention); err != nil {
				log.Warn("purging old idempotency keys failed", "error", err.Error())
			} else if n > 0 {
				log.Info("purged old idempotency keys", "count", n)
			}
		}
	}
}
