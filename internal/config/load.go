package config

import (
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // TIME_ZONE works where the system has no zone database
)

// Defaults of the settings Load reads. They are exported so that the CLI's help and
// .env.example can quote the same values.
const (
	DefaultPort            = 3000
	DefaultDBStartupWait   = 30 * time.Second
	DefaultPGDataDir       = "./var/postgres"
	DefaultLogFormat       = "auto"
	DefaultLogLevel        = "info"
	DefaultShutdownTimeout = 30 * time.Second
	DefaultTokenTTL        = 12 * time.Hour
	DefaultSlowQuery       = 100 * time.Millisecond
	DefaultSignInLinkTTL   = 15 * time.Minute
	DefaultAuthCacheSize   = 10000
	DefaultAuthCacheTTL    = 30 * time.Second
	DefaultAuthFailures    = 30 // failed token checks per address and minute: above a stale token, below a flood
)

// DefaultQueryTimeouts are the query class timeouts when no QUERY_TIMEOUT_* variable is set.
var DefaultQueryTimeouts = QueryTimeouts{
	Simple:   1 * time.Second,
	Standard: 5 * time.Second,
	Complex:  15 * time.Second,
	Report:   30 * time.Second,
}

// Load reads every setting from getenv (os.Getenv in production; a map lookup in tests) and
// validates it. An unset or empty variable takes its default; surrounding whitespace is ignored,
// because .env files often leave a trailing space or carriage return.
//
// It returns the first bad setting (the plain settings in the order of the Config fields, then
// DATABASE_URL, then DIRECT_DATABASE_URL, then MIGRATION_DATABASE_URL) as a *ParamError, or a *URLError for a connection
// string that is wrong as a whole: one line that start-up prints before exiting with status 2.
// No error contains a password.
//
// DATABASE_URL is optional: empty means the service runs its own private PostgreSQL
// (DatabaseSet is false). DIRECT_DATABASE_URL is optional too, but only beside DATABASE_URL,
// since it exists to bypass the PgBouncer that DATABASE_URL points at.
func Load(getenv func(string) string) (Config, error) {
	l := loader{getenv: getenv}
	c := Config{
		Port:            l.port("PORT", DefaultPort),
		DBStartupWait:   l.duration("DB_STARTUP_WAIT", DefaultDBStartupWait, true),
		PGDataDir:       l.str("PG_DATA_DIR", DefaultPGDataDir),
		LogFormat:       l.oneOf("LOG_FORMAT", DefaultLogFormat, "auto", "json", "text"),
		LogLevel:        l.oneOf("LOG_LEVEL", DefaultLogLevel, "debug", "info", "warn", "error"),
		ShutdownTimeout: l.duration("SHUTDOWN_TIMEOUT", DefaultShutdownTimeout, false),
		TokenTTL:        l.duration("TOKEN_TTL", DefaultTokenTTL, false),
		QueryTimeouts: QueryTimeouts{
			Simple:   l.duration("QUERY_TIMEOUT_SIMPLE", DefaultQueryTimeouts.Simple, false),
			Standard: l.duration("QUERY_TIMEOUT_STANDARD", DefaultQueryTimeouts.Standard, false),
			Complex:  l.duration("QUERY_TIMEOUT_COMPLEX", DefaultQueryTimeouts.Complex, false),
			Report:   l.duration("QUERY_TIMEOUT_REPORT", DefaultQueryTimeouts.Report, false),
		},
		SlowQuery: l.duration("SLOW_QUERY_THRESHOLD", DefaultSlowQuery, true),
		RedisURL:  l.redisURL("REDIS_URL"),
		// A sign-in link is a password for its lifetime: minutes, not days.
		SignInLinkTTL: l.boundedDuration("SIGN_IN_LINK_TTL", DefaultSignInLinkTTL, time.Minute, 24*time.Hour),
		PublicURL:     l.publicURL("PUBLIC_URL"),
		MetricsAddr:   l.listenAddr("METRICS_ADDR"),

		AuthCacheSize:         l.whole("AUTH_CACHE_SIZE", DefaultAuthCacheSize, 1, 10_000_000),
		AuthCacheTTL:          l.duration("AUTH_CACHE_TTL", DefaultAuthCacheTTL, true),
		AuthFailuresPerMinute: l.whole("AUTH_FAILURES_PER_MINUTE", DefaultAuthFailures, 1, 1_000_000),
		TrustedProxies:        l.prefixes("TRUSTED_PROXIES"),
		TimeZone:              l.timeZone("TIME_ZONE"),
	}
	if l.err != nil {
		return Config{}, l.err
	}

	// The connection strings come after the plain settings only so that the simple mistakes are
	// reported first; their parse touches pgx (which may read certificate files).
	var err error
	if raw := strings.TrimSpace(getenv("DATABASE_URL")); raw != "" {
		if c.Database, err = parseDatabaseURL("DATABASE_URL", raw); err != nil {
			return Config{}, err
		}
		c.DatabaseSet = true
	}
	if raw := strings.TrimSpace(getenv("DIRECT_DATABASE_URL")); raw != "" {
		if !c.DatabaseSet {
			return Config{}, &URLError{Var: "DIRECT_DATABASE_URL", Msg: "is set but DATABASE_URL is not; set both, or neither to run the private PostgreSQL"}
		}
		if c.Direct, err = parseDatabaseURL("DIRECT_DATABASE_URL", raw); err != nil {
			return Config{}, err
		}
		c.DirectSet = true
	}
	if raw := strings.TrimSpace(getenv("MIGRATION_DATABASE_URL")); raw != "" {
		if !c.DatabaseSet {
			return Config{}, &URLError{Var: "MIGRATION_DATABASE_URL", Msg: "is set but DATABASE_URL is not; set both, or neither to run the private PostgreSQL"}
		}
		if c.Migration, err = parseDatabaseURL("MIGRATION_DATABASE_URL", raw); err != nil {
			return Config{}, err
		}
		c.MigrationSet = true
	}
	if err := loadReplica(getenv, &c); err != nil {
		return Config{}, err
	}
	return c, nil
}

// loader reads variables and keeps the first error, so that Load reads as a list of settings.
type loader struct {
	getenv func(string) string
	err    error
}

// get returns the trimmed value, or "" when unset, empty, or an earlier setting failed.
func (l *loader) get(name string) string {
	if l.err != nil {
		return ""
	}
	return strings.TrimSpace(l.getenv(name))
}

func (l *loader) fail(name, value, accepted string) {
	l.err = &ParamError{Param: name, Value: value, Accepted: accepted}
}

// timeZone reads an IANA time zone name; empty is UTC.
func (l *loader) timeZone(name string) *time.Location {
	v := l.get(name)
	if v == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(v)
	if err != nil {
		l.fail(name, v, "an IANA time zone name such as Europe/Paris or America/New_York")
		return nil
	}
	return loc
}

func (l *loader) str(name, def string) string {
	if v := l.get(name); v != "" {
		return v
	}
	return def
}

func (l *loader) port(name string, def int) int {
	v := l.get(name)
	if v == "" {
		return def
	}
	n, ok := parseWhole(v, 1, 65535)
	if !ok {
		l.fail(name, v, "want a whole number from 1 to 65535")
		return 0
	}
	return n
}

// whole reads a whole number from lo to hi.
func (l *loader) whole(name string, def, lo, hi int) int {
	v := l.get(name)
	if v == "" {
		return def
	}
	n, ok := parseWhole(v, lo, hi)
	if !ok {
		l.fail(name, v, "want a whole number from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi))
		return 0
	}
	return n
}

// prefixes reads a comma-separated list of CIDRs; a bare address stands for itself alone.
func (l *loader) prefixes(name string) []netip.Prefix {
	v := l.get(name)
	if v == "" {
		return nil
	}
	var out []netip.Prefix
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		p, err := netip.ParsePrefix(item)
		if err != nil {
			a, aerr := netip.ParseAddr(item)
			if aerr != nil {
				l.fail(name, item, "want comma-separated CIDRs such as 10.0.0.0/8,2001:db8::/32 or single addresses")
				return nil
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		out = append(out, p.Masked())
	}
	return out
}

// oneOf accepts one of the given words, in any case (operators write LOG_LEVEL=INFO), and
// returns it in lower case so that the rest of the code compares with constants.
func (l *loader) oneOf(name, def string, words ...string) string {
	v := l.get(name)
	if v == "" {
		return def
	}
	for _, w := range words {
		if strings.EqualFold(v, w) {
			return w
		}
	}
	l.fail(name, v, "want one of "+strings.Join(words, ", "))
	return ""
}

// duration reads a Go duration (300ms, 5s, 1m30s). allowZero separates the settings where 0 has
// a meaning (do not wait; log every query) from those where it would only break the service
// (a 0 query timeout fails every query; a 0 token lifetime logs everyone out at once).
func (l *loader) duration(name string, def time.Duration, allowZero bool) time.Duration {
	v := l.get(name)
	if v == "" {
		return def
	}
	accepted := "want a positive duration such as 500ms, 5s, 2m or 1h30m"
	if allowZero {
		accepted = "want a duration of 0 or more, such as 0, 500ms, 5s, 2m or 1h30m"
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || d == 0 && !allowZero {
		l.fail(name, v, accepted)
		return 0
	}
	return d
}

// listenAddr accepts "" or host:port with a port from 1 to 65535 (the host may be empty: every
// interface).
func (l *loader) listenAddr(name string) string {
	v := l.get(name)
	if v == "" {
		return ""
	}
	_, port, err := net.SplitHostPort(v)
	if _, ok := parseWhole(port, 1, 65535); err != nil || !ok {
		l.fail(name, v, "want host:port such as 127.0.0.1:9090 or :9090")
		return ""
	}
	return v
}

// redisURL accepts "" (no Redis) or a redis:// or rediss:// URL. The value in the error is redacted.
func (l *loader) redisURL(name string) string {
	v := l.get(name)
	if v == "" {
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
		l.fail(name, RedactURL(v), "want redis://[:password@]host:port[/db] or rediss://...")
		return ""
	}
	return v
}

// boundedDuration reads a duration from lo to hi.
func (l *loader) boundedDuration(name string, def, lo, hi time.Duration) time.Duration {
	d := l.duration(name, def, false)
	if l.err == nil && (d < lo || d > hi) {
		l.fail(name, l.get(name), "want a duration from "+lo.String()+" to "+hi.String())
		return 0
	}
	return d
}

// publicURL accepts "" (links take the request's host) or an http(s) URL without query or
// fragment; a trailing slash is dropped.
func (l *loader) publicURL(name string) string {
	v := l.get(name)
	if v == "" {
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		l.fail(name, v, "want http(s)://host[:port][/path], such as https://scores.example.org")
		return ""
	}
	return strings.TrimRight(v, "/")
}
