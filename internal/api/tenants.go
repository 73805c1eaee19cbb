package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/store"
)

// tenantSlug is the form of a tenant's slug, as the tenants table's CHECK has it.
var tenantSlug = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// tenantCursor is the position after the last tenant of a page (tenants are listed by slug).
type tenantCursor struct {
	Slug string `json:"s"`
}

func (s *Server) listTenants(w http.ResponseWriter, r *http.Request) error {
	var f store.TenantFilter
	return servePage(w, r, func() error { return tenantFilter(r, &f) },
		nil, // any slug: the keyset compares it as text
		func(limit int, after *tenantCursor) ([]store.Tenant, error) {
			f.Limit = limit
			if after != nil {
				f.AfterSlug = after.Slug
			}
			return s.store.ListTenants(r.Context(), f)
		},
		func(t store.Tenant) tenantCursor { return tenantCursor{Slug: t.Slug} })
}

// tenantFilter reads ?active= and ?search= into f.
func tenantFilter(r *http.Request, f *store.TenantFilter) (err error) {
	f.Search = strings.TrimSpace(r.URL.Query().Get("search"))
	if f.Active, err = boolQuery(r, "active"); err != nil {
		return err
	}
	return searchLength(f.Search)
}

func (s *Server) getTenant(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	t, err := s.store.GetTenant(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

type createTenantRequest struct {
	Slug       string `json:"slug"`
	Name       string `json:"name"`
	AdminEmail string `json:"admin_email"`
	AdminName  string `json:"admin_name"`
}

// createdTenant answers POST /tenants: the tenant, its first ADMIN and the admin's one-time
// password, shown once.
type createdTenant struct {
	store.Tenant
	Admin         store.User `json:"admin"`
	AdminPassword string     `json:"admin_password"`
}

func (s *Server) createTenant(w http.ResponseWriter, r *http.Request) error {
	var req createTenantRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	req.Slug = strings.TrimSpace(req.Slug)
	if !tenantSlug.MatchString(req.Slug) {
		return invalid("slug", "must be 1 to 63 lower-case letters, digits and hyphens, starting with a letter or digit")
	}
	req.Name = strings.TrimSpace(req.Name)
	if err := nameField("name", &req.Name); err != nil {
		return err
	}
	email, err := accountEmail("admin_email", req.AdminEmail)
	if err != nil {
		return err
	}
	adminName, err := personName("admin_name", req.AdminName)
	if err != nil {
		return err
	}
	password := auth.RandomPassword()
	t, admin, err := s.store.CreateTenant(r.Context(), s.actor(r), req.Slug, req.Name,
		store.NewUser{Email: email, Name: adminName, Password: password, Role: auth.Admin})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, createdTenant{Tenant: t, Admin: admin, AdminPassword: password})
	return nil
}

// updateTenantRequest is the body of PATCH /tenants/{id}; absent fields are left as they are, and
// settings replaces the whole settings object.
type updateTenantRequest struct {
	Name        *string         `json:"name"`
	Active      *bool           `json:"active"`
	ScoringType *string         `json:"scoring_type"`
	Settings    json.RawMessage `json:"settings"`
}

func (s *Server) updateTenant(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req updateTenantRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := nameField("name", req.Name); err != nil {
		return err
	}
	if req.ScoringType != nil && *req.ScoringType != "STRAIGHT" && *req.ScoringType != "OLYMPIC" {
		return invalid("scoring_type", "must be STRAIGHT or OLYMPIC")
	}
	if req.Settings != nil && !bytes.HasPrefix(bytes.TrimSpace(req.Settings), []byte("{")) {
		return invalid("settings", "must be a JSON object")
	}
	// A SUPER_ADMIN who deactivated their own tenant would lock themselves out.
	if req.Active != nil && !*req.Active && id == principal(r.Context()).TenantID {
		return &store.RuleError{Kind: store.Forbidden, Code: "OWN_ACCOUNT", Field: "active",
			Message: "you cannot deactivate your own tenant"}
	}
	t, err := s.store.UpdateTenant(r.Context(), s.actor(r), id,
		store.TenantPatch{Name: req.Name, Active: req.Active, ScoringType: req.ScoringType, Settings: req.Settings})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}
