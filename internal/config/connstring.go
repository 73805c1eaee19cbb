package config

import (
	"errors"
	"strconv"
	"strings"
)

// This file splits connection strings the way pgx (v5.12, which copies libpq) does, so that the
// parameters we remove, the password we mask and the string pgx finally parses all agree on
// where each component starts and ends. net/url is not used: it rejects libpq's multi-host
// syntax (postgresql://h1:5432,h2:5432/db) and decodes '+' and '#' differently from libpq.

// encodeHint tells the operator the usual cause of a connection URL whose components cannot be
// told apart: a special character written as is in the user name or password.
const encodeHint = "percent-encode special characters in the user name and password (@ as %40, : as %3A, / as %2F, ? as %3F, # as %23, space as %20)"

// urlParts is a postgres:// URL split into its raw (still percent-encoded) components.
type urlParts struct {
	scheme      string // "postgres://" or "postgresql://" (or whatever was written, for redaction)
	hasUserinfo bool
	user        string
	password    string
	hasPassword bool
	authority   string // hosts and ports, e.g. "h1:5432,h2"
	path        string // from the '/' that ends the authority up to the query, "" when absent
	query       string // after '?'
	hasQuery    bool
}

// splitURL splits rest (the URL after "scheme://") as pgx does. problem is non-empty when the
// result is ambiguous, meaning a character that belongs to the password may have been taken for
// a delimiter; the caller must then neither trust the components nor quote any of them.
func splitURL(scheme, rest string) (u urlParts, problem string) {
	u.scheme = scheme
	p := rest
	// Like libpq, the user information ends at the first '@' unless a '/' comes first.
	if i := strings.IndexAny(p, "@/"); i >= 0 && p[i] == '@' {
		u.hasUserinfo = true
		u.user, u.password, u.hasPassword = strings.Cut(p[:i], ":")
		p = p[i+1:]
	}

	j := 0
	for {
		start := j
		if j < len(p) && p[j] == '[' {
			end := strings.IndexByte(p[j:], ']')
			if end < 0 {
				return u, `an IPv6 host address has no closing "]"`
			}
			j += end + 1
			if j < len(p) && !strings.ContainsRune(":/?,", rune(p[j])) {
				return u, `an IPv6 host address in [] must be followed by ":port", "/", "?" or ","`
			}
		} else {
			for j < len(p) && !strings.ContainsRune(":/?,", rune(p[j])) {
				j++
			}
		}
		if strings.ContainsRune(p[start:j], '@') {
			return u, `the host contains "@"; ` + encodeHint
		}
		if j < len(p) && p[j] == ':' {
			j++
			portStart := j
			for j < len(p) && !strings.ContainsRune("/?,", rune(p[j])) {
				j++
			}
			// The port is never quoted: when the password holds an unencoded '/', part of the
			// password lands here (postgres://user:se/cret@host parses "se" as the port).
			if port := p[portStart:j]; port != "" {
				n, err := strconv.Atoi(port)
				if err != nil || port[0] == '+' || port[0] == '-' {
					return u, "the port is not a number; " + encodeHint
				}
				if n < 1 || n > 65535 {
					return u, "the port must be a whole number from 1 to 65535"
				}
			}
		}
		if j < len(p) && p[j] == ',' {
			j++
			continue
		}
		break
	}
	u.authority = p[:j]
	p = p[j:]

	if strings.HasPrefix(p, "/") {
		end := strings.IndexByte(p, '?')
		if end < 0 {
			end = len(p)
		}
		u.path = p[:end]
		p = p[end:]
		if strings.ContainsRune(u.path, '@') {
			return u, `the database name contains "@"; ` + encodeHint
		}
	}
	if strings.HasPrefix(p, "?") {
		u.hasQuery = true
		u.query = p[1:]
		// Without user information an '@' after the host is most likely the real end of a
		// password that holds an unencoded '/' (postgres://user:pa/ss?x@host/db).
		if !u.hasUserinfo && strings.ContainsRune(u.query, '@') {
			return u, `"@" appears after the host but no user name comes before it; ` + encodeHint
		}
	}
	return u, ""
}

// queryPair is one key=value pair of a URL query, with its raw text kept so that the pairs we do
// not own reach pgx exactly as written.
type queryPair struct {
	raw      string
	rawKey   string
	rawValue string
}

// splitQuery splits a URL query into pairs. Empty pairs (a trailing '&') are dropped: pgx would
// reject them, and they carry nothing. Like libpq, every pair needs exactly one '='. The problem
// never quotes the pair, which may hold a password written in the wrong place.
func splitQuery(query string) ([]queryPair, string) {
	var pairs []queryPair
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
		pairs = append(pairs, queryPair{raw: raw, rawKey: k, rawValue: v})
	}
	return pairs, ""
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
	if !strings.ContainsRune(raw, '%') {
		return raw, nil
	}
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		if raw[i] != '%' {
			b.WriteByte(raw[i])
			continue
		}
		if i+2 >= len(raw) {
			return "", errBadPercent
		}
		hi, ok1 := unhex(raw[i+1])
		lo, ok2 := unhex(raw[i+2])
		if !ok1 || !ok2 || hi<<4|lo == 0 {
			return "", errBadPercent
		}
		b.WriteByte(hi<<4 | lo)
		i += 2
	}
	return b.String(), nil
}

// uriDecodeLenient decodes what it can and keeps the rest; redaction must not fail, and it must
// recognise the decoded spelling of a password (p%40ss is the password p@ss).
func uriDecodeLenient(raw string) string {
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		if raw[i] == '%' && i+2 < len(raw) {
			hi, ok1 := unhex(raw[i+1])
			lo, ok2 := unhex(raw[i+2])
			if ok1 && ok2 {
				b.WriteByte(hi<<4 | lo)
				i += 2
				continue
			}
		}
		b.WriteByte(raw[i])
	}
	return b.String()
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
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
		var val strings.Builder
		if i < len(s) && s[i] == '\'' {
			i++
			for {
				if i >= len(s) {
					return nil, "a quoted value has no closing quote"
				}
				if s[i] == '\'' {
					i++
					break
				}
				if s[i] == '\\' {
					i++
					if i >= len(s) {
						return nil, "a quoted value has no closing quote"
					}
				}
				val.WriteByte(s[i])
				i++
			}
		} else {
			for i < len(s) && !isSpace(s[i]) {
				if s[i] == '\\' {
					i++
					if i >= len(s) {
						break
					}
				}
				val.WriteByte(s[i])
				i++
			}
		}
		pairs = append(pairs, kvPair{key: key, value: val.String(), start: start, valStart: valStart, end: i})
		skip()
	}
	return pairs, ""
}
