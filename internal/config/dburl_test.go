package config

import (
	"errors"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"
)

const runbookBase = "postgresql://event_manager:dittibop@localhost:5432/event_manager"

// ourParamNames is what must never reach pgx.
var ourParamNames = []string{"connection_limit", "pool_timeout", "connect_timeout", "schema", "pgbouncer", "statement_cache_size", "socket_timeout"}

func TestParseDatabaseURLRunbook(t *testing.T) {
	t.Parallel()
	defaultLimit := int32(2*runtime.NumCPU() + 1)
	tests := []struct {
		name    string
		query   string
		limit   int32
		pool    time.Duration
		connect time.Duration
	}{
		{"production", "schema=public&connection_limit=10&pool_timeout=10&connect_timeout=5", 10, 10 * time.Second, 5 * time.Second},
		{"development", "schema=public&connection_limit=5&pool_timeout=5&connect_timeout=3", 5, 5 * time.Second, 3 * time.Second},
		{"high traffic", "schema=public&connection_limit=20&pool_timeout=10&connect_timeout=5", 20, 10 * time.Second, 5 * time.Second},
		{"defaults", "schema=public", defaultLimit, 10 * time.Second, 5 * time.Second},
		{"keeps sslmode", "schema=public&sslmode=disable&connection_limit=10&pool_timeout=10&connect_timeout=5", 10, 10 * time.Second, 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			raw := runbookBase + "?" + tt.query
			db, err := ParseDatabaseURL(raw)
			require.NoError(t, err)
			require.Equal(t, tt.limit, db.ConnectionLimit)
			require.Equal(t, tt.pool, db.PoolTimeout)
			require.Equal(t, tt.connect, db.ConnectTimeout)
			require.Equal(t, "public", db.Schema)
			require.Equal(t, 100, db.StatementCacheSize)
			require.False(t, db.PgBouncer)
			require.Zero(t, db.SocketTimeout)
			require.Equal(t, "postgresql://event_manager:***@localhost:5432/event_manager?"+tt.query, db.Redacted)

			u, err := url.Parse(db.ConnString)
			require.NoError(t, err)
			q := u.Query()
			for _, p := range ourParamNames {
				require.NotContains(t, q, p)
			}
			if strings.Contains(tt.query, "sslmode=disable") {
				require.Equal(t, "disable", q.Get("sslmode"))
				require.Equal(t, runbookBase+"?sslmode=disable", db.ConnString)
			} else {
				require.Equal(t, runbookBase, db.ConnString)
			}
			pw, _ := u.User.Password()
			require.Equal(t, "dittibop", pw)
		})
	}
}

func TestParseDatabaseURLValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		raw   string
		check func(t *testing.T, db Database)
	}{
		{"postgres scheme", "postgres://u:p@h/db?connection_limit=1", func(t *testing.T, db Database) {
			require.Equal(t, int32(1), db.ConnectionLimit)
			require.Equal(t, "postgres://u:p@h/db", db.ConnString)
		}},
		{"largest limit", "postgres://u:p@h/db?connection_limit=10000", func(t *testing.T, db Database) {
			require.Equal(t, int32(10000), db.ConnectionLimit)
		}},
		{"decimal seconds", "postgres://u:p@h/db?pool_timeout=0.5&connect_timeout=2.25&socket_timeout=30.125", func(t *testing.T, db Database) {
			require.Equal(t, 500*time.Millisecond, db.PoolTimeout)
			require.Equal(t, 2250*time.Millisecond, db.ConnectTimeout)
			require.Equal(t, 30125*time.Millisecond, db.SocketTimeout)
		}},
		{"zero means no limit", "postgres://u:p@h/db?pool_timeout=0&connect_timeout=0&socket_timeout=0", func(t *testing.T, db Database) {
			require.Zero(t, db.PoolTimeout)
			require.Zero(t, db.ConnectTimeout)
			require.Zero(t, db.SocketTimeout)
		}},
		{"largest timeout", "postgres://u:p@h/db?pool_timeout=3600", func(t *testing.T, db Database) {
			require.Equal(t, time.Hour, db.PoolTimeout)
		}},
		{"schema", "postgres://u:p@h/db?schema=Tenant_1$x", func(t *testing.T, db Database) {
			require.Equal(t, "Tenant_1$x", db.Schema)
		}},
		{"percent-encoded schema", "postgres://u:p@h/db?schema=app%5Fv2", func(t *testing.T, db Database) {
			require.Equal(t, "app_v2", db.Schema)
		}},
		{"pgbouncer true turns the statement cache off", "postgres://u:p@h/db?pgbouncer=true", func(t *testing.T, db Database) {
			require.True(t, db.PgBouncer)
			require.Zero(t, db.StatementCacheSize)
		}},
		{"pgbouncer 1 with cache 0", "postgres://u:p@h/db?pgbouncer=1&statement_cache_size=0", func(t *testing.T, db Database) {
			require.True(t, db.PgBouncer)
			require.Zero(t, db.StatementCacheSize)
		}},
		{"pgbouncer FALSE", "postgres://u:p@h/db?pgbouncer=FALSE", func(t *testing.T, db Database) {
			require.False(t, db.PgBouncer)
			require.Equal(t, 100, db.StatementCacheSize)
		}},
		{"pgbouncer 0", "postgres://u:p@h/db?pgbouncer=0&statement_cache_size=250", func(t *testing.T, db Database) {
			require.False(t, db.PgBouncer)
			require.Equal(t, 250, db.StatementCacheSize)
		}},
		{"statement cache off", "postgres://u:p@h/db?statement_cache_size=0", func(t *testing.T, db Database) {
			require.Zero(t, db.StatementCacheSize)
		}},
		{"same value twice is fine", "postgres://u:p@h/db?connection_limit=7&connection_limit=7", func(t *testing.T, db Database) {
			require.Equal(t, int32(7), db.ConnectionLimit)
			require.Equal(t, "postgres://u:p@h/db", db.ConnString)
		}},
		{"libpq and pgx parameters pass untouched", "postgresql://u:p@h:5432/db?sslmode=require&sslrootcert=system&application_name=event%20manager&target_session_attrs=read-write&options=-c%20statement_timeout%3D5000&connection_limit=4&keepalives=1&statement_timeout=5000", func(t *testing.T, db Database) {
			require.Equal(t, "postgresql://u:p@h:5432/db?sslmode=require&sslrootcert=system&application_name=event%20manager&target_session_attrs=read-write&options=-c%20statement_timeout%3D5000&keepalives=1&statement_timeout=5000", db.ConnString)
			require.Equal(t, int32(4), db.ConnectionLimit)
		}},
		{"multiple hosts", "postgresql://u:p@h1:5432,h2:5433/db?target_session_attrs=read-write&connection_limit=3", func(t *testing.T, db Database) {
			require.Equal(t, "postgresql://u:p@h1:5432,h2:5433/db?target_session_attrs=read-write", db.ConnString)
			require.Equal(t, "postgresql://u:***@h1:5432,h2:5433/db?target_session_attrs=read-write&connection_limit=3", db.Redacted)
		}},
		{"IPv6 host", "postgresql://u:p@[::1]:5432/db?schema=s", func(t *testing.T, db Database) {
			require.Equal(t, "postgresql://u:p@[::1]:5432/db", db.ConnString)
		}},
		{"percent-encoded password", "postgresql://u:p%40ss%2Fw%3Ard@h/db?connection_limit=2", func(t *testing.T, db Database) {
			require.Equal(t, "postgresql://u:p%40ss%2Fw%3Ard@h/db", db.ConnString)
			require.Equal(t, "postgresql://u:***@h/db?connection_limit=2", db.Redacted)
		}},
		{"password with ? and #", "postgresql://u:p?x#y@h/db?connection_limit=2", func(t *testing.T, db Database) {
			require.Equal(t, "postgresql://u:p?x#y@h/db", db.ConnString)
			require.Equal(t, "postgresql://u:***@h/db?connection_limit=2", db.Redacted)
		}},
		{"no user information", "postgresql://localhost/db?connection_limit=2", func(t *testing.T, db Database) {
			require.Equal(t, "postgresql://localhost/db", db.ConnString)
			require.Equal(t, "postgresql://localhost/db?connection_limit=2", db.Redacted)
		}},
		{"query without path", "postgresql://u:p@h?connection_limit=2&sslmode=disable", func(t *testing.T, db Database) {
			require.Equal(t, "postgresql://u:p@h?sslmode=disable", db.ConnString)
		}},
		{"trailing & and surrounding whitespace", " postgresql://u:p@h/db?connection_limit=2&\r\n", func(t *testing.T, db Database) {
			require.Equal(t, "postgresql://u:p@h/db", db.ConnString)
			require.Equal(t, int32(2), db.ConnectionLimit)
		}},
		{"password in the query is redacted", "postgresql://u@h/db?password=s3cret&connection_limit=2", func(t *testing.T, db Database) {
			require.Equal(t, "postgresql://u@h/db?password=s3cret", db.ConnString)
			require.Equal(t, "postgresql://u@h/db?password=***&connection_limit=2", db.Redacted)
		}},
		{"keyword/value", "host=localhost port=5432 dbname=event_manager user=event_manager password=dittibop sslmode=disable connection_limit=10 pool_timeout=10 connect_timeout=5 schema=public", func(t *testing.T, db Database) {
			require.Equal(t, "host=localhost port=5432 dbname=event_manager user=event_manager password=dittibop sslmode=disable", db.ConnString)
			require.Equal(t, "host=localhost port=5432 dbname=event_manager user=event_manager password=*** sslmode=disable connection_limit=10 pool_timeout=10 connect_timeout=5 schema=public", db.Redacted)
			require.Equal(t, int32(10), db.ConnectionLimit)
			require.Equal(t, 10*time.Second, db.PoolTimeout)
			require.Equal(t, 5*time.Second, db.ConnectTimeout)
		}},
		{"keyword/value with quotes and spaces", "host = localhost password='it\\'s a \\'secret\\'' application_name='event manager' connection_limit = '3'", func(t *testing.T, db Database) {
			require.Equal(t, int32(3), db.ConnectionLimit)
			require.Equal(t, `host = localhost password=*** application_name='event manager' connection_limit = '3'`, db.Redacted)
			require.Equal(t, `host = localhost password='it\'s a \'secret\'' application_name='event manager'`, db.ConnString)
			cc, err := pgx.ParseConfig(db.ConnString)
			require.NoError(t, err)
			require.Equal(t, "it's a 'secret'", cc.Password)
			require.Equal(t, "event manager", cc.RuntimeParams["application_name"])
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db, err := ParseDatabaseURL(tt.raw)
			require.NoError(t, err)
			tt.check(t, db)
		})
	}
}

func TestParseDatabaseURLErrors(t *testing.T) {
	t.Parallel()
	const password = "Sup3rS3cret"
	base := "postgresql://event_manager:" + password + "@localhost:5432/event_manager"
	tests := []struct {
		name string
		raw  string
		// want is the whole message, or its start when it ends with "…".
		want string
	}{
		{"empty", "  ", `DATABASE_URL: is empty; want postgresql://user:password@host:5432/database?schema=public`},
		{"not a URL", "localhost:5432", `DATABASE_URL: is not a connection URL; want postgresql://user:password@host:5432/database?schema=public`},
		{"no scheme", "event_manager:" + password + "@localhost:5432/event_manager", `DATABASE_URL: is not a connection URL; want postgresql://user:password@host:5432/database?schema=public`},
		{"wrong scheme", "mysql://event_manager:" + password + "@localhost/db", `DATABASE_URL: scheme "mysql" is not supported; want postgresql:// or postgres://`},
		{"jdbc", "jdbc:postgresql://localhost/db?password=" + password, `DATABASE_URL: is not a connection URL; want postgresql://user:password@host:5432/database?schema=public`},
		{"NUL byte", base + "\x00", `DATABASE_URL: contains a NUL byte`},

		{"limit not a number", base + "?connection_limit=ten", `DATABASE_URL: connection_limit="ten" is invalid: want a whole number from 1 to 10000`},
		{"limit 0", base + "?connection_limit=0", `DATABASE_URL: connection_limit="0" is invalid: want a whole number from 1 to 10000`},
		{"limit negative", base + "?connection_limit=-5", `DATABASE_URL: connection_limit="-5" is invalid: want a whole number from 1 to 10000`},
		{"limit too big", base + "?connection_limit=10001", `DATABASE_URL: connection_limit="10001" is invalid: want a whole number from 1 to 10000`},
		{"limit decimal", base + "?connection_limit=2.5", `DATABASE_URL: connection_limit="2.5" is invalid: want a whole number from 1 to 10000`},
		{"limit with sign", base + "?connection_limit=%2B5", `DATABASE_URL: connection_limit="+5" is invalid: want a whole number from 1 to 10000`},
		{"limit empty", base + "?connection_limit=", `DATABASE_URL: connection_limit="" is invalid: want a whole number from 1 to 10000`},
		{"pool timeout negative", base + "?pool_timeout=-1", `DATABASE_URL: pool_timeout="-1" is invalid: want seconds from 0 to 3600, at most 3 decimals (e.g. 10 or 0.5); 0 waits without limit`},
		{"pool timeout unit", base + "?pool_timeout=10s", `DATABASE_URL: pool_timeout="10s" is invalid: want seconds from 0 to 3600, at most 3 decimals (e.g. 10 or 0.5); 0 waits without limit`},
		{"pool timeout too big", base + "?pool_timeout=3600.001", `DATABASE_URL: pool_timeout="3600.001" is invalid: want seconds from 0 to 3600, at most 3 decimals (e.g. 10 or 0.5); 0 waits without limit`},
		{"pool timeout too precise", base + "?pool_timeout=0.0001", `DATABASE_URL: pool_timeout="0.0001" is invalid: want seconds from 0 to 3600, at most 3 decimals (e.g. 10 or 0.5); 0 waits without limit`},
		{"pool timeout NaN", base + "?pool_timeout=NaN", `DATABASE_URL: pool_timeout="NaN" is invalid: want seconds from 0 to 3600, at most 3 decimals (e.g. 10 or 0.5); 0 waits without limit`},
		{"connect timeout not a number", base + "?connect_timeout=abc", `DATABASE_URL: connect_timeout="abc" is invalid: want seconds from 0 to 3600, at most 3 decimals (e.g. 5 or 0.5); 0 waits without limit`},
		{"connect timeout too big", base + "?connect_timeout=3601", `DATABASE_URL: connect_timeout="3601" is invalid: want seconds from 0 to 3600, at most 3 decimals (e.g. 5 or 0.5); 0 waits without limit`},
		{"socket timeout negative", base + "?socket_timeout=-0.5", `DATABASE_URL: socket_timeout="-0.5" is invalid: want seconds from 0 to 3600, at most 3 decimals (e.g. 30 or 0.5); 0 means no limit`},
		{"schema with a dash", base + "?schema=my-schema", `DATABASE_URL: schema="my-schema" is invalid: want an SQL identifier: a letter or _, then up to 62 letters, digits, _ or $`},
		{"schema injection", base + "?schema=public%3Bdrop", `DATABASE_URL: schema="public;drop" is invalid: want an SQL identifier: a letter or _, then up to 62 letters, digits, _ or $`},
		{"schema too long", base + "?schema=" + strings.Repeat("s", 64), `DATABASE_URL: schema="` + strings.Repeat("s", 64) + `" is invalid: want an SQL identifier: a letter or _, then up to 62 letters, digits, _ or $`},
		{"schema empty", base + "?schema=", `DATABASE_URL: schema="" is invalid: want an SQL identifier: a letter or _, then up to 62 letters, digits, _ or $`},
		{"pgbouncer maybe", base + "?pgbouncer=maybe", `DATABASE_URL: pgbouncer="maybe" is invalid: want true or false (or 1 or 0)`},
		{"cache negative", base + "?statement_cache_size=-1", `DATABASE_URL: statement_cache_size="-1" is invalid: want a whole number from 0 to 10000; 0 turns the cache off`},
		{"cache too big", base + "?statement_cache_size=10001", `DATABASE_URL: statement_cache_size="10001" is invalid: want a whole number from 0 to 10000; 0 turns the cache off`},
		{"cache with pgbouncer", base + "?pgbouncer=true&statement_cache_size=100", `DATABASE_URL: statement_cache_size=100 conflicts with pgbouncer=true: PgBouncer in transaction mode cannot use named prepared statements; remove statement_cache_size or set it to 0`},
		{"keyword/value bad limit", "host=h password=" + password + " connection_limit=0", `DATABASE_URL: connection_limit="0" is invalid: want a whole number from 1 to 10000`},

		{"duplicate", base + "?connection_limit=10&connection_limit=20", `DATABASE_URL: parameter "connection_limit" is given twice with different values ("10" and "20"); keep one`},
		{"duplicate libpq parameter", base + "?sslmode=disable&sslmode=require", `DATABASE_URL: parameter "sslmode" is given twice with different values ("disable" and "require"); keep one`},
		{"duplicate password hides values", "postgresql://u@h/db?password=" + password + "&password=other", `DATABASE_URL: parameter "password" is given twice with different values; keep one`},

		{"typo", base + "?conection_limit=5", `DATABASE_URL: unknown parameter "conection_limit": did you mean "connection_limit"?`},
		{"case", base + "?Connection_Limit=5", `DATABASE_URL: unknown parameter "Connection_Limit": did you mean "connection_limit"?`},
		{"upper case", base + "?SCHEMA=public", `DATABASE_URL: unknown parameter "SCHEMA": did you mean "schema"?`},
		{"pool typo", base + "?pool_timout=5", `DATABASE_URL: unknown parameter "pool_timout": did you mean "pool_timeout"?`},
		{"swapped letters", base + "?pgbuoncer=true", `DATABASE_URL: unknown parameter "pgbuoncer": did you mean "pgbouncer"?`},
		{"two typos", base + "?conection_limt=5", `DATABASE_URL: unknown parameter "conection_limt": did you mean "connection_limit"?`},
		{"socket typo", base + "?sockettimeout=5", `DATABASE_URL: unknown parameter "sockettimeout": did you mean "socket_timeout"?`},
		{"cache typo", base + "?statement_cache_sise=5", `DATABASE_URL: unknown parameter "statement_cache_sise": did you mean "statement_cache_size"?`},
		{"connect typo", base + "?connect_timeut=5", `DATABASE_URL: unknown parameter "connect_timeut": did you mean "connect_timeout"?`},
		{"keyword/value typo", "host=h conection_limit=5", `DATABASE_URL: unknown parameter "conection_limit": did you mean "connection_limit"?`},

		{"pgxpool max conns", base + "?pool_max_conns=10", `DATABASE_URL: parameter "pool_max_conns" is not accepted: use connection_limit instead`},
		{"pgxpool min conns", base + "?pool_min_conns=1", `DATABASE_URL: parameter "pool_min_conns" is not accepted: the pool is configured one way, with connection_limit, pool_timeout and connect_timeout`},
		{"pgxpool lifetime", base + "?pool_max_conn_lifetime=1h", `DATABASE_URL: parameter "pool_max_conn_lifetime" is not accepted: the pool is configured one way, with connection_limit, pool_timeout and connect_timeout`},
		{"pgxpool idle time", base + "?pool_max_conn_idle_time=1m", `DATABASE_URL: parameter "pool_max_conn_idle_time" is not accepted: the pool is configured one way, with connection_limit, pool_timeout and connect_timeout`},
		{"pgxpool health check", base + "?pool_health_check_period=1m", `DATABASE_URL: parameter "pool_health_check_period" is not accepted: the pool is configured one way, with connection_limit, pool_timeout and connect_timeout`},
		{"pgxpool jitter", base + "?pool_max_conn_lifetime_jitter=1m", `DATABASE_URL: parameter "pool_max_conn_lifetime_jitter" is not accepted: the pool is configured one way, with connection_limit, pool_timeout and connect_timeout`},
		{"future pgxpool parameter", base + "?pool_something_new=1", `DATABASE_URL: parameter "pool_something_new" is not accepted: the pool is configured one way, with connection_limit, pool_timeout and connect_timeout`},
		{"pgx statement cache", base + "?statement_cache_capacity=10", `DATABASE_URL: parameter "statement_cache_capacity" is not accepted: use statement_cache_size instead`},
		{"pgx exec mode", base + "?default_query_exec_mode=exec", `DATABASE_URL: parameter "default_query_exec_mode" is not accepted: use pgbouncer=true (no named prepared statements) or statement_cache_size=0 instead`},
		{"search_path", base + "?search_path=app", `DATABASE_URL: parameter "search_path" is not accepted: use schema instead`},

		{"unencoded @ in password", "postgresql://event_manager:Sup3r@S3cret@localhost:5432/event_manager", `DATABASE_URL: is not a valid connection URL: the host or database name contains "@"; percent-encode special characters in the user name and password (@ as %40, : as %3A, / as %2F, ? as %3F, # as %23, space as %20)`},
		{"unencoded / in password", "postgresql://event_manager:Sup3r/S3cret@localhost:5432/event_manager", `DATABASE_URL: is not a valid connection URL: the host or database name contains "@"; percent-encode…`},
		{"unencoded / and @ in password", "postgresql://event_manager:Sup3r@x/S3cret@localhost:5432/event_manager", `DATABASE_URL: is not a valid connection URL: the host or database name contains "@"; percent-encode…`},
		{"unencoded / and ? in password", "postgresql://event_manager:12/S3c?ret@localhost:5432/event_manager", `DATABASE_URL: is not a valid connection URL: "@" appears after the host but no user name comes before it; percent-encode…`},
		{"bad port", base[:len(base)-len("5432/event_manager")] + "99999/event_manager", "DATABASE_URL: pgx rejects postgresql://event_manager:***@localhost:99999/event_manager: invalid port"},
		{"unclosed IPv6", "postgresql://u:" + password + "@[::1/db", `DATABASE_URL: pgx rejects postgresql://u:***@[::1/db: failed to parse as URL: end of string reached when looking for matching "]" in IPv6 host address in URI`},
		{"pair without =", base + "?sslmode", `DATABASE_URL: query parameter 1 has no "="; write key=value pairs separated by "&"`},
		{"pair with two =", base + "?options=-c%20a=b", `DATABASE_URL: query parameter 1 has more than one "="; percent-encode "=" in values as %3D`},
		{"bad percent-encoding", base + "?connection_limit=%zz", `DATABASE_URL: the value of parameter "connection_limit" has a bad percent-encoding: "%" must be followed by two hex digits, and %00 is not allowed`},
		{"space in value", base + "?application_name=a b", `DATABASE_URL: the value of parameter "application_name" contains a space; percent-encode spaces as %20`},
		{"unterminated quote", "host=h password='" + password, `DATABASE_URL: is not a valid keyword/value connection string: a quoted value has no closing quote`},
		{"keyword without =", "host=h password=" + password + " oops", `DATABASE_URL: is not a valid keyword/value connection string: a keyword has no "=" after it; write keyword=value pairs and quote values that contain spaces (password='a b')`},

		{"pgx rejects sslmode", base + "?sslmode=bogus&connection_limit=3", "DATABASE_URL: pgx rejects postgresql://event_manager:***@localhost:5432/event_manager?sslmode=bogus&connection_limit=3: failed to configure TLS: sslmode is invalid"},
		{"pgx rejects target_session_attrs", base + "?target_session_attrs=bogus", "DATABASE_URL: pgx rejects postgresql://event_manager:***@localhost:5432/event_manager?target_session_attrs=bogus: unknown target_session_attrs value: bogus"},
		{"pgx rejects port count", "postgresql://u:" + password + "@h1:1,h2:2,h3:3/db?port=1,2", "DATABASE_URL: pgx rejects postgresql://u:***@h1:1,h2:2,h3:3/db?port=1,2: could not match 2 port numbers to 3 hosts"},
		{"pgx rejects keyword/value with spaced password", "host=h password = " + password + " sslmode=bogus", "DATABASE_URL: pgx rejects host=h password = *** sslmode=bogus: failed to configure TLS: sslmode is invalid"},
		{"pgx rejects a multi-line keyword/value string", "host=h\npassword=" + password + "\nsslmode=bogus", `DATABASE_URL: pgx rejects host=h\npassword=***\nsslmode=bogus: failed to configure TLS: sslmode is invalid`},
		{"pgx rejects bad password encoding", "postgresql://u:" + password + "%zz@h/db", "DATABASE_URL: pgx rejects postgresql://u:***@h/db: failed to parse as URL: invalid percent-encoded token in password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseDatabaseURL(tt.raw)
			require.Error(t, err)
			if prefix, ok := strings.CutSuffix(tt.want, "…"); ok {
				require.True(t, strings.HasPrefix(err.Error(), prefix), "got %q", err.Error())
			} else {
				require.Equal(t, tt.want, err.Error())
			}
			require.NotContains(t, err.Error(), password)
			require.NotContains(t, err.Error(), "S3cret")
			require.NotContains(t, err.Error(), "\n", "start-up prints the error as one line")

			var pe *ParamError
			var ue *URLError
			require.True(t, errors.As(err, &pe) || errors.As(err, &ue), "want *ParamError or *URLError, got %T", err)
		})
	}
}

func TestParamErrorIsTyped(t *testing.T) {
	t.Parallel()
	_, err := ParseDatabaseURL(runbookBase + "?connection_limit=0")
	var pe *ParamError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, ParamError{Var: "DATABASE_URL", Param: "connection_limit", Value: "0", Accepted: "want a whole number from 1 to 10000"}, *pe)

	_, err = ParseDatabaseURL(runbookBase + "?conection_limit=5")
	var ue *URLError
	require.ErrorAs(t, err, &ue)
	require.Equal(t, "DATABASE_URL", ue.Var)
}

func TestLegitimateParametersAreNotTypos(t *testing.T) {
	t.Parallel()
	// libpq's and pgx's own parameters, and server settings people pass as runtime parameters.
	legit := []string{
		"sslmode", "sslrootcert", "sslcert", "sslkey", "sslcrl", "sslcrldir", "sslsni", "sslnegotiation",
		"sslcompression", "sslcertmode", "application_name", "fallback_application_name",
		"target_session_attrs", "options", "keepalives", "keepalives_idle", "keepalives_interval",
		"keepalives_count", "tcp_user_timeout", "client_encoding", "gssencmode", "krbsrvname", "krbspn",
		"service", "servicefile", "passfile", "require_auth", "channel_binding", "load_balance_hosts",
		"min_protocol_version", "max_protocol_version", "connect_timeout", "hostaddr", "host", "port",
		"dbname", "database", "user", "replication", "requirepeer",
		"statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout", "timezone", "TimeZone",
		"datestyle", "work_mem", "search_path_x", "default_transaction_isolation", "role", "jit",
	}
	for _, name := range legit {
		require.Empty(t, suggestParam(name), name)
	}
	_, err := ParseDatabaseURL(runbookBase + "?sslmode=disable&application_name=em&target_session_attrs=any&options=-c%20jit%3Doff&statement_timeout=5000&lock_timeout=1000&TimeZone=UTC")
	require.NoError(t, err)
}

func TestPgxReasonScrubsThePassword(t *testing.T) {
	t.Parallel()
	// pgx's own redaction is best effort; whatever it lets through, we mask.
	err := pgconn.NewParseConfigError("postgres://u:hunter2@h/db", "invalid thing", errors.New(`value "hunter2" and "p@ss" are wrong`))
	got := pgxReason(err, []string{"hunter2", "p@ss"})
	require.Equal(t, `invalid thing: value "***" and "***" are wrong`, got)

	err = pgconn.NewParseConfigError("host=h password = hunter2", "no inner error", nil)
	require.Equal(t, "no inner error", pgxReason(err, []string{"hunter2"}))

	// An error of another shape keeps its text, scrubbed.
	require.Equal(t, "bad *** here", pgxReason(errors.New("bad hunter2 here"), []string{"hunter2"}))
}
