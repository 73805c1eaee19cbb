package cli

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/api"
	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/bench"
	"github.com/eventmanager/eventmanager/internal/config"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/eventmanager/eventmanager/internal/store"
	"github.com/stretchr/testify/require"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// The runbook's check, ab -n 1000 -c 50 on the events list with the token `serve --demo` prints,
// gets 2xx answers only: the demo tenant is on a tier that lets it through, and the output says so.
// A tenant created otherwise keeps the standard tier, whose burst refuses most of the same load.
func TestDemoTenantTakesTheRunbooksLoad(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := dbtest.NewDatabase(t)
	settings, err := config.ParseDatabaseURL(url)
	require.NoError(t, err)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := db.Open(settings, db.Options{Timeouts: config.QueryTimeouts{Simple: time.Second, Standard: 5 * time.Second,
		Complex: 15 * time.Second, Report: 30 * time.Second}, Logger: quiet})
	require.NoError(t, err)
	t.Cleanup(d.Close)
	st := store.New(d)
	cfg := config.Config{Port: 3917, TokenTTL: time.Hour}

	var out bytes.Buffer
	require.NoError(t, ensureDemo(ctx, st, cfg, Env{Stdout: &out}))
	require.Contains(t, out.String(), `rate-limit tier "internal"`)
	m := regexp.MustCompile(`ab -n 1000 -c 50 -H 'Authorization: Bearer (\S+)' http://127\.0\.0\.1:3917/api/v1/events`).FindStringSubmatch(out.String())
	require.NotNil(t, m, out.String())
	demoToken := m[1]

	// Again, as on every start: still on the tier, and no new audit record for an unchanged tier.
	out.Reset()
	require.NoError(t, ensureDemo(ctx, st, cfg, Env{Stdout: &out}))
	require.Contains(t, out.String(), `rate-limit tier "internal"`)
	tenant, err := st.TenantBySlug(ctx, demoSlug)
	require.NoError(t, err)
	var tierChanges int
	require.NoError(t, d.QueryRow(ctx, db.Op{Name: "test.tier_audit", Class: db.Simple}, tenant.ID,
		`SELECT count(*) FROM audit_logs WHERE tenant_id = $1 AND action = 'tenant.rate_limit_tier_changed'`, []any{tenant.ID}, &tierChanges))
	require.Equal(t, 1, tierChanges)

	other, admin, err := st.CreateTenant(ctx, store.Actor{}, "not-demo", "Not Demo",
		store.NewUser{Email: "admin@not-demo.test", Name: "Admin", Password: auth.RandomPassword(), Role: auth.Admin})
	require.NoError(t, err)
	require.NotEqual(t, tenant.ID, other.ID)
	sess, err := st.CreateSession(ctx, admin, time.Hour)
	require.NoError(t, err)

	// The API with its default rate limits, as serve enforces them.
	srv := httptest.NewServer(api.New(api.Deps{DB: d, Store: st, TokenTTL: time.Hour, Logger: quiet}).Handler())
	t.Cleanup(srv.Close)
	runbook := func(token string) bench.Row {
		header := http.Header{"Authorization": {"Bearer " + token}}
		rows, err := bench.RunHTTP(ctx, srv.URL, bench.Step{Scenario: "runbook", Concurrency: 50, Requests: 1000,
			Workload: bench.Workload{Name: bench.EndpointEvents, Target: func(_ uint64, base string, t *vegeta.Target) {
				*t = vegeta.Target{Method: http.MethodGet, URL: base + "/api/v1/events", Header: header}
			}}})
		require.NoError(t, err)
		require.Len(t, rows, 1)
		return rows[0]
	}
	demo := runbook(demoToken)
	require.EqualValues(t, 1000, demo.Requests)
	require.Zero(t, demo.Failed, "%v", demo.Errors)
	standard := runbook(sess.Token)
	require.Positive(t, standard.Errors["429 RATE_LIMITED"], "the standard tier limits the same load: %v", standard.Errors)
}
