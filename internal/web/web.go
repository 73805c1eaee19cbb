package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/eventmanager/eventmanager/internal/api"
	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/store"
)

// ContentSecurityPolicy is sent with every answer of the app: scripts, styles, images and
// connections (fetch, EventSource) from this origin only; no inline code, no framing, forms post
// here only.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; manifest-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'; " +
	"form-action 'self'; frame-ancestors 'none'"

// Authenticator signs users in and checks session tokens, with the same rules (rate limits, token
// checks) as the JSON API.
type Authenticator interface {
	SignIn(w http.ResponseWriter, r *http.Request, tenant, email, password string) (store.Session, error)
	// SignInWithLink exchanges a judge's one-time sign-in link (the QR code) for a session.
	SignInWithLink(w http.ResponseWriter, r *http.Request, token string) (store.Session, error)
	// Authenticate checks the session token that came with r (cached, and limited per address
	// after failures); an unknown or expired token is an *api.Error of status 401.
	Authenticate(r *http.Request, token string) (auth.Principal, error)
	// SignOut ends a session.
	SignOut(r *http.Request, tenantID, token string) error
}

// Deps are what the app needs.
type Deps struct {
	Store  *store.Store
	Auth   Authenticator
	Logger *slog.Logger
	// Live says that the API serves the categories' event streams (GET
	// /api/v1/categories/{id}/stream); without them the boards say that they do not update live.
	Live bool
	// Zone is the venue's time zone for times shown on pages; nil is UTC.
	Zone *time.Location
	// SecureCookies marks the session cookie Secure even when the request came without TLS: set it
	// when a proxy terminates TLS in front of the server (PUBLIC_URL starts with https://).
	SecureCookies bool
}

// App is the web app; it is an http.Handler.
type App struct {
	store  *store.Store
	auth   Authenticator
	log    *slog.Logger
	live   bool
	secure bool // SecureCookies
	zone   *time.Location
	assets map[string]asset
	views  map[string]*template.Template
	mux    *http.ServeMux
}

// New builds the app: it reads the embedded files and parses every template, so a broken one stops
// the start.
func New(d Deps) (*App, error) {
	a := &App{store: d.Store, auth: d.Auth, log: d.Logger, live: d.Live, secure: d.SecureCookies, zone: d.Zone, mux: http.NewServeMux()}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.zone == nil {
		a.zone = time.UTC
	}
	var err error
	if a.assets, err = loadAssets(); err != nil {
		return nil, err
	}
	if a.views, err = a.parseViews(); err != nil {
		return nil, err
	}
	a.routes()
	return a, nil
}

func (a *App) routes() {
	a.mux.HandleFunc("GET /static/{sum}/{file}", a.serveAsset)
	a.mux.HandleFunc("GET /sw.js", a.serveWorker)
	a.mux.HandleFunc("GET /{$}", a.home)
	a.mux.HandleFunc("GET /signin", a.signInPage)
	a.mux.HandleFunc("POST /signin", a.signIn)
	a.mux.HandleFunc("POST /signout", a.signOut)
	a.mux.HandleFunc("GET "+api.SignInLinkPath, a.linkPage)
	a.mux.HandleFunc("POST "+api.SignInLinkPath, a.linkSignIn)
	a.mux.HandleFunc("GET /judges", a.signedIn(a.judgesPage))
	a.mux.HandleFunc("GET /audience", a.audiencePage)
	a.mux.HandleFunc("GET /judge", a.signedIn(a.judgeHome))
	a.mux.HandleFunc("GET /judge/categories/{id}", a.signedIn(a.scoresheetPage))
	a.mux.HandleFunc("GET /categories", a.signedIn(a.categoriesPage))
	a.mux.HandleFunc("GET /categories/{id}/board", a.signedIn(a.boardPage))
	a.mux.HandleFunc("GET /categories/{id}/emcee", a.signedIn(a.emceePage))
	a.mux.HandleFunc("GET /results", a.signedIn(a.contestantPage))
}

// ServeHTTP adds the security headers to every answer and routes the request.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	if _, pattern := a.mux.Handler(r); pattern == "" {
		a.renderError(w, r, http.StatusNotFound, "There is no such page.", "Go back to the start page.")
		return
	}
	a.mux.ServeHTTP(w, r)
}

// page is what every template gets.
type page struct {
	Title    string
	User     *auth.Principal
	CSRF     string
	Scripts  []string
	Zone     string
	Data     any
	NavLinks []navLink
}

type navLink struct{ Href, Label string }

// render executes a view into a buffer first, so that a template error is a clean 500, never half
// a page. Pages are never cached: they hold a user's data and a CSRF token.
func (a *App) render(w http.ResponseWriter, r *http.Request, status int, view string, p page) {
	t, ok := a.views[view]
	if !ok {
		a.fail(w, r, fmt.Errorf("no view %q", view))
		return
	}
	p.Zone = a.zone.String()
	if p.User != nil {
		p.NavLinks = navFor(*p.User)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		a.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// fail logs an unexpected error and answers a plain 500 page without its text.
func (a *App) fail(w http.ResponseWriter, r *http.Request, err error) {
	a.log.ErrorContext(r.Context(), "page failed", "path", r.URL.Path, "error", err.Error())
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write([]byte("Something went wrong on the server. Reload the page; if it happens again, tell the organiser.\n"))
}

type errorData struct{ Message, Next string }

func (a *App) renderError(w http.ResponseWriter, r *http.Request, status int, message, next string) {
	a.render(w, r, status, "error", page{Title: http.StatusText(status), Data: errorData{message, next}})
}

// storeError answers a store error as a page: not found, refused, or a 500.
func (a *App) storeError(w http.ResponseWriter, r *http.Request, p auth.Principal, err error) {
	var rule *store.RuleError
	switch {
	case errors.As(err, &rule):
		a.render(w, r, http.StatusForbidden, "error", page{Title: "Not available", User: &p,
			Data: errorData{rule.Message, "Ask the tally master or the organiser if this looks wrong."}})
	case isNotFound(err):
		a.render(w, r, http.StatusNotFound, "error", page{Title: "Not found", User: &p,
			Data: errorData{"There is no such category.", "Go back to the list and pick one."}})
	default:
		a.fail(w, r, err)
	}
}
