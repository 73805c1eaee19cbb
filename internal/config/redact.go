package config

import (
	"cmp"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// mask replaces every password we show.
const mask = "***"

// RedactURL returns the connection string with its password replaced by "***", safe for logs and
// errors: postgresql://event_manager:***@localhost:5432/event_manager?schema=public. Everything
// else, our parameters included, is kept so that an operator sees what was set.
//
// It accepts anything, because the strings that most need redacting are the ones that failed to
// parse, and because callers also pass whole error messages that quote a connection string:
//
//   - a URL (scheme://...): for a well-formed one exactly the password is masked, in the user
//     information and in password= or sslpassword= query parameters. When the delimiters are
//     ambiguous (an unencoded '@' or '/' in the password) everything between "://user:" and the
//     last '@' is masked, which may hide more than the password but never less;
//   - a keyword/value string (host=db password=secret): the password and sslpassword values;
//   - a URL without its scheme (user:secret@host/db): as an ambiguous URL;
//   - any other text: each URL inside it (up to whitespace, '"' or '`') as above, and every
//     password=value pair.
func RedactURL(raw string) string {
	redacted, _ := redact(raw)
	return redacted
}

var (
	// schemePrefix matches the start of a URL: an RFC 3986 scheme and "://".
	schemePrefix = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://`)
	// embeddedURL matches a URL inside free text; it ends where the text around it resumes.
	embeddedURL = regexp.MustCompile("[A-Za-z][A-Za-z0-9+.-]*://[^\\s\"`]*")
	// schemelessURL matches a whole string shaped like user:password@host[:port][/database], the
	// password possibly holding spaces; a free-text message rarely ends in a host after an '@'.
	schemelessURL = regexp.MustCompile(`(?s)^[A-Za-z0-9_.\-]+:.*@[A-Za-z0-9.\-\[\]:,%]+(?:[/?]\S*)?$`)
)

// redact returns raw with its secrets masked, and the secrets it found (as written and decoded),
// so that messages from other code (pgx) can be scrubbed of them too.
func redact(raw string) (string, []string) {
	switch {
	case schemePrefix.MatchString(raw):
		i := strings.Index(raw, "://")
		return redactURLForm(raw[:i+3], raw[i+3:])
	case looksKeywordValue(raw):
		return redactKeywordValue(raw)
	case schemelessURL.MatchString(raw):
		return redactAmbiguousURL("", raw)
	}
	var secrets []string
	var b strings.Builder
	last := 0
	for last < len(raw) {
		loc := embeddedURL.FindStringIndex(raw[last:])
		if loc == nil {
			break
		}
		start, end := last+loc[0], last+loc[1]
		sep := start + strings.Index(raw[start:end], "://")
		if cutInPassword(raw[sep+3 : end]) {
			// A space in the password ended the URL early (postgres://u:pass word@h/db): it
			// really ends after the next '@', unless another URL starts first.
			next := raw[end:]
			if at := strings.IndexByte(next, '@'); at >= 0 && !strings.Contains(next[:at], "://") {
				end += at + 1
				for end < len(raw) && !isSpace(raw[end]) && raw[end] != '"' && raw[end] != '`' {
					end++
				}
			}
		}
		redacted, found := redactURLForm(raw[start:sep+3], raw[sep+3:end])
		secrets = append(secrets, found...)
		b.WriteString(raw[last:start])
		b.WriteString(redacted)
		last = end
	}
	b.WriteString(raw[last:])
	text, found := maskPasswordPairs(b.String())
	return text, append(secrets, found...)
}

// cutInPassword reports whether a URL that ended at a space looks cut inside its password: no '@'
// yet, and what follows the first ':' of its hosts is no port number (postgres://u:pass word@h).
func cutInPassword(rest string) bool {
	if strings.ContainsRune(rest, '@') {
		return false
	}
	hosts, _, _ := strings.Cut(rest, "/")
	hosts, _, _ = strings.Cut(hosts, "?")
	_, port, ok := strings.Cut(hosts, ":")
	if !ok {
		return false
	}
	_, err := strconv.Atoi(port)
	return err != nil
}

// looksKeywordValue reports whether s starts like "keyword=", as a libpq keyword/value string
// does ("host=db dbname=app").
func looksKeywordValue(s string) bool {
	s = strings.TrimLeft(s, " \t\r\n\v\f")
	i := 0
	for i < len(s) && (s[i] == '_' || 'a' <= s[i] && s[i] <= 'z' || 'A' <= s[i] && s[i] <= 'Z' || i > 0 && '0' <= s[i] && s[i] <= '9') {
		i++
	}
	if i == 0 {
		return false
	}
	s = strings.TrimLeft(s[i:], " \t\r\n\v\f")
	return strings.HasPrefix(s, "=")
}

// isPasswordKey reports whether a decoded parameter name carries a secret.
func isPasswordKey(key string) bool { return key == "password" || key == "sslpassword" }

func redactURLForm(scheme, rest string) (string, []string) {
	u, problem := splitURL(rest)
	if problem != "" {
		return redactAmbiguousURL(scheme, rest)
	}
	var secrets []string
	var b strings.Builder
	b.WriteString(scheme)
	if u.hasUserinfo {
		b.WriteString(u.user)
		if u.hasPassword {
			b.WriteByte(':')
			if u.password != "" {
				b.WriteString(mask)
				secrets = append(secrets, u.password, uriDecodeLenient(u.password))
			}
		}
		b.WriteByte('@')
	}
	b.WriteString(u.middle)
	if u.hasQuery {
		b.WriteByte('?')
		for i, pair := range strings.Split(u.query, "&") {
			if i > 0 {
				b.WriteByte('&')
			}
			k, v, ok := strings.Cut(pair, "=")
			if ok && isPasswordKey(uriDecodeLenient(strings.Trim(k, " "))) {
				b.WriteString(k + "=" + mask)
				secrets = append(secrets, v, uriDecodeLenient(v))
				continue
			}
			b.WriteString(pair)
		}
	}
	return b.String(), secrets
}

// redactAmbiguousURL masks a URL whose delimiters cannot be trusted: from the first ':' after the
// scheme (the end of the user name) to the last '@' (the only certain end of a password), then
// any password= pair in what is left.
func redactAmbiguousURL(scheme, rest string) (string, []string) {
	var secrets []string
	colon := strings.IndexByte(rest, ':')
	at := strings.LastIndexByte(rest, '@')
	if colon >= 0 && colon < at {
		secret := rest[colon+1 : at]
		secrets = append(secrets, secret, uriDecodeLenient(secret))
		rest = rest[:colon+1] + mask + rest[at:]
	}
	rest, more := maskPasswordPairs(rest)
	return scheme + rest, append(secrets, more...)
}

func redactKeywordValue(raw string) (string, []string) {
	pairs, problem := splitKeywordValue(raw)
	if problem != "" {
		return maskPasswordPairs(raw)
	}
	var secrets []string
	var b strings.Builder
	last := 0
	for _, p := range pairs {
		if !isPasswordKey(p.key) {
			continue
		}
		b.WriteString(raw[last:p.valStart])
		b.WriteString(mask)
		last = p.end
		secrets = append(secrets, raw[p.valStart:p.end], p.value)
	}
	b.WriteString(raw[last:])
	return b.String(), secrets
}

// passwordPair finds password= or sslpassword= (also percent-encoded or with spaces around '=')
// and its value: quoted (possibly unterminated, then up to the end) or bare (up to whitespace or
// '&'). It is the fallback for strings too malformed to split.
var passwordPair = regexp.MustCompile(`(?i)((?:ssl)?pass(?:word|%77ord)\s*=\s*)('(?:[^'\\]|\\.)*'?|[^\s&]*)`)

func maskPasswordPairs(s string) (string, []string) {
	var secrets []string
	for _, m := range passwordPair.FindAllStringSubmatch(s, -1) {
		if m[2] != "" {
			secrets = append(secrets, m[2], uriDecodeLenient(m[2]))
		}
	}
	return passwordPair.ReplaceAllString(s, "${1}"+mask), secrets
}

// scrub replaces every secret in msg with the mask, longest first so that a secret containing
// another is masked whole.
func scrub(msg string, secrets []string) string {
	secrets = slices.Clone(secrets)
	slices.SortFunc(secrets, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, mask)
		}
	}
	return msg
}
