package db

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Class is a query's timeout class, chosen where the query is written.
//
// The zero Class is not a class: an Op literal that forgets its Class is refused when it runs
// (and TestOpsAreNamedAndClassed catches it before that), instead of silently becoming "simple".
type Class uint8

// The query classes, from the runbook.
const (
	Simple   Class = iota + 1 // single-row lookups by key, counts: 1 s
	Standard                  // lists and joins: 5 s
	Complex                   // aggregations and results: 15 s
	Report                    // reports and exports: 30 s
	classEnd
)

// Classes lists every query class, shortest timeout first.
func Classes() []Class { return []Class{Simple, Standard, Complex, Report} }

// Valid reports whether c is one of the four classes.
func (c Class) Valid() bool { return c >= Simple && c < classEnd }

func (c Class) String() string {
	switch c {
	case Simple:
		return "simple"
	case Standard:
		return "standard"
	case Complex:
		return "complex"
	case Report:
		return "report"
	}
	return "unknown"
}

// Op names a query for logs and metrics and gives its class. Declare one per query in the store,
// e.g. var opEventsList = db.Op{Name: "events.list", Class: db.Standard}. Names are stable
// (dashboards and alerts use them): "<aggregate>.<action>" in lower case.
type Op struct {
	Name  string
	Class Class
	// ReadOnly marks a query that only reads: of the complex or report class, it may run on the
	// read replica (UseReplica).
	ReadOnly bool
}

// errInvalidOp is a programming error: an Op without a name or a class.
var errInvalidOp = errors.New("db: operation needs a name and a valid class")

// Observer is told about every query, for metrics. Its methods run on the path of every query:
// they must be fast and safe for concurrent use.
type Observer interface {
	// ObserveQuery is called once a query that got a connection has ended. elapsed is the time it
	// ran, not counting the wait for the connection; err is nil or an error of this package.
	ObserveQuery(op Op, elapsed time.Duration, err error)
	// ObserveAcquireFailure is called when a query got no connection: ErrPoolTimeout,
	// ErrUnavailable or ErrCanceled. The query never reached the database.
	ObserveAcquireFailure(op Op, err error)
}

// The statements that go in front of a query, in the same batch, so that they cost no round
// trip: a batch is sent with a single Sync, and PostgreSQL runs it as one implicit transaction, so
// that set_config(..., true) applies to the query and ends with it. is_local=true never leaks a
// setting to the next user of a pooled connection, and stays correct behind PgBouncer in
// transaction mode (a batch is one transaction there, on one server connection).
const (
	// setTenantSQL scopes the rest of the transaction (or implicit batch transaction) to one tenant.
	setTenantSQL = "SELECT set_config('app.tenant_id', $1, true)"
	// Behind PgBouncer the startup parameters (statement_timeout and lock_timeout among them) are
	// not forwarded to the server, so every query carries its own server-side backstop.
	backstopSQL       = "SELECT set_config('statement_timeout', $1, true), set_config('lock_timeout', $2, true)"
	backstopTenantSQL = "SELECT set_config('statement_timeout', $1, true), set_config('lock_timeout', $2, true), set_config('app.tenant_id', $3, true)"
	// Every transaction gets its class's limits, in both modes: a transaction of simple queries
	// must not hold its locks, or sit idle, for as long as a report may run.
	txSettingsSQL       = "SELECT set_config('statement_timeout', $1, true), set_config('lock_timeout', $2, true), set_config('idle_in_transaction_session_timeout', $3, true)"
	txSettingsTenantSQL = "SELECT set_config('statement_timeout', $1, true), set_config('lock_timeout', $2, true), set_config('idle_in_transaction_session_timeout', $3, true), set_config('app.tenant_id', $4, true)"
	// searchPathSQL goes in front of every query and transaction behind PgBouncer when the schema
	// is not public: PgBouncer does not pass search_path on from the startup packet.
	searchPathSQL = "SELECT set_config('search_path', $1, true)"
)

// prelude returns a batch holding what must run before a single-statement query in its implicit
// transaction, or nil when the query can be sent on its own.
func (d *DB) prelude(op Op, tenantID string) *pgx.Batch {
	b := d.backstopPrelude(op, tenantID)
	if b != nil && d.searchPath != "" {
		b.Queue(searchPathSQL, d.searchPath)
	}
	return b
}

func (d *DB) backstopPrelude(op Op, tenantID string) *pgx.Batch {
	switch {
	case d.settings.PgBouncer && tenantID != "":
		b := &pgx.Batch{}
		b.Queue(backstopTenantSQL, d.backstopMS[op.Class], d.lockMS, tenantID)
		return b
	case d.settings.PgBouncer:
		b := &pgx.Batch{}
		b.Queue(backstopSQL, d.backstopMS[op.Class], d.lockMS)
		return b
	case tenantID != "":
		b := &pgx.Batch{}
		b.Queue(setTenantSQL, tenantID)
		return b
	}
	return nil
}

// Query runs a query that returns rows and hands them to scan. With a tenantID (or behind
// PgBouncer), the settings and the query go in one batch: one round trip, one implicit transaction.
func (d *DB) Query(ctx context.Context, op Op, tenantID string, scan func(pgx.Rows) error, sql string, args ...any) error {
	if done, err := d.onReplica(op, tenantID, func(r *DB) error { return r.Query(ctx, op, tenantID, scan, sql, args...) }); done {
		return err
	}
	return d.run(ctx, op, func(qctx context.Context, conn *pgxpool.Conn) error {
		b := d.prelude(op, tenantID)
		if b == nil {
			rows, err := conn.Query(qctx, sql, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			if err := scan(rows); err != nil {
				return err
			}
			rows.Close()
			return rows.Err()
		}
		b.Queue(sql, args...).Query(scan)
		return conn.SendBatch(qctx, b).Close()
	})
}

// QueryRow runs a query that returns one row and scans it into dest; no row is ErrNotFound.
func (d *DB) QueryRow(ctx context.Context, op Op, tenantID string, sql string, args []any, dest ...any) error {
	if done, err := d.onReplica(op, tenantID, func(r *DB) error { return r.QueryRow(ctx, op, tenantID, sql, args, dest...) }); done {
		return err
	}
	return d.run(ctx, op, func(qctx context.Context, conn *pgxpool.Conn) error {
		b := d.prelude(op, tenantID)
		if b == nil {
			return conn.QueryRow(qctx, sql, args...).Scan(dest...)
		}
		b.Queue(sql, args...).QueryRow(func(row pgx.Row) error { return row.Scan(dest...) })
		return conn.SendBatch(qctx, b).Close()
	})
}

// Exec runs a statement that returns no rows.
func (d *DB) Exec(ctx context.Context, op Op, tenantID string, sql string, args ...any) (pgconn.CommandTag, error) {
	d.noteWrite(tenantID)
	var tag pgconn.CommandTag
	err := d.run(ctx, op, func(qctx context.Context, conn *pgxpool.Conn) error {
		b := d.prelude(op, tenantID)
		if b == nil {
			var err error
			tag, err = conn.Exec(qctx, sql, args...)
			return err
		}
		b.Queue(sql, args...).Exec(func(ct pgconn.CommandTag) error { tag = ct; return nil })
		return conn.SendBatch(qctx, b).Close()
	})
	return tag, err
}

// Tx is a transaction handed to InTx's function. Its statements share the transaction's deadline.
type Tx struct {
	tx  pgx.Tx
	ctx context.Context
}

// Query runs a query in the transaction; the caller must close the rows.
func (t *Tx) Query(sql string, args ...any) (pgx.Rows, error) { return t.tx.Query(t.ctx, sql, args...) }

// QueryRow runs a query that returns one row in the transaction.
func (t *Tx) QueryRow(sql string, args ...any) pgx.Row { return t.tx.QueryRow(t.ctx, sql, args...) }

// Exec runs a statement in the transaction.
func (t *Tx) Exec(sql string, args ...any) (pgconn.CommandTag, error) {
	return t.tx.Exec(t.ctx, sql, args...)
}

// SendBatch sends several statements in one round trip.
func (t *Tx) SendBatch(b *pgx.Batch) pgx.BatchResults { return t.tx.SendBatch(t.ctx, b) }

// SetTenant scopes the rest of the transaction to tenantID, for transactions that learn their tenant
// on the way (creating a tenant).
func (t *Tx) SetTenant(tenantID string) error {
	_, err := t.tx.Exec(t.ctx, setTenantSQL, tenantID)
	return err
}

// InTx runs fn in a transaction scoped to tenantID (when set) and commits when fn returns nil.
// The whole transaction runs under op's class deadline. On the server, each of its statements is
// limited to the class timeout plus a margin, and the transaction may not sit idle longer than that
// (SET LOCAL, so also behind PgBouncer). The deferred rollback uses a context that cannot be
// cancelled, so a cancelled request never leaves its transaction open on a pooled connection.
func (d *DB) InTx(ctx context.Context, op Op, tenantID string, fn func(tx *Tx) error) error {
	d.noteWrite(tenantID)
	return d.run(ctx, op, func(qctx context.Context, conn *pgxpool.Conn) error {
		tx, err := conn.Begin(qctx)
		if err != nil {
			return err
		}
		defer func() {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_ = tx.Rollback(rctx) // no-op after a commit
		}()
		b := &pgx.Batch{}
		limit := d.backstopMS[op.Class]
		if tenantID == "" {
			b.Queue(txSettingsSQL, limit, d.lockMS, limit)
		} else {
			b.Queue(txSettingsTenantSQL, limit, d.lockMS, limit, tenantID)
		}
		if d.searchPath != "" {
			b.Queue(searchPathSQL, d.searchPath)
		}
		if err := tx.SendBatch(qctx, b).Close(); err != nil {
			return err
		}
		if err := fn(&Tx{tx: tx, ctx: qctx}); err != nil {
			return err
		}
		return tx.Commit(qctx)
	})
}

// run acquires a connection (waiting at most pool_timeout), runs fn under the class deadline,
// translates its error, logs slow queries and tells the observer.
func (d *DB) run(ctx context.Context, op Op, fn func(context.Context, *pgxpool.Conn) error) error {
	if op.Name == "" || !op.Class.Valid() {
		return fmt.Errorf("%w: %+v", errInvalidOp, op)
	}
	conn, err := d.acquire(ctx)
	if err != nil {
		if d.observer != nil {
			d.observer.ObserveAcquireFailure(op, err)
		}
		return err
	}
	defer conn.Release()

	timeout := d.timeouts[op.Class]
	if st := d.settings.SocketTimeout; st > 0 && st < timeout {
		timeout = st
	}
	// The deadline is enforced by pgx's context watcher: when it passes, a cancel request stops the
	// query on the server (see BuildContextWatcherHandler in Open), and the call returns once the
	// server has answered, with the connection in a known state.
	qctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	err = fn(qctx, conn)
	elapsed := time.Since(start)
	err = translate(err, ctx, qctx)
	d.logSlow(ctx, op, timeout, elapsed, err)
	if d.observer != nil {
		d.observer.ObserveQuery(op, elapsed, err)
	}
	return err
}

// logSlow logs slow queries: one WARN line past half the class timeout (timeouts included), else
// one INFO line past SLOW_QUERY_THRESHOLD. Never the SQL parameters nor the error text: they can
// hold personal data (PostgreSQL quotes the offending value in some messages).
func (d *DB) logSlow(ctx context.Context, op Op, timeout, elapsed time.Duration, err error) {
	var level slog.Level
	switch {
	case elapsed > timeout/2:
		level = slog.LevelWarn
	case d.slowQuery > 0 && elapsed > d.slowQuery:
		level = slog.LevelInfo
	default:
		return
	}
	d.log.LogAttrs(ctx, level, "slow query",
		slog.String("operation", op.Name),
		slog.String("class", op.Class.String()),
		slog.Int64("duration_ms", elapsed.Milliseconds()),
		slog.Int64("timeout_ms", timeout.Milliseconds()),
		slog.Int("percent_of_timeout", int(100*elapsed/timeout)),
		slog.String("request_id", RequestID(ctx)),
		slog.String("outcome", outcome(err)),
	)
}

// outcome names the result of a query in one word, for the slow-query log.
func outcome(err error) string {
	switch {
	case err == nil, errors.Is(err, ErrNotFound):
		return "ok"
	case errors.Is(err, ErrQueryTimeout):
		return "timeout"
	case errors.Is(err, ErrCanceled):
		return "canceled"
	}
	return "error"
}
