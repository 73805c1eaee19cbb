package api

import (
	"net/http"
	"strings"

	"github.com/eventmanager/eventmanager/internal/store"
)

// assignmentStatus checks a status (case is ignored) and returns it in upper case.
func assignmentStatus(field, v string) (string, error) {
	switch st := strings.ToUpper(strings.TrimSpace(v)); st {
	case store.AssignmentPending, store.AssignmentActive, store.AssignmentCompleted, store.AssignmentCancelled:
		return st, nil
	}
	return "", invalid(field, "must be PENDING, ACTIVE, COMPLETED or CANCELLED")
}

// assignmentFilter reads ?category_id=, ?status= and (unless the judge comes from the path)
// ?judge_id=, with ?limit= and ?cursor=.
func assignmentFilter(r *http.Request, judgeFromQuery bool) (store.AssignmentFilter, error) {
	var (
		f   store.AssignmentFilter
		err error
	)
	if f.Limit, err = pageLimit(r); err != nil {
		return f, err
	}
	if judgeFromQuery {
		if f.JudgeID, err = uuidQuery(r, "judge_id"); err != nil {
			return f, err
		}
	}
	if f.CategoryID, err = uuidQuery(r, "category_id"); err != nil {
		return f, err
	}
	if raw := r.URL.Query().Get("status"); raw != "" {
		if f.Status, err = assignmentStatus("status", raw); err != nil {
			return f, err
		}
	}
	f.After, err = readCursor(r, func(c *store.AssignmentCursor) []string { return []string{c.ID} })
	return f, err
}

func (s *Server) listAssignments(w http.ResponseWriter, r *http.Request) error {
	f, err := assignmentFilter(r, true)
	if err != nil {
		return err
	}
	want := f.Limit
	f.Limit++
	list, err := s.store.ListAssignments(r.Context(), principal(r.Context()).TenantID, f)
	if err != nil {
		return err
	}
	writePage(w, list, want, func(a store.Assignment) any { return store.AssignmentCursor{ID: a.ID} })
	return nil
}

func (s *Server) listJudgeAssignments(w http.ResponseWriter, r *http.Request) error {
	judgeID, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f, err := assignmentFilter(r, false)
	if err != nil {
		return err
	}
	f.JudgeID = judgeID
	want := f.Limit
	f.Limit++
	list, err := s.store.ListJudgeAssignments(r.Context(), principal(r.Context()).TenantID, f)
	if err != nil {
		return err
	}
	writePage(w, list, want, func(a store.Assignment) any { return store.AssignmentCursor{ID: a.ID} })
	return nil
}

func (s *Server) getAssignment(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	a, err := s.store.GetAssignment(r.Context(), principal(r.Context()).TenantID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

// assignmentCreateRequest is the body of POST; status defaults to PENDING.
type assignmentCreateRequest struct {
	JudgeID    *string `json:"judge_id"`
	CategoryID *string `json:"category_id"`
	Status     *string `json:"status"`
}

func (s *Server) createAssignment(w http.ResponseWriter, r *http.Request) error {
	var req assignmentCreateRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"judge_id", req.JudgeID}, {"category_id", req.CategoryID}} {
		if f.v == nil {
			return invalid(f.name, "is required")
		}
		if !isUUID(*f.v) {
			return invalid(f.name, "must be a UUID")
		}
	}
	status := store.AssignmentPending
	if req.Status != nil {
		var err error
		if status, err = assignmentStatus("status", *req.Status); err != nil {
			return err
		}
	}
	a, err := s.store.CreateAssignment(r.Context(), principal(r.Context()).TenantID, s.actor(r), *req.JudgeID, *req.CategoryID, status)
	if err != nil {
		return referenceError(err)
	}
	w.Header().Set("Location", "/api/v1/assignments/"+a.ID)
	writeJSON(w, http.StatusCreated, a)
	return nil
}

// assignmentPatchRequest is the body of PATCH: only the status changes; a different judge or
// category is a new assignment.
type assignmentPatchRequest struct {
	Status *string `json:"status"`
}

func (s *Server) updateAssignment(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req assignmentPatchRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Status == nil {
		return invalid("status", "is required")
	}
	status, err := assignmentStatus("status", *req.Status)
	if err != nil {
		return err
	}
	a, err := s.store.UpdateAssignmentStatus(r.Context(), principal(r.Context()).TenantID, id, s.actor(r), status)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (s *Server) deleteAssignment(w http.ResponseWriter, r *http.Request) error {
	return s.deleteByID(w, r, s.store.DeleteAssignment)
}
