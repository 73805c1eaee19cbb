package config

import (
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// env turns a map into a getenv function, so that tests never touch the process environment
// and can run in parallel.
func env(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	require.NoError(t, err)
	require.Equal(t, Config{
		Port:            3000,
		DBStartupWait:   30 * time.Second,
		PGDataDir:       "./var/postgres",
		LogFormat:       "auto",
		LogLevel:        "info",
		ShutdownTimeout: 30 * time.Second,
		TokenTTL:        12 * time.Hour,
		QueryTimeouts:   QueryTimeouts{Simple: time.Second, Standard: 5 * time.Second, Complex: 15 * time.Second, Report: 30 * time.Second},
		SlowQuery:       100 * time.Millisecond,
		ReplicaMaxLag:   time.Second,
		SignInLinkTTL:   15 * time.Minute,

		AuthCacheSize:         10000,
		AuthCacheTTL:          30 * time.Second,
		AuthFailuresPerMinute: 30,
		TimeZone:              time.UTC,
	}, c)
	require.False(t, c.DatabaseSet)
	require.False(t, c.DirectSet)
}

func TestLoadValues(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{
		"PORT":                   " 8080 ",
		"DATABASE_URL":           "postgresql://event_manager:dittibop@pgbouncer:6432/event_manager?schema=public&connection_limit=10&pool_timeout=10&connect_timeout=5&pgbouncer=true\r\n",
		"DIRECT_DATABASE_URL":    "postgresql://event_manager:dittibop@localhost:5432/event_manager?connection_limit=2",
		"DB_STARTUP_WAIT":        "0",
		"PG_DATA_DIR":            "/srv/pg",
		"LOG_FORMAT":             "JSON",
		"LOG_LEVEL":              "Debug",
		"SHUTDOWN_TIMEOUT":       "45s",
		"TOKEN_TTL":              "1h30m",
		"QUERY_TIMEOUT_SIMPLE":   "500ms",
		"QUERY_TIMEOUT_STANDARD": "2s",
		"QUERY_TIMEOUT_COMPLEX":  "20s",
		"QUERY_TIMEOUT_REPORT":   "2m",
		"SLOW_QUERY_THRESHOLD":   "0",
		"MIGRATION_DATABASE_URL": "postgresql://event_manager_owner:owner-secret@localhost:5432/event_manager",
		"METRICS_ADDR":           "127.0.0.1:9090",
	}))
	require.NoError(t, err)
	require.Equal(t, 8080, c.Port)
	require.True(t, c.DatabaseSet)
	require.Equal(t, int32(10), c.Database.ConnectionLimit)
	require.True(t, c.Database.PgBouncer)
	require.Equal(t, "postgresql://event_manager:dittibop@pgbouncer:6432/event_manager", c.Database.ConnString)
	require.True(t, c.DirectSet)
	require.Equal(t, int32(2), c.Direct.ConnectionLimit)
	require.False(t, c.Direct.PgBouncer)
	require.Equal(t, "postgresql://event_manager:dittibop@localhost:5432/event_manager", c.Direct.ConnString)
	require.Zero(t, c.DBStartupWait)
	require.Equal(t, "/srv/pg", c.PGDataDir)
	require.Equal(t, "json", c.LogFormat)
	require.Equal(t, "debug", c.LogLevel)
	require.Equal(t, 45*time.Second, c.ShutdownTimeout)
	require.Equal(t, 90*time.Minute, c.TokenTTL)
	require.Equal(t, QueryTimeouts{Simple: 500 * time.Millisecond, Standard: 2 * time.Second, Complex: 20 * time.Second, Report: 2 * time.Minute}, c.QueryTimeouts)
	require.Zero(t, c.SlowQuery)
	require.True(t, c.MigrationSet)
	require.Equal(t, "postgresql://event_manager_owner:owner-secret@localhost:5432/event_manager", c.Migration.ConnString)
	require.Equal(t, "127.0.0.1:9090", c.MetricsAddr)
}

func TestLoadDatabaseDefaults(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{"DATABASE_URL": "postgresql://event_manager:dittibop@localhost:5432/event_manager?schema=public"}))
	require.NoError(t, err)
	require.True(t, c.DatabaseSet)
	require.False(t, c.DirectSet)
	require.Equal(t, Database{
		ConnString:         "postgresql://event_manager:dittibop@localhost:5432/event_manager",
		Redacted:           "postgresql://event_manager:***@localhost:5432/event_manager?schema=public",
		ConnectionLimit:    int32(2*runtime.NumCPU() + 1),
		PoolTimeout:        10 * time.Second,
		ConnectTimeout:     5 * time.Second,
		Schema:             "public",
		StatementCacheSize: 100,
	}, c.Database)
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	const (
		positive   = "want a positive duration such as 500ms, 5s, 2m or 1h30m"
		zeroOrMore = "want a duration of 0 or more, such as 0, 500ms, 5s, 2m or 1h30m"
	)
	tests := []struct {
		name  string
		vars  map[string]string
		param string // the ParamError's Param; empty for a *URLError
		want  string
	}{
		{"port not a number", map[string]string{"PORT": "http"}, "PORT", `PORT="http" is invalid: want a whole number from 1 to 65535`},
		{"port 0", map[string]string{"PORT": "0"}, "PORT", `PORT="0" is invalid: want a whole number from 1 to 65535`},
		{"port too big", map[string]string{"PORT": "65536"}, "PORT", `PORT="65536" is invalid: want a whole number from 1 to 65535`},
		{"port negative", map[string]string{"PORT": "-1"}, "PORT", `PORT="-1" is invalid: want a whole number from 1 to 65535`},
		{"port with colon", map[string]string{"PORT": ":3000"}, "PORT", `PORT=":3000" is invalid: want a whole number from 1 to 65535`},
		{"startup wait negative", map[string]string{"DB_STARTUP_WAIT": "-1s"}, "DB_STARTUP_WAIT", `DB_STARTUP_WAIT="-1s" is invalid: ` + zeroOrMore},
		{"startup wait without unit", map[string]string{"DB_STARTUP_WAIT": "30"}, "DB_STARTUP_WAIT", `DB_STARTUP_WAIT="30" is invalid: ` + zeroOrMore},
		{"log format", map[string]string{"LOG_FORMAT": "xml"}, "LOG_FORMAT", `LOG_FORMAT="xml" is invalid: want one of auto, json, text`},
		{"log level", map[string]string{"LOG_LEVEL": "trace"}, "LOG_LEVEL", `LOG_LEVEL="trace" is invalid: want one of debug, info, warn, error`},
		{"log level warning", map[string]string{"LOG_LEVEL": "warning"}, "LOG_LEVEL", `LOG_LEVEL="warning" is invalid: want one of debug, info, warn, error`},
		{"shutdown timeout garbage", map[string]string{"SHUTDOWN_TIMEOUT": "soon"}, "SHUTDOWN_TIMEOUT", `SHUTDOWN_TIMEOUT="soon" is invalid: ` + positive},
		{"shutdown timeout 0", map[string]string{"SHUTDOWN_TIMEOUT": "0s"}, "SHUTDOWN_TIMEOUT", `SHUTDOWN_TIMEOUT="0s" is invalid: ` + positive},
		{"token ttl 0", map[string]string{"TOKEN_TTL": "0"}, "TOKEN_TTL", `TOKEN_TTL="0" is invalid: ` + positive},
		{"token ttl negative", map[string]string{"TOKEN_TTL": "-12h"}, "TOKEN_TTL", `TOKEN_TTL="-12h" is invalid: ` + positive},
		{"token ttl in days", map[string]string{"TOKEN_TTL": "1d"}, "TOKEN_TTL", `TOKEN_TTL="1d" is invalid: ` + positive},
		{"simple timeout 0", map[string]string{"QUERY_TIMEOUT_SIMPLE": "0"}, "QUERY_TIMEOUT_SIMPLE", `QUERY_TIMEOUT_SIMPLE="0" is invalid: ` + positive},
		{"standard timeout garbage", map[string]string{"QUERY_TIMEOUT_STANDARD": "5 s"}, "QUERY_TIMEOUT_STANDARD", `QUERY_TIMEOUT_STANDARD="5 s" is invalid: ` + positive},
		{"complex timeout negative", map[string]string{"QUERY_TIMEOUT_COMPLEX": "-15s"}, "QUERY_TIMEOUT_COMPLEX", `QUERY_TIMEOUT_COMPLEX="-15s" is invalid: ` + positive},
		{"report timeout without unit", map[string]string{"QUERY_TIMEOUT_REPORT": "30"}, "QUERY_TIMEOUT_REPORT", `QUERY_TIMEOUT_REPORT="30" is invalid: ` + positive},
		{"slow query negative", map[string]string{"SLOW_QUERY_THRESHOLD": "-100ms"}, "SLOW_QUERY_THRESHOLD", `SLOW_QUERY_THRESHOLD="-100ms" is invalid: ` + zeroOrMore},
		{"first bad setting wins", map[string]string{"PORT": "x", "TOKEN_TTL": "0"}, "PORT", `PORT="x" is invalid: want a whole number from 1 to 65535`},

		{"database parameter", map[string]string{"DATABASE_URL": "postgresql://u:hunter2@h/db?connection_limit=0"}, "connection_limit",
			`DATABASE_URL: connection_limit="0" is invalid: want a whole number from 1 to 10000`},
		{"database typo", map[string]string{"DATABASE_URL": "postgresql://u:hunter2@h/db?conection_limit=5"}, "",
			`DATABASE_URL: unknown parameter "conection_limit": did you mean "connection_limit"?`},
		{"direct parameter names its variable", map[string]string{
			"DATABASE_URL":        "postgresql://u:hunter2@h/db",
			"DIRECT_DATABASE_URL": "postgresql://u:hunter2@h/db?pool_timeout=-1",
		}, "pool_timeout", `DIRECT_DATABASE_URL: pool_timeout="-1" is invalid: want seconds from 0 to 3600, at most 3 decimals (e.g. 10 or 0.5); 0 waits without limit`},
		{"direct URL error names its variable", map[string]string{
			"DATABASE_URL":        "postgresql://u:hunter2@h/db",
			"DIRECT_DATABASE_URL": "mysql://u:hunter2@h/db",
		}, "", `DIRECT_DATABASE_URL: scheme "mysql" is not supported; want postgresql:// or postgres://`},
		{"direct without database", map[string]string{"DIRECT_DATABASE_URL": "postgresql://u:hunter2@h/db"}, "",
			`DIRECT_DATABASE_URL: is set but DATABASE_URL is not; set both, or neither to run the private PostgreSQL`},
		{"migration without database", map[string]string{"MIGRATION_DATABASE_URL": "postgresql://u:hunter2@h/db"}, "",
			`MIGRATION_DATABASE_URL: is set but DATABASE_URL is not; set both, or neither to run the private PostgreSQL`},
		{"migration URL error names its variable", map[string]string{
			"DATABASE_URL":           "postgresql://u:hunter2@h/db",
			"MIGRATION_DATABASE_URL": "postgresql://u:hunter2@h/db?connection_limit=x",
		}, "connection_limit", `MIGRATION_DATABASE_URL: connection_limit="x" is invalid: want a whole number from 1 to 10000`},
		{"metrics address without port", map[string]string{"METRICS_ADDR": "localhost"}, "METRICS_ADDR",
			`METRICS_ADDR="localhost" is invalid: want host:port such as 127.0.0.1:9090 or :9090`},
		{"metrics port 0", map[string]string{"METRICS_ADDR": ":0"}, "METRICS_ADDR",
			`METRICS_ADDR=":0" is invalid: want host:port such as 127.0.0.1:9090 or :9090`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(env(tt.vars))
			require.Error(t, err)
			require.Zero(t, c)
			require.Equal(t, tt.want, err.Error())
			require.NotContains(t, err.Error(), "hunter2")
			if tt.param != "" {
				var pe *ParamError
				require.ErrorAs(t, err, &pe)
				require.Equal(t, tt.param, pe.Param)
				require.True(t, strings.HasPrefix(pe.Accepted, "want "), pe.Accepted)
			} else {
				var ue *URLError
				require.ErrorAs(t, err, &ue)
			}
		})
	}
}

func TestLoadEmptyMeansDefault(t *testing.T) {
	t.Parallel()
	names := []string{"PORT", "DATABASE_URL", "DIRECT_DATABASE_URL", "DB_STARTUP_WAIT", "PG_DATA_DIR", "LOG_FORMAT", "LOG_LEVEL",
		"SHUTDOWN_TIMEOUT", "TOKEN_TTL", "QUERY_TIMEOUT_SIMPLE", "QUERY_TIMEOUT_STANDARD", "QUERY_TIMEOUT_COMPLEX",
		"QUERY_TIMEOUT_REPORT", "SLOW_QUERY_THRESHOLD", "SIGN_IN_LINK_TTL", "PUBLIC_URL", "MIGRATION_DATABASE_URL", "METRICS_ADDR"}
	vars := map[string]string{}
	for _, n := range names {
		vars[n] = "  "
	}
	blank, err := Load(env(vars))
	require.NoError(t, err)
	defaults, err := Load(env(nil))
	require.NoError(t, err)
	require.Equal(t, defaults, blank)
}

func TestLoadRedisURL(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{"REDIS_URL": "redis://:s3cret@cache:6380/2"}))
	require.NoError(t, err)
	require.Equal(t, "redis://:s3cret@cache:6380/2", c.RedisURL)
	_, err = Load(env(map[string]string{"REDIS_URL": "http://:s3cret@cache:6380"}))
	var pe *ParamError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, "REDIS_URL", pe.Param)
	require.NotContains(t, err.Error(), "s3cret")
}

func TestLoadAuthSettings(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{
		"AUTH_CACHE_SIZE":          "500",
		"AUTH_CACHE_TTL":           "0",
		"AUTH_FAILURES_PER_MINUTE": "5",
		"TRUSTED_PROXIES":          " 10.0.0.0/8, 192.0.2.7 ,2001:db8::/32,",
	}))
	require.NoError(t, err)
	require.Equal(t, 500, c.AuthCacheSize)
	require.Zero(t, c.AuthCacheTTL)
	require.Equal(t, 5, c.AuthFailuresPerMinute)
	require.Equal(t, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"),
		netip.MustParsePrefix("2001:db8::/32")}, c.TrustedProxies)

	for name, value := range map[string]string{
		"TRUSTED_PROXIES":          "10.0.0.0/8,proxy.local",
		"AUTH_CACHE_SIZE":          "0",
		"AUTH_FAILURES_PER_MINUTE": "many",
		"AUTH_CACHE_TTL":           "-1s",
	} {
		_, err := Load(env(map[string]string{name: value}))
		var pe *ParamError
		require.ErrorAs(t, err, &pe, name)
		require.Equal(t, name, pe.Param)
	}
}

// TIME_ZONE names the venue's zone for the web app's times; a name the zone database does not
// know is refused at start-up.
func TestLoadTimeZone(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{"TIME_ZONE": "Europe/Paris"}))
	require.NoError(t, err)
	require.Equal(t, "Europe/Paris", c.TimeZone.String())
	_, err = Load(env(map[string]string{"TIME_ZONE": "Mars/Olympus"}))
	var pe *ParamError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, "TIME_ZONE", pe.Param)
}

func TestReplicaSettings(t *testing.T) {
	t.Parallel()
	const primary = "postgresql://u:hunter2@primary/db"
	c, err := Load(env(map[string]string{"DATABASE_URL": primary}))
	require.NoError(t, err)
	require.False(t, c.ReplicaSet)
	require.Equal(t, DefaultReplicaMaxLag, c.ReplicaMaxLag)

	c, err = Load(env(map[string]string{"DATABASE_URL": primary,
		"DATABASE_REPLICA_URL": "postgresql://u:hunter2@replica/db?connection_limit=4", "REPLICA_MAX_LAG": "250ms"}))
	require.NoError(t, err)
	require.True(t, c.ReplicaSet)
	require.EqualValues(t, 4, c.Replica.ConnectionLimit)
	require.Equal(t, 250*time.Millisecond, c.ReplicaMaxLag)
	require.NotContains(t, c.Replica.Redacted, "hunter2")

	for _, bad := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"DATABASE_REPLICA_URL": "postgresql://u:hunter2@replica/db"}, "DATABASE_REPLICA_URL"},
		{map[string]string{"DATABASE_URL": primary, "DATABASE_REPLICA_URL": "postgresql://u:hunter2@replica/db?connection_limit=x"}, "connection_limit"},
		{map[string]string{"DATABASE_URL": primary, "REPLICA_MAX_LAG": "0"}, "REPLICA_MAX_LAG"},
		{map[string]string{"DATABASE_URL": primary, "REPLICA_MAX_LAG": "soon"}, "REPLICA_MAX_LAG"},
	} {
		_, err := Load(env(bad.env))
		require.Error(t, err, bad.env)
		require.Contains(t, err.Error(), bad.want)
		require.NotContains(t, err.Error(), "hunter2")
	}
}
