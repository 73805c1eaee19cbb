package cli_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/eventmanager/eventmanager/internal/health"
	"github.com/eventmanager/eventmanager/internal/localpg"
	"github.com/stretchr/testify/require"
)

func TestDoctor(t *testing.T) {
	t.Parallel()
	url := dbtest.NewDatabase(t)
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}

	// JSON: the whole report, with the connection budget read from the server.
	code, stdout, stderr := run(t, map[string]string{"DATABASE_URL": url + sep + "connection_limit=1"}, "doctor", "--instances", "4", "--json")
	var r health.Report
	require.NoError(t, json.Unmarshal([]byte(stdout), &r), stdout+stderr)
	require.Equal(t, 0, code, stdout+stderr)
	require.Equal(t, health.Healthy, r.Status)
	budget, ok := r.Check("connection_budget")
	require.True(t, ok)
	v := budget.Value.(map[string]any)
	maxConns, reserved := int(v["max_connections"].(float64)), int(v["superuser_reserved"].(float64))
	require.Equal(t, float64(health.RecommendedConnectionLimit(maxConns, reserved, 4)), v["recommended_connection_limit"])
	_, hasPool := r.Check("pool")
	require.False(t, hasPool, "the command's own pool is not reported")

	// Text, not on a terminal: no colour. A limit over the budget warns and exits 1.
	code, stdout, stderr = run(t, map[string]string{"DATABASE_URL": url + sep + "connection_limit=1000"}, "doctor", "--instances", "4")
	require.Equal(t, 1, code, stdout+stderr)
	require.NotContains(t, stdout, "\x1b[")
	require.Regexp(t, `WARN\s+connection_budget\s+configured connection_limit 1000 × 4 instances`, stdout)
	require.Contains(t, stdout, "Database: degraded")

	code, _, stderr = run(t, map[string]string{"DATABASE_URL": url}, "doctor", "--instances", "0")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, "--instances")
}

// Next to a running server (`make run`), the private PostgreSQL's folder is locked: doctor uses
// that server's PostgreSQL instead of refusing, as the service role.
func TestDoctorUsesTheRunningPrivateServer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "postgres")
	srv, err := localpg.Start(ctx, localpg.Options{DataDir: dir})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop(context.Background()) })
	require.NoError(t, srv.EnsureRole(ctx, localpg.ServiceRole))
	require.NoError(t, srv.EnsureDatabaseOwnedBy(ctx, "eventmanager", localpg.ServiceRole))

	code, stdout, stderr := run(t, map[string]string{}, "doctor", "--data-dir", dir, "--json")
	var r health.Report
	require.NoError(t, json.Unmarshal([]byte(stdout), &r), stdout+stderr)
	require.Less(t, code, 2, stdout+stderr)
	c, ok := r.Check("connectivity")
	require.True(t, ok)
	require.Equal(t, health.OK, c.Status)
}
