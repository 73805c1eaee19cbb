package bench_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/api"
	"github.com/eventmanager/eventmanager/internal/bench"
	"github.com/eventmanager/eventmanager/internal/config"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/eventmanager/eventmanager/internal/seed"
	"github.com/eventmanager/eventmanager/internal/store"
	"github.com/stretchr/testify/require"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Every workload, through the API and through the store, succeeds on seeded data: the bench
// measures answers, not refusals (a wrong path, a token of the wrong role, a locked cell).
func TestWorkloadsSucceed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := dbtest.NewDatabase(t)
	_, err := seed.Run(ctx, url, seed.Options{Scale: seed.Scales["small"], Seed: 1})
	require.NoError(t, err)
	settings, err := config.ParseDatabaseURL(url + "&connection_limit=4")
	require.NoError(t, err)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := db.Open(settings, db.Options{Timeouts: config.QueryTimeouts{Simple: time.Second, Standard: 5 * time.Second,
		Complex: 15 * time.Second, Report: 30 * time.Second}, Logger: quiet})
	require.NoError(t, err)
	t.Cleanup(d.Close)
	st := store.New(d)

	f, err := bench.PrepareTenant(ctx, st, d, seed.TenantSlug("small", 1, 0), 3)
	require.NoError(t, err)
	require.NotEmpty(t, f.Categories)
	require.NotEmpty(t, f.Sheets)
	require.Len(t, f.Writers, 3)
	// Preparing again reuses the accounts.
	_, err = bench.PrepareTenant(ctx, st, d, seed.TenantSlug("small", 1, 0), 3)
	require.NoError(t, err)

	srv := httptest.NewServer(api.New(api.Deps{DB: d, Store: st, TokenTTL: time.Hour, Logger: quiet}).Handler())
	t.Cleanup(srv.Close)
	w := f.Workloads(st, 0.5)
	for _, name := range []string{bench.EndpointEvents, bench.EndpointEventsArchived, bench.EndpointResults, bench.EndpointScoresheet, bench.EndpointMixed} {
		step := bench.Step{Scenario: "read", Workload: w[name], Concurrency: 2, Requests: 20, ServerPID: os.Getpid()}
		for _, run := range []func(context.Context, bench.Step) ([]bench.Row, error){
			func(ctx context.Context, s bench.Step) ([]bench.Row, error) { return bench.RunHTTP(ctx, srv.URL, s) },
			bench.RunCeiling,
			bench.RunCeilingToken,
		} {
			rows, err := run(ctx, step)
			require.NoError(t, err)
			var total uint64
			for _, r := range rows {
				require.Zero(t, r.Failed, "%s %s: %v", name, r.Mode, r.Errors)
				require.Positive(t, r.RPS)
				require.Positive(t, r.P99MS)
				total += r.Requests
			}
			require.EqualValues(t, 20, total, name)
			if name == bench.EndpointMixed {
				require.Len(t, rows, 2, "mixed is split into its reads and writes")
				require.Equal(t, bench.EndpointMixedRead, rows[0].Endpoint)
				require.Equal(t, bench.EndpointMixedWrite, rows[1].Endpoint)
				require.EqualValues(t, 10, rows[1].Requests, "half of the requests write")
			}
			if rows[0].Mode == bench.ModeAPI {
				require.Positive(t, rows[0].ServerPeakRSSMB)
			}
		}
	}

	// The events workloads ask for what the fixture counted: the live events, and a page of the
	// archived ones.
	require.Positive(t, f.LiveEvents)
	require.Positive(t, f.ArchivedEvents)
	for name, want := range map[string]int{bench.EndpointEvents: f.LiveEvents, bench.EndpointEventsArchived: f.ArchivedEvents} {
		var target vegeta.Target
		w[name].Target(0, srv.URL, &target)
		req, err := http.NewRequest(target.Method, target.URL, nil)
		require.NoError(t, err)
		req.Header = target.Header
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		var page struct {
			Data []json.RawMessage `json:"data"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&page))
		resp.Body.Close()
		require.Len(t, page.Data, want, name)
	}

	// The ceiling is the query alone: with a token that no longer exists the token check fails,
	// the call does not.
	revoked := *f
	revoked.AdminToken = "not-a-token"
	for name, rw := range revoked.Workloads(st, 0) {
		if name == bench.EndpointMixed {
			continue
		}
		_, err := rw.Call(ctx, 0)
		require.NoError(t, err, name)
		require.Error(t, rw.Check(ctx, 0), name)
	}

	// The wrk driver on the read sweep's endpoints: a closed loop for a duration, every answer a
	// 2xx.
	wrk := bench.WrkPath()
	if wrk == "" {
		t.Log("wrk is not on PATH (apt-get install wrk, or make bench installs it): the wrk driver is not tested against the API")
		return
	}
	for _, name := range []string{bench.EndpointEvents, bench.EndpointEventsArchived, bench.EndpointResults, bench.EndpointScoresheet} {
		step := bench.Step{Scenario: "read", Workload: w[name], Concurrency: 10, Duration: time.Second, ServerPID: os.Getpid()}
		if name == bench.EndpointEvents {
			step.Duration = 2 * time.Second
		}
		require.True(t, bench.CanWrk(step), name)
		rows, err := bench.RunWrk(ctx, wrk, srv.URL, step)
		require.NoError(t, err, name)
		require.Len(t, rows, 1)
		r := rows[0]
		require.Zero(t, r.Failed, "%s with wrk: %v", name, r.Errors)
		require.Positive(t, r.Requests, name)
		require.Positive(t, r.RPS, name)
		require.Positive(t, r.P99MS, name)
		require.Equal(t, bench.DriverWrk, r.Driver)
		require.Positive(t, r.ServerPeakRSSMB)
	}
	require.False(t, bench.CanWrk(bench.Step{Workload: w[bench.EndpointMixed], Concurrency: 10, Duration: time.Second}), "mixed writes")
	require.False(t, bench.CanWrk(bench.Step{Workload: w[bench.EndpointEvents], Concurrency: 50, Requests: 1000}), "runbook: a number of requests")
}
