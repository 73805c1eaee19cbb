package cli_test

import (
	"testing"

	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/stretchr/testify/require"
)

func TestSeedCommand(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"DATABASE_URL": dbtest.NewDatabase(t)}
	args := []string{"seed", "--scale", "small", "--tenants", "2", "--events", "6", "--scores", "500", "--audit-logs", "40", "--seed", "9"}
	code, stdout, stderr := run(t, vars, args...)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "seeded scale custom, seed 9: 2 tenants created, 0 skipped")
	require.Contains(t, stderr, "seed: 2/2 tenants") // plain progress lines: stderr is no terminal
	code, stdout, stderr = run(t, vars, args...)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "0 tenants created, 2 skipped")

	code, _, stderr = run(t, vars, "seed", "--scale", "huge")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, "unknown scale")
	code, _, stderr = run(t, nil, "seed", "--help")
	require.Equal(t, 0, code)
	require.Contains(t, stderr, "Usage: eventmanager seed")
}
