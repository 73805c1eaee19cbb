package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/store"
)

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
		if !auth.IsOperator(principal(r.Context()).Role) {
			return false, errForbidden
		}
		return true, nil
	}
	return false, invalid("scope", "must be tenant or global")
}

func (s *Server) listSettings(w http.ResponseWriter, r *http.Request) error {
	var f store.SettingFilter
	return servePage(w, r, func() error { return settingFilter(r, &f) },
		func(c *settingCursor) bool { return settingKeyPattern.MatchString(c.Key) },
		func(limit int, after *settingCursor) ([]store.Setting, error) {
			f.Limit = limit
			if after != nil {
				f.AfterKey = after.Key
			}
			return s.store.ListSettings(r.Context(), principal(r.Context()).TenantID, f)
		},
		func(st store.Setting) settingCursor { return settingCursor{Key: st.Key} })
}

// settingFilter reads ?value= into f.
func settingFilter(r *http.Request, f *store.SettingFilter) (err error) {
	if raw := r.URL.Query().Get("value"); raw != "" {
		f.Value, err = jsonFilter("value", raw, false)
	}
	return err
}

func (s *Server) getSetting(w http.ResponseWriter, r *http.Request) error {
	key, err := settingKey(r)
	if err != nil {
		return err
	}
	st, err := s.store.GetSetting(r.Context(), principal(r.Context()).TenantID, key)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

// settingRequest is the body of PUT: any JSON value, null included; absent is refused.
type settingRequest struct {
	Value json.RawMessage `json:"value"`
}

func (s *Server) putSetting(w http.ResponseWriter, r *http.Request) error {
	key, err := settingKey(r)
	if err != nil {
		return err
	}
	global, err := settingScope(r)
	if err != nil {
		return err
	}
	var req settingRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Value == nil {
		return invalid("value", "is required (any JSON value)")
	}
	if _, err := checkJSON(req.Value); err != nil {
		return invalid("value", err.Error())
	}
	var value bytes.Buffer
	if err := json.Compact(&value, req.Value); err != nil {
		return invalid("value", "is not valid JSON")
	}
	if value.Len() > maxSettingValue {
		return invalid("value", "is larger than 64 KiB")
	}
	st, err := s.store.PutSetting(r.Context(), principal(r.Context()).TenantID, s.actor(r), key, value.Bytes(), global)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *Server) deleteSetting(w http.ResponseWriter, r *http.Request) error {
	key, err := settingKey(r)
	if err != nil {
		return err
	}
	global, err := settingScope(r)
	if err != nil {
		return err
	}
	if err := s.store.DeleteSetting(r.Context(), principal(r.Context()).TenantID, s.actor(r), key, global); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
