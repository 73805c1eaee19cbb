package cli_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/eventmanager/eventmanager/internal/testproc"
	"github.com/stretchr/testify/require"
)

// /metrics is served on METRICS_ADDR, and then not on the main port; without it, on the main port.
func TestMetricsOnTheirOwnAddress(t *testing.T) {
	t.Parallel()
	owner := dbtest.NewDatabase(t)
	vars := map[string]string{"DATABASE_URL": dbtest.ServiceURL(t, owner), "MIGRATION_DATABASE_URL": owner}
	s := startServing(t, vars)
	code, body := s.get(t, s.port, "/metrics", "")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "eventmanager_db_pool_")
	require.Equal(t, 0, s.shutdown(t), s.stderr.String())

	metricsPort := testproc.FreePort(t)
	vars["METRICS_ADDR"] = "127.0.0.1:" + strconv.Itoa(metricsPort)
	s = startServing(t, vars)
	require.Eventually(t, func() bool { return strings.Contains(s.stderr.String(), "listener=metrics") }, time.Minute, 20*time.Millisecond)
	code, body = s.get(t, metricsPort, "/metrics", "")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "eventmanager_db_pool_")
	code, _ = s.get(t, s.port, "/metrics", "")
	require.Equal(t, http.StatusNotFound, code, "not on the main port")
	code, _ = s.get(t, s.port, "/healthz", "")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, 0, s.shutdown(t), s.stderr.String())
}
