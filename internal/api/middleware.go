package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
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

// withRequestID takes X-Request-ID from the request when it is sane, makes one otherwise, and
// returns it on the response; the id also reaches query logs through the context.
func (s *Server) withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		if !validRequestID(id) {
			var b [12]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-ID", id)
		next.ServeHTTP(w, r.WithContext(db.WithRequestID(r.Context(), id)))
	})
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
}

type logFieldsKey struct{}

// withLogging writes one line per request and records it in the HTTP metrics by route pattern
// (filled in by dispatch). The query string is left out: it can carry search terms.
func (s *Server) withLogging(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		fields := &logFields{}
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), logFieldsKey{}, fields)))
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		if s.httpMetrics != nil {
			s.httpMetrics.ObserveRequest(fields.pattern, rec.status, time.Since(start))
		}
		s.log.LogAttrs(r.Context(), levelFor(rec.status), "request",
			slog.String("request_id", requestID(r.Context())),
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.String("route", fields.pattern),
			slog.Int("status", rec.status),
			slog.Int("bytes", rec.bytes),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			slog.String("user_id", fields.userID),
			slog.String("tenant_id", fields.tenantID),
			slog.String("remote", clientIP(r)),
		)
	})
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
		token, err := requestToken(r) // bearer token, or the web app's cookie (cookie.go)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		p, err := s.store.Authenticate(r.Context(), token)
		if errors.Is(err, db.ErrNotFound) {
			s.writeError(w, r, errUnauthenticated)
			return
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if f, ok := r.Context().Value(logFieldsKey{}).(*logFields); ok {
			f.userID, f.tenantID = p.UserID, p.TenantID
		}
		if !allow(p.Role) {
			s.writeError(w, r, errForbidden)
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	}
}

// clientIP is the peer address. X-Forwarded-For is not trusted: no proxy is configured.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return ""
	}
	return host
}

// levelFor logs failures of the service (5xx) as warnings, everything else as info.
func levelFor(status int) slog.Level {
	if status >= 500 {
		return slog.LevelWarn
	}
	return slog.LevelInfo
}
