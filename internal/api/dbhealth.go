package api

import (
	"net/http"

	"github.com/eventmanager/eventmanager/internal/health"
)

// databaseHealth answers 200 when the database is healthy or degraded, 503 when it is unhealthy,
// with every check in the body either way.
func (s *Server) databaseHealth(w http.ResponseWriter, r *http.Request) error {
	report := s.health.Run(r.Context())
	status := http.StatusOK
	if report.Status == health.Unhealthy {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, report)
	return nil
}

// databaseMetrics answers the sizes of the largest tables and indexes, index usage and the pool's
// statistics. A failed catalogue query is answered with its error (503 DB_UNAVAILABLE, 504
// QUERY_TIMEOUT).
func (s *Server) databaseMetrics(w http.ResponseWriter, r *http.Request) error {
	st, err := s.health.Stats(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}
