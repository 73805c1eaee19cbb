package faults_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/api"
	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/config"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/store"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// testTimeouts are generous query timeouts: a 504 counts as a failure in these tests, and a
// machine busy with other test binaries must not produce one. No fault here makes a query hang.
var testTimeouts = config.QueryTimeouts{Simple: 5 * time.Second, Standard: 10 * time.Second, Complex: 15 * time.Second, Report: 30 * time.Second}

// poolParams are the service's pool settings in every fault test: a small pool and a short
// pool_timeout, so that a refused or saturated database shows as 503 within seconds.
const (
	poolParams  = "&connection_limit=8&pool_timeout=2&connect_timeout=1"
	poolTimeout = 2 * time.Second
)

// judge is a judge record linked to a signed-in user.
type judge struct {
	id, token string
}

// fixture is one category to score: every writer of the load is a judge assigned to it.
type fixture struct {
	tenantID, categoryID string
	criteria             []string
	contestants          []string
	judges               []judge
	adminToken           string
}

// newFixture builds a tenant with a category of the given size and signed-in judges, through the
// store (users, sessions) and the superuser (the competition rows), on its own short-lived pool.
func newFixture(t *testing.T, serviceURL, adminURL string, judges, contestants, criteria int) *fixture {
	t.Helper()
	ctx := context.Background()
	settings, err := config.ParseDatabaseURL(serviceURL)
	require.NoError(t, err)
	d, err := db.Open(settings, db.Options{Timeouts: testTimeouts, Logger: discardLogger()})
	require.NoError(t, err)
	defer d.Close()
	st := store.New(d)
	const password = "correct horse battery"
	ten, admin, err := st.CreateTenant(ctx, store.Actor{}, "faults", "Faults",
		store.NewUser{Email: "admin@faults.test", Name: "Admin", Password: password, Role: auth.Admin})
	require.NoError(t, err)
	// The load is far above the standard tier's 600 requests a minute per user: these tests are
	// about database faults, so the tenant goes on the internal tier as a load test's would.
	require.NoError(t, st.SetTenantRateLimitTier(ctx, store.Actor{}, ten.ID, "internal"))
	sess, err := st.CreateSession(ctx, admin, time.Hour)
	require.NoError(t, err)
	fx := &fixture{tenantID: ten.ID, adminToken: sess.Token}

	conn, err := pgx.Connect(ctx, adminURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	one := func(sql string, args ...any) string {
		t.Helper()
		var id string
		require.NoError(t, conn.QueryRow(ctx, sql, args...).Scan(&id), sql)
		return id
	}
	many := func(sql string, args ...any) []string {
		t.Helper()
		rows, err := conn.Query(ctx, sql, args...)
		require.NoError(t, err, sql)
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err, sql)
		return ids
	}
	event := one(`INSERT INTO events (tenant_id, name, start_date, end_date)
		VALUES ($1, 'Fault night', '2026-12-01T18:00:00Z', '2026-12-01T23:00:00Z') RETURNING id`, ten.ID)
	contest := one(`INSERT INTO contests (tenant_id, event_id, name) VALUES ($1, $2, 'Main') RETURNING id`, ten.ID, event)
	fx.categoryID = one(`INSERT INTO categories (tenant_id, contest_id, name) VALUES ($1, $2, 'Solo') RETURNING id`, ten.ID, contest)
	fx.criteria = many(`INSERT INTO criteria (tenant_id, category_id, name, max_score, position)
		SELECT $1, $2, 'Criterion ' || g, 10, g FROM generate_series(1, $3::int) g ORDER BY g RETURNING id`, ten.ID, fx.categoryID, criteria)
	fx.contestants = many(`INSERT INTO contestants (tenant_id, name, number)
		SELECT $1, 'Contestant ' || g, g FROM generate_series(1, $2::int) g ORDER BY g RETURNING id`, ten.ID, contestants)
	_, err = conn.Exec(ctx, `INSERT INTO category_contestants (tenant_id, category_id, contestant_id)
		SELECT $1, $2, unnest($3::uuid[])`, ten.ID, fx.categoryID, fx.contestants)
	require.NoError(t, err)
	for i := range judges {
		u, err := st.CreateUser(ctx, ten.ID, store.Actor{}, store.NewUser{Email: fmt.Sprintf("judge%d@faults.test", i),
			Name: fmt.Sprintf("Judge %d", i), Password: password, Role: auth.Judge})
		require.NoError(t, err)
		id := one(`INSERT INTO judges (tenant_id, name, user_id) VALUES ($1, $2, $3) RETURNING id`, ten.ID, u.Name, u.ID)
		_, err = conn.Exec(ctx, `INSERT INTO assignments (tenant_id, judge_id, category_id, status) VALUES ($1, $2, $3, 'ACTIVE')`,
			ten.ID, id, fx.categoryID)
		require.NoError(t, err)
		sess, err := st.CreateSession(ctx, u, time.Hour)
		require.NoError(t, err)
		fx.judges = append(fx.judges, judge{id: id, token: sess.Token})
	}
	return fx
}

// inProcessService runs the API in this process over httptest, on serviceURL with poolParams.
// The pool connects lazily: nothing touches the database before the first request.
func inProcessService(t *testing.T, serviceURL string) string {
	t.Helper()
	settings, err := config.ParseDatabaseURL(serviceURL + poolParams)
	require.NoError(t, err)
	require.Equal(t, poolTimeout, settings.PoolTimeout)
	d, err := db.Open(settings, db.Options{Timeouts: testTimeouts, Logger: discardLogger()})
	require.NoError(t, err)
	s := api.New(api.Deps{DB: d, Store: store.New(d), TokenTTL: time.Hour, Logger: discardLogger()})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		srv.Close()
		d.Close()
	})
	return srv.URL
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
