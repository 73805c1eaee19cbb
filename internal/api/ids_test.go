package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// An id in upper case is the same id: the guards that compare ids (one's own account, one's own
// tenant) refuse it exactly as they refuse the lower-case id, and answers name ids in lower case.
func TestUpperCaseIDsAreTheSameIDs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.usrTenant("casing")
	self := "/api/v1/users/" + strings.ToUpper(tn.adminID)

	requireError(t, e.do("PATCH", self, tn.admin, map[string]any{"role": "ORGANIZER"}), 403, "OWN_ACCOUNT", "role")
	requireError(t, e.do("PATCH", self, tn.admin, map[string]any{"active": false}), 403, "OWN_ACCOUNT", "active")
	// Changing one's own password through the upper-case id still needs the current password.
	requireError(t, e.do("POST", self+"/password", tn.admin, map[string]any{"password": "a new long password"}), 400, "VALIDATION_FAILED", "current_password")
	u, err := e.store.UserByEmail(context.Background(), tn.id, "admin@casing.test")
	require.NoError(t, err)
	require.Equal(t, "ADMIN", string(u.Role))
	require.True(t, u.Active)

	// A path id, a query id and a body id in upper case.
	event := e.createEvent(tn.admin, "Gala", time.Date(2026, 6, 1, 18, 0, 0, 0, time.UTC))
	r := e.do("GET", "/api/v1/events/"+strings.ToUpper(event), tn.admin, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, event, r.json(t)["id"])
	r = e.do("GET", "/api/v1/admin/rate-limits?tenant_id="+strings.ToUpper(tn.id), tn.admin, nil)
	require.Equal(t, http.StatusOK, r.status, "one's own tenant in upper case: %s", r.body)
	r = e.do("POST", "/api/v1/admin/rate-limits", tn.admin, map[string]any{"tenant_id": strings.ToUpper(tn.id),
		"endpoint": "GET /api/v1/events", "per_minute": 10, "per_hour": 100, "burst": 5})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	require.Equal(t, tn.id, r.json(t)["tenant_id"])
}
