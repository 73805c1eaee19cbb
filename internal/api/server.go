package api

import (
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/eventmanager/eventmanager/internal/config"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/health"
	"github.com/eventmanager/eventmanager/internal/metrics"
	"github.com/eventmanager/eventmanager/internal/querywindow"
	"github.com/eventmanager/eventmanager/internal/ratelimit"
	"github.com/eventmanager/eventmanager/internal/sessioncache"
	"github.com/eventmanager/eventmanager/internal/store"
)

// Deps are what the API needs.
type Deps struct {
	DB       *db.DB
	Store    *store.Store
	Logger   *slog.Logger
	TokenTTL time.Duration
	// Metrics serves GET /metrics (Prometheus text format); nil leaves the route out.
	Metrics http.Handler
	// Health serves GET /api/v1/admin/database/health; nil leaves the route out.
	Health *health.Checker
	// HTTPMetrics records every request (route, code, duration); nil records nothing.
	HTTPMetrics *metrics.HTTP
	// QueryWindow gives the status page its query latencies; nil shows none.
	QueryWindow *querywindow.Window
	// RateLimits enforces rate_limit_configs on every route but the probes; nil builds one that
	// counts in process and reads the configurations through Store (see ratelimit_middleware.go).
	RateLimits *ratelimit.Enforcer
	// Live configures live streams, device reports and sign-in and audience links (see live.go).
	Live Live
	// Sessions caches verified tokens; nil checks every token in the database.
	Sessions *sessioncache.Cache
	// TokenFailures limits failed token checks per client address; nil allows
	// config.DefaultAuthFailures, counted in process.
	TokenFailures *ratelimit.Failures
	// TrustedProxies are the proxies whose X-Forwarded-For names the client (TRUSTED_PROXIES).
	TrustedProxies []netip.Prefix
}

// Server holds the API's dependencies; its Handler serves every route.
type Server struct {
	db       *db.DB
	store    *store.Store
	log      *slog.Logger
	tokenTTL time.Duration
	metrics  http.Handler
	health   *health.Checker
	limits   *ratelimit.Enforcer
	// limitsWarned is when the last "rate limits unavailable" warning was logged (UnixNano).
	limitsWarned   atomic.Int64
	limited        map[string]bool // route patterns under rate limits, for the admin API's validation
	patterns       []string        // every route pattern, in registration order (tests walk them)
	live           *liveState
	sessions       *sessioncache.Cache
	tokenFailures  *ratelimit.Failures
	trustedProxies []netip.Prefix
	ready          readiness
	mux            *http.ServeMux
	pages          http.Handler // the web app: every path that is not the API's (SetPages)

	httpMetrics *metrics.HTTP
	queryWindow *querywindow.Window
}

// New builds the API server and its route table.
func New(d Deps) *Server {
	s := &Server{db: d.DB, store: d.Store, log: d.Logger, tokenTTL: d.TokenTTL, metrics: d.Metrics, health: d.Health, mux: http.NewServeMux()}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.httpMetrics, s.queryWindow = d.HTTPMetrics, d.QueryWindow
	s.limits = d.RateLimits
	s.live = newLiveState(d.Live)
	if s.limits == nil {
		s.limits = defaultRateLimits(d.Store, s.log)
	}
	s.sessions, s.tokenFailures, s.trustedProxies = d.Sessions, d.TokenFailures, d.TrustedProxies
	if s.sessions == nil {
		s.sessions = sessioncache.New(d.Store, sessioncache.Options{})
	}
	if s.tokenFailures == nil {
		s.tokenFailures = ratelimit.NewFailures(ratelimit.NewMemory(nil), config.DefaultAuthFailures)
	}
	s.routes()
	return s
}

func (s *Server) routes() {
	for _, rt := range s.routeTable() {
		s.handle(rt.pattern, rt.allow, rt.handle)
	}
	// Every other path and method: the JSON error envelope instead of net/http's plain text.
	s.mux.HandleFunc("/", s.unmatched)
}

// Handle adds a route; tests use it to add routes of their own (a deliberately slow one).
func (s *Server) Handle(pattern string, h http.HandlerFunc) { s.handle(pattern, public, wrap(h)) }

// handlerFunc is a route handler: it writes the answer and returns nil, or returns the error that
// handle turns into the JSON error envelope.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// wrap adapts a plain http.HandlerFunc, which never fails, to handlerFunc.
func wrap(h http.HandlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		h(w, r)
		return nil
	}
}

func (s *Server) handle(pattern string, allow access, h handlerFunc) {
	s.patterns = append(s.patterns, pattern)
	wildcards := pathWildcards(pattern)
	var hf http.HandlerFunc = func(w http.ResponseWriter, r *http.Request) {
		canonicalPathIDs(r, wildcards)
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	}
	if allow != nil {
		// Rate limits count every authenticated request, after the token check: the tenant and the
		// user are known then. Sign-in is limited in its handler (before the password check).
		hf = s.authenticated(allow, s.rateLimited(hf))
		s.markLimited(pattern)
	}
	s.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The route names the request in the log and the metrics, whatever the answer.
		if f, ok := r.Context().Value(logFieldsKey{}).(*logFields); ok {
			f.pattern = r.Pattern
		}
		hf(w, r)
	}))
}

// Handler is the whole HTTP interface, middleware included.
func (s *Server) Handler() http.Handler {
	return withStandardHeaders(s.withLogging(s.withRecovery(http.HandlerFunc(s.dispatch))))
}

// dispatch routes the request. Unknown paths and methods reach the catch-all "/" (registered last
// by routes), which answers with the JSON error envelope instead of net/http's plain text.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// unmatched answers a request no route matched: 405 with Allow when the path exists with other
// methods, 404 otherwise.
func (s *Server) unmatched(w http.ResponseWriter, r *http.Request) {
	if allowed := s.allowedMethods(r); allowed != "" {
		w.Header().Set("Allow", allowed)
		s.writeError(w, r, &Error{Status: http.StatusMethodNotAllowed, Code: "METHOD_NOT_ALLOWED", Message: "allowed: " + allowed})
		return
	}
	if s.pages != nil && !strings.HasPrefix(r.URL.Path, "/api/") {
		s.pages.ServeHTTP(w, r)
		return
	}
	s.writeError(w, r, &Error{Status: http.StatusNotFound, Code: "NOT_FOUND", Message: "no such route"})
}

func (s *Server) allowedMethods(r *http.Request) string {
	allowed := ""
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, p := s.mux.Handler(probe); p != "" && p != "/" {
			if allowed != "" {
				allowed += ", "
			}
			allowed += m
		}
	}
	return allowed
}
