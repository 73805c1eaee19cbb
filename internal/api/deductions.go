package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/eventmanager/eventmanager/internal/store"
)

func (s *Server) listDeductions(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var f store.DeductionFilter
	filter := func() (err error) { f.ContestantID, err = uuidQuery(r, "contestant_id"); return err }
	return servePage(w, r, filter,
		func(c *store.DeductionCursor) bool { return isUUID(c.ID) && !c.CreatedAt.IsZero() },
		func(limit int, after *store.DeductionCursor) ([]store.Deduction, error) {
			f.Limit, f.After = limit, after
			return s.store.ListDeductions(r.Context(), principal(r.Context()).TenantID, id, f)
		},
		func(d store.Deduction) store.DeductionCursor {
			return store.DeductionCursor{CreatedAt: d.CreatedAt, ID: d.ID}
		})
}

type deductionRequest struct {
	ContestantID string          `json:"contestant_id"`
	Amount       json.RawMessage `json:"amount"`
	Reason       string          `json:"reason"`
}

func (s *Server) createDeduction(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req deductionRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if !isUUID(req.ContestantID) {
		return invalid("contestant_id", "must be a UUID")
	}
	if len(req.Amount) == 0 || string(req.Amount) == "null" {
		return invalid("amount", "is required")
	}
	amount, negative, tooPrecise, ok := parseDecimal(req.Amount)
	switch {
	case !ok:
		return invalid("amount", "must be a number such as 2 or 0.5")
	case tooPrecise:
		return invalid("amount", "at most two decimals are allowed")
	case negative || amount == "0.00":
		return invalid("amount", "must be greater than 0")
	case len(amount) > len("999999.99"):
		return invalid("amount", "must be at most 999999.99")
	}
	reason := strings.TrimSpace(req.Reason)
	if reason == "" || utf8.RuneCountInString(reason) > 1000 {
		return invalid("reason", "is required: 1 to 1000 characters")
	}
	d, err := s.store.CreateDeduction(r.Context(), principal(r.Context()).TenantID, id, s.actor(r),
		store.DeductionInput{ContestantID: strings.ToLower(req.ContestantID), Amount: amount, Reason: reason})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/deductions/"+d.ID)
	writeJSON(w, http.StatusCreated, d)
	return nil
}

func (s *Server) deleteDeduction(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.store.DeleteDeduction(r.Context(), principal(r.Context()).TenantID, id, s.actor(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
