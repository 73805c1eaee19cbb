package api

import (
	"net/http"
	"strings"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/store"
)

// userCursor is the position after the last user of a page (users are listed by email).
type userCursor struct {
	Email string `json:"e"`
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) error {
	var f store.UserFilter
	return servePage(w, r, func() error { return userFilter(r, &f) },
		nil, // any email: the keyset compares it as text
		func(limit int, after *userCursor) ([]store.User, error) {
			f.Limit = limit
			if after != nil {
				f.AfterEmail = after.Email
			}
			return s.store.ListUsers(r.Context(), principal(r.Context()).TenantID, f)
		},
		func(u store.User) userCursor { return userCursor{Email: u.Email} })
}

// userFilter reads ?role=, ?active= and ?search= into f.
func userFilter(r *http.Request, f *store.UserFilter) error {
	q := r.URL.Query()
	f.Search = strings.TrimSpace(q.Get("search"))
	if raw := q.Get("role"); raw != "" {
		role, err := auth.ParseRole(raw)
		if err != nil {
			return invalid("role", err.Error())
		}
		f.Role = &role
	}
	var err error
	if f.Active, err = boolQuery(r, "active"); err != nil {
		return err
	}
	return searchLength(f.Search)
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	u, err := s.store.GetUser(r.Context(), principal(r.Context()).TenantID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

// userWithPassword is a user with the one-time password the service made for them: shown once, in
// the answer that creates it, never stored in clear.
type userWithPassword struct {
	store.User
	Password string `json:"password,omitempty"`
}

type createUserRequest struct {
	Email    string  `json:"email"`
	Name     string  `json:"name"`
	Role     string  `json:"role"`
	Password *string `json:"password"` // absent: a one-time password is made and returned
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) error {
	var req createUserRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	p := principal(r.Context())
	email, err := accountEmail("email", req.Email)
	if err != nil {
		return err
	}
	name, err := personName("name", req.Name)
	if err != nil {
		return err
	}
	if req.Role == "" {
		return invalid("role", "is required")
	}
	role, err := auth.ParseRole(req.Role)
	if err != nil {
		return invalid("role", err.Error())
	}
	if !auth.CanAssignRole(p.Role, role) {
		return &store.RuleError{Kind: store.Forbidden, Code: "ROLE_NOT_ALLOWED", Field: "role",
			Message: "only a SUPER_ADMIN may create a SUPER_ADMIN"}
	}
	password, generated, err := newPassword(req.Password)
	if err != nil {
		return err
	}
	u, err := s.store.CreateUser(r.Context(), p.TenantID, s.actor(r),
		store.NewUser{Email: email, Name: name, Password: password, Role: role})
	if err != nil {
		return err
	}
	resp := userWithPassword{User: u}
	if generated {
		resp.Password = password
	}
	writeJSON(w, http.StatusCreated, resp)
	return nil
}

// newPassword checks a chosen password, or makes a one-time password when none is given.
func newPassword(chosen *string) (password string, generated bool, err error) {
	if chosen == nil {
		return auth.RandomPassword(), true, nil
	}
	if err := auth.ValidatePassword(*chosen); err != nil {
		return "", false, invalid("password", err.Error())
	}
	return *chosen, false, nil
}

// updateUserRequest is the body of PATCH /users/{id}; absent fields are left as they are, and
// "judge_id": null unlinks the user from their judge.
type updateUserRequest struct {
	Name    *string          `json:"name"`
	Role    *string          `json:"role"`
	Active  *bool            `json:"active"`
	JudgeID tristate[string] `json:"judge_id"`
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req updateUserRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	var patch store.UserPatch
	if req.Name != nil {
		name, err := personName("name", *req.Name)
		if err != nil {
			return err
		}
		patch.Name = &name
	}
	if req.Role != nil {
		role, err := auth.ParseRole(*req.Role)
		if err != nil {
			return invalid("role", err.Error())
		}
		patch.Role = &role
	}
	patch.Active = req.Active
	if req.JudgeID.Set && !req.JudgeID.Null && !isUUID(req.JudgeID.V) {
		return invalid("judge_id", "must be a UUID or null")
	}
	patch.JudgeID = req.JudgeID.clearable()
	p := principal(r.Context())
	u, err := s.store.UpdateUser(r.Context(), p.TenantID, s.actor(r), p.Role, id, patch)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

// passwordRequest is the body of POST /users/{id}/password. A manager resetting another user's
// password sends {"password": "..."}, or no body (or {}) for a one-time password made by the
// service; users changing their own send both their current and their new password.
type passwordRequest struct {
	Password        *string `json:"password"`
	CurrentPassword *string `json:"current_password"`
}

// passwordResponse answers a reset with a one-time password: shown once.
type passwordResponse struct {
	Password string `json:"password"`
}

func (s *Server) setPassword(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p := principal(r.Context())
	self := p.UserID == id
	if !self && !auth.CanManageUsers(p.Role) {
		return errForbidden
	}
	var req passwordRequest
	if err := decodeOptionalJSON(w, r, &req); err != nil {
		return err
	}
	change := store.PasswordChange{}
	switch {
	case self && req.CurrentPassword == nil:
		return invalid("current_password", "is required to change your own password")
	case self && req.Password == nil:
		return invalid("password", "is required to change your own password")
	case !self && req.CurrentPassword != nil:
		return invalid("current_password", "is only for changing your own password")
	case self:
		change.Current = *req.CurrentPassword
		change.KeepToken, _ = auth.ParseBearer(r.Header.Get("Authorization"))
	}
	if change.Password, change.Generated, err = newPassword(req.Password); err != nil {
		return err
	}
	if err := s.store.SetPassword(r.Context(), p.TenantID, s.actor(r), p.Role, id, change); err != nil {
		return err
	}
	if !change.Generated {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	writeJSON(w, http.StatusOK, passwordResponse{Password: change.Password})
	return nil
}
