package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/store"
)

func (s *Server) settingRoutes() {
	settingWriters := access(auth.Allow(auth.SuperAdmin, auth.Admin))
	s.handle("GET /api/v1/settings", signedIn, s.listSettings)
	s.handle("GET /api/v1/settings/{key}", signedIn, s.getSetting)
	s.handle("PUT /api/v1/settings/{key}", settingWriters, s.putSetting)
	s.handle("DELETE /api/v1/settings/{key}", settingWriters, s.deleteSetting)
}

// settingKeyPattern is the CHECK constraint of system_settings.key, checked first so that the
// answer names the field.
var settingKeyPattern = regexp.MustCompile(`^[a-z][a-z0-9_.-]{0,99}$`)

// maxSettingValue bounds a setting's value (compacted JSON): settings are configuration, not data.
const maxSettingValue = 64 << 10

// settingCursor is the position after the last setting of a page.
type settingCursor struct {
	Key string `json:"k"`
}

func settingKey(r *http.Request) (string, error) {
	key := r.PathValue("key")
	if !settingKeyPattern.MatchString(key) {
		return "", invalid("key", "must be 1 to 100 characters of a-z, 0-9, _ . - starting with a letter")
	}
	return key, nil
}

// settingScope reads ?scope= of a write: tenant (the default) or global, which only SUPER_ADMIN
// may change.
func settingScope(r *http.Request) (global bool, err error) {
	switch r.URL.Query().Get("scope") {
	case "", store.ScopeTenant:
		return false, nil
	case store.ScopeGlobal:
		if principal(r.Context()).Role != auth.SuperAdmin {
			return false, errForbidden
		}
		return true, nil
	}
	return false, invalid("scope", "must be tenant or global")
}

func (s *Server) listSettings(w http.ResponseWriter, r *http.Request) {
	var (
		f   store.SettingFilter
		err error
	)
	if f.Limit, err = pageLimit(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	if raw := r.URL.Query().Get("value"); raw != "" {
		if f.Value, err = jsonFilter("value", raw, false); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	var cur settingCursor
	if ok, err := decodeCursor(r, &cur); err != nil {
		s.writeError(w, r, err)
		return
	} else if ok {
		if !settingKeyPattern.MatchString(cur.Key) {
			s.writeError(w, r, badRequest("INVALID_CURSOR", "cursor", "the cursor is not one this service returned"))
			return
		}
		f.AfterKey = cur.Key
	}
	want := f.Limit
	f.Limit++ // one more than asked tells whether another page follows
	list, err := s.store.ListSettings(r.Context(), principal(r.Context()).TenantID, f)
	if errors.Is(err, db.ErrCheckViolation) {
		err = invalid("value", "is not a JSON value PostgreSQL accepts")
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	resp := listResponse[store.Setting]{Data: list}
	if len(list) > want {
		resp.Data = list[:want]
		next := encodeCursor(settingCursor{Key: resp.Data[want-1].Key})
		resp.NextCursor = &next
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) getSetting(w http.ResponseWriter, r *http.Request) {
	key, err := settingKey(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	st, err := s.store.GetSetting(r.Context(), principal(r.Context()).TenantID, key)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// settingRequest is the body of PUT: any JSON value, null included; absent is refused.
type settingRequest struct {
	Value json.RawMessage `json:"value"`
}

func (s *Server) putSetting(w http.ResponseWriter, r *http.Request) {
	key, err := settingKey(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	global, err := settingScope(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req settingRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Value == nil {
		s.writeError(w, r, invalid("value", "is required (any JSON value)"))
		return
	}
	if _, err := checkJSON(req.Value); err != nil {
		s.writeError(w, r, invalid("value", err.Error()))
		return
	}
	var value bytes.Buffer
	if err := json.Compact(&value, req.Value); err != nil {
		s.writeError(w, r, invalid("value", "is not valid JSON"))
		return
	}
	if value.Len() > maxSettingValue {
		s.writeError(w, r, invalid("value", "is larger than 64 KiB"))
		return
	}
	st, err := s.store.PutSetting(r.Context(), principal(r.Context()).TenantID, s.actor(r), key, value.Bytes(), global)
	if errors.Is(err, db.ErrCheckViolation) {
		// The key was checked above: what PostgreSQL refused is the value (a number beyond numeric's range).
		err = invalid("value", "is not a JSON value PostgreSQL accepts")
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) deleteSetting(w http.ResponseWriter, r *http.Request) {
	key, err := settingKey(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	global, err := settingScope(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.store.DeleteSetting(r.Context(), principal(r.Context()).TenantID, s.actor(r), key, global); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
