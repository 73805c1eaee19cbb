package config

import "strings"

// maxSuggestDistance is how many edits (insert, delete, substitute, swap two neighbours) a name
// may be from one of ours and still be taken for a typo of it. Two catches the usual slips
// (conection_limit, pool_timout, conection_limt) while every legitimate libpq, pgx or server
// parameter stays farther away (a test checks the list below).
const maxSuggestDistance = 2

// knownParams are libpq and pgx connection parameters. They are never reported as typos of ours,
// whatever their distance; the list guards against one of them ever coming close to our names.
var knownParams = map[string]bool{
	"host": true, "hostaddr": true, "port": true, "dbname": true, "database": true, "user": true,
	"password": true, "passfile": true, "require_auth": true, "channel_binding": true,
	"connect_timeout": true, "client_encoding": true, "options": true, "application_name": true,
	"fallback_application_name": true, "keepalives": true, "keepalives_idle": true,
	"keepalives_interval": true, "keepalives_count": true, "tcp_user_timeout": true,
	"replication": true, "gssencmode": true, "sslmode": true, "sslnegotiation": true,
	"sslcompression": true, "sslcert": true, "sslkey": true, "sslpassword": true,
	"sslcertmode": true, "sslrootcert": true, "sslcrl": true, "sslcrldir": true, "sslsni": true,
	"requirepeer": true, "ssl_min_protocol_version": true, "ssl_max_protocol_version": true,
	"min_protocol_version": true, "max_protocol_version": true, "krbsrvname": true, "krbspn": true,
	"gsslib": true, "gssdelegation": true, "service": true, "servicefile": true,
	"target_session_attrs": true, "load_balance_hosts": true, "ssl": true,
	"statement_cache_capacity": true, "description_cache_capacity": true,
	"default_query_exec_mode": true,
}

// suggestParam returns the parameter of ours that key looks like a misspelling of, or "" when it
// looks like none. A misspelt parameter must not pass through: pgx would send it to the server as
// a runtime setting, and the server would refuse every connection with a message that never
// mentions the typo.
func suggestParam(key string) string {
	if knownParams[key] || isOurParam(key) {
		return ""
	}
	lower := strings.ToLower(key)
	best, bestDistance := "", maxSuggestDistance+1
	for _, p := range ourParams {
		if d := editDistance(lower, p); d < bestDistance {
			best, bestDistance = p, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance (Levenshtein plus the transposition of
// two neighbouring characters, which is the most common typing slip) between two names, by byte.
func editDistance(a, b string) int {
	// Three rows suffice: a transposition looks two rows back.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
