package bench_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/api"
	"github.com/eventmanager/eventmanager/internal/bench"
	"github.com/eventmanager/eventmanager/internal/config"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/eventmanager/eventmanager/internal/store"
	"github.com/stretchr/testify/require"
)

var testTimeouts = config.QueryTimeouts{Simple: time.Second, Standard: 5 * time.Second, Complex: 15 * time.Second, Report: 30 * time.Second}

// Run seeds the database, measures each step through the API and as the ceiling, pairs them
// in the table and writes its files.
func TestRunMeasuresAndReports(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := dbtest.NewDatabase(t)
	settings, err := config.ParseDatabaseURL(url)
	require.NoError(t, err)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := db.Open(settings, db.Options{Timeouts: testTimeouts, Logger: quiet})
	require.NoError(t, err)
	t.Cleanup(d.Close)
	srv := httptest.NewServer(api.New(api.Deps{DB: d, Store: store.New(d), TokenTTL: time.Hour, Logger: quiet}).Handler())
	t.Cleanup(srv.Close)

	out := t.TempDir()
	var table bytes.Buffer
	rep, err := bench.Run(ctx, bench.Options{
		Database: settings, DatabaseURL: url, DirectURL: url, Timeouts: testTimeouts,
		Target: srv.URL, PID: os.Getpid(),
		Scenarios: []string{"read", "ceiling"}, Endpoints: []string{bench.EndpointEvents}, Concurrency: []int{2},
		Scale: "small", Seed: 1, Duration: time.Second, Rounds: 2, Driver: bench.DriverVegeta, Out: out,
		Logger: quiet, Progress: io.Discard, Stdout: &table,
	})
	require.NoError(t, err)
	require.Len(t, rep.Rows, 6, "three modes, two rounds")
	for k, r := range rep.Rows {
		require.Equal(t, "read", r.Scenario)
		require.Equal(t, bench.EndpointEvents, r.Endpoint)
		require.Equal(t, k/3+1, r.Round, "the rounds run one after the other")
		require.Zero(t, r.Failed, "%s: %v", r.Mode, r.Errors)
		require.Positive(t, r.RPS, r.Mode)
		if r.Mode == bench.ModeCeiling {
			require.Zero(t, r.CeilingRatio)
		} else {
			require.Positive(t, r.CeilingRatio, "%s is paired with its round's ceiling", r.Mode)
		}
	}
	requests := map[string]uint64{}
	for _, r := range rep.Rows {
		requests[r.Mode] += r.Requests
	}
	modes := map[string]bench.Row{}
	for _, m := range rep.Medians {
		modes[m.Mode] = m
		require.Zero(t, m.Round)
		require.Equal(t, requests[m.Mode], m.Requests, "requests summed over the rounds")
	}
	require.Len(t, modes, 3)
	for _, m := range []string{bench.ModeAPI, bench.ModeCeiling, bench.ModeCeilingToken} {
		require.Contains(t, modes, m)
	}
	require.Positive(t, modes[bench.ModeAPI].CeilingRatio)
	require.Positive(t, modes[bench.ModeCeilingToken].CeilingRatio)
	require.Contains(t, table.String(), "events per answer: events: ")
	require.Contains(t, table.String(), "medians over 2 rounds")
	for _, name := range []string{"bench-results.json", "bench-chart.svg", "bench-server.log"} {
		require.FileExists(t, filepath.Join(out, name))
	}
	saved, err := bench.ReadJSON(filepath.Join(out, "bench-results.json"))
	require.NoError(t, err)
	require.Len(t, saved.Rows, len(rep.Rows))
	require.Len(t, saved.Medians, 3)
}

// Validate refuses what Run could not do, naming it.
func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	good := bench.Options{Scenarios: []string{"read"}, Endpoints: []string{bench.EndpointEvents}, Concurrency: []int{10},
		Scale: "small", Duration: time.Second, Driver: bench.DriverVegeta}
	require.NoError(t, good.Validate())
	for name, tc := range map[string]struct {
		change func(*bench.Options)
		want   string
	}{
		"scenario":    {func(o *bench.Options) { o.Scenarios = []string{"reed"} }, `unknown scenario "reed"`},
		"endpoint":    {func(o *bench.Options) { o.Endpoints = []string{"users"} }, `unknown endpoint "users"`},
		"concurrency": {func(o *bench.Options) { o.Concurrency = []int{0} }, "bad concurrency 0"},
		"driver":      {func(o *bench.Options) { o.Driver = "ab" }, `unknown driver "ab"`},
		"scale":       {func(o *bench.Options) { o.Scale = "huge" }, `scale "huge"`},
		"write share": {func(o *bench.Options) { o.WriteShare = 1.5 }, "write share"},
		"duration":    {func(o *bench.Options) { o.Duration = 0 }, "duration"},
		"overload pid": {func(o *bench.Options) {
			o.Scenarios, o.Target = []string{"overload"}, "http://127.0.0.1:1"
		}, "needs its pid"},
	} {
		o := good
		tc.change(&o)
		err := o.Validate()
		require.Error(t, err, name)
		require.Contains(t, err.Error(), tc.want, name)
	}
}
