package dbtest

import (
	"regexp"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

func TestDatabaseName(t *testing.T) {
	t.Parallel()
	valid := regexp.MustCompile(`^[a-z0-9_]{1,63}$`)
	for _, tc := range []struct{ test, prefix string }{
		{"TestEvents", "test_testevents_"},
		{"TestEvents/list page 2", "test_testevents_list_page_2_"},
		{"TestA/ÄÖ//--x", "test_testa_x_"},
		{"TestAVeryLongNameThatGoesOnAndOnAndOnForeverAndEver/sub", "test_testaverylongnamethatgoesonandonand_"},
	} {
		name := databaseName(tc.test)
		require.Regexp(t, valid, name, tc.test)
		require.Len(t, name, len(tc.prefix)+10, tc.test)
		require.Equal(t, tc.prefix, name[:len(tc.prefix)], tc.test)
	}
	require.NotEqual(t, databaseName("TestX"), databaseName("TestX"))
}

func TestWithDatabase(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, host string }{
		{"postgres://u:p%40ss@db.example:5433/postgres?sslmode=disable", "db.example"},
		{"postgresql://u@/postgres?host=%2Fvar%2Frun%2Fpostgresql", "/var/run/postgresql"},
		{"postgres://u:secret@db.example", "db.example"},
	} {
		u, err := withDatabase(tc.in, "test_x_1")
		require.NoError(t, err, tc.in)
		cfg, err := pgx.ParseConfig(u + "&statement_timeout=1000")
		require.NoError(t, err, tc.in)
		require.Equal(t, "test_x_1", cfg.Database, tc.in)
		require.Equal(t, tc.host, cfg.Host, tc.in)
		require.Equal(t, "1000", cfg.RuntimeParams["statement_timeout"], tc.in)
	}
	_, err := withDatabase("host=db.example user=u password=secret", "test_x_1")
	require.Error(t, err)
	require.NotContains(t, err.Error(), "secret")
}
