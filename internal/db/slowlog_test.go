package db_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/config"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/stretchr/testify/require"
)

// syncBuffer is a log destination that can be read while queries write to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines returns the JSON log lines written so far.
func (b *syncBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), l)
		out = append(out, m)
	}
	return out
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func withLevel(lines []map[string]any, level string) []map[string]any {
	var out []map[string]any
	for _, l := range lines {
		if l["level"] == level {
			out = append(out, l)
		}
	}
	return out
}

// A query over half its class timeout gives exactly one WARN line, with the fields an operator
// needs; one over SLOW_QUERY_THRESHOLD gives one INFO line; the parameters never reach the log.
func TestSlowQueryLog(t *testing.T) {
	t.Parallel()
	settings, err := config.ParseDatabaseURL(dbtest.NewDatabase(t) + "&connection_limit=2")
	require.NoError(t, err)
	logs := &syncBuffer{}
	tm := timeouts
	tm.Simple = time.Second
	d, err := db.Open(settings, db.Options{
		Timeouts:  tm,
		SlowQuery: 50 * time.Millisecond,
		Logger:    slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	require.NoError(t, err)
	t.Cleanup(d.Close)
	ctx := db.WithRequestID(context.Background(), "req-slow-1")
	secret := "s3cret-" + unique()
	var got string

	// 0.6 s of a 1 s budget.
	opSlow := db.Op{Name: "test.slow", Class: db.Simple}
	require.NoError(t, d.QueryRow(ctx, opSlow, "", `SELECT $1::text FROM pg_sleep(0.6)`, []any{secret}, &got))
	require.Equal(t, secret, got)
	warns := withLevel(logs.lines(t), "WARN")
	require.Len(t, warns, 1, logs.String())
	w := warns[0]
	require.Equal(t, "slow query", w["msg"])
	require.Equal(t, "test.slow", w["operation"])
	require.Equal(t, "simple", w["class"])
	require.Equal(t, "req-slow-1", w["request_id"])
	require.Equal(t, "ok", w["outcome"])
	require.EqualValues(t, 1000, w["timeout_ms"])
	duration := w["duration_ms"].(float64)
	require.GreaterOrEqual(t, duration, 600.0)
	require.InDelta(t, duration/10, w["percent_of_timeout"], 1)

	// 0.1 s of a 5 s budget: over the 50 ms threshold only.
	opInfo := db.Op{Name: "test.info", Class: db.Standard}
	require.NoError(t, d.QueryRow(ctx, opInfo, "", `SELECT $1::text FROM pg_sleep(0.1)`, []any{secret}, &got))
	infos := withLevel(logs.lines(t), "INFO")
	require.Len(t, infos, 1, logs.String())
	require.Equal(t, "test.info", infos[0]["operation"])
	require.Equal(t, "standard", infos[0]["class"])

	// Fast: nothing. A failed query whose server message quotes the value, a timed-out one: the
	// value appears in no line.
	require.NoError(t, d.QueryRow(ctx, opTest, "", `SELECT $1::text`, []any{secret}, &got))
	require.Error(t, d.QueryRow(ctx, opTest, "", `SELECT $1::text::int`, []any{secret}, &got))
	require.ErrorIs(t, d.QueryRow(ctx, opSlow, "", `SELECT $1::text FROM pg_sleep(5)`, []any{secret}, &got), db.ErrQueryTimeout)

	lines := logs.lines(t)
	warns = withLevel(lines, "WARN")
	require.Len(t, warns, 2, logs.String())
	require.Equal(t, "timeout", warns[1]["outcome"])
	require.Len(t, withLevel(lines, "INFO"), 1, logs.String())
	require.NotContains(t, logs.String(), secret)
}
