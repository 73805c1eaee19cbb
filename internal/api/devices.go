package api

import (
	"net/http"
	"time"
)

type deviceRequest struct {
	Queued *int `json:"queued"`
}

type deviceResponse struct {
	SeenAt time.Time `json:"seen_at"`
	Queued int       `json:"queued"`
}

func (s *Server) reportDevice(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p := principal(r.Context())
	if p.JudgeID == "" {
		return errNotAJudge
	}
	var req deviceRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Queued == nil {
		return invalid("queued", "is required")
	}
	seen, err := s.store.ReportDevice(r.Context(), p.TenantID, id, p.JudgeID, *req.Queued)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, deviceResponse{SeenAt: seen, Queued: *req.Queued})
	return nil
}

func (s *Server) listDevices(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	devices, err := s.store.ListDevices(r.Context(), principal(r.Context()).TenantID, id)
	if err != nil {
		return err
	}
	writeAll(w, devices)
	return nil
}
