package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
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
	"github.com/eventmanager/eventmanager/internal/live"
	"github.com/eventmanager/eventmanager/internal/pglisten"
	"github.com/eventmanager/eventmanager/internal/store"
	"github.com/stretchr/testify/require"
)

// The event-night scenario against a server with its hub and listener: every write's event
// reaches every board, and the result file is written.
func TestRunEventNight(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := dbtest.NewDatabase(t)
	settings, err := config.ParseDatabaseURL(url)
	require.NoError(t, err)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := db.Open(settings, db.Options{Timeouts: testTimeouts, Logger: quiet})
	require.NoError(t, err)
	t.Cleanup(d.Close)
	hub := live.NewHub(0, quiet)
	l := pglisten.New(settings.ConnString, quiet)
	hub.Listen(l)
	listening := make(chan struct{}, 1)
	l.OnListen = func() {
		select {
		case listening <- struct{}{}:
		default:
		}
	}
	lctx, cancel := context.WithCancel(ctx)
	go l.Run(lctx)
	srv := httptest.NewServer(api.New(api.Deps{DB: d, Store: store.New(d), TokenTTL: time.Hour, Logger: quiet,
		Live: api.Live{Hub: hub}}).Handler())
	t.Cleanup(func() { hub.Close(); srv.Close(); cancel() })
	<-listening

	out := t.TempDir()
	var stdout bytes.Buffer
	_, err = bench.Run(ctx, bench.Options{
		Database: settings, DatabaseURL: url, DirectURL: url, Timeouts: testTimeouts,
		Target: srv.URL, PID: os.Getpid(),
		Scenarios: []string{"event-night"}, Scale: "small", Seed: 1, Duration: time.Second,
		Writers: 2, Boards: 5, Driver: bench.DriverVegeta, Out: out,
		Logger: quiet, Progress: io.Discard, Stdout: &stdout,
	})
	// The RSS limit is the server's; here the server is the test process, so only the other
	// checks must hold.
	require.Contains(t, stdout.String(), "event-night: 2 judges, 5 boards")
	b, rerr := os.ReadFile(filepath.Join(out, "bench-event-night.json"))
	require.NoError(t, rerr)
	var r bench.EventNightResult
	require.NoError(t, json.Unmarshal(b, &r))
	require.Positive(t, r.Writes)
	require.Equal(t, r.Expected, r.Deliveries, "every write's event reached every board of its category")
	require.Empty(t, r.Errors)
	require.Equal(t, 1, r.Listeners)
	require.Positive(t, r.LatencyP99MS+r.LatencyP50MS+float64(r.BeforeAck))
	if err != nil {
		require.ErrorIs(t, err, bench.ErrCheckFailed)
		require.Contains(t, stdout.String(), "server peak RSS", "only the RSS of the test process may fail")
	}
}
