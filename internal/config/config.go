// Package config reads the service's settings from the environment and parses DATABASE_URL,
// including the Prisma-style pool parameters that operators of this product already use.
package config

import (
	"net/netip"
	"time"
)

// Database is a parsed DATABASE_URL (see ParseDatabaseURL): the connection string for pgx, our
// parameters removed, and the pool settings taken from them.
type Database struct {
	// ConnString is what pgx gets: the URL (or keyword/value string) without our parameters,
	// everything else exactly as written. It contains the password: never log it; log Redacted.
	ConnString string
	// Redacted is the string as given, our parameters included, with the password replaced by
	// "***": safe for logs and errors.
	Redacted string
	// ConnectionLimit is the maximum number of connections in the pool (connection_limit).
	ConnectionLimit int32
	// PoolTimeout is how long a request waits for a free connection (pool_timeout); 0 waits without limit.
	PoolTimeout time.Duration
	// ConnectTimeout bounds opening one new connection (connect_timeout); 0 waits without limit.
	ConnectTimeout time.Duration
	// Schema is the search_path of every connection (schema). It is an SQL identifier that may
	// hold upper-case letters, so quote it (pgx.Identifier{Schema}.Sanitize()) when setting it.
	Schema string
	// PgBouncer is true behind PgBouncer in transaction mode: no named prepared statements (pgbouncer).
	PgBouncer bool
	// StatementCacheSize is the number of prepared statements cached per connection; 0 turns it
	// off. It is 0 by default when PgBouncer is true, and may not be more than 0 then.
	StatementCacheSize int
	// SocketTimeout is the longest a single query may run before the client gives up; 0 means none.
	SocketTimeout time.Duration
}

// QueryTimeouts are the timeouts of the four query classes.
type QueryTimeouts struct {
	Simple   time.Duration // QUERY_TIMEOUT_SIMPLE, default 1s
	Standard time.Duration // QUERY_TIMEOUT_STANDARD, default 5s
	Complex  time.Duration // QUERY_TIMEOUT_COMPLEX, default 15s
	Report   time.Duration // QUERY_TIMEOUT_REPORT, default 30s
}

// Config is every setting of the service, read from the environment.
type Config struct {
	Port int // PORT, default 3000
	// Database is DATABASE_URL parsed; DatabaseSet is false when DATABASE_URL is empty, and then
	// the service runs its own private PostgreSQL.
	Database    Database
	DatabaseSet bool
	// Direct is DIRECT_DATABASE_URL parsed (migrations and advisory locks bypassing PgBouncer);
	// DirectSet is false when unset, and then Database is used.
	Direct    Database
	DirectSet bool
	// Migration is MIGRATION_DATABASE_URL parsed: the connection of the role that owns the schema,
	// for migrations (the service's own role may not create or alter tables). MigrationSet is false
	// when unset, and then Direct (else Database) is used.
	Migration    Database
	MigrationSet bool
	// Replica is DATABASE_REPLICA_URL parsed: a streaming replica for the read-only complex and
	// report queries (see db.UseReplica); ReplicaSet is false when unset. ReplicaMaxLag is
	// REPLICA_MAX_LAG, default 1s: past it their queries go to the primary.
	Replica         Database
	ReplicaSet      bool
	ReplicaMaxLag   time.Duration
	DBStartupWait   time.Duration // DB_STARTUP_WAIT, default 30s
	PGDataDir       string        // PG_DATA_DIR, default ./var/postgres (private PostgreSQL)
	LogFormat       string        // LOG_FORMAT: auto (default), json, text
	LogLevel        string        // LOG_LEVEL: debug, info (default), warn, error
	ShutdownTimeout time.Duration // SHUTDOWN_TIMEOUT, default 30s
	TokenTTL        time.Duration // TOKEN_TTL, default 12h
	QueryTimeouts   QueryTimeouts
	SlowQuery       time.Duration // SLOW_QUERY_THRESHOLD, default 100ms
	// RedisURL is REDIS_URL (redis://[:password@]host:port/db or rediss://): where rate-limit
	// counters live so that instances share them; "" counts in each process. It may hold a
	// password: log RedactURL(RedisURL).
	RedisURL string
	// MetricsAddr is METRICS_ADDR (host:port): /metrics is served there, and no longer on Port, so
	// that it can stay on a private interface; "" serves it on Port.
	MetricsAddr string
	// SignInLinkTTL is SIGN_IN_LINK_TTL: how long a judge's sign-in link may be used (default 15m).
	SignInLinkTTL time.Duration
	// PublicURL is PUBLIC_URL: the address people open sign-in and audience links at ("" takes the
	// request's host).
	PublicURL string
	// AuthCacheSize and AuthCacheTTL bound the in-process cache of verified sessions
	// (AUTH_CACHE_SIZE, default 10000 sessions; AUTH_CACHE_TTL, default 30s, 0 turns it off).
	AuthCacheSize int
	AuthCacheTTL  time.Duration
	// AuthFailuresPerMinute is how many failed token checks a client address may make per minute
	// (and in a burst) before it is answered 429 without a lookup (AUTH_FAILURES_PER_MINUTE, default 30).
	AuthFailuresPerMinute int
	// TimeZone is TIME_ZONE (an IANA name such as Europe/Paris), the venue's: the web app's pages
	// show times in it. Default UTC.
	TimeZone *time.Location
	// TrustedProxies are the proxies whose X-Forwarded-For names the client (TRUSTED_PROXIES,
	// comma-separated CIDRs or addresses; default none: the header is ignored).
	TrustedProxies []netip.Prefix
}
