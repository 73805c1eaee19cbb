package api

import (
	"net/http"

	"github.com/eventmanager/eventmanager/internal/store"
)

// judgeRequest is the body of POST and PATCH; null clears email and user_id (unlinks the user).
type judgeRequest struct {
	Name        *string          `json:"name"`
	Email       tristate[string] `json:"email"`
	IsHeadJudge *bool            `json:"is_head_judge"`
	UserID      tristate[string] `json:"user_id"`
}

func (req *judgeRequest) validate() (email, userID store.Clearable[string], err error) {
	if err = nameField("name", req.Name); err != nil {
		return
	}
	if email, err = emailField("email", req.Email); err != nil {
		return
	}
	if req.UserID.Set && !req.UserID.Null && !isUUID(req.UserID.V) {
		return email, userID, invalid("user_id", "must be a UUID or null")
	}
	return email, req.UserID.clearable(), nil
}

func (s *Server) listJudges(w http.ResponseWriter, r *http.Request) error {
	return servePage(w, r, nil, func(c *store.JudgeCursor) bool { return isUUID(c.ID) },
		func(limit int, after *store.JudgeCursor) ([]store.Judge, error) {
			return s.store.ListJudges(r.Context(), principal(r.Context()).TenantID, limit, after)
		},
		func(j store.Judge) store.JudgeCursor { return store.JudgeCursor{ID: j.ID} })
}

func (s *Server) getJudge(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	j, err := s.store.GetJudge(r.Context(), principal(r.Context()).TenantID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, j)
	return nil
}

func (s *Server) createJudge(w http.ResponseWriter, r *http.Request) error {
	var req judgeRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Name == nil {
		return invalid("name", "is required")
	}
	email, userID, err := req.validate()
	if err != nil {
		return err
	}
	in := store.JudgeInput{Name: *req.Name, Email: email.Value, IsHeadJudge: deref(req.IsHeadJudge), UserID: userID.Value}
	j, err := s.store.CreateJudge(r.Context(), principal(r.Context()).TenantID, s.actor(r), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/judges/"+j.ID)
	writeJSON(w, http.StatusCreated, j)
	return nil
}

func (s *Server) updateJudge(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req judgeRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	email, userID, err := req.validate()
	if err != nil {
		return err
	}
	p := store.JudgePatch{Name: req.Name, Email: email, IsHeadJudge: req.IsHeadJudge, UserID: userID}
	j, err := s.store.UpdateJudge(r.Context(), principal(r.Context()).TenantID, id, s.actor(r), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, j)
	return nil
}

func (s *Server) deleteJudge(w http.ResponseWriter, r *http.Request) error {
	return s.deleteByID(w, r, s.store.DeleteJudge)
}
