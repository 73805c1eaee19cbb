package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/jackc/pgx/v5"
)

// The scopes of a setting: the tenant's own value, or the global value every tenant falls back to.
const (
	ScopeTenant = "tenant"
	ScopeGlobal = "global"
)

// Setting is a system setting as a tenant sees it: its value and whether that value is the tenant's
// own or the global one. The row id is not exposed: a key names a setting.
type Setting struct {
	Key       string          `json:"key"`
	Value     json.RawMessage `json:"value"`
	Scope     string          `json:"scope"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// SettingFilter selects a page of settings, ordered by key.
type SettingFilter struct {
	// Value is a JSON value the setting's value must contain (jsonb @>), already validated.
	Value    []byte
	Limit    int
	AfterKey string // "" for the first page
}

var (
	opSettingsGet    = db.Op{Name: "settings.get", Class: db.Simple}
	opSettingsList   = db.Op{Name: "settings.list", Class: db.Standard}
	opSettingsPut    = db.Op{Name: "settings.put", Class: db.Simple}
	opSettingsDelete = db.Op{Name: "settings.delete", Class: db.Simple}
)

// settingDest lists st's fields in the order key, value, scope, updated_at.
func settingDest(st *Setting) []any { return []any{&st.Key, &st.Value, &st.Scope, &st.UpdatedAt} }

// utc makes the time UTC: pgx gives local time; the API speaks UTC.
func (st *Setting) utc() { st.UpdatedAt = st.UpdatedAt.UTC() }

// settingScope is the SQL of the scope column: a row of no tenant is global.
const settingScope = `CASE WHEN tenant_id IS NULL THEN 'global' ELSE 'tenant' END`

// settingRow is the condition that finds the row of key to write, the tenant's or the global one,
// and its arguments. Two texts rather than "tenant_id IS NOT DISTINCT FROM $1", which no index
// serves.
func settingRow(global bool, tenantID, key string) (string, []any) {
	if global {
		return `tenant_id IS NULL AND key = $1`, []any{key}
	}
	return `tenant_id = $1 AND key = $2`, []any{tenantID, key}
}

// GetSetting returns the value of key that applies to the tenant: its own when set, else the global
// one; db.ErrNotFound when neither exists. One query.
func (s *Store) GetSetting(ctx context.Context, tenantID, key string) (Setting, error) {
	var st Setting
	err := s.db.QueryRow(ctx, opSettingsGet, tenantID,
		`SELECT key, value, `+settingScope+`, updated_at FROM system_settings
		WHERE (tenant_id = $1 OR tenant_id IS NULL) AND key = $2
		ORDER BY tenant_id NULLS LAST LIMIT 1`,
		[]any{tenantID, key}, settingDest(&st)...)
	st.utc()
	return st, err
}

// ListSettings returns up to f.Limit settings that apply to the tenant, by key after f.AfterKey:
// for each key the tenant's own value, else the global one. With f.Value, only the settings whose
// applying value contains it: a global value hidden by the tenant's own never shows.
func (s *Store) ListSettings(ctx context.Context, tenantID string, f SettingFilter) ([]Setting, error) {
	var value any
	if f.Value != nil {
		value = string(f.Value)
	}
	var list []Setting
	err := s.db.Query(ctx, opSettingsList, tenantID, collectRows(&list, f.Limit, settingDest, (*Setting).utc),
		`SELECT key, value, scope, updated_at FROM (
			SELECT DISTINCT ON (key) key, value, `+settingScope+` AS scope, updated_at
			FROM system_settings
			WHERE (tenant_id = $1 OR tenant_id IS NULL) AND key > $2
			ORDER BY key, tenant_id NULLS LAST
		) applying
		WHERE $3::jsonb IS NULL OR value @> $3::jsonb
		ORDER BY key LIMIT $4`,
		tenantID, f.AfterKey, value, f.Limit)
	return list, jsonRefused(err, "value", "is not a JSON value PostgreSQL accepts")
}

// errSettingRace ends a PutSetting transaction that found no row before its upsert but updated
// one: another transaction created the setting in between, so the value it replaced was not read
// for the audit record. The transaction is rolled back and run again.
var errSettingRace = errors.New("setting created concurrently")

// PutSetting sets the tenant's value of key, or with global the value of no tenant that every
// tenant falls back to (only for SUPER_ADMIN: the caller checks). The change is audited with the
// value before and after. tenantID is the caller's tenant in both cases.
func (s *Store) PutSetting(ctx context.Context, tenantID string, a Actor, key string, value []byte, global bool) (Setting, error) {
	owner := tenantID // the row's tenant_id; "" is NULL: global
	if global {
		owner = ""
	}
	var st Setting
	for range 3 {
		err := s.inTx(ctx, opSettingsPut, tenantID, func(tx *db.Tx) error {
			if global { // the row-level security of system_settings and audit_logs lets only this write global rows
				if err := tx.SetSystemScope(); err != nil {
					return err
				}
			}
			// The current value, locked until commit, for the audit record.
			var before json.RawMessage
			cond, args := settingRow(global, tenantID, key)
			err := tx.QueryRow(`SELECT value FROM system_settings WHERE `+cond+` FOR UPDATE`, args...).Scan(&before)
			existed := err == nil
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
			var (
				id      string
				updated bool
			)
			// ON CONFLICT infers the UNIQUE NULLS NOT DISTINCT (tenant_id, key) constraint, so a
			// second global row (tenant_id NULL) conflicts too. xmax is set on the updated row version
			// only: it tells an update from an insert.
			err = tx.QueryRow(`INSERT INTO system_settings (tenant_id, key, value, updated_by)
				VALUES ($1, $2, $3::jsonb, $4)
				ON CONFLICT (tenant_id, key) DO UPDATE
					SET value = EXCLUDED.value, updated_by = EXCLUDED.updated_by, updated_at = now()
				RETURNING id, key, value, `+settingScope+`, updated_at, xmax <> 0`,
				nullString(owner), key, string(value), nullString(a.UserID)).
				Scan(&id, &st.Key, &st.Value, &st.Scope, &st.UpdatedAt, &updated)
			if err != nil {
				return err
			}
			if updated && !existed {
				return errSettingRace
			}
			st.utc()
			// before is nil (JSON null) when the setting is new.
			return audit(tx, owner, a, "setting.updated", "setting", id,
				map[string]any{"key": key, "scope": st.Scope, "before": before, "after": st.Value})
		})
		if !errors.Is(err, errSettingRace) {
			// The key matches its CHECK (the API checks it first): what PostgreSQL refused is the value.
			return st, jsonRefused(err, "value", "is not a JSON value PostgreSQL accepts")
		}
	}
	return Setting{}, errSettingRace
}

// DeleteSetting removes the tenant's value of key (or with global the global value: SUPER_ADMIN
// only, the caller checks), so that the global value applies again; db.ErrNotFound when there was
// none. The removed value is audited.
func (s *Store) DeleteSetting(ctx context.Context, tenantID string, a Actor, key string, global bool) error {
	owner := tenantID
	if global {
		owner = ""
	}
	return s.inTx(ctx, opSettingsDelete, tenantID, func(tx *db.Tx) error {
		if global {
			if err := tx.SetSystemScope(); err != nil {
				return err
			}
		}
		var (
			id    string
			scope string
			value json.RawMessage
		)
		cond, args := settingRow(global, tenantID, key)
		err := tx.QueryRow(`DELETE FROM system_settings WHERE `+cond+`
			RETURNING id, `+settingScope+`, value`, args...).Scan(&id, &scope, &value)
		if err != nil {
			return err
		}
		return audit(tx, owner, a, "setting.deleted", "setting", id, map[string]any{"key": key, "scope": scope, "before": value})
	})
}
