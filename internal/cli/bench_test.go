package cli_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The bench command only parses flags: a bad one is one line and exit 2, before any database is
// opened (PG_DATA_DIR points nowhere usable).
func TestBenchRefusesBadFlags(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"PG_DATA_DIR": "/nonexistent/bench"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--scenario", "read,reed"}, `unknown scenario "reed"`},
		{[]string{"--endpoints", "users"}, `unknown endpoint "users"`},
		{[]string{"--concurrency", "10,x"}, `bad concurrency "x"`},
		{[]string{"--concurrency", "0"}, "bad concurrency 0"},
		{[]string{"--driver", "ab"}, `unknown driver "ab"`},
		{[]string{"--scale", "huge"}, `scale "huge"`},
		{[]string{"--scenario", "overload", "--target", "http://127.0.0.1:1"}, "needs its pid"},
	} {
		code, stdout, stderr := run(t, vars, append([]string{"bench"}, tc.args...)...)
		require.Equal(t, 2, code, "%v: %s", tc.args, stderr)
		require.Empty(t, stdout)
		require.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %q", stderr)
		require.Contains(t, stderr, tc.want, tc.args)
	}
}
