package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/store"
	"github.com/stretchr/testify/require"
)

// tenSuperAdmin creates the operators' tenant with a SUPER_ADMIN (as `eventmanager tenants create
// --admin-role SUPER_ADMIN` does) and returns its id and the SUPER_ADMIN's token.
func (e *env) tenSuperAdmin(slug string) (string, string) {
	e.t.Helper()
	email := "root@" + slug + ".test"
	ten, _, err := e.store.CreateTenant(context.Background(), store.Actor{}, slug, "Operators",
		store.NewUser{Email: email, Name: "Root", Password: testPassword, Role: auth.SuperAdmin})
	require.NoError(e.t, err)
	return ten.ID, e.login(slug, email)
}

func TestTenantsLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	opsID, root := e.tenSuperAdmin("ops")

	// A new tenant with its first ADMIN, whose one-time password is shown once and works.
	r := e.do("POST", "/api/v1/tenants", root, map[string]any{"slug": "acme", "name": " Acme Shows ", "admin_email": "Boss@Acme.test", "admin_name": "Boss"})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	require.Equal(t, "no-store", r.header.Get("Cache-Control"))
	var created struct {
		store.Tenant
		Admin         store.User `json:"admin"`
		AdminPassword string     `json:"admin_password"`
	}
	require.NoError(t, json.Unmarshal(r.body, &created))
	require.Equal(t, "acme", created.Tenant.Slug)
	require.Equal(t, "Acme Shows", created.Tenant.Name)
	require.True(t, created.Tenant.Active)
	require.Equal(t, "STRAIGHT", created.Tenant.ScoringType)
	require.JSONEq(t, `{}`, string(created.Tenant.Settings))
	require.Equal(t, "boss@acme.test", created.Admin.Email)
	require.Equal(t, auth.Admin, created.Admin.Role)
	require.Equal(t, created.Tenant.ID, created.Admin.TenantID)
	require.Len(t, created.AdminPassword, auth.RandomPasswordLen)
	require.NotContains(t, string(r.body), "argon2")
	acmeID := created.Tenant.ID
	acme := e.usrToken("acme", "boss@acme.test", created.AdminPassword)
	me := e.do("GET", "/api/v1/auth/me", acme, nil).json(t)
	require.Equal(t, "ADMIN", me["role"])

	for _, c := range []struct {
		name        string
		body        map[string]any
		status      int
		code, field string
	}{
		{"duplicate slug", map[string]any{"slug": "acme", "name": "Other", "admin_email": "a@b.test"}, 409, "CONFLICT", "slug"},
		{"bad slug", map[string]any{"slug": "Acme Inc", "name": "Other", "admin_email": "a@b.test"}, 400, "VALIDATION_FAILED", "slug"},
		{"no slug", map[string]any{"name": "Other", "admin_email": "a@b.test"}, 400, "VALIDATION_FAILED", "slug"},
		{"no name", map[string]any{"slug": "other", "admin_email": "a@b.test"}, 400, "VALIDATION_FAILED", "name"},
		{"no admin email", map[string]any{"slug": "other", "name": "Other"}, 400, "VALIDATION_FAILED", "admin_email"},
		{"bad admin email", map[string]any{"slug": "other", "name": "Other", "admin_email": "nobody"}, 400, "VALIDATION_FAILED", "admin_email"},
		{"unknown field", map[string]any{"slug": "other", "name": "Other", "admin_email": "a@b.test", "plan": "gold"}, 400, "UNKNOWN_FIELD", "plan"},
	} {
		requireError(t, e.do("POST", "/api/v1/tenants", root, c.body), c.status, c.code, c.field, c.name)
	}

	// List in slug order, in pages, with filters.
	e.do("POST", "/api/v1/tenants", root, map[string]any{"slug": "zeta", "name": "Zeta Dance", "admin_email": "z@zeta.test"})
	var slugs []string
	for q := "?limit=2"; ; {
		r := e.do("GET", "/api/v1/tenants"+q, root, nil)
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		var l listResponseOf[store.Tenant]
		require.NoError(t, json.Unmarshal(r.body, &l))
		require.LessOrEqual(t, len(l.Data), 2)
		for _, tn := range l.Data {
			slugs = append(slugs, tn.Slug)
		}
		if l.NextCursor == nil {
			break
		}
		q = "?limit=2&cursor=" + *l.NextCursor
	}
	require.Equal(t, []string{"acme", "ops", "zeta"}, slugs)
	require.Len(t, e.do("GET", "/api/v1/tenants?search=DANCE", root, nil).json(t)["data"], 1)

	// Get and patch.
	r = e.do("GET", "/api/v1/tenants/"+acmeID, root, nil)
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, "acme", r.json(t)["slug"])
	r = e.do("PATCH", "/api/v1/tenants/"+acmeID, root, map[string]any{"name": "Acme Live", "scoring_type": "OLYMPIC", "settings": map[string]any{"locale": "fr"}})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, "Acme Live", r.json(t)["name"])
	require.Equal(t, "OLYMPIC", r.json(t)["scoring_type"])
	require.Equal(t, map[string]any{"locale": "fr"}, r.json(t)["settings"])
	for _, c := range []struct {
		name        string
		body        any
		status      int
		code, field string
	}{
		{"bad scoring type", map[string]any{"scoring_type": "FANCY"}, 400, "VALIDATION_FAILED", "scoring_type"},
		{"settings not an object", map[string]any{"settings": []int{1}}, 400, "VALIDATION_FAILED", "settings"},
		{"settings null", `{"settings": null}`, 400, "VALIDATION_FAILED", "settings"},
		{"blank name", map[string]any{"name": " "}, 400, "VALIDATION_FAILED", "name"},
		{"slug is not changed", map[string]any{"slug": "acme2"}, 400, "UNKNOWN_FIELD", "slug"},
	} {
		requireError(t, e.do("PATCH", "/api/v1/tenants/"+acmeID, root, c.body), c.status, c.code, c.field, c.name)
	}
	requireError(t, e.do("PATCH", "/api/v1/tenants/00000000-0000-0000-0000-000000000000", root, map[string]any{"name": "x"}), 404, "NOT_FOUND", "")
	requireError(t, e.do("GET", "/api/v1/tenants/00000000-0000-0000-0000-000000000000", root, nil), 404, "NOT_FOUND", "")
	requireError(t, e.do("PATCH", "/api/v1/tenants/"+opsID, root, map[string]any{"active": false}), 403, "OWN_ACCOUNT", "active")

	// A deactivated tenant's tokens stop at once, and nobody signs in; reactivated, sign-in works.
	require.Equal(t, http.StatusOK, e.do("PATCH", "/api/v1/tenants/"+acmeID, root, map[string]any{"active": false}).status)
	requireError(t, e.do("GET", "/api/v1/events", acme, nil), 401, "UNAUTHENTICATED", "")
	require.Equal(t, http.StatusUnauthorized, e.usrLogin("acme", "boss@acme.test", created.AdminPassword).status)
	require.Len(t, e.do("GET", "/api/v1/tenants?active=false", root, nil).json(t)["data"], 1)
	require.Equal(t, http.StatusOK, e.do("PATCH", "/api/v1/tenants/"+acmeID, root, map[string]any{"active": true}).status)
	e.usrToken("acme", "boss@acme.test", created.AdminPassword)

	// The tenant's ADMIN sees the audit trail of its tenant: created (with its first user), updated.
	// (The first two share their transaction's timestamp: their order is not defined.)
	require.ElementsMatch(t, []string{"tenant.created", "user.created", "tenant.updated", "tenant.updated", "tenant.updated"}, e.tenAudit(acmeID))
	// ADMINs do not manage tenants.
	requireError(t, e.do("GET", "/api/v1/tenants", acme, nil), 403, "FORBIDDEN", "")
	requireError(t, e.do("POST", "/api/v1/tenants", acme, map[string]any{"slug": "x", "name": "x", "admin_email": "a@b.test"}), 403, "FORBIDDEN", "")
}

// listResponseOf is a list answer, for decoding.
type listResponseOf[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

// tenAudit returns the actions of the tenant's audit log.
func (e *env) tenAudit(tenantID string) []string {
	e.t.Helper()
	var actions []string
	var raw []byte
	require.NoError(e.t, e.db.QueryRow(context.Background(), opUsersTest, tenantID,
		`SELECT coalesce(json_agg(action ORDER BY created_at, id), '[]') FROM audit_logs WHERE tenant_id = $1`, []any{tenantID}, &raw))
	require.NoError(e.t, json.Unmarshal(raw, &actions))
	return actions
}
