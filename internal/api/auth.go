package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/eventmanager/eventmanager/internal/auth"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func (s *Server) authRoutes() {
	s.handle("POST /api/v1/auth/login", public, s.login)
	s.handle("POST /api/v1/auth/logout", signedIn, s.logout)
	s.handle("GET /api/v1/auth/me", signedIn, s.me)
}

type loginRequest struct {
	Tenant   string `json:"tenant"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	var req loginRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	req.Tenant = strings.TrimSpace(req.Tenant)
	req.Email = strings.ToLower(strings.TrimSpace(req.Email))
	switch {
	case req.Tenant == "":
		return invalid("tenant", "is required")
	case req.Email == "":
		return invalid("email", "is required")
	case len(req.Tenant) > 63:
		// Bounded before the rate limiter, whose bucket names carry the tenant and the email: a
		// megabyte of either would otherwise be kept in memory per attempt.
		return invalid("tenant", "is longer than 63 characters")
	case len(req.Email) > 254:
		return invalid("email", "is longer than 254 characters")
	case req.Password == "":
		return invalid("password", "is required")
	case len(req.Password) > 256:
		return invalid("password", "is longer than 256 bytes")
	}
	// Before the password is checked: a refused attempt costs no argon2id.
	if err := s.limitSignIn(w, r, req.Tenant, req.Email); err != nil {
		return err
	}
	sess, err := s.store.Login(r.Context(), req.Tenant, req.Email, req.Password, s.tokenTTL)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, sess)
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	token, _ := auth.ParseBearer(r.Header.Get("Authorization"))
	if err := s.store.Logout(r.Context(), principal(r.Context()).TenantID, token); err != nil {
		return err
	}
	// At once here; other instances drop it on the notification.
	s.sessions.Forget(auth.HashToken(token))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	p := principal(r.Context())
	u, err := s.store.GetUser(r.Context(), p.TenantID, p.UserID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}
