package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// TokenPrefix starts every token, so that a leaked token is recognisable (by people and by
// secret scanners) as an Event Manager credential.
const TokenPrefix = "em_"

// tokenBytes of randomness: 256 bits, far beyond guessing.
const tokenBytes = 32

// TokenLen is the length of a token returned by NewToken: the prefix and 43 base64 characters.
const TokenLen = len(TokenPrefix) + (tokenBytes*8+5)/6

// maxBearerLen bounds what ParseBearer accepts, so an oversized header costs nothing further.
const maxBearerLen = 200

// LooksLikeToken reports whether s has the shape of a token NewToken returns (its prefix and
// length): anything else is refused before a lookup.
func LooksLikeToken(s string) bool { return len(s) == TokenLen && strings.HasPrefix(s, TokenPrefix) }

// NewToken returns a new bearer token and its hash. Only the hash is stored: a stolen sessions
// table then gives no working tokens, and a fast hash suffices because the token is random.
func NewToken() (token string, hash []byte, err error) {
	var b [tokenBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, err
	}
	token = TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return token, HashToken(token), nil
}

// HashToken returns the SHA-256 of the full token string (prefix included), the key under
// which a session is stored.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// ParseBearer extracts the token from an Authorization header value "Bearer <token>". The
// scheme is case-insensitive (RFC 9110); the token must be a non-empty RFC 6750 b64token of
// at most 200 characters. It reports false for anything else, so a malformed header never
// reaches the token lookup.
func ParseBearer(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.Trim(token, " ") // RFC 9110 allows extra spaces around the credentials
	if token == "" || len(token) > maxBearerLen || !isB64Token(token) {
		return "", false
	}
	return token, true
}

// isB64Token reports whether s matches 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isB64Token(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '.', c == '_', c == '~', c == '+', c == '/':
		default:
			return false
		}
	}
	return true
}
