package api

import (
	"net/http"

	"github.com/eventmanager/eventmanager/internal/ratelimit"
)

// Routes without a sign-in (sign-in link exchange, audience views) are limited per client address
// (an IPv6 client by its /64), in process: their secrets cannot be guessed, so the limit only
// bounds the work one client can cause. A venue's screens behind one address fit well within it.
var publicLimits = map[string]ratelimit.Limit{
	"link":     {PerMinute: 30, PerHour: 300, Burst: 30},
	"audience": {PerMinute: 600, PerHour: 20000, Burst: 120},
}

// limitPublic counts a request of a public route's group; it returns the 429 error when refused.
func (s *Server) limitPublic(w http.ResponseWriter, r *http.Request, group string) error {
	d, _ := s.live.publicLimiter.Allow(r.Context(), group+"|"+addressBucket(clientIP(r)), publicLimits[group])
	if d.Allowed {
		return nil
	}
	return rateLimitAnswer(w, ratelimit.Result{Decision: d, Limited: true})
}
