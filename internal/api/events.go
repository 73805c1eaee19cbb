package api

import (
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/eventmanager/eventmanager/internal/store"
)

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) error {
	var f store.EventFilter
	return servePage(w, r, func() error { return eventFilter(r, &f) },
		func(c *store.EventCursor) bool { return isUUID(c.ID) },
		func(limit int, after *store.EventCursor) ([]store.Event, error) {
			f.Limit, f.After = limit, after
			return s.store.ListEvents(r.Context(), principal(r.Context()).TenantID, f)
		},
		func(e store.Event) store.EventCursor { return store.EventCursor{StartDate: e.StartDate, ID: e.ID} })
}

// eventFilter reads ?archived= and ?search= into f.
func eventFilter(r *http.Request, f *store.EventFilter) error {
	q := r.URL.Query()
	f.Search = strings.TrimSpace(q.Get("search"))
	switch q.Get("archived") {
	case "", "false":
	case "true":
		f.Archived = true
	default:
		return invalid("archived", "must be true or false")
	}
	return searchLength(f.Search)
}

func (s *Server) getEvent(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	e, err := s.store.GetEvent(r.Context(), principal(r.Context()).TenantID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

// eventRequest is the body of POST and PATCH; PATCH leaves absent fields unchanged.
type eventRequest struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
	Location    *string `json:"location"`
	StartDate   *string `json:"start_date"`
	EndDate     *string `json:"end_date"`
}

// validate checks the fields present and parses the dates.
func (req eventRequest) validate() (start, end *time.Time, err error) {
	if req.Name != nil {
		n := strings.TrimSpace(*req.Name)
		*req.Name = n
		if n == "" || utf8.RuneCountInString(n) > 200 {
			return nil, nil, invalid("name", "must be 1 to 200 characters")
		}
	}
	if req.Description != nil && utf8.RuneCountInString(*req.Description) > 10000 {
		return nil, nil, invalid("description", "must be at most 10000 characters")
	}
	if req.Location != nil && utf8.RuneCountInString(*req.Location) > 500 {
		return nil, nil, invalid("location", "must be at most 500 characters")
	}
	if start, err = parseTime("start_date", req.StartDate); err != nil {
		return nil, nil, err
	}
	if end, err = parseTime("end_date", req.EndDate); err != nil {
		return nil, nil, err
	}
	if start != nil && end != nil && end.Before(*start) {
		return nil, nil, invalid("end_date", "must not be before start_date")
	}
	return start, end, nil
}

func (s *Server) createEvent(w http.ResponseWriter, r *http.Request) error {
	var req eventRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"name", req.Name}, {"start_date", req.StartDate}, {"end_date", req.EndDate}} {
		if f.v == nil {
			return invalid(f.name, "is required")
		}
	}
	start, end, err := req.validate()
	if err != nil {
		return err
	}
	in := store.EventInput{Name: *req.Name, StartDate: *start, EndDate: *end}
	if req.Description != nil {
		in.Description = *req.Description
	}
	if req.Location != nil {
		in.Location = *req.Location
	}
	e, err := s.store.CreateEvent(r.Context(), principal(r.Context()).TenantID, s.actor(r), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/events/"+e.ID)
	writeJSON(w, http.StatusCreated, e)
	return nil
}

func (s *Server) updateEvent(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req eventRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	start, end, err := req.validate()
	if err != nil {
		return err
	}
	p := store.EventPatch{Name: req.Name, Description: req.Description, Location: req.Location, StartDate: start, EndDate: end}
	e, err := s.store.UpdateEvent(r.Context(), principal(r.Context()).TenantID, id, s.actor(r), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

func (s *Server) archiveEvent(w http.ResponseWriter, r *http.Request) error {
	return s.setArchived(w, r, true)
}
func (s *Server) restoreEvent(w http.ResponseWriter, r *http.Request) error {
	return s.setArchived(w, r, false)
}

func (s *Server) setArchived(w http.ResponseWriter, r *http.Request, archived bool) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	e, err := s.store.SetEventArchived(r.Context(), principal(r.Context()).TenantID, id, s.actor(r), archived)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}
