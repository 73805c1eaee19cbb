package cli_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/stretchr/testify/require"
)

var demoToken = regexp.MustCompile(`Authorization: Bearer (\S+)' http://localhost:\d+(/\S+)`)

// serve --demo creates the demo admin and the operator, prints both sign-ins once and fresh tokens
// on every start: the operator's token reads the database health, the demo admin's is refused.
func TestDemoPrintsTheOperator(t *testing.T) {
	t.Parallel()
	owner := dbtest.NewDatabase(t)
	vars := map[string]string{"DATABASE_URL": dbtest.ServiceURL(t, owner), "MIGRATION_DATABASE_URL": owner}
	for start := range 2 {
		s := startServing(t, vars, "--demo")
		out := s.stdout.String()
		passwords := strings.Count(out, "(shown once)")
		if start == 0 {
			require.Equal(t, 2, passwords, out)
			require.Contains(t, out, `Platform operator created. Sign in with tenant "platform", email "operator@platform.test", password "`)
			require.Contains(t, out, `Sign in with tenant "demo", email "admin@demo.test"`)
		} else {
			require.Zero(t, passwords, "passwords are shown once: %s", out)
		}
		require.Contains(t, out, `sign in as the operator: tenant "platform", email "operator@platform.test"`)
		tokens := demoToken.FindAllStringSubmatch(out, -1)
		require.Len(t, tokens, 2, out)
		admin, operator := tokens[0][1], tokens[1][1]
		require.Equal(t, "/api/v1/admin/database/health", tokens[1][2])
		code, body := s.get(t, s.port, "/api/v1/admin/database/health", operator)
		require.Equal(t, http.StatusOK, code, body)
		code, body = s.get(t, s.port, "/api/v1/admin/database/health", admin)
		require.Equal(t, http.StatusForbidden, code, body)
		code, body = s.get(t, s.port, "/api/v1/events", admin)
		require.Equal(t, http.StatusOK, code, body)
		require.Equal(t, 0, s.shutdown(t), s.stderr.String())
	}
}
