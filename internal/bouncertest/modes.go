package bouncertest

import "testing"

// Mode is how the service under test reaches PostgreSQL.
type Mode string

const (
	// Direct connects to PostgreSQL itself.
	Direct Mode = "direct"
	// PgBouncer connects through a private PgBouncer in transaction mode, with pgbouncer=true.
	PgBouncer Mode = "pgbouncer"
)

// Modes are both ways, for tests that must hold in each.
var Modes = []Mode{Direct, PgBouncer}

// URL is the URL the service's pool uses in mode for the test database dbURL: dbURL itself, or
// the URL of a new PgBouncer in front of it (stopped with the test). LISTEN, the superuser and the
// connections that watch pg_stat_activity keep dbURL: they must reach the server itself. The
// result always has a query string, so that a test may append "&connection_limit=N".
func (m Mode) URL(t testing.TB, dbURL string) string {
	t.Helper()
	if m == PgBouncer {
		return Start(t, dbURL, Options{}).URL()
	}
	return dbURL
}

// Run runs test once in each mode, as parallel subtests named after the mode.
func Run(t *testing.T, test func(t *testing.T, mode Mode)) {
	t.Helper()
	for _, m := range Modes {
		t.Run(string(m), func(t *testing.T) {
			t.Parallel()
			test(t, m)
		})
	}
}
