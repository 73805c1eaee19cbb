package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/db"
)

type principalKey struct{}

// principal is the signed-in caller; only valid behind authenticated.
func principal(ctx context.Context) auth.Principal {
	p, _ := ctx.Value(principalKey{}).(auth.Principal)
	return p
}

func requestID(ctx context.Context) string { return db.RequestID(ctx) }

// requestIDFor takes X-Request-ID from the request when it is sane, and makes one otherwise.
func requestIDFor(r *http.Request) string {
	id := r.Header.Get("X-Request-ID")
	if !validRequestID(id) {
		var b [12]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	return id
}

// validRequestID accepts up to 128 characters of letters, digits and -_.:, so that a client
// cannot put anything odd into our logs.
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range id {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':'
		if !ok {
			return false
		}
	}
	return true
}

// statusRecorder remembers the status and size of the answer for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the real writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// logFields are filled in by inner middleware so the request line names the caller and the route.
type logFields struct {
	pattern  string
	userID   string
	tenantID string
	clientIP string // see clientAddress
}

type logFieldsKey struct{}

// withLogging gives the request its id (returned in X-Request-ID; it also reaches the query logs
// through the context), writes one line per request and records it in the HTTP metrics by route
// pattern (filled in by handle). The query string is left out: it can carry search terms.
func (s *Server) withLogging(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		req, ctx := s.beginRequest(w, r)
		next.ServeHTTP(&req.rec, r.WithContext(ctx))
		s.endRequest(ctx, r, req, start)
	})
}

// loggedRequest is what the request line needs: one allocation for the recorder and the fields.
type loggedRequest struct {
	id     string
	rec    statusRecorder
	fields logFields
}

// beginRequest and endRequest hold what withLogging does before and after the handler, so that
// their frames (the log line's attributes: about 1 KiB) are not on the stack while it runs. With
// them, authorize and withinLimits out of the way, an events-list request stays under 8 KiB of
// stack, and a goroutine per connection does not grow to 16 KiB: at 1 000 connections, 27 MB of
// stacks became 13 MB (docs/performance.md).
func (s *Server) beginRequest(w http.ResponseWriter, r *http.Request) (*loggedRequest, context.Context) {
	id := requestIDFor(r)
	w.Header().Set("X-Request-ID", id)
	req := &loggedRequest{id: id, rec: statusRecorder{ResponseWriter: w}, fields: logFields{clientIP: clientAddress(r, s.trustedProxies)}}
	return req, context.WithValue(db.WithRequestID(r.Context(), id), logFieldsKey{}, &req.fields)
}

func (s *Server) endRequest(ctx context.Context, r *http.Request, req *loggedRequest, start time.Time) {
	rec, fields := &req.rec, &req.fields
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	elapsed := time.Since(start)
	if s.httpMetrics != nil {
		s.httpMetrics.ObserveRequest(fields.pattern, rec.status, elapsed)
	}
	s.log.LogAttrs(ctx, levelFor(rec.status), "request",
		slog.String("request_id", req.id),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.String("route", fields.pattern),
		slog.Int("status", rec.status),
		slog.Int("bytes", rec.bytes),
		slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
		slog.String("user_id", fields.userID),
		slog.String("tenant_id", fields.tenantID),
		slog.String("remote", fields.clientIP),
	)
}

// withRecovery turns a panic into a 500 with the usual envelope, logged with its stack.
func (s *Server) withRecovery(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "panic", "request_id", requestID(r.Context()), "panic", v, "stack", string(debug.Stack()))
				s.writeError(w, r, errors.New("panic"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// authenticated checks the bearer token and the caller's role before the handler runs.
func (s *Server) authenticated(allow access, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if p, ok := s.authorize(w, r, allow); ok {
			next(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
		}
	}
}

// authorize checks the caller of r and its role; when it refuses, it has answered. (Apart from
// authenticated so that its frame is off the stack while the handler runs: see beginRequest.)
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, allow access) (auth.Principal, bool) {
	token, err := requestToken(r) // bearer token, or the web app's cookie (cookie.go)
	if err != nil {
		s.writeError(w, r, err)
		return auth.Principal{}, false
	}
	p, err := s.Authenticate(r, token)
	if err != nil {
		s.writeError(w, r, err)
		return auth.Principal{}, false
	}
	if f, ok := r.Context().Value(logFieldsKey{}).(*logFields); ok {
		f.userID, f.tenantID = p.UserID, p.TenantID
	}
	if !allow(p.Role) {
		s.writeError(w, r, errForbidden)
		return auth.Principal{}, false
	}
	return p, true
}

// Authenticate checks a token of the client of r, whatever carried it (a bearer header, a session
// cookie): from the session cache, else in the database, unless the client's address has failed
// too many checks (then 429 before any lookup). It returns the principal, errUnauthenticated, the
// 429 error or a database error.
func (s *Server) Authenticate(r *http.Request, token string) (auth.Principal, error) {
	h := auth.HashToken(token)
	if p, ok := s.sessions.Get(h); ok {
		return p, nil
	}
	addr := addressBucket(clientIP(r))
	if retry, blocked := s.tokenFailures.Blocked(addr); blocked {
		return auth.Principal{}, tooManyFailures(retry)
	}
	p, err := s.sessions.Load(r.Context(), h)
	if errors.Is(err, db.ErrNotFound) {
		if retry, over := s.tokenFailures.Fail(r.Context(), addr); over {
			return auth.Principal{}, tooManyFailures(retry)
		}
		return auth.Principal{}, errUnauthenticated
	}
	return p, err
}

func tooManyFailures(retry time.Duration) error {
	return &Error{Status: http.StatusTooManyRequests, Code: "RATE_LIMITED",
		Message:    "too many failed token checks from this address: retry after the number of seconds in Retry-After",
		RetryAfter: max(ceilSeconds(retry), 1)}
}

// levelFor logs failures of the service (5xx) as warnings, everything else as info.
func levelFor(status int) slog.Level {
	if status >= 500 {
		return slog.LevelWarn
	}
	return slog.LevelInfo
}
