package api

import (
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/eventmanager/eventmanager/internal/store"
)

// contestantRequest is the body of POST and PATCH; null (or "" for email) clears number and email.
type contestantRequest struct {
	Name   *string          `json:"name"`
	Number tristate[int64]  `json:"number"`
	Email  tristate[string] `json:"email"`
	Bio    *string          `json:"bio"`
}

func (req *contestantRequest) validate() (number store.Clearable[int32], email store.Clearable[string], err error) {
	if err = nameField("name", req.Name); err != nil {
		return
	}
	if err = textField("bio", req.Bio, 10000); err != nil {
		return
	}
	number.Set = req.Number.Set
	if req.Number.Set && !req.Number.Null {
		if req.Number.V < 1 || req.Number.V > math.MaxInt32 {
			return number, email, invalid("number", "must be a whole number from 1 to 2147483647, or null")
		}
		n := int32(req.Number.V)
		number.Value = &n
	}
	email, err = emailField("email", req.Email)
	return number, email, err
}

func (s *Server) listContestants(w http.ResponseWriter, r *http.Request) error {
	var f store.ContestantFilter
	return servePage(w, r, func() error { return contestantFilter(r, &f) },
		func(c *store.ContestantCursor) bool { return isUUID(c.ID) },
		func(limit int, after *store.ContestantCursor) ([]store.Contestant, error) {
			f.Limit, f.After = limit, after
			return s.store.ListContestants(r.Context(), principal(r.Context()).TenantID, f)
		},
		func(c store.Contestant) store.ContestantCursor { return store.ContestantCursor{ID: c.ID} })
}

// contestantFilter reads ?search= and ?number= into f.
func contestantFilter(r *http.Request, f *store.ContestantFilter) error {
	q := r.URL.Query()
	f.Search = strings.TrimSpace(q.Get("search"))
	if err := searchLength(f.Search); err != nil {
		return err
	}
	if raw := q.Get("number"); raw != "" {
		n, err := strconv.ParseInt(raw, 10, 32)
		if err != nil || n < 1 {
			return invalid("number", "must be a whole number from 1 to 2147483647")
		}
		n32 := int32(n)
		f.Number = &n32
	}
	return nil
}

func (s *Server) getContestant(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, err := s.store.GetContestant(r.Context(), principal(r.Context()).TenantID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) createContestant(w http.ResponseWriter, r *http.Request) error {
	var req contestantRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Name == nil {
		return invalid("name", "is required")
	}
	number, email, err := req.validate()
	if err != nil {
		return err
	}
	in := store.ContestantInput{Name: *req.Name, Number: number.Value, Email: email.Value, Bio: deref(req.Bio)}
	c, err := s.store.CreateContestant(r.Context(), principal(r.Context()).TenantID, s.actor(r), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/contestants/"+c.ID)
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (s *Server) updateContestant(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req contestantRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	number, email, err := req.validate()
	if err != nil {
		return err
	}
	p := store.ContestantPatch{Name: req.Name, Bio: req.Bio, Number: number, Email: email}
	c, err := s.store.UpdateContestant(r.Context(), principal(r.Context()).TenantID, id, s.actor(r), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) deleteContestant(w http.ResponseWriter, r *http.Request) error {
	return s.deleteByID(w, r, s.store.DeleteContestant)
}

func (s *Server) listEntries(w http.ResponseWriter, r *http.Request) error {
	categoryID, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return servePage(w, r, nil, func(c *store.EntryCursor) bool { return isUUID(c.ContestantID) },
		func(limit int, after *store.EntryCursor) ([]store.Entry, error) {
			return s.store.ListEntries(r.Context(), principal(r.Context()).TenantID, categoryID, limit, after)
		},
		func(e store.Entry) store.EntryCursor { return store.EntryCursor{ContestantID: e.ID} })
}

// entryIDs reads the category and contestant ids of /categories/{id}/contestants/{contestant_id}.
func entryIDs(r *http.Request) (categoryID, contestantID string, err error) {
	if categoryID, err = pathID(r, "id"); err != nil {
		return "", "", err
	}
	contestantID, err = pathID(r, "contestant_id")
	return categoryID, contestantID, err
}

// enterContestant is idempotent: 201 with the entry when the contestant is newly entered, 204 when
// it already was.
func (s *Server) enterContestant(w http.ResponseWriter, r *http.Request) error {
	categoryID, contestantID, err := entryIDs(r)
	if err != nil {
		return err
	}
	e, created, err := s.store.EnterContestant(r.Context(), principal(r.Context()).TenantID, categoryID, contestantID, s.actor(r))
	if err != nil {
		return err
	}
	if !created {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	writeJSON(w, http.StatusCreated, e)
	return nil
}

func (s *Server) withdrawContestant(w http.ResponseWriter, r *http.Request) error {
	categoryID, contestantID, err := entryIDs(r)
	if err != nil {
		return err
	}
	if err := s.store.WithdrawContestant(r.Context(), principal(r.Context()).TenantID, categoryID, contestantID, s.actor(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
