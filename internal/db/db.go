package db

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/eventmanager/eventmanager/internal/config"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Options are the settings of the database layer that do not come from DATABASE_URL.
type Options struct {
	Timeouts  config.QueryTimeouts
	SlowQuery time.Duration // every query slower than this is logged at INFO
	Logger    *slog.Logger
	AppName   string // application_name seen in pg_stat_activity
}

// DB is the bounded connection pool and the query API on top of it.
type DB struct {
	pool        *pgxpool.Pool
	settings    config.Database
	timeouts    [classCount]time.Duration
	slowQuery   time.Duration
	poolTimeout time.Duration
	log         *slog.Logger
}

// Connection lifetimes: long enough that connections are reused, short enough that a server-side
// change (a failover, a new setting) reaches every connection within the hour. The jitter spreads
// expiries so that the whole pool never reconnects at the same moment.
const (
	maxConnLifetime       = 30 * time.Minute
	maxConnLifetimeJitter = 5 * time.Minute
	maxConnIdleTime       = 5 * time.Minute
	healthCheckPeriod     = 30 * time.Second
	// A server that does not answer a cancel request within this delay after a deadline gets its
	// connection closed, so that a stuck network never holds a pool slot.
	cancelDeadlineDelay = 2 * time.Second
	// Server-side backstops: they stop work whose client has gone. The statement limit is above the
	// longest class, so that the client-side class deadline (which cancels cleanly) fires first.
	backstopMargin          = 5 * time.Second
	lockTimeout             = 10 * time.Second
	idleInTransactionLimit  = 60 * time.Second
	defaultAppName          = "eventmanager"
	defaultPoolTimeoutRetry = "1"
)

// Open builds the pool. It does not connect: WaitReady does, so that start-up can retry with backoff.
func Open(settings config.Database, opts Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(settings.ConnString)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL %s: %s", settings.Redacted, config.RedactURL(err.Error()))
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	d := &DB{settings: settings, slowQuery: opts.SlowQuery, poolTimeout: settings.PoolTimeout, log: logger}
	d.timeouts = [classCount]time.Duration{opts.Timeouts.Simple, opts.Timeouts.Standard, opts.Timeouts.Complex, opts.Timeouts.Report}
	for c, t := range d.timeouts {
		if t <= 0 {
			return nil, fmt.Errorf("query timeout of class %s must be positive", Class(c))
		}
	}

	cfg.MaxConns = settings.ConnectionLimit
	cfg.MinConns = 0
	cfg.MaxConnLifetime = maxConnLifetime
	cfg.MaxConnLifetimeJitter = maxConnLifetimeJitter
	cfg.MaxConnIdleTime = maxConnIdleTime
	cfg.HealthCheckPeriod = healthCheckPeriod

	cc := cfg.ConnConfig
	cc.ConnectTimeout = settings.ConnectTimeout
	// On a deadline, ask the server to cancel the query (so it stops using CPU and locks) and keep the
	// connection; only if the server does not answer in time is the connection closed.
	cc.BuildContextWatcherHandler = func(conn *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: conn, DeadlineDelay: cancelDeadlineDelay}
	}
	appName := opts.AppName
	if appName == "" {
		appName = defaultAppName
	}
	if _, set := cc.RuntimeParams["application_name"]; !set {
		cc.RuntimeParams["application_name"] = appName
	}
	// Quoted, so that a mixed-case schema name is not folded to lower case.
	cc.RuntimeParams["search_path"] = pgx.Identifier{settings.Schema}.Sanitize()
	if !settings.PgBouncer {
		// Session settings are sent in the startup packet: no extra round trip. PgBouncer does not
		// forward them, so behind it they are set per transaction instead.
		cc.RuntimeParams["statement_timeout"] = ms(d.timeouts[Report] + backstopMargin)
		cc.RuntimeParams["lock_timeout"] = ms(lockTimeout)
		cc.RuntimeParams["idle_in_transaction_session_timeout"] = ms(idleInTransactionLimit)
	}
	switch {
	case settings.PgBouncer:
		// Transaction-mode PgBouncer hands each transaction to any server connection: named prepared
		// statements would be missing there. Unnamed statements are safe.
		cc.DefaultQueryExecMode = pgx.QueryExecModeExec
	case settings.StatementCacheSize == 0:
		cc.DefaultQueryExecMode = pgx.QueryExecModeExec
	default:
		cc.StatementCacheCapacity = settings.StatementCacheSize
	}

	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("create pool for %s: %s", settings.Redacted, config.RedactURL(err.Error()))
	}
	d.pool = pool
	return d, nil
}

func ms(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }

// Pool exposes the pgx pool to the health and metrics packages.
func (d *DB) Pool() *pgxpool.Pool { return d.pool }

// Settings are the pool settings this DB was opened with.
func (d *DB) Settings() config.Database { return d.settings }

// Timeout is the timeout of a query class.
func (d *DB) Timeout(c Class) time.Duration { return d.timeouts[c] }

// Close closes every connection of the pool; it waits for acquired connections to be released.
func (d *DB) Close() { d.pool.Close() }

// Ping checks that the database answers a trivial query within timeout.
func (d *DB) Ping(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var one int
	return d.QueryRow(ctx, opPing, "", "SELECT 1", nil, &one)
}

var opPing = Op{Name: "db.ping", Class: Simple}

// WaitReady pings the database until it answers, retrying with exponential backoff (capped at 5 s),
// and gives up after maxWait. Each failure is logged, with the URL's password masked.
func (d *DB) WaitReady(ctx context.Context, maxWait time.Duration) error {
	deadline := time.Now().Add(maxWait)
	backoff := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := d.Ping(ctx, d.timeouts[Simple]+d.settings.ConnectTimeout)
		if err == nil {
			if attempt > 1 {
				d.log.Info("database reachable", "url", d.settings.Redacted, "attempts", attempt)
			}
			return nil
		}
		msg := config.RedactURL(err.Error())
		if time.Now().Add(backoff).After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("database %s not reachable after %s (%d attempts): %s", d.settings.Redacted, maxWait, attempt, msg)
		}
		d.log.Warn("database not reachable, retrying", "url", d.settings.Redacted, "attempt", attempt, "retry_in", backoff.String(), "error", msg)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return ctx.Err()
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// acquire takes a connection, waiting at most pool_timeout for one to become free.
func (d *DB) acquire(ctx context.Context) (*pgxpool.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, wrap(ErrCanceled, err)
	}
	actx := ctx
	if d.poolTimeout > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, d.poolTimeout)
		defer cancel()
	}
	conn, err := d.pool.Acquire(actx)
	if err == nil {
		return conn, nil
	}
	if ctx.Err() != nil {
		return nil, wrap(ErrCanceled, err)
	}
	if errors.Is(err, context.DeadlineExceeded) && actx.Err() != nil {
		return nil, wrap(ErrPoolTimeout, err)
	}
	if t := translate(err, ctx, nil); isOurs(t) {
		return nil, t
	}
	// Any other failure to get a connection means the database cannot be used now.
	return nil, wrap(ErrUnavailable, err)
}
