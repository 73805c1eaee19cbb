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

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	req.Tenant = strings.TrimSpace(req.Tenant)
	req.Email = strings.ToLower(strings.TrimSpace(req.Email))
	switch {
	case req.Tenant == "":
		s.writeError(w, r, invalid("tenant", "is required"))
		return
	case req.Email == "":
		s.writeError(w, r, invalid("email", "is required"))
		return
	case req.Password == "":
		s.writeError(w, r, invalid("password", "is required"))
		return
	case len(req.Password) > 256:
		s.writeError(w, r, invalid("password", "is longer than 256 bytes"))
		return
	}
	sess, err := s.store.Login(r.Context(), req.Tenant, req.Email, req.Password, s.tokenTTL)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, sess)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	token, _ := auth.ParseBearer(r.Header.Get("Authorization"))
	if err := s.store.Logout(r.Context(), principal(r.Context()).TenantID, token); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	p := principal(r.Context())
	u, err := s.store.GetUser(r.Context(), p.TenantID, p.UserID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}
