package api

import (
	"context"
	"net/http"

	"github.com/eventmanager/eventmanager/internal/store"
)

// Building blocks shared by the handlers of several resources.

// actor is who makes a request, for the audit log: the user, the request id and the address.
func (s *Server) actor(r *http.Request) store.Actor {
	return store.Actor{UserID: principal(r.Context()).UserID, RequestID: requestID(r.Context()), IP: clientIP(r)}
}

// deleteByID answers DELETE /…/{id}: 204, 404 for an id that is not the tenant's, 409 IN_USE for a
// row that others depend on.
func (s *Server) deleteByID(w http.ResponseWriter, r *http.Request,
	del func(ctx context.Context, tenantID, id string, a store.Actor) error) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := del(r.Context(), principal(r.Context()).TenantID, id, s.actor(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
