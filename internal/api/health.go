package api

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/eventmanager/eventmanager/internal/db"
)

// readyTimeout bounds the readiness check: a database slower than this counts as not ready.
const readyTimeout = time.Second

// readyMaxAge is how long one readiness answer is shared by every probe: a flood of /readyz costs
// at most one query per readyMaxAge.
const readyMaxAge = time.Second

// readiness is the shared answer of /readyz.
type readiness struct {
	mu      sync.Mutex // held during the check: concurrent probes wait for its answer
	checked time.Time
	ok      bool
}

// healthz says the process is alive; it never touches the database, so that a database outage does
// not get the process restarted.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// readyz says whether this instance can serve: database reachable within 1 s and schema migrated.
// It is public, so it says only ready or not; the reason goes to the log. Invalid indexes are for
// the operator's database health report.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	if s.isReady(r.Context()) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
		return nil
	}
	w.Header().Set("Retry-After", "1")
	writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not_ready"})
	return nil
}

// isReady runs one query (the schema version) at most once per readyMaxAge, whoever asks.
func (s *Server) isReady(ctx context.Context) bool {
	s.ready.mu.Lock()
	defer s.ready.mu.Unlock()
	if !s.ready.checked.IsZero() && time.Since(s.ready.checked) < readyMaxAge {
		return s.ready.ok
	}
	// The probe that checks is not cancelled by its own client going away: the others wait for it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), readyTimeout)
	defer cancel()
	ok, reason := s.checkReady(ctx)
	if !ok && (s.ready.ok || s.ready.checked.IsZero()) {
		s.log.WarnContext(ctx, "not ready", "reason", reason)
	}
	s.ready.ok, s.ready.checked = ok, time.Now()
	return ok
}

func (s *Server) checkReady(ctx context.Context) (bool, string) {
	want, err := db.LatestVersion()
	if err != nil {
		return false, "no migrations embedded in this binary"
	}
	got, err := s.db.SchemaVersion(ctx)
	if err != nil {
		return false, "database not reachable within 1s: " + toAPIError(err).Code
	}
	if got < want {
		return false, "schema at migration " + itoa(got) + ", this binary needs " + itoa(want)
	}
	return true, ""
}
