package api

import (
	"net/http"
	"strings"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/store"
)

// crossOrigin refuses a cookie-authenticated write sent from another site (Sec-Fetch-Site, or
// Origin against Host when the browser sends no Sec-Fetch-Site).
var crossOrigin = http.NewCrossOriginProtection()

var errCSRF = &Error{Status: http.StatusForbidden, Code: "CSRF_FAILED",
	Message: "this write needs the page's X-CSRF-Token header: reload the page and try again"}

// requestToken is the caller's session token: the bearer token when there is an Authorization
// header, otherwise the web app's session cookie. A cookie only authenticates a write (any method
// but GET, HEAD and OPTIONS) that comes from this site and carries the session's CSRF token, so
// another site cannot make a signed-in browser write.
func requestToken(r *http.Request) (string, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		token, ok := auth.ParseBearer(h)
		if !ok {
			return "", errUnauthenticated
		}
		return token, nil
	}
	c, err := r.Cookie(auth.SessionCookie)
	if err != nil || c.Value == "" {
		return "", errUnauthenticated
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return c.Value, nil
	}
	if crossOrigin.Check(r) != nil || !auth.ValidCSRF(c.Value, r.Header.Get(auth.CSRFHeader)) {
		return "", errCSRF
	}
	return c.Value, nil
}

// SignIn checks a sign-in (tenant slug, email, password) under the sign-in rate limits and opens
// a session. The JSON route and the web app's form both sign in through it. Errors are *Error.
func (s *Server) SignIn(w http.ResponseWriter, r *http.Request, tenant, email, password string) (store.Session, error) {
	tenant = strings.TrimSpace(tenant)
	email = strings.ToLower(strings.TrimSpace(email))
	switch {
	case tenant == "":
		return store.Session{}, invalid("tenant", "is required")
	case email == "":
		return store.Session{}, invalid("email", "is required")
	case len(tenant) > 63:
		// Bounded before the rate limiter, whose bucket names carry the tenant and the email: a
		// megabyte of either would otherwise be kept in memory per attempt.
		return store.Session{}, invalid("tenant", "is longer than 63 characters")
	case len(email) > 254:
		return store.Session{}, invalid("email", "is longer than 254 characters")
	case password == "":
		return store.Session{}, invalid("password", "is required")
	case len(password) > 256:
		return store.Session{}, invalid("password", "is longer than 256 bytes")
	}
	// Before the password is checked: a refused attempt costs no argon2id.
	if err := s.limitSignIn(w, r, tenant, email); err != nil {
		return store.Session{}, toAPIError(err)
	}
	sess, err := s.store.Login(r.Context(), tenant, email, password, s.tokenTTL)
	if err != nil {
		return store.Session{}, toAPIError(err)
	}
	return sess, nil
}

// SignOut ends the session of token (the JSON sign-out and the web app's): in the database, and at
// once in this instance's session cache (the others drop it on the notification).
func (s *Server) SignOut(r *http.Request, tenantID, token string) error {
	if err := s.store.Logout(r.Context(), tenantID, token); err != nil {
		return err
	}
	s.sessions.Forget(auth.HashToken(token))
	return nil
}

// SetPages serves every path outside the API's routes (the web app at /). Call it before serving.
func (s *Server) SetPages(h http.Handler) { s.pages = h }
