package config

import (
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Our parameters: Prisma's names, because this product's operators already write them.
const (
	paramConnectionLimit    = "connection_limit"
	paramPoolTimeout        = "pool_timeout"
	paramConnectTimeout     = "connect_timeout"
	paramSchema             = "schema"
	paramPgBouncer          = "pgbouncer"
	paramStatementCacheSize = "statement_cache_size"
	paramSocketTimeout      = "socket_timeout"
)

// ourParams lists our parameters in the order suggestions prefer them.
var ourParams = []string{
	paramConnectionLimit, paramPoolTimeout, paramConnectTimeout, paramSchema,
	paramPgBouncer, paramStatementCacheSize, paramSocketTimeout,
}

// Limits of our parameters. Ten thousand connections or an hour of waiting is far beyond any
// sane setting; the bounds are there to catch typos (an extra zero) before they reach the pool.
const (
	maxConnectionLimit = 10000
	maxStatementCache  = 10000
	maxTimeoutSeconds  = 3600
)

// The accepted values, as the ParamError says them.
const (
	acceptConnectionLimit = "want a whole number from 1 to 10000"
	acceptPoolTimeout     = "want seconds from 0 to 3600, at most 3 decimals (e.g. 10 or 0.5); 0 waits without limit"
	acceptConnectTimeout  = "want seconds from 0 to 3600, at most 3 decimals (e.g. 5 or 0.5); 0 waits without limit"
	acceptSocketTimeout   = "want seconds from 0 to 3600, at most 3 decimals (e.g. 30 or 0.5); 0 means no limit"
	acceptSchema          = "want an SQL identifier: a letter or _, then up to 62 letters, digits, _ or $"
	acceptPgBouncer       = "want true or false (or 1 or 0)"
	acceptStatementCache  = "want a whole number from 0 to 10000; 0 turns the cache off"
)

// Defaults of our parameters (connection_limit's depends on the machine: DefaultConnectionLimit).
const (
	DefaultPoolTimeout        = 10 * time.Second
	DefaultConnectTimeout     = 5 * time.Second
	DefaultSchema             = "public"
	DefaultStatementCacheSize = 100
)

// DefaultConnectionLimit is the pool size when connection_limit is absent: 2 × CPUs + 1, the
// usual starting point for a pool whose connections spend part of their time waiting on I/O.
// (The Prisma runbook calls the default "unlimited"; an unbounded pool is exactly what we avoid.)
func DefaultConnectionLimit() int32 {
	return int32(min(2*runtime.NumCPU()+1, maxConnectionLimit))
}

// replacedParams are pgx and pgxpool parameters whose settings our parameters own. pgx would
// accept them, but the db package sets the same fields from our parameters, so one of the two
// would be silently ignored: we reject them and name the way to set it. Any other pool_* key
// is rejected too (see poolParamHint), since pgx would send it to the server as a setting.
var replacedParams = map[string]string{
	"pool_max_conns":                "use connection_limit instead",
	"pool_min_conns":                poolParamHint,
	"pool_min_idle_conns":           poolParamHint,
	"pool_max_conn_lifetime":        poolParamHint,
	"pool_max_conn_lifetime_jitter": poolParamHint,
	"pool_max_conn_idle_time":       poolParamHint,
	"pool_health_check_period":      poolParamHint,
	"pool_ping_timeout":             poolParamHint,
	"statement_cache_capacity":      "use statement_cache_size instead",
	"description_cache_capacity":    "the statement cache is configured with statement_cache_size and pgbouncer",
	"default_query_exec_mode":       "use pgbouncer=true (no named prepared statements) or statement_cache_size=0 instead",
	"search_path":                   "use schema instead",
}

const poolParamHint = "the pool is configured one way, with connection_limit, pool_timeout and connect_timeout"

var (
	wholeNumber = regexp.MustCompile(`^[0-9]{1,9}$`)
	seconds     = regexp.MustCompile(`^([0-9]{1,9})(?:\.([0-9]{1,3}))?$`)
	identifier  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$]{0,62}$`)
)

// ParseDatabaseURL parses a DATABASE_URL with our Prisma-style parameters.
//
// It accepts postgres:// and postgresql:// URLs, and libpq keyword/value strings
// ("host=db dbname=app connection_limit=10"), since pgx accepts both and operators coming from
// libpq tools write either. Our parameters (connection_limit, pool_timeout, connect_timeout,
// schema, pgbouncer, statement_cache_size, socket_timeout) are removed from ConnString; every
// other parameter reaches pgx exactly as written. Surrounding whitespace is ignored, because .env
// files often leave a trailing space or carriage return.
//
// The result is validated with pgxpool.ParseConfig, so an error here is an error at start-up rather
// than on the first connection. Errors are *ParamError (a bad value of one of our parameters) or
// *URLError (anything else); none contains the password.
func ParseDatabaseURL(raw string) (Database, error) {
	return parseDatabaseURL("DATABASE_URL", raw)
}

func parseDatabaseURL(varName, raw string) (Database, error) {
	fail := func(format string, args ...any) (Database, error) {
		// Start-up prints the error as one line: a keyword/value string may hold line breaks.
		msg := strings.NewReplacer("\r", `\r`, "\n", `\n`).Replace(fmt.Sprintf(format, args...))
		return Database{}, &URLError{Var: varName, Msg: msg}
	}
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return fail("is empty; want postgresql://user:password@host:5432/database?schema=public")
	}
	if strings.IndexByte(raw, 0) >= 0 {
		return fail("contains a NUL byte")
	}

	var (
		params []param
		// build puts the kept parameters back into a connection string for pgx.
		build func(kept []string) string
	)
	switch {
	case schemePrefix.MatchString(raw):
		scheme, rest, _ := strings.Cut(raw, "://")
		if scheme != "postgres" && scheme != "postgresql" {
			return fail("scheme %q is not supported; want postgresql:// or postgres://", scheme)
		}
		u, problem := splitURL(rest)
		if problem != "" {
			return fail("is not a valid connection URL: %s", problem)
		}
		if params, problem = urlParams(u.query); problem != "" {
			return fail("%s", problem)
		}
		base := strings.TrimSuffix(raw[:len(raw)-len(u.query)], "?")
		build = func(kept []string) string {
			if len(kept) == 0 {
				return base
			}
			return base + "?" + strings.Join(kept, "&")
		}
	case looksKeywordValue(raw):
		pairs, problem := splitKeywordValue(raw)
		if problem != "" {
			return fail("is not a valid keyword/value connection string: %s", problem)
		}
		for _, p := range pairs {
			params = append(params, param{key: p.key, value: p.value, raw: raw[p.start:p.end]})
		}
		build = func(kept []string) string { return strings.Join(kept, " ") }
	default:
		return fail("is not a connection URL; want postgresql://user:password@host:5432/database?schema=public")
	}

	db, kept, err := takeOurParams(varName, params)
	if err != nil {
		return Database{}, err
	}
	redacted, secrets := redact(raw)
	db.ConnString = build(kept)
	db.Redacted = redacted

	// The rest of the string is pgx's: hosts, ports, user, password, database and its own
	// parameters. Checking it here makes a mistake an error at start-up rather than on the first
	// connection.
	if _, err := pgxpool.ParseConfig(db.ConnString); err != nil {
		return fail("pgx rejects %s: %s", redacted, pgxReason(err, secrets))
	}
	return db, nil
}

// takeOurParams validates our parameters into a Database and returns the text of the others.
func takeOurParams(varName string, params []param) (Database, []string, error) {
	fail := func(format string, args ...any) (Database, []string, error) {
		return Database{}, nil, &URLError{Var: varName, Msg: fmt.Sprintf(format, args...)}
	}
	bad := func(param, value, accepted string) (Database, []string, error) {
		return Database{}, nil, &ParamError{Var: varName, Param: param, Value: value, Accepted: accepted}
	}

	seen := make(map[string]string, len(params))
	var kept []string
	ours := make(map[string]string)
	for _, p := range params {
		key := p.key
		if key == "dbname" {
			key = "database" // the same setting to pgx, so a duplicate under either name
		}
		if prev, dup := seen[key]; dup {
			if prev != p.value {
				if isPasswordKey(key) {
					return fail("parameter %q is given twice with different values; keep one", p.key)
				}
				return fail("parameter %q is given twice with different values (%q and %q); keep one", p.key, prev, p.value)
			}
			if _, isOurs := ours[key]; isOurs {
				continue
			}
		}
		seen[key] = p.value

		switch {
		case isOurParam(key):
			ours[key] = p.value
			continue
		case replacedParams[key] != "":
			return fail("parameter %q is not accepted: %s", p.key, replacedParams[key])
		}
		if suggestion := suggestParam(key); suggestion != "" {
			return fail("unknown parameter %q: did you mean %q?", p.key, suggestion)
		}
		if strings.HasPrefix(key, "pool_") {
			return fail("parameter %q is not accepted: %s", p.key, poolParamHint)
		}
		kept = append(kept, p.raw)
	}

	db := Database{
		ConnectionLimit:    DefaultConnectionLimit(),
		PoolTimeout:        DefaultPoolTimeout,
		ConnectTimeout:     DefaultConnectTimeout,
		Schema:             DefaultSchema,
		StatementCacheSize: DefaultStatementCacheSize,
	}
	if v, ok := ours[paramConnectionLimit]; ok {
		n, ok := parseWhole(v, 1, maxConnectionLimit)
		if !ok {
			return bad(paramConnectionLimit, v, acceptConnectionLimit)
		}
		db.ConnectionLimit = int32(n)
	}
	for _, t := range []struct {
		param, accepted string
		dst             *time.Duration
	}{
		{paramPoolTimeout, acceptPoolTimeout, &db.PoolTimeout},
		{paramConnectTimeout, acceptConnectTimeout, &db.ConnectTimeout},
		{paramSocketTimeout, acceptSocketTimeout, &db.SocketTimeout},
	} {
		if v, ok := ours[t.param]; ok {
			d, ok := parseSeconds(v)
			if !ok {
				return bad(t.param, v, t.accepted)
			}
			*t.dst = d
		}
	}
	if v, ok := ours[paramSchema]; ok {
		if !identifier.MatchString(v) {
			return bad(paramSchema, v, acceptSchema)
		}
		db.Schema = v
	}
	if v, ok := ours[paramPgBouncer]; ok {
		switch strings.ToLower(v) {
		case "true", "1":
			db.PgBouncer = true
		case "false", "0":
		default:
			return bad(paramPgBouncer, v, acceptPgBouncer)
		}
	}
	if db.PgBouncer {
		// PgBouncer in transaction mode cannot keep named prepared statements, so the cache is
		// off unless asked for, and asking for it contradicts pgbouncer=true.
		db.StatementCacheSize = 0
	}
	if v, ok := ours[paramStatementCacheSize]; ok {
		n, ok := parseWhole(v, 0, maxStatementCache)
		if !ok {
			return bad(paramStatementCacheSize, v, acceptStatementCache)
		}
		if db.PgBouncer && n > 0 {
			return fail("statement_cache_size=%d conflicts with pgbouncer=true: PgBouncer in transaction mode cannot use named prepared statements; remove statement_cache_size or set it to 0", n)
		}
		db.StatementCacheSize = n
	}
	return db, kept, nil
}

func isOurParam(key string) bool {
	for _, p := range ourParams {
		if p == key {
			return true
		}
	}
	return false
}

// parseWhole accepts plain decimal digits only: no sign, no spaces, no 0x, no underscores, so
// that what the operator reads is what we use.
func parseWhole(v string, lo, hi int) (int, bool) {
	if !wholeNumber.MatchString(v) {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, false
	}
	return n, true
}

// parseSeconds reads a number of seconds with up to three decimals. It is exact (no float
// rounding), and millisecond precision is enough for any timeout while making sure that a tiny
// non-zero value cannot round to 0, which would mean "no limit".
func parseSeconds(v string) (time.Duration, bool) {
	m := seconds.FindStringSubmatch(v)
	if m == nil {
		return 0, false
	}
	whole, _ := strconv.Atoi(m[1])
	ms, _ := strconv.Atoi((m[2] + "000")[:3])
	d := time.Duration(whole)*time.Second + time.Duration(ms)*time.Millisecond
	if d > maxTimeoutSeconds*time.Second {
		return 0, false
	}
	return d, true
}

// pgxReason turns a pgx parse error into its reason without the connection string pgx quotes
// (its own redaction is best effort), then masks every secret we know of in what remains, in
// case pgx quoted a component that holds one.
func pgxReason(err error, secrets []string) string {
	reason := err.Error()
	var pe *pgconn.ParseConfigError
	if errors.As(err, &pe) {
		full := pe.Error()
		if inner := pe.Unwrap(); inner != nil {
			full = strings.TrimSuffix(full, " ("+inner.Error()+")")
			if i := strings.LastIndex(full, "`: "); i >= 0 {
				reason = full[i+3:] + ": " + inner.Error()
			}
		} else if i := strings.LastIndex(full, "`: "); i >= 0 {
			reason = full[i+3:]
		}
	}
	return scrub(reason, secrets)
}
