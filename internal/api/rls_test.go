package api_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/bouncertest"
	"github.com/eventmanager/eventmanager/internal/config"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"
)

// rlsTables are the tenant-owned tables; rlsGlobalTables also hold rows of no tenant (tenant_id NULL).
var (
	rlsTables = []string{"users", "events", "contests", "categories", "criteria", "contestants",
		"category_contestants", "judges", "assignments", "scores", "deductions", "category_certifications",
		"idempotency_keys", "rate_limit_configs", "system_settings", "audit_logs"}
	rlsGlobalTables = map[string]bool{"rate_limit_configs": true, "system_settings": true, "audit_logs": true}
)

// rlsFixture is one tenant with a row in every tenant-owned table.
type rlsFixture struct {
	tenantID, adminID, token                               string
	event, contest, category, criterion, contestant, judge string
}

var opRLSTest = db.Op{Name: "test.rls", Class: db.Standard}

// rlsFixtures creates a tenant and, through the service's own pool scoped to the tenant (as the
// store writes), one row in every tenant-owned table.
func (e *env) rlsFixtures(slug string) rlsFixture {
	e.t.Helper()
	f := rlsFixture{token: e.tenant(slug)}
	ten, err := e.store.TenantBySlug(context.Background(), slug)
	require.NoError(e.t, err)
	f.tenantID = ten.ID
	admin, err := e.store.UserByEmail(context.Background(), ten.ID, "admin@"+slug+".test")
	require.NoError(e.t, err)
	f.adminID = admin.ID
	err = e.db.InTx(context.Background(), opRLSTest, f.tenantID, func(tx *db.Tx) error {
		id := func(dst *string, sql string, args ...any) {
			if err == nil {
				err = tx.QueryRow(sql, args...).Scan(dst)
			}
		}
		id(&f.event, `INSERT INTO events (tenant_id, name, start_date, end_date) VALUES ($1, 'Show', now(), now()) RETURNING id`, f.tenantID)
		id(&f.contest, `INSERT INTO contests (tenant_id, event_id, name) VALUES ($1, $2, 'Solo') RETURNING id`, f.tenantID, f.event)
		id(&f.category, `INSERT INTO categories (tenant_id, contest_id, name) VALUES ($1, $2, 'Vocal') RETURNING id`, f.tenantID, f.contest)
		id(&f.criterion, `INSERT INTO criteria (tenant_id, category_id, name, max_score) VALUES ($1, $2, 'Pitch', 10) RETURNING id`, f.tenantID, f.category)
		id(&f.contestant, `INSERT INTO contestants (tenant_id, name) VALUES ($1, 'Ada') RETURNING id`, f.tenantID)
		var scratch string
		id(&scratch, `INSERT INTO category_contestants (tenant_id, category_id, contestant_id) VALUES ($1, $2, $3) RETURNING 'ok'`,
			f.tenantID, f.category, f.contestant)
		id(&f.judge, `INSERT INTO judges (tenant_id, name) VALUES ($1, 'Judy') RETURNING id`, f.tenantID)
		id(&scratch, `INSERT INTO assignments (tenant_id, judge_id, category_id) VALUES ($1, $2, $3) RETURNING id`, f.tenantID, f.judge, f.category)
		id(&scratch, `INSERT INTO scores (tenant_id, category_id, contestant_id, judge_id, criterion_id, score)
			VALUES ($1, $2, $3, $4, $5, 7.5) RETURNING id`, f.tenantID, f.category, f.contestant, f.judge, f.criterion)
		id(&scratch, `INSERT INTO deductions (tenant_id, category_id, contestant_id, amount, reason, created_by)
			VALUES ($1, $2, $3, 1, 'late', $4) RETURNING id`, f.tenantID, f.category, f.contestant, f.adminID)
		id(&scratch, `INSERT INTO category_certifications (tenant_id, category_id, step, judge_id, certified_by)
			VALUES ($1, $2, 'JUDGE', $3, $4) RETURNING id`, f.tenantID, f.category, f.judge, f.adminID)
		id(&scratch, `INSERT INTO idempotency_keys (tenant_id, user_id, key, request_hash, response_status, response_body)
			VALUES ($1, $2, 'k1', sha256('x'), 200, '{}') RETURNING key`, f.tenantID, f.adminID)
		id(&scratch, `INSERT INTO rate_limit_configs (tenant_id, tier, per_minute, per_hour, burst) VALUES ($1, 'pro', 60, 600, 10) RETURNING id`, f.tenantID)
		id(&scratch, `INSERT INTO system_settings (tenant_id, key, value) VALUES ($1, 'theme', '"dark"') RETURNING id`, f.tenantID)
		return err
	})
	require.NoError(e.t, err)
	return f
}

// rlsGlobalRows writes rows of no tenant, in a transaction that takes the system scope.
func (e *env) rlsGlobalRows() {
	e.t.Helper()
	require.NoError(e.t, e.db.InTx(context.Background(), opRLSTest, "", func(tx *db.Tx) error {
		if err := tx.SetSystemScope(); err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO rate_limit_configs (tier, per_minute, per_hour, burst) VALUES ('rls-test', 10, 100, 2)`); err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO system_settings (key, value) VALUES ('theme', '"light"')`); err != nil {
			return err
		}
		_, err := tx.Exec(`INSERT INTO audit_logs (action, entity_type, data) VALUES ('setting.updated', 'setting', '{}')`)
		return err
	}))
}

// rlsConnect opens a connection of its own; without named prepared statements, so that it also
// works through PgBouncer in transaction mode.
func rlsConnect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(url)
	require.NoError(t, err)
	cfg.DefaultQueryExecMode = pgx.QueryExecModeExec
	conn, err := pgx.ConnectConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func rlsCount(t *testing.T, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, q.QueryRow(context.Background(), sql, args...).Scan(&n), sql)
	return n
}

// The service's database role, with no tenant setting, sees no row of any tenant in any table; with
// a tenant setting it sees that tenant's rows only. It owns none of the tables.
func TestRowLevelSecurityHidesEveryTenantRow(t *testing.T) {
	t.Parallel()
	bouncertest.Run(t, testRowLevelSecurityHidesEveryTenantRow)
}

func testRowLevelSecurityHidesEveryTenantRow(t *testing.T, mode bouncertest.Mode) {
	ctx := context.Background()
	e := newEnvVia(t, mode, nil)
	a, b := e.rlsFixtures("rls-a"), e.rlsFixtures("rls-b")
	e.rlsGlobalRows()

	serviceURL := e.db.Settings().ConnString
	svc := rlsConnect(t, serviceURL)
	var role string
	var super, bypass bool
	require.NoError(t, svc.QueryRow(ctx, `SELECT current_user::text, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user`).
		Scan(&role, &super, &bypass))
	require.False(t, super, "the service's role must not be a superuser")
	require.False(t, bypass, "the service's role must not bypass row-level security")
	admin := rlsConnect(t, dbtest.AdminURL(t, serviceURL))

	for _, table := range rlsTables {
		// The owner is not the service's role (nor a role it inherits), which could turn row-level
		// security off.
		var owns bool
		require.NoError(t, admin.QueryRow(ctx, `SELECT pg_has_role($1, c.relowner, 'USAGE') FROM pg_class c
			WHERE c.relnamespace = 'public'::regnamespace AND c.relname = $2`, role, table).Scan(&owns))
		require.False(t, owns, table)
		// The rows exist: the superuser, who bypasses row-level security, sees both tenants'.
		for _, f := range []rlsFixture{a, b} {
			require.Positive(t, rlsCount(t, admin, `SELECT count(*) FROM `+table+` WHERE tenant_id = $1`, f.tenantID), table)
		}

		// No tenant setting: no tenant row, with or without a filter.
		require.Zero(t, rlsCount(t, svc, `SELECT count(*) FROM `+table+` WHERE tenant_id IS NOT NULL`), table)
		require.Zero(t, rlsCount(t, svc, `SELECT count(*) FROM `+table+` WHERE tenant_id = $1`, a.tenantID), table)
		if !rlsGlobalTables[table] {
			require.Zero(t, rlsCount(t, svc, `SELECT count(*) FROM `+table), table)
		} else {
			// Rows of no tenant are readable by everyone.
			require.Positive(t, rlsCount(t, svc, `SELECT count(*) FROM `+table+` WHERE tenant_id IS NULL`), table)
		}

		// Tenant A's setting: A's rows only, even when the query asks for B's or forgets its filter.
		for _, f := range []rlsFixture{a, b} {
			tx, err := svc.Begin(ctx)
			require.NoError(t, err)
			_, err = tx.Exec(ctx, `SELECT set_config('app.tenant_id', $1, true)`, f.tenantID)
			require.NoError(t, err)
			other := b.tenantID
			if f.tenantID == b.tenantID {
				other = a.tenantID
			}
			require.Zero(t, rlsCount(t, tx, `SELECT count(*) FROM `+table+` WHERE tenant_id = $1`, other), table)
			require.Equal(t,
				rlsCount(t, admin, `SELECT count(*) FROM `+table+` WHERE tenant_id = $1`, f.tenantID),
				rlsCount(t, tx, `SELECT count(*) FROM `+table+` WHERE tenant_id IS NOT NULL`), table)
			require.NoError(t, tx.Rollback(ctx))
		}
	}
	// The setting is transaction-local: nothing is left on the connection afterwards.
	require.Zero(t, rlsCount(t, svc, `SELECT count(*) FROM events`))
}

// Every table with a tenant_id column (including those of later migrations) has row-level security
// enabled and forced, with at least one policy. The documented exceptions are the tables read by
// the hash of a secret before the tenant is known: sessions, sign_in_links and audience_links
// (migrations 00003 and 00010).
func TestEveryTenantTableHasRowLevelSecurity(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := rlsConnect(t, dbtest.NewDatabase(t))
	rows, err := conn.Query(ctx, `SELECT c.relname::text, c.relrowsecurity, c.relforcerowsecurity,
			(SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
		  AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
		ORDER BY 1`)
	require.NoError(t, err)
	seen := map[string]bool{}
	for rows.Next() {
		var (
			table           string
			enabled, forced bool
			policies        int
		)
		require.NoError(t, rows.Scan(&table, &enabled, &forced, &policies))
		seen[table] = true
		if table == "sessions" || table == "sign_in_links" || table == "audience_links" {
			require.False(t, enabled, "%s is read by a secret's hash before the tenant is known", table)
			continue
		}
		require.True(t, enabled, "%s: row-level security is not enabled", table)
		require.True(t, forced, "%s: row-level security is not forced on the owner", table)
		require.Positive(t, policies, "%s has no policy", table)
	}
	require.NoError(t, rows.Err())
	for _, table := range rlsTables {
		require.True(t, seen[table], table)
	}
}

// A row of one tenant cannot point at another tenant's row: the composite foreign keys refuse it,
// whoever writes it (row-level security does not apply to foreign-key checks, and the superuser
// bypasses it altogether).
func TestCrossTenantReferencesRejected(t *testing.T) {
	t.Parallel()
	bouncertest.Run(t, testCrossTenantReferencesRejected)
}

func testCrossTenantReferencesRejected(t *testing.T, mode bouncertest.Mode) {
	ctx := context.Background()
	e := newEnvVia(t, mode, nil)
	a, b := e.rlsFixtures("xref-a"), e.rlsFixtures("xref-b")
	admin := rlsConnect(t, dbtest.AdminURL(t, e.db.Settings().ConnString))

	// A second category of A, so that an entry of B's contestant would be new.
	var catA2 string
	require.NoError(t, e.db.QueryRow(ctx, opRLSTest, a.tenantID,
		`INSERT INTO categories (tenant_id, contest_id, name) VALUES ($1, $2, 'Dance') RETURNING id`,
		[]any{a.tenantID, a.contest}, &catA2))

	writes := []struct {
		name, sql string
		args      []any
	}{
		{"A's category enters B's contestant", `INSERT INTO category_contestants (tenant_id, category_id, contestant_id) VALUES ($1, $2, $3)`,
			[]any{a.tenantID, catA2, b.contestant}},
		{"A's score of B's contestant", `INSERT INTO scores (tenant_id, category_id, contestant_id, judge_id, criterion_id, score) VALUES ($1, $2, $3, $4, $5, 5)`,
			[]any{a.tenantID, a.category, b.contestant, a.judge, a.criterion}},
		{"A's score by B's judge", `INSERT INTO scores (tenant_id, category_id, contestant_id, judge_id, criterion_id, score) VALUES ($1, $2, $3, $4, $5, 5)`,
			[]any{a.tenantID, a.category, a.contestant, b.judge, a.criterion}},
		{"A's contest in B's event", `INSERT INTO contests (tenant_id, event_id, name) VALUES ($1, $2, 'x')`,
			[]any{a.tenantID, b.event}},
		{"A's judge linked to B's user", `INSERT INTO judges (tenant_id, name, user_id) VALUES ($1, 'x', $2)`,
			[]any{a.tenantID, b.adminID}},
	}
	for _, w := range writes {
		_, err := e.db.Exec(ctx, opRLSTest, a.tenantID, w.sql, w.args...)
		require.ErrorIs(t, err, db.ErrInvalidReference, "as the service: %s", w.name)
		_, err = admin.Exec(ctx, w.sql, w.args...)
		var pgErr *pgconn.PgError
		require.True(t, errors.As(err, &pgErr), "as the superuser: %s: %v", w.name, err)
		require.Equal(t, "23503", pgErr.Code, "as the superuser: %s", w.name) // foreign_key_violation
	}
}

// requireRLSRefusal checks that err is PostgreSQL's "new row violates row-level security policy".
func requireRLSRefusal(t *testing.T, err error, msgAndArgs ...any) {
	t.Helper()
	var pgErr *pgconn.PgError
	require.True(t, errors.As(err, &pgErr), "want a row-level security refusal, got %v", err)
	require.Equal(t, "42501", pgErr.Code, msgAndArgs...) // insufficient_privilege
}

// Rows written or changed under one tenant's setting must belong to that tenant (WITH CHECK), rows
// of no tenant need the system scope, and the audit log is append-only.
func TestRowLevelSecurityRefusesWrites(t *testing.T) {
	t.Parallel()
	bouncertest.Run(t, testRowLevelSecurityRefusesWrites)
}

func testRowLevelSecurityRefusesWrites(t *testing.T, mode bouncertest.Mode) {
	ctx := context.Background()
	e := newEnvVia(t, mode, nil)
	a, b := e.rlsFixtures("wc-a"), e.rlsFixtures("wc-b")
	e.rlsGlobalRows()

	// An event for B while scoped to A, or with no tenant at all.
	insert := `INSERT INTO events (tenant_id, name, start_date, end_date) VALUES ($1, 'planted', now(), now())`
	_, err := e.db.Exec(ctx, opRLSTest, a.tenantID, insert, b.tenantID)
	requireRLSRefusal(t, err, "insert for B under A")
	_, err = e.db.Exec(ctx, opRLSTest, "", insert, a.tenantID)
	requireRLSRefusal(t, err, "insert with no tenant")
	// Moving A's row to B.
	_, err = e.db.Exec(ctx, opRLSTest, a.tenantID, `UPDATE events SET tenant_id = $2 WHERE id = $1`, a.event, b.tenantID)
	requireRLSRefusal(t, err, "move A's event to B")
	// B's rows cannot be changed or deleted under A: they are not there.
	tag, err := e.db.Exec(ctx, opRLSTest, a.tenantID, `UPDATE events SET name = 'hijacked' WHERE id = $1`, b.event)
	require.NoError(t, err)
	require.Zero(t, tag.RowsAffected())
	tag, err = e.db.Exec(ctx, opRLSTest, a.tenantID, `DELETE FROM idempotency_keys WHERE tenant_id = $1`, b.tenantID)
	require.NoError(t, err)
	require.Zero(t, tag.RowsAffected())

	// Global rows: readable under a tenant, but not writable without the system scope.
	_, err = e.db.Exec(ctx, opRLSTest, a.tenantID, `INSERT INTO system_settings (key, value) VALUES ('planted', '1')`)
	requireRLSRefusal(t, err, "global setting under a tenant")
	_, err = e.db.Exec(ctx, opRLSTest, a.tenantID, `INSERT INTO audit_logs (action, entity_type) VALUES ('x.y', 'x')`)
	requireRLSRefusal(t, err, "global audit row under a tenant")
	tag, err = e.db.Exec(ctx, opRLSTest, a.tenantID, `UPDATE system_settings SET value = '"pink"' WHERE tenant_id IS NULL`)
	require.NoError(t, err)
	require.Zero(t, tag.RowsAffected())
	tag, err = e.db.Exec(ctx, opRLSTest, a.tenantID, `DELETE FROM rate_limit_configs WHERE tenant_id IS NULL`)
	require.NoError(t, err)
	require.Zero(t, tag.RowsAffected())
	var theme string
	require.NoError(t, e.db.QueryRow(ctx, opRLSTest, a.tenantID, `SELECT value #>> '{}' FROM system_settings WHERE tenant_id IS NULL AND key = 'theme'`, nil, &theme))
	require.Equal(t, "light", theme)
	// The system scope writes global rows, and still sees no tenant's.
	require.NoError(t, e.db.InTx(ctx, opRLSTest, "", func(tx *db.Tx) error {
		require.NoError(t, tx.SetSystemScope())
		tag, err := tx.Exec(`UPDATE system_settings SET value = '"blue"' WHERE tenant_id IS NULL AND key = 'theme'`)
		require.NoError(t, err)
		require.EqualValues(t, 1, tag.RowsAffected())
		var n int
		require.NoError(t, tx.QueryRow(`SELECT count(*) FROM system_settings WHERE tenant_id IS NOT NULL`).Scan(&n))
		require.Zero(t, n)
		return nil
	}))

	// The audit log is append-only: the service's role may not even ask to change it; its owner
	// may ask, and the policies change no row.
	for _, sql := range []string{`UPDATE audit_logs SET action = 'x.y'`, `DELETE FROM audit_logs`, `TRUNCATE audit_logs`} {
		_, err := e.db.Exec(ctx, opRLSTest, a.tenantID, sql)
		var pgErr *pgconn.PgError
		require.ErrorAs(t, err, &pgErr, sql)
		require.Equal(t, "42501", pgErr.Code, sql) // insufficient_privilege
	}
	owner := rlsConnect(t, dbtest.OwnerURL(t, e.db.Settings().ConnString))
	for _, sql := range []string{`UPDATE audit_logs SET action = 'x.y'`, `DELETE FROM audit_logs`} {
		tx, err := owner.Begin(ctx)
		require.NoError(t, err)
		_, err = tx.Exec(ctx, `SELECT set_config('app.tenant_id', $1, true)`, a.tenantID)
		require.NoError(t, err)
		tag, err := tx.Exec(ctx, sql)
		require.NoError(t, err)
		require.Zero(t, tag.RowsAffected(), sql)
		require.NoError(t, tx.Rollback(ctx))
	}
	require.Positive(t, rlsCount(t, rlsConnect(t, dbtest.AdminURL(t, e.db.Settings().ConnString)),
		`SELECT count(*) FROM audit_logs WHERE tenant_id = $1`, a.tenantID))
}

// Sign-in and token checks find their tenant in the same batch as their query: they work with
// row-level security on, for users of several tenants, and a token of one tenant never shows
// another's data.
func TestSignInAndTokensUnderRowLevelSecurity(t *testing.T) {
	t.Parallel()
	bouncertest.Run(t, testSignInAndTokensUnderRowLevelSecurity)
}

func testSignInAndTokensUnderRowLevelSecurity(t *testing.T, mode bouncertest.Mode) {
	e := newEnvVia(t, mode, nil)
	tokA := e.tenant("sign-a")
	tokB := e.tenant("sign-b")
	judgeA := e.addUser("sign-a", auth.Judge)
	for _, c := range []struct{ token, email string }{
		{tokA, "admin@sign-a.test"}, {tokB, "admin@sign-b.test"}, {judgeA, "judge@sign-a.test"},
	} {
		r := e.do("GET", "/api/v1/auth/me", c.token, nil)
		require.Equal(t, 200, r.status, string(r.body))
		require.Equal(t, c.email, r.json(t)["email"])
	}
	// The same email in another tenant is another user; a slug that does not exist finds nobody.
	r := e.do("POST", "/api/v1/auth/login", "", map[string]string{"tenant": "sign-b", "email": "judge@sign-a.test", "password": testPassword})
	require.Equal(t, 401, r.status)
	r = e.do("POST", "/api/v1/auth/login", "", map[string]string{"tenant": "nobody", "email": "admin@sign-a.test", "password": testPassword})
	require.Equal(t, 401, r.status)
}

// The token check and the sign-in query learn their tenant in the same batch as their query: one
// round trip each (measured on the wire, once the statement cache is warm), not BEGIN, set_config,
// query, COMMIT.
func TestTokenCheckIsOneRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	counter, url := scStartWireCounter(t, dbtest.ServiceURL(t, dbtest.NewDatabase(t)))
	settings, err := config.ParseDatabaseURL(url + "&connection_limit=1")
	require.NoError(t, err)
	e := newEnvWith(t, settings)
	token := e.tenant("trips")

	roundTrips := func(f func()) (statements, trips int64) {
		t.Helper()
		f() // warms the statement cache
		s0, r0 := counter.snapshot()
		f()
		s1, r1 := counter.snapshot()
		return s1 - s0, r1 - r0
	}
	statements, trips := roundTrips(func() {
		p, err := e.store.Authenticate(ctx, token)
		require.NoError(t, err)
		require.Equal(t, auth.Admin, p.Role)
	})
	require.Equal(t, int64(1), trips, "token check")
	require.Equal(t, int64(2), statements, "token check: set_config and the query")
	statements, trips = roundTrips(func() {
		_, err := e.store.Login(ctx, "trips", "admin@trips.test", testPassword, time.Hour)
		require.NoError(t, err)
	})
	require.Equal(t, int64(2), trips, "sign-in: the user's query, then the new session")
	require.Equal(t, int64(4), statements, "sign-in")
}
