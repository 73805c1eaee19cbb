package db

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Class is a query's timeout class, chosen where the query is written.
type Class uint8

// The query classes, from the runbook.
const (
	Simple   Class = iota // single-row lookups by key, counts: 1 s
	Standard              // lists and joins: 5 s
	Complex               // aggregations and results: 15 s
	Report                // reports and exports: 30 s
	classCount
)

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
// e.g. var opEventsList = db.Op{Name: "events.list", Class: db.Standard}.
type Op struct {
	Name  string
	Class Class
}

// setTenantSQL scopes the rest of the transaction (or implicit batch transaction) to one tenant.
// is_local=true: the setting ends with the transaction, so it can never leak to the next user of a
// pooled connection, and it stays correct behind PgBouncer in transaction mode.
const setTenantSQL = "SELECT set_config('app.tenant_id', $1, true)"

// Query runs a query that returns rows and hands them to scan. With a tenantID, the tenant setting
// and the query go in one batch: one round trip, one implicit transaction.
func (d *DB) Query(ctx context.Context, op Op, tenantID string, scan func(pgx.Rows) error, sql string, args ...any) error {
	return d.run(ctx, op, func(qctx context.Context, conn *pgxpool.Conn) error {
		if tenantID == "" {
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
		b := &pgx.Batch{}
		b.Queue(setTenantSQL, tenantID)
		b.Queue(sql, args...).Query(scan)
		return conn.SendBatch(qctx, b).Close()
	})
}

// QueryRow runs a query that returns one row and scans it into dest; no row is ErrNotFound.
func (d *DB) QueryRow(ctx context.Context, op Op, tenantID string, sql string, args []any, dest ...any) error {
	return d.run(ctx, op, func(qctx context.Context, conn *pgxpool.Conn) error {
		if tenantID == "" {
			return conn.QueryRow(qctx, sql, args...).Scan(dest...)
		}
		b := &pgx.Batch{}
		b.Queue(setTenantSQL, tenantID)
		b.Queue(sql, args...).QueryRow(func(row pgx.Row) error { return row.Scan(dest...) })
		return conn.SendBatch(qctx, b).Close()
	})
}

// Exec runs a statement that returns no rows.
func (d *DB) Exec(ctx context.Context, op Op, tenantID string, sql string, args ...any) (pgconn.CommandTag, error) {
	var tag pgconn.CommandTag
	err := d.run(ctx, op, func(qctx context.Context, conn *pgxpool.Conn) error {
		if tenantID == "" {
			var err error
			tag, err = conn.Exec(qctx, sql, args...)
			return err
		}
		b := &pgx.Batch{}
		b.Queue(setTenantSQL, tenantID)
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

// InTx runs fn in a transaction scoped to tenantID (when set) and commits when fn returns nil.
// The whole transaction runs under op's class deadline, enforced also on the server with
// SET LOCAL statement_timeout. The deferred rollback uses a context that cannot be cancelled, so a
// cancelled request never leaves its transaction open on a pooled connection.
func (d *DB) InTx(ctx context.Context, op Op, tenantID string, fn func(tx *Tx) error) error {
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
		b.Queue("SELECT set_config('statement_timeout', $1, true)", ms(d.timeouts[op.Class]+backstopMargin))
		if tenantID != "" {
			b.Queue(setTenantSQL, tenantID)
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
// translates its error and logs slow queries.
func (d *DB) run(ctx context.Context, op Op, fn func(context.Context, *pgxpool.Conn) error) error {
	conn, err := d.acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()

	timeout := d.timeouts[op.Class]
	if st := d.settings.SocketTimeout; st > 0 && st < timeout {
		timeout = st
	}
	qctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	err = fn(qctx, conn)
	elapsed := time.Since(start)
	err = translate(err, ctx, qctx)
	d.observe(ctx, op, timeout, elapsed, err)
	return err
}

// observe logs slow queries: WARN past half the class timeout, INFO past SLOW_QUERY_THRESHOLD.
// Never the SQL parameters: they can hold personal data.
func (d *DB) observe(ctx context.Context, op Op, timeout, elapsed time.Duration, err error) {
	var level slog.Level
	switch {
	case elapsed > timeout/2:
		level = slog.LevelWarn
	case d.slowQuery > 0 && elapsed > d.slowQuery:
		level = slog.LevelInfo
	default:
		return
	}
	d.log.Log(ctx, level, "slow query",
		"operation", op.Name,
		"class", op.Class.String(),
		"duration_ms", elapsed.Milliseconds(),
		"timeout_ms", timeout.Milliseconds(),
		"percent_of_timeout", int(100*elapsed/timeout),
		"request_id", RequestID(ctx),
		"failed", err != nil,
	)
}

// SetTenant scopes the rest of the transaction to tenantID, for transactions that learn their tenant
// on the way (creating a tenant).
func (t *Tx) SetTenant(tenantID string) error {
	_, err := t.tx.Exec(t.ctx, setTenantSQL, tenantID)
	return err
}
