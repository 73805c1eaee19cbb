package api

import (
	"net/http"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/health"
)

// databaseHealthRoutes serves the database health report to administrators. It is left out when
// the server has no health checker.
func (s *Server) databaseHealthRoutes() {
	if s.health == nil {
		return
	}
	s.handle("GET /api/v1/admin/database/health", access(auth.Allow(auth.SuperAdmin, auth.Admin)), s.databaseHealth)
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
