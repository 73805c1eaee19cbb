package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/store"
)

func (s *Server) tenantRoutes() {
	superAdmin := access(auth.Allow(auth.SuperAdmin))
	s.handle("GET /api/v1/tenants", superAdmin, s.listTenants)
	s.handle("POST /api/v1/tenants", superAdmin, s.createTenant)
	s.handle("GET /api/v1/tenants/{id}", superAdmin, s.getTenant)
	s.handle("PATCH /api/v1/tenants/{id}", superAdmin, s.updateTenant)
}

// tenantSlug is the form of a tenant's slug, as the tenants table's CHECK has it.
var tenantSlug = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// tenantCursor is the position after the last tenant of a page (tenants are listed by slug).
type tenantCursor struct {
	Slug string `json:"s"`
}

func (s *Server) listTenants(w http.ResponseWriter, r *http.Request) {
	f := store.TenantFilter{Search: strings.TrimSpace(r.URL.Query().Get("search"))}
	var err error
	if f.Limit, err = pageLimit(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.Active, err = boolQuery(r, "active"); err != nil {
		s.writeError(w, r, err)
		return
	}
	if utf8.RuneCountInString(f.Search) > 200 {
		s.writeError(w, r, invalid("search", "is longer than 200 characters"))
		return
	}
	var cur tenantCursor
	if ok, err := decodeCursor(r, &cur); err != nil {
		s.writeError(w, r, err)
		return
	} else if ok {
		f.AfterSlug = cur.Slug
	}
	want := f.Limit
	f.Limit++ // one more than asked tells whether another page follows
	tenants, err := s.store.ListTenants(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	resp := listResponse[store.Tenant]{Data: tenants}
	if len(tenants) > want {
		resp.Data = tenants[:want]
		next := encodeCursor(tenantCursor{Slug: resp.Data[want-1].Slug})
		resp.NextCursor = &next
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) getTenant(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	t, err := s.store.GetTenant(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
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

func (s *Server) createTenant(w http.ResponseWriter, r *http.Request) {
	var req createTenantRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	req.Slug = strings.TrimSpace(req.Slug)
	if !tenantSlug.MatchString(req.Slug) {
		s.writeError(w, r, invalid("slug", "must be 1 to 63 lower-case letters, digits and hyphens, starting with a letter or digit"))
		return
	}
	req.Name = strings.TrimSpace(req.Name)
	if err := nameField("name", &req.Name); err != nil {
		s.writeError(w, r, err)
		return
	}
	email, err := accountEmail("admin_email", req.AdminEmail)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	adminName, err := personName("admin_name", req.AdminName)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	password := auth.RandomPassword()
	t, admin, err := s.store.CreateTenant(r.Context(), s.actor(r), req.Slug, req.Name,
		store.NewUser{Email: email, Name: adminName, Password: password, Role: auth.Admin})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, createdTenant{Tenant: t, Admin: admin, AdminPassword: password})
}

// updateTenantRequest is the body of PATCH /tenants/{id}; absent fields are left as they are, and
// settings replaces the whole settings object.
type updateTenantRequest struct {
	Name        *string         `json:"name"`
	Active      *bool           `json:"active"`
	ScoringType *string         `json:"scoring_type"`
	Settings    json.RawMessage `json:"settings"`
}

func (s *Server) updateTenant(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req updateTenantRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := nameField("name", req.Name); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.ScoringType != nil && *req.ScoringType != "STRAIGHT" && *req.ScoringType != "OLYMPIC" {
		s.writeError(w, r, invalid("scoring_type", "must be STRAIGHT or OLYMPIC"))
		return
	}
	if req.Settings != nil && !bytes.HasPrefix(bytes.TrimSpace(req.Settings), []byte("{")) {
		s.writeError(w, r, invalid("settings", "must be a JSON object"))
		return
	}
	// A SUPER_ADMIN who deactivated their own tenant would lock themselves out.
	if req.Active != nil && !*req.Active && id == principal(r.Context()).TenantID {
		s.writeError(w, r, &store.RuleError{Kind: store.Forbidden, Code: "OWN_ACCOUNT", Field: "active",
			Message: "you cannot deactivate your own tenant"})
		return
	}
	t, err := s.store.UpdateTenant(r.Context(), s.actor(r), id,
		store.TenantPatch{Name: req.Name, Active: req.Active, ScoringType: req.ScoringType, Settings: req.Settings})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}
