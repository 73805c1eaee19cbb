package api

import (
	"net/http"
	"strings"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/store"
)

// SignInLinkPath is the page a judge's sign-in link opens, with the secret as ?token=. The page
// sends the token to POST /api/v1/auth/link (the query string is never logged).
const SignInLinkPath = "/sign-in/link"

// signInLinkResponse is a link as created: its secret and the address to open, once.
type signInLinkResponse struct {
	store.SignInLink
	URL string `json:"url"`
	// QRURL draws the link's QR code (the secret is in its query string: keep it as private as URL).
	QRURL string `json:"qr_url"`
}

func (s *Server) createSignInLink(w http.ResponseWriter, r *http.Request) error {
	judgeID, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := decodeOptionalJSON(w, r, &struct{}{}); err != nil { // no body is needed; {} is accepted
		return err
	}
	p := principal(r.Context())
	l, err := s.store.CreateSignInLink(r.Context(), p.TenantID, s.actor(r), judgeID, s.live.SignInLinkTTL)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, signInLinkResponse{SignInLink: l,
		URL: s.linkAddress(r, SignInLinkPath, l.Secret), QRURL: qrAddress("sign-in-links", l.ID, l.Secret)})
	return nil
}

func (s *Server) listSignInLinks(w http.ResponseWriter, r *http.Request) error {
	judgeID, err := pathID(r, "id")
	if err != nil {
		return err
	}
	links, err := s.store.ListSignInLinks(r.Context(), principal(r.Context()).TenantID, judgeID)
	if err != nil {
		return err
	}
	writeAll(w, links)
	return nil
}

func (s *Server) revokeSignInLink(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	l, err := s.store.RevokeSignInLink(r.Context(), principal(r.Context()).TenantID, s.actor(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}

// signInLinkQR draws the QR code of a link that can still be used.
func (s *Server) signInLinkQR(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	secret, err := qrSecret(r)
	if err != nil {
		return err
	}
	if _, err := s.store.UsableSignInLink(r.Context(), principal(r.Context()).TenantID, id, secret); err != nil {
		return err
	}
	return writeQR(w, s.linkAddress(r, SignInLinkPath, secret))
}

type exchangeRequest struct {
	Token string `json:"token"`
}

var errSignInLinkInvalid = &Error{Status: http.StatusUnauthorized, Code: "SIGN_IN_LINK_INVALID",
	Message: "the sign-in link is unknown, used, expired or revoked: ask for a new one, or sign in with your password"}

func (s *Server) exchangeSignInLink(w http.ResponseWriter, r *http.Request) error {
	var req exchangeRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	sess, err := s.SignInWithLink(w, r, req.Token)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sess)
	return nil
}

// SignInWithLink exchanges a judge's one-time sign-in link for a session, limited per client
// address. The JSON route and the web app's link page both go through it. Errors are *Error.
func (s *Server) SignInWithLink(w http.ResponseWriter, r *http.Request, token string) (store.Session, error) {
	if err := s.limitPublic(w, r, "link"); err != nil {
		return store.Session{}, toAPIError(err)
	}
	token = strings.TrimSpace(token)
	switch {
	case token == "":
		return store.Session{}, invalid("token", "is required")
	case !auth.LooksLikeToken(token):
		return store.Session{}, errSignInLinkInvalid
	}
	sess, err := s.store.ExchangeSignInLink(r.Context(), token,
		store.Actor{RequestID: requestID(r.Context()), IP: clientIP(r)}, s.tokenTTL)
	if err != nil {
		return store.Session{}, toAPIError(err)
	}
	return sess, nil
}
