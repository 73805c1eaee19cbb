package api

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/eventmanager/eventmanager/internal/ratelimit"
	"github.com/eventmanager/eventmanager/internal/ratelimit/rules"
	"github.com/eventmanager/eventmanager/internal/store"
)

// Rate limits. Every authenticated route is limited per user, by the configuration that
// resolves for (tenant, user, route pattern); sign-in per client IP, per tenant and per account,
// before the password check. Exempt: GET /healthz, /readyz and /metrics, which orchestrators and
// Prometheus poll from inside the network, stay cheap (/metrics shares one database read per 5 s,
// see metrics.DatabaseMaxAge), and must keep answering when a client
// floods the service (a limited probe would get a healthy instance killed).

// signInRoute is the sign-in route. It is limited in three buckets (rules.SignInBuckets), which the
// rows of rate_limit_configs name by this route.
const signInRoute = "POST /api/v1/auth/login"

var signIn = rules.SignInBuckets(signInRoute)

// defaultRateLimits counts in process, with the configurations read through st and cached; without
// a listener, only this server's own admin changes invalidate the cache (and entries expire after
// ratelimit.DefaultMaxAge). serve builds the full one (Redis, NOTIFY).
func defaultRateLimits(st *store.Store, log *slog.Logger) *ratelimit.Enforcer {
	if st == nil {
		return nil
	}
	return ratelimit.NewEnforcer(ratelimit.NewCache(st, 0), ratelimit.NewMemory(nil), nil, log)
}

func (s *Server) markLimited(pattern string) {
	if s.limited == nil {
		s.limited = map[string]bool{}
	}
	s.limited[pattern] = true
}

// rateLimited runs behind authenticated: the principal is in the context and r.Pattern is the route.
func (s *Server) rateLimited(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.withinLimits(w, r) {
			next(w, r)
		}
	}
}

// withinLimits counts the request against its limits; when it is refused, it has answered. (Apart
// from rateLimited so that its frame is off the stack while the handler runs: see beginRequest.)
func (s *Server) withinLimits(w http.ResponseWriter, r *http.Request) bool {
	if s.limits == nil {
		return true
	}
	p := principal(r.Context())
	res, err := s.limits.Check(r.Context(), p.TenantID, p.UserID, r.Pattern)
	if err != nil {
		// The limits could not be loaded (the database is failing): serve rather than refuse;
		// the request meets the same database anyway.
		s.warnLimitsUnavailable(r, "rate limits unavailable; requests not limited", err)
		return true
	}
	if err := rateLimitAnswer(w, res); err != nil {
		s.writeError(w, r, err)
		return false
	}
	return true
}

// limitSignIn limits a sign-in attempt; it returns the 429 error when refused.
func (s *Server) limitSignIn(w http.ResponseWriter, r *http.Request, slug, email string) error {
	if s.limits == nil {
		return nil
	}
	res, err := s.limits.CheckSignIn(r.Context(), signInRoute, slug, email, addressBucket(clientIP(r)))
	if err != nil {
		s.warnLimitsUnavailable(r, "rate limits unavailable; sign-ins not limited", err)
		return nil
	}
	return rateLimitAnswer(w, res)
}

// limitsWarnEvery spaces the warnings while the limits cannot be loaded: the database is failing,
// every request would log one, and the request log already has a line per request.
const limitsWarnEvery = 10 * time.Second

func (s *Server) warnLimitsUnavailable(r *http.Request, msg string, err error) {
	now := time.Now().UnixNano()
	last := s.limitsWarned.Load()
	if now-last < int64(limitsWarnEvery) || !s.limitsWarned.CompareAndSwap(last, now) {
		return
	}
	s.log.WarnContext(r.Context(), msg, "request_id", requestID(r.Context()), "error", err.Error(), "next_warning_in", limitsWarnEvery.String())
}

// rateLimitAnswer sets the RateLimit-* headers (IETF draft "RateLimit header fields": the limit,
// the requests left and the seconds until the bucket is full again) and returns the 429 error of a
// refused request, with Retry-After.
func rateLimitAnswer(w http.ResponseWriter, res ratelimit.Result) error {
	if !res.Limited {
		return nil
	}
	h := w.Header()
	// One backing array for the three values: one allocation instead of three, on every request.
	v := []string{strconv.Itoa(res.Limit), strconv.Itoa(res.Remaining), strconv.Itoa(ceilSeconds(res.Reset))}
	h["Ratelimit-Limit"], h["Ratelimit-Remaining"], h["Ratelimit-Reset"] = v[0:1:1], v[1:2:2], v[2:3:3]
	if res.Allowed {
		return nil
	}
	return &Error{Status: http.StatusTooManyRequests, Code: "RATE_LIMITED",
		Message: "too many requests: retry after the number of seconds in Retry-After", RetryAfter: max(ceilSeconds(res.RetryAfter), 1)}
}

func ceilSeconds(d time.Duration) int { return int((d + time.Second - 1) / time.Second) }
