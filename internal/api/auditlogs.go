package api

import (
	"errors"
	"net/http"
	"unicode/utf8"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/store"
	"github.com/google/uuid"
)

func (s *Server) listAuditLogs(w http.ResponseWriter, r *http.Request) error {
	f, err := auditFilter(r)
	if err != nil {
		return err
	}
	want := f.Limit
	f.Limit++ // one more than asked tells whether another page follows, without a count query
	logs, err := s.store.ListAuditLogs(r.Context(), principal(r.Context()).TenantID, f)
	if errors.Is(err, db.ErrCheckViolation) {
		// PostgreSQL refused the filter's JSON (a number beyond numeric's range, a lone surrogate).
		err = invalid("data", "is not a JSON object PostgreSQL accepts")
	}
	if err != nil {
		return err
	}
	writePage(w, logs, want, func(l store.AuditLog) any { return store.AuditCursor{CreatedAt: l.CreatedAt, ID: l.ID} })
	return nil
}

// auditFilter reads and checks the query of GET /api/v1/audit-logs.
func auditFilter(r *http.Request) (store.AuditFilter, error) {
	q := r.URL.Query()
	var (
		f   store.AuditFilter
		err error
	)
	if f.Limit, err = pageLimit(r); err != nil {
		return f, err
	}
	switch q.Get("scope") {
	case "", store.ScopeTenant:
	case store.ScopeGlobal:
		// Rows of no tenant record changes to global settings, which only SUPER_ADMIN makes.
		if !auth.IsOperator(principal(r.Context()).Role) {
			return f, errForbidden
		}
		f.Global = true
	default:
		return f, invalid("scope", "must be tenant or global")
	}
	for _, p := range []struct {
		name string
		dst  *string
	}{{"entity_type", &f.EntityType}, {"action", &f.Action}} {
		v := q.Get(p.name)
		if utf8.RuneCountInString(v) > 100 {
			return f, invalid(p.name, "is longer than 100 characters")
		}
		*p.dst = v
	}
	for _, p := range []struct {
		name string
		dst  *string
	}{{"entity_id", &f.EntityID}, {"actor", &f.ActorID}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		if _, err := uuid.Parse(v); err != nil || len(v) != 36 {
			return f, invalid(p.name, "must be a UUID")
		}
		*p.dst = v
	}
	if f.From, err = queryTime(q.Get("from"), "from"); err != nil {
		return f, err
	}
	if f.To, err = queryTime(q.Get("to"), "to"); err != nil {
		return f, err
	}
	if f.From != nil && f.To != nil && !f.To.After(*f.From) {
		return f, invalid("to", "must be after from")
	}
	if raw := q.Get("data"); raw != "" {
		if f.Data, err = jsonFilter("data", raw, true); err != nil {
			return f, err
		}
	}
	var cur store.AuditCursor
	if ok, err := decodeCursor(r, &cur); err != nil {
		return f, err
	} else if ok {
		if _, err := uuid.Parse(cur.ID); err != nil || cur.CreatedAt.IsZero() {
			return f, badRequest("INVALID_CURSOR", "cursor", "the cursor is not one this service returned")
		}
		f.After = &cur
	}
	return f, nil
}

func (s *Server) getAuditLog(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p := principal(r.Context())
	l, err := s.store.GetAuditLog(r.Context(), p.TenantID, id, auth.IsOperator(p.Role))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}
