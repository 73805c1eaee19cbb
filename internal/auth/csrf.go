package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// SessionCookie is the name of the cookie that carries a session token for the web app's pages
// and for the API calls their scripts make. It holds the same token as a bearer session.
const SessionCookie = "em_session"

// CSRFHeader is the header in which a page's script sends the CSRF token of its session.
const CSRFHeader = "X-CSRF-Token"

// CSRFToken is the CSRF token of a session: an HMAC of a fixed label keyed with the session token.
// It is the same on every instance without a shared secret, cannot be computed without the
// token (which the HttpOnly cookie hides from scripts), and ends with the session.
func CSRFToken(sessionToken string) string {
	m := hmac.New(sha256.New, []byte(sessionToken))
	m.Write([]byte("eventmanager csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// ValidCSRF reports, in constant time, whether got is the CSRF token of sessionToken.
func ValidCSRF(sessionToken, got string) bool {
	want := CSRFToken(sessionToken)
	return got != "" && subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}
