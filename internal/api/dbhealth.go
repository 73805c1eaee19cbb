package api

import (
	"net/http"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/health"
)

// operators may see data of the whole platform: the database's health and the status page.
var operators = access(auth.Allow(auth.SuperAdmin))

// databaseHealthRoutes serves the database health report and the database metrics to the
// operator (SUPER_ADMIN): they describe the whole database, every tenant's table sizes and row
// counts and other sessions' statements, which a tenant's ADMIN must not see. They are left out
// when the server has no health checker.
//
// Both routes authenticate like every other, which takes a query: while the database is down the
// caller cannot be authenticated, and the answer is the error envelope 503 DB_UNAVAILABLE (within
// connect_timeout and pool_timeout, never a hang), not the report. Serving the report without
// authentication would show pool figures and database errors to anyone; /readyz already says
// publicly whether the database is reachable.
func (s *Server) databaseHealthRoutes() {
	if s.health == nil {
		return
	}
	s.handle("GET /api/v1/admin/database/health", operators, s.databaseHealth)
	s.handle("GET /api/v1/admin/database/metrics", operators, s.databaseMetrics)
}

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
