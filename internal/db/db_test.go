package db_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/config"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

var timeouts = config.QueryTimeouts{Simple: time.Second, Standard: 5 * time.Second, Complex: 15 * time.Second, Report: 30 * time.Second}

var opTest = db.Op{Name: "test", Class: db.Simple}

// discard keeps slow-query lines of tests out of the test output.
var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

func open(t *testing.T, raw string) *db.DB {
	t.Helper()
	settings, err := config.ParseDatabaseURL(raw)
	require.NoError(t, err)
	d, err := db.Open(settings, db.Options{Timeouts: timeouts, Logger: discard})
	require.NoError(t, err)
	t.Cleanup(d.Close)
	return d
}

// silentServer accepts TCP connections and never answers, like a host behind a dropping firewall.
func silentServer(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().(*net.TCPAddr).Port
}

func TestConnectTimeout(t *testing.T) {
	t.Parallel()
	const connectTimeout = time.Second
	port := silentServer(t)
	d := open(t, "postgresql://u:p@127.0.0.1:"+strconv.Itoa(port)+"/x?connect_timeout=1&pool_timeout=10")
	start := time.Now()
	err := d.Ping(context.Background(), 10*time.Second)
	elapsed := time.Since(start)
	require.ErrorIs(t, err, db.ErrUnavailable)
	require.GreaterOrEqual(t, elapsed, connectTimeout-50*time.Millisecond)
	require.Less(t, elapsed, connectTimeout+500*time.Millisecond)
}

func TestClosedPortFailsFast(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	d := open(t, "postgresql://u:p@127.0.0.1:"+strconv.Itoa(port)+"/x?connect_timeout=2")
	start := time.Now()
	err = d.Ping(context.Background(), 10*time.Second)
	require.ErrorIs(t, err, db.ErrUnavailable)
	require.Less(t, time.Since(start), 2*time.Second+500*time.Millisecond)
}

// The tenant setting applies to the query of its batch and is gone afterwards, on the same connection.
func TestTenantSettingIsTransactionLocal(t *testing.T) {
	t.Parallel()
	d := open(t, dbtest.NewDatabase(t)+"&connection_limit=1")
	ctx := context.Background()
	const tenant = "6f1c7a52-3f9e-4a57-9a8e-0c2b5d9e1a11"
	var inside, after string
	require.NoError(t, d.QueryRow(ctx, opTest, tenant, `SELECT current_setting('app.tenant_id', true)`, nil, &inside))
	require.Equal(t, tenant, inside)
	require.NoError(t, d.QueryRow(ctx, opTest, "", `SELECT coalesce(current_setting('app.tenant_id', true), '')`, nil, &after))
	require.Empty(t, after)

	var rows []string
	require.NoError(t, d.Query(ctx, opTest, tenant, func(r pgx.Rows) error {
		for r.Next() {
			var s string
			if err := r.Scan(&s); err != nil {
				return err
			}
			rows = append(rows, s)
		}
		return r.Err()
	}, `SELECT current_setting('app.tenant_id', true) FROM generate_series(1, 3)`))
	require.Equal(t, []string{tenant, tenant, tenant}, rows)

	require.NoError(t, d.InTx(ctx, opTest, tenant, func(tx *db.Tx) error {
		return tx.QueryRow(`SELECT current_setting('app.tenant_id', true)`).Scan(&inside)
	}))
	require.Equal(t, tenant, inside)
	require.NoError(t, d.QueryRow(ctx, opTest, "", `SELECT coalesce(current_setting('app.tenant_id', true), '')`, nil, &after))
	require.Empty(t, after)
}

func TestErrorTranslation(t *testing.T) {
	t.Parallel()
	d := open(t, dbtest.NewDatabase(t))
	ctx := context.Background()
	var x int
	require.ErrorIs(t, d.QueryRow(ctx, opTest, "", `SELECT 1 WHERE false`, nil, &x), db.ErrNotFound)

	_, err := d.Exec(ctx, opTest, "", `INSERT INTO tenants (slug, name) VALUES ('dup', 'A')`)
	require.NoError(t, err)
	_, err = d.Exec(ctx, opTest, "", `INSERT INTO tenants (slug, name) VALUES ('dup', 'B')`)
	require.ErrorIs(t, err, db.ErrConflict)
	var ce *db.ConstraintError
	require.True(t, errors.As(err, &ce))
	require.Equal(t, "tenants_slug_key", ce.Constraint)

	// Scoped to the missing tenant, so that row-level security lets the row through to the foreign key.
	const missingTenant = "0b6c3f1e-6a43-4d0e-9a59-2f4f0d7c9e21"
	_, err = d.Exec(ctx, opTest, missingTenant, `INSERT INTO events (tenant_id, name, start_date, end_date) VALUES ($1, 'x', now(), now())`, missingTenant)
	require.ErrorIs(t, err, db.ErrInvalidReference)

	_, err = d.Exec(ctx, opTest, "", `INSERT INTO tenants (slug, name) VALUES ('Bad Slug', 'x')`)
	require.ErrorIs(t, err, db.ErrCheckViolation)

	// A failed transaction leaves nothing behind.
	err = d.InTx(ctx, opTest, "", func(tx *db.Tx) error {
		if _, err := tx.Exec(`INSERT INTO tenants (slug, name) VALUES ('rolled-back', 'x')`); err != nil {
			return err
		}
		return errors.New("changed my mind")
	})
	require.EqualError(t, err, "changed my mind")
	require.ErrorIs(t, d.QueryRow(ctx, opTest, "", `SELECT 1 FROM tenants WHERE slug = 'rolled-back'`, nil, &x), db.ErrNotFound)
}
