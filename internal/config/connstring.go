package config

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
)

// This file finds the parameters of a connection string, so that ours can be taken out before the
// string reaches pgx, and the password, so that it can be masked. Everything else (hosts, ports,
// user, database, the parameters of libpq and pgx) is left for pgx to parse and check. The split
// follows libpq's rules, which pgx copies: the user information ends at the first '@' unless a '/'
// comes first, and the query starts at the first '?' after it.

// encodeHint tells the operator the usual cause of a connection URL whose components cannot be
// told apart: a special character written as is in the user name or password.
const encodeHint = "percent-encode special characters in the user name and password (@ as %40, : as %3A, / as %2F, ? as %3F, # as %23, space as %20)"

// urlParts is a URL after its "scheme://", split into its raw (still percent-encoded) parts.
type urlParts struct {
	hasUserinfo bool
	user        string
	password    string
	hasPassword bool
	middle      string // hosts, ports and database: pgx's to parse
	query       string // after '?'
	hasQuery    bool
}

// splitURL splits rest (the URL after "scheme://"). problem is non-empty when an '@' is left
// outside the user information: then a character of the password may have been taken for a
// delimiter, so the caller must neither trust the parts nor quote any of them.
func splitURL(rest string) (u urlParts, problem string) {
	if i := strings.IndexAny(rest, "@/"); i >= 0 && rest[i] == '@' {
		u.hasUserinfo = true
		u.user, u.password, u.hasPassword = strings.Cut(rest[:i], ":")
		rest = rest[i+1:]
	}
	u.middle, u.query, u.hasQuery = strings.Cut(rest, "?")
	if strings.ContainsRune(u.middle, '@') {
		return u, `the host or database name contains "@"; ` + encodeHint
	}
	// Without user information an '@' in the query is most likely the real end of a password
	// that holds an unencoded '/' (postgres://user:pa/ss?x@host/db); with it, it is data.
	if !u.hasUserinfo && strings.ContainsRune(u.query, '@') {
		return u, `"@" appears after the host but no user name comes before it; ` + encodeHint
	}
	return u, ""
}

// param is one parameter of either syntax: its decoded key and value, and its text as written
// (passed on to pgx when the parameter is not ours).
type param struct {
	key, value, raw string
}

// urlParams splits a URL query into parameters. Empty pairs (a trailing '&') are dropped: pgx
// would reject them, and they carry nothing. Like libpq, every pair needs exactly one '='. The
// problem never quotes the pair, which may hold a password written in the wrong place.
func urlParams(query string) ([]param, string) {
	var params []param
	n := 0
	for raw := range strings.SplitSeq(query, "&") {
		if raw == "" {
			continue
		}
		n++
		k, v, ok := strings.Cut(raw, "=")
		if !ok {
			return nil, "query parameter " + strconv.Itoa(n) + ` has no "="; write key=value pairs separated by "&"`
		}
		if strings.ContainsRune(v, '=') {
			return nil, "query parameter " + strconv.Itoa(n) + ` has more than one "="; percent-encode "=" in values as %3D`
		}
		key, err := uriDecode(k)
		if err != nil {
			return nil, "a query parameter name " + err.Error()
		}
		value, err := uriDecode(v)
		if err != nil {
			return nil, "the value of parameter " + strconv.Quote(key) + " " + err.Error()
		}
		params = append(params, param{key: key, value: value, raw: raw})
	}
	return params, ""
}

var (
	errBadPercent = errors.New(`has a bad percent-encoding: "%" must be followed by two hex digits, and %00 is not allowed`)
	errSpace      = errors.New("contains a space; percent-encode spaces as %20")
)

// uriDecode decodes one URL component with libpq's rules (as pgx applies them): %XX escapes,
// %00 forbidden, leading and trailing spaces dropped, inner spaces rejected, '+' kept as is.
func uriDecode(raw string) (string, error) {
	raw = strings.Trim(raw, " ")
	if strings.ContainsRune(raw, ' ') {
		return "", errSpace
	}
	s, err := url.PathUnescape(raw)
	if err != nil || strings.IndexByte(s, 0) >= 0 {
		return "", errBadPercent
	}
	return s, nil
}

// uriDecodeLenient decodes raw when it can and keeps it as is otherwise: redaction must not fail,
// and it must recognise the decoded spelling of a password (p%40ss is the password p@ss).
func uriDecodeLenient(raw string) string {
	if s, err := url.PathUnescape(raw); err == nil {
		return s
	}
	return raw
}

// kvPair is one pair of a keyword/value connection string ("host=db password='a b'"), with the
// byte offsets of its text so that we can drop it or mask its value without re-quoting anything.
type kvPair struct {
	key      string
	value    string // unquoted and unescaped
	start    int    // first byte of the key
	valStart int    // first byte of the value as written (its opening quote, if quoted)
	end      int    // one past the last byte of the value as written
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// splitKeywordValue tokenises a keyword/value connection string with pgx's rules: whitespace
// between pairs, optional whitespace around '=', values either bare (ending at whitespace) or in
// single quotes, backslash escaping the next character in both. The problem never quotes the
// input, which may hold a password.
func splitKeywordValue(s string) ([]kvPair, string) {
	var pairs []kvPair
	i := 0
	skip := func() {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
	}
	skip()
	for i < len(s) {
		start := i
		for i < len(s) && s[i] != '=' && !isSpace(s[i]) {
			i++
		}
		key := s[start:i]
		skip()
		if i >= len(s) || s[i] != '=' || key == "" {
			return nil, `a keyword has no "=" after it; write keyword=value pairs and quote values that contain spaces (password='a b')`
		}
		i++
		skip()
		valStart := i
		quoted := i < len(s) && s[i] == '\''
		if quoted {
			i++
		}
		var val strings.Builder
		for ; i < len(s); i++ {
			if quoted && s[i] == '\'' || !quoted && isSpace(s[i]) {
				break
			}
			if s[i] == '\\' && i+1 < len(s) {
				i++
			}
			val.WriteByte(s[i])
		}
		if quoted {
			if i >= len(s) {
				return nil, "a quoted value has no closing quote"
			}
			i++ // the closing quote
		}
		pairs = append(pairs, kvPair{key: key, value: val.String(), start: start, valStart: valStart, end: i})
		skip()
	}
	return pairs, ""
}
