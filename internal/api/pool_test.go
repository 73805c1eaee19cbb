package api_test

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/config"
	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// With every connection held, a request waits pool_timeout and then gets a fast, clear 503.
func TestPoolExhaustedAnswers503(t *testing.T) {
	t.Parallel()
	const poolTimeout = time.Second
	e := newEnv(t, func(s *config.Database) {
		s.ConnectionLimit = 2
		s.PoolTimeout = poolTimeout
	})
	tok := e.tenant("busy")
	ctx := context.Background()
	for range 2 {
		c, err := e.db.Pool().Acquire(ctx)
		require.NoError(t, err)
		defer c.Release()
	}
	start := time.Now()
	r := e.do("GET", "/api/v1/events", tok, nil)
	elapsed := time.Since(start)
	require.Equal(t, http.StatusServiceUnavailable, r.status, string(r.body))
	code, _ := r.errorCode(t)
	require.Equal(t, "DB_POOL_TIMEOUT", code)
	require.NotEmpty(t, r.header.Get("Retry-After"))
	require.GreaterOrEqual(t, elapsed, poolTimeout-50*time.Millisecond)
	require.Less(t, elapsed, poolTimeout+500*time.Millisecond)
	require.EqualValues(t, 2, e.db.Pool().Stat().TotalConns())
}

// A database that cannot be reached: 503 DB_UNAVAILABLE with Retry-After, and /readyz says why.
func TestDatabaseUnavailable(t *testing.T) {
	t.Parallel()
	port := closedPort(t)
	settings, err := config.ParseDatabaseURL("postgresql://postgres:secret@127.0.0.1:" + strconv.Itoa(port) + "/x?connect_timeout=1&pool_timeout=2")
	require.NoError(t, err)
	e := newEnvWith(t, settings)
	r := e.do("GET", "/api/v1/events", "em_"+"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", nil)
	require.Equal(t, http.StatusServiceUnavailable, r.status, string(r.body))
	code, _ := r.errorCode(t)
	require.Equal(t, "DB_UNAVAILABLE", code)
	require.NotEmpty(t, r.header.Get("Retry-After"))
	require.NotContains(t, string(r.body), "secret")

	r = e.do("GET", "/readyz", "", nil)
	require.Equal(t, http.StatusServiceUnavailable, r.status)
	require.Equal(t, "not_ready", r.json(t)["status"])
	require.Equal(t, http.StatusOK, e.do("GET", "/healthz", "", nil).status)
}

func TestReadyz(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	r := e.do("GET", "/readyz", "", nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, map[string]any{"status": "ready"}, r.json(t))

	// A database whose schema is behind this binary is not ready (once the shared answer is a
	// second old), and the answer says no more than that. Rewriting the migrations' bookkeeping is
	// the owner's (the superuser's here), not the service's.
	owner, err := pgx.Connect(context.Background(), dbtest.AdminURL(t, e.db.Settings().ConnString))
	require.NoError(t, err)
	defer owner.Close(context.Background())
	_, err = owner.Exec(context.Background(), `DELETE FROM goose_db_version WHERE version_id = (SELECT max(version_id) FROM goose_db_version)`)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		r = e.do("GET", "/readyz", "", nil)
		return r.status == http.StatusServiceUnavailable
	}, 10*time.Second, 50*time.Millisecond)
	require.Equal(t, map[string]any{"status": "not_ready"}, r.json(t))
	require.Equal(t, "1", r.header.Get("Retry-After"))
}

// closedPort returns a loopback port with nothing listening on it.
func closedPort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	return port
}
