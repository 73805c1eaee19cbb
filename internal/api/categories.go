package api

import (
	"math"
	"net/http"

	"github.com/eventmanager/eventmanager/internal/store"
)

// The score cap is numeric(10, 2): below 10^8.
const scoreCapLimit = 100_000_000

// categoryRequest is the body of POST and PATCH; null clears score_cap and time_limit_seconds.
type categoryRequest struct {
	Name             *string               `json:"name"`
	Description      *string               `json:"description"`
	ScoreCap         tristate[decimalText] `json:"score_cap"`
	TimeLimitSeconds tristate[int64]       `json:"time_limit_seconds"`
}

// validate checks the fields present and returns the nullable ones ready for the store.
func (req *categoryRequest) validate() (scoreCap store.Clearable[string], timeLimit store.Clearable[int32], err error) {
	if err = nameField("name", req.Name); err != nil {
		return
	}
	if err = textField("description", req.Description, 10000); err != nil {
		return
	}
	scoreCap.Set = req.ScoreCap.Set
	if req.ScoreCap.Set && !req.ScoreCap.Null {
		v, derr := req.ScoreCap.V.decimal("score_cap", scoreCapLimit)
		if derr != nil {
			return scoreCap, timeLimit, derr
		}
		scoreCap.Value = &v
	}
	timeLimit.Set = req.TimeLimitSeconds.Set
	if req.TimeLimitSeconds.Set && !req.TimeLimitSeconds.Null {
		v := req.TimeLimitSeconds.V
		if v < 1 || v > math.MaxInt32 {
			return scoreCap, timeLimit, invalid("time_limit_seconds", "must be a whole number of seconds from 1 to 2147483647")
		}
		n := int32(v)
		timeLimit.Value = &n
	}
	return scoreCap, timeLimit, nil
}

func (s *Server) listCategories(w http.ResponseWriter, r *http.Request) error {
	contestID, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return servePage(w, r, nil, func(c *store.CategoryCursor) bool { return isUUID(c.ID) },
		func(limit int, after *store.CategoryCursor) ([]store.Category, error) {
			return s.store.ListCategories(r.Context(), principal(r.Context()).TenantID, contestID, limit, after)
		},
		func(c store.Category) store.CategoryCursor {
			return store.CategoryCursor{CreatedAt: c.CreatedAt, ID: c.ID}
		})
}

func (s *Server) getCategory(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, err := s.store.GetCategory(r.Context(), principal(r.Context()).TenantID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) createCategory(w http.ResponseWriter, r *http.Request) error {
	contestID, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req categoryRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Name == nil {
		return invalid("name", "is required")
	}
	scoreCap, timeLimit, err := req.validate()
	if err != nil {
		return err
	}
	in := store.CategoryInput{Name: *req.Name, Description: deref(req.Description), ScoreCap: scoreCap.Value, TimeLimitSeconds: timeLimit.Value}
	c, err := s.store.CreateCategory(r.Context(), principal(r.Context()).TenantID, contestID, s.actor(r), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/categories/"+c.ID)
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (s *Server) updateCategory(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req categoryRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	scoreCap, timeLimit, err := req.validate()
	if err != nil {
		return err
	}
	p := store.CategoryPatch{Name: req.Name, Description: req.Description, ScoreCap: scoreCap, TimeLimitSeconds: timeLimit}
	c, err := s.store.UpdateCategory(r.Context(), principal(r.Context()).TenantID, id, s.actor(r), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) deleteCategory(w http.ResponseWriter, r *http.Request) error {
	return s.deleteByID(w, r, s.store.DeleteCategory)
}
