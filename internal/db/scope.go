package db

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// QueryRowScoped is QueryRow for a query whose tenant is not known yet but follows from its
// arguments: sign-in (the tenant of a slug) and token checks (the tenant of a session). tenantSQL
// must set app.tenant_id transaction-locally from a sub-select, for example
//
//	SELECT set_config('app.tenant_id', (SELECT id::text FROM tenants WHERE slug = $1), true)
//
// It goes in the same batch as the query, so row-level security applies to the query with that
// tenant, in one round trip and one implicit transaction. When the sub-select finds nothing, the
// setting is empty and the query sees no tenant rows: ErrNotFound.
func (d *DB) QueryRowScoped(ctx context.Context, op Op, tenantSQL string, tenantArgs []any, sql string, args []any, dest ...any) error {
	return d.run(ctx, op, func(qctx context.Context, conn *pgxpool.Conn) error {
		// Behind PgBouncer the batch also carries the server-side backstop (see prelude).
		b := d.prelude(op, "")
		if b == nil {
			b = &pgx.Batch{}
		}
		b.Queue(tenantSQL, tenantArgs...)
		b.Queue(sql, args...).QueryRow(func(row pgx.Row) error { return row.Scan(dest...) })
		return conn.SendBatch(qctx, b).Close()
	})
}

// setSystemScopeSQL lets the rest of the transaction write the rows of no tenant (global settings,
// global rate-limit tiers and their audit records); the row-level security policies of migration
// 00003 check it. It gives no access to any tenant's rows.
const setSystemScopeSQL = "SELECT set_config('app.scope', 'system', true)"

// SetSystemScope lets the rest of the transaction write rows of no tenant (tenant_id NULL), for
// SUPER_ADMIN operations and the operator's CLI. Transaction-local, like the tenant setting.
func (t *Tx) SetSystemScope() error {
	_, err := t.tx.Exec(t.ctx, setSystemScopeSQL)
	return err
}
