package api

import (
	"net/http"

	"github.com/eventmanager/eventmanager/internal/store"
)

const (
	// max_score is numeric(8, 2): below 10^6.
	maxScoreLimit = 1_000_000
	// Positions are small ordinals; the bound keeps "last + 1" far from integer overflow.
	maxPosition = 1_000_000
)

// criterionRequest is the body of POST and PATCH.
type criterionRequest struct {
	Name     *string      `json:"name"`
	MaxScore *decimalText `json:"max_score"`
	Position *int64       `json:"position"`
}

func (req *criterionRequest) validate() (maxScore *string, position *int32, err error) {
	if err := nameField("name", req.Name); err != nil {
		return nil, nil, err
	}
	if req.MaxScore != nil {
		v, err := req.MaxScore.decimal("max_score", maxScoreLimit)
		if err != nil {
			return nil, nil, err
		}
		maxScore = &v
	}
	if req.Position != nil {
		if *req.Position < 0 || *req.Position > maxPosition {
			return nil, nil, invalid("position", "must be a whole number from 0 to 1000000")
		}
		p := int32(*req.Position)
		position = &p
	}
	return maxScore, position, nil
}

func (s *Server) listCriteria(w http.ResponseWriter, r *http.Request) error {
	categoryID, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return servePage(w, r, nil, func(c *store.CriterionCursor) bool { return isUUID(c.ID) },
		func(limit int, after *store.CriterionCursor) ([]store.Criterion, error) {
			return s.store.ListCriteria(r.Context(), principal(r.Context()).TenantID, categoryID, limit, after)
		},
		func(c store.Criterion) store.CriterionCursor {
			return store.CriterionCursor{Position: c.Position, ID: c.ID}
		})
}

func (s *Server) getCriterion(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, err := s.store.GetCriterion(r.Context(), principal(r.Context()).TenantID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) createCriterion(w http.ResponseWriter, r *http.Request) error {
	categoryID, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req criterionRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	switch {
	case req.Name == nil:
		return invalid("name", "is required")
	case req.MaxScore == nil:
		return invalid("max_score", "is required")
	}
	maxScore, position, err := req.validate()
	if err != nil {
		return err
	}
	in := store.CriterionInput{Name: *req.Name, MaxScore: *maxScore, Position: position}
	c, err := s.store.CreateCriterion(r.Context(), principal(r.Context()).TenantID, categoryID, s.actor(r), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/criteria/"+c.ID)
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (s *Server) updateCriterion(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req criterionRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	maxScore, position, err := req.validate()
	if err != nil {
		return err
	}
	p := store.CriterionPatch{Name: req.Name, MaxScore: maxScore, Position: position}
	c, err := s.store.UpdateCriterion(r.Context(), principal(r.Context()).TenantID, id, s.actor(r), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) deleteCriterion(w http.ResponseWriter, r *http.Request) error {
	return s.deleteByID(w, r, s.store.DeleteCriterion)
}
