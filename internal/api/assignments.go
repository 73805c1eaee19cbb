package api

import (
	"context"
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
// ?judge_id= into f.
func assignmentFilter(r *http.Request, f *store.AssignmentFilter, judgeFromQuery bool) error {
	var err error
	if judgeFromQuery {
		if f.JudgeID, err = uuidQuery(r, "judge_id"); err != nil {
			return err
		}
	}
	if f.CategoryID, err = uuidQuery(r, "category_id"); err != nil {
		return err
	}
	if raw := r.URL.Query().Get("status"); raw != "" {
		if f.Status, err = assignmentStatus("status", raw); err != nil {
			return err
		}
	}
	return nil
}

// serveAssignments answers a page of assignments that list fetches with f.
func serveAssignments(w http.ResponseWriter, r *http.Request, judgeFromQuery bool, f store.AssignmentFilter,
	list func(context.Context, string, store.AssignmentFilter) ([]store.Assignment, error)) error {
	return servePage(w, r, func() error { return assignmentFilter(r, &f, judgeFromQuery) },
		func(c *store.AssignmentCursor) bool { return isUUID(c.ID) },
		func(limit int, after *store.AssignmentCursor) ([]store.Assignment, error) {
			f.Limit, f.After = limit, after
			return list(r.Context(), principal(r.Context()).TenantID, f)
		},
		func(a store.Assignment) store.AssignmentCursor { return store.AssignmentCursor{ID: a.ID} })
}

func (s *Server) listAssignments(w http.ResponseWriter, r *http.Request) error {
	return serveAssignments(w, r, true, store.AssignmentFilter{}, s.store.ListAssignments)
}

func (s *Server) listJudgeAssignments(w http.ResponseWriter, r *http.Request) error {
	judgeID, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return serveAssignments(w, r, false, store.AssignmentFilter{JudgeID: judgeID}, s.store.ListJudgeAssignments)
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
		return err
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
