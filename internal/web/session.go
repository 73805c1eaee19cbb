package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/eventmanager/eventmanager/internal/api"
	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/google/uuid"
)

// crossOrigin refuses form posts from other sites (Sec-Fetch-Site, or Origin against Host).
var crossOrigin = http.NewCrossOriginProtection()

type sessionKey struct{}

// session is the signed-in user of a page request and the token of their cookie.
type session struct {
	p     auth.Principal
	token string
}

func currentSession(ctx context.Context) session {
	s, _ := ctx.Value(sessionKey{}).(session)
	return s
}

// signedIn runs h for a signed-in user; anyone else is sent to the sign-in page, which brings
// them back here afterwards.
func (a *App) signedIn(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(auth.SessionCookie)
		if err == nil && c.Value != "" {
			p, aerr := a.auth.Authenticate(r, c.Value)
			if aerr == nil {
				h(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, session{p: p, token: c.Value})))
				return
			}
			var ae *api.Error
			switch {
			case errors.As(aerr, &ae) && ae.Status == http.StatusTooManyRequests:
				a.renderError(w, r, ae.Status, "Too many failed sign-in checks from this device.", "Wait a minute, then reload the page.")
				return
			case !errors.As(aerr, &ae) || ae.Status != http.StatusUnauthorized:
				a.fail(w, r, aerr)
				return
			}
		}
		http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
	}
}

// setSessionCookie keeps the session token in an HttpOnly cookie that the browser sends only to
// this site (SameSite=Strict) and, behind TLS (or with SecureCookies), only over TLS.
func (a *App) setSessionCookie(w http.ResponseWriter, r *http.Request, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: auth.SessionCookie, Value: token, Path: "/", Expires: expires,
		HttpOnly: true, Secure: a.secure || r.TLS != nil, SameSite: http.SameSiteStrictMode})
}

func (a *App) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: auth.SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: a.secure || r.TLS != nil, SameSite: http.SameSiteStrictMode})
}

// homeFor is where a role starts.
func homeFor(p auth.Principal) string {
	switch {
	case p.JudgeID != "":
		return "/judge"
	case p.Role == auth.Contestant:
		return "/results"
	}
	return "/categories"
}

func navFor(p auth.Principal) []navLink {
	var out []navLink
	if p.JudgeID != "" {
		out = append(out, navLink{"/judge", "My categories"})
	}
	switch p.Role {
	case auth.Contestant:
		out = append(out, navLink{"/results", "My results"})
	case auth.Judge:
	default:
		out = append(out, navLink{"/categories", "Categories"})
	}
	if auth.CanManageLinks(p.Role) {
		out = append(out, navLink{"/judges", "Judges' sign-in"})
	}
	return out
}

// safeNext keeps a sign-in's return address on this site: a path, never another host.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return ""
	}
	return next
}

func (a *App) home(w http.ResponseWriter, r *http.Request) {
	a.signedIn(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, homeFor(currentSession(r.Context()).p), http.StatusSeeOther)
	})(w, r)
}

type signInData struct {
	Tenant, Email, Next, Message string
}

func (a *App) signInPage(w http.ResponseWriter, r *http.Request) {
	d := signInData{Next: safeNext(r.URL.Query().Get("next")), Tenant: r.URL.Query().Get("tenant")}
	a.render(w, r, http.StatusOK, "signin", page{Title: "Sign in", Data: d})
}

func (a *App) signIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		a.renderError(w, r, http.StatusBadRequest, "The form could not be read.", "Reload the page and sign in again.")
		return
	}
	d := signInData{Tenant: strings.TrimSpace(r.PostForm.Get("tenant")), Email: strings.TrimSpace(r.PostForm.Get("email")),
		Next: safeNext(r.PostForm.Get("next"))}
	if crossOrigin.Check(r) != nil {
		d.Message = "This form was sent from another site. Open the sign-in page here and try again."
		a.render(w, r, http.StatusForbidden, "signin", page{Title: "Sign in", Data: d})
		return
	}
	sess, err := a.auth.SignIn(w, r, d.Tenant, d.Email, r.PostForm.Get("password"))
	if err != nil {
		status, msg := signInMessage(err)
		if status == 0 {
			a.fail(w, r, err)
			return
		}
		d.Message = msg
		a.render(w, r, status, "signin", page{Title: "Sign in", Data: d})
		return
	}
	a.setSessionCookie(w, r, sess.Token, sess.ExpiresAt)
	next := d.Next
	if next == "" {
		next = homeFor(auth.Principal{Role: sess.User.Role, JudgeID: deref(sess.User.JudgeID)})
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// signInMessage turns a refused sign-in into words for the form (status 0: not a refusal).
func signInMessage(err error) (int, string) {
	var ae *api.Error
	if !errors.As(err, &ae) {
		return 0, ""
	}
	switch {
	case ae.Status == http.StatusUnauthorized:
		return ae.Status, "The organisation, email or password is not right. Check them and try again."
	case ae.Status == http.StatusTooManyRequests:
		return ae.Status, "Too many attempts. Wait a minute, then try again."
	case ae.Status == http.StatusBadRequest:
		return ae.Status, "The " + ae.Field + " " + ae.Message + "."
	case ae.Status < 500:
		return ae.Status, ae.Message
	}
	return 0, ""
}

func (a *App) signOut(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(auth.SessionCookie)
	if err == nil && c.Value != "" {
		if crossOrigin.Check(r) != nil || !auth.ValidCSRF(c.Value, r.PostFormValue("csrf")) {
			a.renderError(w, r, http.StatusForbidden, "Sign-out was refused: the page was out of date.", "Reload the page and press Sign out again.")
			return
		}
		if p, aerr := a.auth.Authenticate(r, c.Value); aerr == nil {
			if err := a.auth.SignOut(r, p.TenantID, c.Value); err != nil {
				a.fail(w, r, err)
				return
			}
		}
	}
	a.clearSessionCookie(w, r)
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

// pageFor starts the page data of a signed-in request.
func pageFor(r *http.Request, title string, scripts ...string) (page, auth.Principal) {
	s := currentSession(r.Context())
	return page{Title: title, User: &s.p, CSRF: auth.CSRFToken(s.token), Scripts: scripts}, s.p
}

// pathUUID is the {id} of the path when it is a UUID.
func pathUUID(r *http.Request) (string, bool) {
	id := strings.ToLower(r.PathValue("id"))
	_, err := uuid.Parse(id)
	return id, err == nil && len(id) == 36
}

func isNotFound(err error) bool { return errors.Is(err, db.ErrNotFound) }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
