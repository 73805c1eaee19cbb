package api

import (
	"context"
	"net/http"
	"time"

	"github.com/eventmanager/eventmanager/internal/db"
)

// readyTimeout bounds the readiness check: a database slower than this counts as not ready.
const readyTimeout = time.Second

// healthz says the process is alive; it never touches the database, so that a database outage does
// not get the process restarted.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// readyz says whether this instance can serve: database reachable within 1 s and schema migrated.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	notReady := func(reason string) {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "not_ready", "reason": reason})
	}
	want, err := db.LatestVersion()
	if err != nil {
		notReady("no migrations embedded in this binary")
		return nil
	}
	got, err := s.db.SchemaVersion(ctx)
	if err != nil {
		notReady("database not reachable within 1s: " + toAPIError(err).Code)
		return nil
	}
	if got < want {
		notReady("schema at migration " + itoa(got) + ", this binary needs " + itoa(want))
		return nil
	}
	// Invalid indexes (a failed concurrent build) slow queries down but break nothing: the instance
	// stays ready and names them, so that an operator runs `eventmanager migrate repair`.
	invalid, err := s.db.InvalidIndexNames(ctx)
	if err != nil {
		notReady("database not reachable within 1s: " + toAPIError(err).Code)
		return nil
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "schema_version": got, "invalid_indexes": invalid})
	return nil
}
