package api

import (
	"net/http"
	"strings"

	"github.com/eventmanager/eventmanager/internal/store"
)

// contestRequest is the body of POST and PATCH; PATCH leaves absent fields unchanged, and
// "scoring_type": null makes the contest inherit the event's scoring type again.
type contestRequest struct {
	Name        *string          `json:"name"`
	Description *string          `json:"description"`
	ScoringType tristate[string] `json:"scoring_type"`
}

func (req *contestRequest) validate() error {
	if err := nameField("name", req.Name); err != nil {
		return err
	}
	if err := textField("description", req.Description, 10000); err != nil {
		return err
	}
	if req.ScoringType.Set && !req.ScoringType.Null {
		t := strings.ToUpper(strings.TrimSpace(req.ScoringType.V))
		if t != "STRAIGHT" && t != "OLYMPIC" {
			return invalid("scoring_type", "must be STRAIGHT, OLYMPIC or null (inherit the event's)")
		}
		req.ScoringType.V = t
	}
	return nil
}

func (s *Server) listContests(w http.ResponseWriter, r *http.Request) error {
	eventID, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return servePage(w, r, nil, func(c *store.ContestCursor) bool { return isUUID(c.ID) },
		func(limit int, after *store.ContestCursor) ([]store.Contest, error) {
			return s.store.ListContests(r.Context(), principal(r.Context()).TenantID, eventID, limit, after)
		},
		func(c store.Contest) store.ContestCursor {
			return store.ContestCursor{CreatedAt: c.CreatedAt, ID: c.ID}
		})
}

func (s *Server) getContest(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, err := s.store.GetContest(r.Context(), principal(r.Context()).TenantID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) createContest(w http.ResponseWriter, r *http.Request) error {
	eventID, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req contestRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Name == nil {
		return invalid("name", "is required")
	}
	if err := req.validate(); err != nil {
		return err
	}
	in := store.ContestInput{Name: *req.Name, Description: deref(req.Description), ScoringType: req.ScoringType.clearable().Value}
	c, err := s.store.CreateContest(r.Context(), principal(r.Context()).TenantID, eventID, s.actor(r), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/contests/"+c.ID)
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (s *Server) updateContest(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req contestRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := req.validate(); err != nil {
		return err
	}
	p := store.ContestPatch{Name: req.Name, Description: req.Description, ScoringType: req.ScoringType.clearable()}
	c, err := s.store.UpdateContest(r.Context(), principal(r.Context()).TenantID, id, s.actor(r), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) deleteContest(w http.ResponseWriter, r *http.Request) error {
	return s.deleteByID(w, r, s.store.DeleteContest)
}
