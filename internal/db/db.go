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
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Options are the settings of the database layer that do not come from DATABASE_URL.
type Options struct {
	Timeouts  config.QueryTimeouts
	SlowQuery time.Duration // every query slower than this is logged at INFO
	Logger    *slog.Logger
	AppName   string   // application_name seen in pg_stat_activity
	Observer  Observer // told about every query (metrics); nil for none
}

// DB is the bounded connection pool and the query API on top of it.
type DB struct {
	pool        *pgxpool.Pool
	settings    config.Database
	timeouts    [classEnd]time.Duration
	backstopMS  [classEnd]string // statement_timeout of each class on the server, in ms
	lockMS      string           // lock_timeout in ms
	slowQuery   time.Duration
	poolTimeout time.Duration
	log         *slog.Logger
	observer    Observer
	searchPath  string   // set per query behind PgBouncer (see searchPathSQL); "" when not needed
	replica     *replica // nil without DATABASE_REPLICA_URL (replica.go)
}

// Connection lifetimes: long enough that connections are reused, short enough that a server-side
// change (a failover, a new setting) reaches every connection within the hour. The jitter spreads
// expiries so that the whole pool never reconnects at the same moment.
const (
	maxConnLifetime       = 30 * time.Minute
	maxConnLifetimeJitter = 5 * time.Minute
	maxConnIdleTime       = 5 * time.Minute
	healthCheckPeriod     = 30 * time.Second
	// After a deadline, pgx sends a cancel request and keeps reading; a server that has not answered
	// within this delay gets its connection closed, so that a stuck network never holds a pool slot.
	cancelDeadlineDelay = 2 * time.Second
	// Server-side backstops stop work whose client has gone (see backstop). lock_timeout bounds the
	// wait for a lock whatever the class; the class deadline is usually shorter anyway.
	maxBackstopMargin = 5 * time.Second
	lockTimeout       = 10 * time.Second
	// idleInTransactionLimit is the session's fallback; InTx lowers it to the class backstop.
	idleInTransactionLimit = 60 * time.Second
	defaultAppName         = "eventmanager"
)

// backstop is the server-side statement_timeout that goes with a client-side timeout t. The client
// deadline must fire first: its cancel is the clean path, logged and counted as what it is. The
// margin covers the time the cancel request takes to reach the server; it is half of t, at most
// 5 s, so that short test timeouts give short backstops (30 s gives 35 s, 1 s gives 1.5 s).
func backstop(t time.Duration) time.Duration { return t + min(t/2, maxBackstopMargin) }

// Open builds the pool. It does not connect: WaitReady does, so that start-up can retry with backoff.
func Open(settings config.Database, opts Options) (*DB, error) { return open(settings, opts, nil) }

// open is Open with a hook that changes the pool configuration last (tests put their own dialer
// between the pool and the server with it).
func open(settings config.Database, opts Options, adjust func(*pgxpool.Config)) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(settings.ConnString)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL %s: %s", settings.Redacted, config.RedactURL(err.Error()))
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	d := &DB{settings: settings, slowQuery: opts.SlowQuery, poolTimeout: settings.PoolTimeout, log: logger,
		observer: opts.Observer, lockMS: ms(lockTimeout)}
	d.timeouts[Simple] = opts.Timeouts.Simple
	d.timeouts[Standard] = opts.Timeouts.Standard
	d.timeouts[Complex] = opts.Timeouts.Complex
	d.timeouts[Report] = opts.Timeouts.Report
	var longest time.Duration
	for _, c := range Classes() {
		t := d.timeouts[c]
		if t <= 0 {
			return nil, fmt.Errorf("query timeout of class %s must be positive", c)
		}
		d.backstopMS[c] = ms(backstop(t))
		longest = max(longest, t)
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
	// connection; only if the server does not answer within cancelDeadlineDelay is the connection
	// closed. The alternative, DeadlineContextWatcherHandler, closes the connection at once: pgx
	// then sends the same cancel request while closing, and every timeout also costs the database a
	// new connection (TCP, TLS, authentication, a fresh backend, an empty statement cache). Under a
	// storm of timeouts, usually on a database that is already overloaded, that reconnecting is the
	// worse cost; ours is a pool slot held 100 ms longer per timeout (pgx's guard against the cancel
	// hitting the next query). Measurements in docs/timeouts.md.
	cc.BuildContextWatcherHandler = func(conn *pgconn.PgConn) ctxwatch.Handler {
		if settings.PgBouncer {
			return &bouncerCancelHandler{conn: conn, deadlineDelay: cancelDeadlineDelay}
		}
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
	searchPath := pgx.Identifier{settings.Schema}.Sanitize()
	if !settings.PgBouncer {
		cc.RuntimeParams["search_path"] = searchPath
	} else if settings.Schema != "public" {
		// PgBouncer refuses search_path in the startup packet ("unsupported startup parameter"),
		// so behind it every query and transaction sets its own (is_local, in the same batch).
		d.searchPath = searchPath
	}
	if !settings.PgBouncer {
		// Server-side backstops in the startup packet: no extra round trip, and they hold for every
		// statement of the session even when its client dies without a word. The statement limit
		// is the longest class's, since any class may run on the connection; transactions lower it
		// to their own class (InTx). PgBouncer does not forward startup parameters, so behind it
		// every query carries its own limits instead (prelude).
		cc.RuntimeParams["statement_timeout"] = ms(backstop(longest))
		cc.RuntimeParams["lock_timeout"] = d.lockMS
		cc.RuntimeParams["idle_in_transaction_session_timeout"] = ms(idleInTransactionLimit)
	}
	switch {
	case settings.PgBouncer, settings.StatementCacheSize == 0:
		// Transaction-mode PgBouncer hands each transaction to any server connection: named prepared
		// statements would be missing there. Unnamed statements are safe. The descriptions
		// (parameter and result types) are cached here, in the client: without them (exec mode)
		// pgx must guess each parameter's type from its Go type and cannot encode a map into a
		// jsonb column (the audit log's data), which the tests through a real PgBouncer showed.
		cc.DefaultQueryExecMode = pgx.QueryExecModeCacheDescribe
	default:
		cc.StatementCacheCapacity = settings.StatementCacheSize
	}

	if adjust != nil {
		adjust(cfg)
	}
	// Times leave the service in UTC (RFC 3339 with Z) whatever the host's time zone: scan
	// timestamptz values into UTC instead of time.Local.
	cfg.AfterConnect = func(_ context.Context, conn *pgx.Conn) error {
		conn.TypeMap().RegisterType(&pgtype.Type{Name: "timestamptz", OID: pgtype.TimestamptzOID,
			Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC}})
		return nil
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
func (d *DB) Timeout(c Class) time.Duration {
	if !c.Valid() {
		return 0
	}
	return d.timeouts[c]
}

// Backstop is the server-side statement_timeout that stops a query of class c whose client has
// gone: the class timeout plus a margin (half of it, at most 5 s).
func (d *DB) Backstop(c Class) time.Duration {
	if !c.Valid() {
		return 0
	}
	return backstop(d.timeouts[c])
}

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

// acquire takes a connection, waiting at most what is left of the request's pool_timeout (see
// WithRequestID). A request that is bound to fail never takes a connection: one whose client has
// gone, or one that has already waited its whole pool_timeout on earlier queries, is refused at
// once instead of queueing again and then running work whose answer nobody can use.
func (d *DB) acquire(ctx context.Context) (*pgxpool.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, wrap(ErrCanceled, err)
	}
	actx := ctx
	var req *request
	if d.poolTimeout > 0 {
		var left time.Duration
		left, req = poolWaitLeft(ctx, d.poolTimeout)
		if left <= 0 {
			return nil, wrap(ErrPoolTimeout, errPoolBudgetSpent)
		}
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, left)
		defer cancel()
	}
	start := time.Now()
	conn, err := d.pool.Acquire(actx)
	if req != nil {
		req.waited.Add(int64(time.Since(start)))
	}
	if err == nil {
		if cerr := ctx.Err(); cerr != nil {
			// The client went away while we waited: give the connection to someone who is still there.
			conn.Release()
			return nil, wrap(ErrCanceled, cerr)
		}
		return conn, nil
	}
	if ctx.Err() != nil {
		return nil, wrap(ErrCanceled, err)
	}
	if errors.Is(err, context.DeadlineExceeded) && actx.Err() != nil {
		if req != nil {
			// The wait measured above starts after the timer, so it falls a little short of the
			// budget; the budget is spent all the same, and the next query must not queue on a crumb.
			req.waited.Store(int64(d.poolTimeout))
		}
		return nil, wrap(ErrPoolTimeout, err)
	}
	if t := translate(err, ctx, nil); isOurs(t) {
		return nil, t
	}
	// Any other failure to get a connection means the database cannot be used now.
	return nil, wrap(ErrUnavailable, err)
}

// errPoolBudgetSpent is the cause of a pool timeout of a request that has already waited its whole
// pool_timeout for earlier queries.
var errPoolBudgetSpent = errors.New("the request has already waited pool_timeout for connections")
