package api

import (
	"net/http"
	"sync/atomic"
	"time"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/live"
	"github.com/eventmanager/eventmanager/internal/ratelimit"
)

// Live configures the live routes (streams, device reports, sign-in and audience links).
type Live struct {
	// Hub feeds the streams; nil leaves the stream routes out (the links and device reports stay).
	Hub *live.Hub
	// SignInLinkTTL is how long a judge's sign-in link may be exchanged (SIGN_IN_LINK_TTL); 0 is 15 min.
	SignInLinkTTL time.Duration
	// PublicURL is the address people open links at (PUBLIC_URL); "" takes the request's host.
	PublicURL string
	// MaxStreams bounds the open streams of this instance (signed-in and audience); 0 is 5000.
	MaxStreams int
}

// DefaultSignInLinkTTL is the lifetime of a sign-in link when SIGN_IN_LINK_TTL is not set.
const DefaultSignInLinkTTL = 15 * time.Minute

const defaultMaxStreams = 5000

// liveState is the live routes' configuration and the count of open streams.
type liveState struct {
	Live
	streams       atomic.Int64
	publicLimiter *ratelimit.Memory // see public_limits.go
	audience      audienceCache
}

func newLiveState(l Live) *liveState {
	if l.SignInLinkTTL <= 0 {
		l.SignInLinkTTL = DefaultSignInLinkTTL
	}
	if l.MaxStreams <= 0 {
		l.MaxStreams = defaultMaxStreams
	}
	return &liveState{Live: l, publicLimiter: ratelimit.NewMemory(nil)}
}

var errTooManyStreams = &Error{Status: http.StatusServiceUnavailable, Code: "TOO_MANY_STREAMS",
	Message: "this instance holds as many live streams as it may: retry later", RetryAfter: 5}

// openStream counts a stream against MaxStreams; release must be called when it ends.
func (s *Server) openStream() (release func(), err error) {
	if s.live.streams.Add(1) > int64(s.live.MaxStreams) {
		s.live.streams.Add(-1)
		return nil, errTooManyStreams
	}
	return func() { s.live.streams.Add(-1) }, nil
}

// categoryStream sends the category's events as server-sent events until the client goes.
func (s *Server) categoryStream(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p := principal(r.Context())
	c, err := s.store.CategoryAccess(r.Context(), p.TenantID, id, p.JudgeID)
	if err != nil {
		return err
	}
	if p.Role == auth.Judge && !c.Assigned() {
		return &Error{Status: http.StatusForbidden, Code: "NOT_ASSIGNED", Message: "you are not assigned to this category"}
	}
	release, err := s.openStream()
	if err != nil {
		return err
	}
	defer release()
	events, cancel := s.live.Hub.Subscribe(p.TenantID, id)
	defer cancel()
	live.ServeSSE(w, r, events)
	return nil
}
