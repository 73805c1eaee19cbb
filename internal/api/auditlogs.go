package api

import (
	"net/http"
	"unicode/utf8"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/store"
)

func (s *Server) listAuditLogs(w http.ResponseWriter, r *http.Request) error {
	var f store.AuditFilter
	return servePage(w, r, func() error { return auditFilter(r, &f) },
		func(c *store.AuditCursor) bool { return isUUID(c.ID) && !c.CreatedAt.IsZero() },
		func(limit int, after *store.AuditCursor) ([]store.AuditLog, error) {
			f.Limit, f.After = limit, after
			return s.store.ListAuditLogs(r.Context(), principal(r.Context()).TenantID, f)
		},
		func(l store.AuditLog) store.AuditCursor { return store.AuditCursor{CreatedAt: l.CreatedAt, ID: l.ID} })
}

// auditFilter reads and checks the query of GET /api/v1/audit-logs.
func auditFilter(r *http.Request, f *store.AuditFilter) error {
	q := r.URL.Query()
	var err error
	switch q.Get("scope") {
	case "", store.ScopeTenant:
	case store.ScopeGlobal:
		// Rows of no tenant record changes to global settings, which only SUPER_ADMIN makes.
		if !auth.IsOperator(principal(r.Context()).Role) {
			return errForbidden
		}
		f.Global = true
	default:
		return invalid("scope", "must be tenant or global")
	}
	for _, p := range []struct {
		name string
		dst  *string
	}{{"entity_type", &f.EntityType}, {"action", &f.Action}} {
		v := q.Get(p.name)
		if utf8.RuneCountInString(v) > 100 {
			return invalid(p.name, "is longer than 100 characters")
		}
		*p.dst = v
	}
	if f.EntityID, err = uuidQuery(r, "entity_id"); err != nil {
		return err
	}
	if f.ActorID, err = uuidQuery(r, "actor"); err != nil {
		return err
	}
	if f.From, err = queryTime(q.Get("from"), "from"); err != nil {
		return err
	}
	if f.To, err = queryTime(q.Get("to"), "to"); err != nil {
		return err
	}
	if f.From != nil && f.To != nil && !f.To.After(*f.From) {
		return invalid("to", "must be after from")
	}
	if raw := q.Get("data"); raw != "" {
		if f.Data, err = jsonFilter("data", raw, true); err != nil {
			return err
		}
	}
	return nil
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
