package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/stretchr/testify/require"
)

func TestSettingsFallbackOverrideDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adminA := e.tenant("set-a")
	adminB := e.tenant("set-b")
	super := e.addUser("set-a", auth.SuperAdmin)
	judge := e.addUser("set-a", auth.Judge)
	const key = "scoring.defaults"

	// Neither a tenant value nor a global one: 404.
	requireError(t, e.do("GET", "/api/v1/settings/"+key, adminA, nil), http.StatusNotFound, "NOT_FOUND", "")

	// SUPER_ADMIN sets the global value; every tenant falls back to it.
	g := e.settingPut(super, key, `{"type":"STRAIGHT","max":10}`, "?scope=global")
	require.Equal(t, "global", g.Scope)
	requireJSONEq(t, `{"type":"STRAIGHT","max":10}`, g.Value)
	for _, tok := range []string{adminA, adminB, judge} {
		got := e.settingGet(tok, key)
		require.Equal(t, key, got.Key)
		require.Equal(t, "global", got.Scope)
		requireJSONEq(t, `{"type":"STRAIGHT","max":10}`, got.Value)
	}

	// Tenant A overrides it; B still sees the global value.
	a := e.settingPut(adminA, key, `{"type":"OLYMPIC"}`, "")
	require.Equal(t, "tenant", a.Scope)
	got := e.settingGet(adminA, key)
	require.Equal(t, "tenant", got.Scope)
	requireJSONEq(t, `{"type":"OLYMPIC"}`, got.Value)
	require.True(t, got.UpdatedAt.Equal(a.UpdatedAt))
	require.Equal(t, "global", e.settingGet(adminB, key).Scope)
	// A second PUT replaces the tenant value (one row: the upsert, not a second insert).
	e.settingPut(adminA, key, `{"type":"OLYMPIC","drop":1}`, "")
	requireJSONEq(t, `{"type":"OLYMPIC","drop":1}`, e.settingGet(adminA, key).Value)

	// Deleting the override falls back to the global value again; a second delete is 404.
	r := e.do("DELETE", "/api/v1/settings/"+key, adminA, nil)
	require.Equal(t, http.StatusNoContent, r.status, string(r.body))
	got = e.settingGet(adminA, key)
	require.Equal(t, "global", got.Scope)
	requireJSONEq(t, `{"type":"STRAIGHT","max":10}`, got.Value)
	requireError(t, e.do("DELETE", "/api/v1/settings/"+key, adminA, nil), http.StatusNotFound, "NOT_FOUND", "")

	// The global value is changed by SUPER_ADMIN only, and a second global PUT updates the same row.
	requireError(t, e.do("PUT", "/api/v1/settings/"+key+"?scope=global", adminA, `{"value":1}`), http.StatusForbidden, "FORBIDDEN", "")
	requireError(t, e.do("DELETE", "/api/v1/settings/"+key+"?scope=global", adminA, nil), http.StatusForbidden, "FORBIDDEN", "")
	e.settingPut(super, key, `{"type":"STRAIGHT","max":20}`, "?scope=global")
	requireJSONEq(t, `{"type":"STRAIGHT","max":20}`, e.settingGet(adminB, key).Value)
	var rows int
	require.NoError(t, e.db.QueryRow(context.Background(), opTest, e.tenantID("set-a"),
		`SELECT count(*) FROM system_settings WHERE key = $1`, []any{key}, &rows))
	require.Equal(t, 1, rows, "only the global row is left")

	// SUPER_ADMIN without scope writes its own tenant's value, like an ADMIN.
	require.Equal(t, "tenant", e.settingPut(super, "ui.theme", `"dark"`, "?scope=tenant").Scope)
	requireError(t, e.do("GET", "/api/v1/settings/ui.theme", adminB, nil), http.StatusNotFound, "NOT_FOUND", "")

	// Roles: any signed-in user reads, only ADMIN and SUPER_ADMIN write.
	for _, role := range []auth.Role{auth.Organizer, auth.Board, auth.Judge, auth.TallyMaster, auth.Auditor, auth.Emcee, auth.Contestant} {
		tok := judge
		if role != auth.Judge {
			tok = e.addUser("set-a", role)
		}
		require.Equal(t, http.StatusOK, e.do("GET", "/api/v1/settings/"+key, tok, nil).status, role)
		require.Equal(t, http.StatusOK, e.do("GET", "/api/v1/settings", tok, nil).status, role)
		requireError(t, e.do("PUT", "/api/v1/settings/"+key, tok, `{"value":1}`), http.StatusForbidden, "FORBIDDEN", "", role)
		requireError(t, e.do("DELETE", "/api/v1/settings/ui.theme", tok, nil), http.StatusForbidden, "FORBIDDEN", "", role)
	}
	requireError(t, e.do("GET", "/api/v1/settings/"+key, "", nil), http.StatusUnauthorized, "UNAUTHENTICATED", "")
	// Deleting the global value leaves nothing to fall back to.
	r = e.do("DELETE", "/api/v1/settings/"+key+"?scope=global", super, nil)
	require.Equal(t, http.StatusNoContent, r.status, string(r.body))
	requireError(t, e.do("GET", "/api/v1/settings/"+key, adminB, nil), http.StatusNotFound, "NOT_FOUND", "")
}

func TestSettingsAudit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.tenant("set-audit")
	adminID := e.userID(admin)
	super := e.addUser("set-audit", auth.SuperAdmin)
	other := e.tenant("set-audit-other")
	const key = "results.publish"

	e.settingPut(admin, key, `{"public":false}`, "")
	e.settingPut(admin, key, `{"public":true}`, "")
	require.Equal(t, http.StatusNoContent, e.do("DELETE", "/api/v1/settings/"+key, admin, nil).status)
	e.settingPut(super, key, `{"public":"certified"}`, "?scope=global")

	// The tenant's log: created (before null), updated (before/after), deleted (the removed value).
	rows := e.auditList(admin, "entity_type", "setting").Data
	require.Equal(t, []string{"setting.deleted", "setting.updated", "setting.updated"}, auditActions(rows))
	for _, row := range rows {
		require.Equal(t, adminID, *row.ActorUserID)
		require.NotNil(t, row.EntityID)
		require.Equal(t, *rows[0].EntityID, *row.EntityID, "one setting row, one entity id")
	}
	requireJSONEq(t, `{"key":"results.publish","scope":"tenant","before":{"public":true}}`, rows[0].Data)
	requireJSONEq(t, `{"key":"results.publish","scope":"tenant","before":{"public":false},"after":{"public":true}}`, rows[1].Data)
	requireJSONEq(t, `{"key":"results.publish","scope":"tenant","before":null,"after":{"public":false}}`, rows[2].Data)
	// Found by data containment, as a client looks for one setting's history.
	require.Len(t, e.auditList(admin, "data", `{"key":"results.publish"}`).Data, 3)

	// The global change is a row of no tenant: not in any tenant's log, listed for SUPER_ADMIN with
	// ?scope=global, and readable by id by SUPER_ADMIN only.
	global := e.auditList(super, "scope", "global").Data
	require.Len(t, global, 1)
	require.Equal(t, "setting.updated", global[0].Action)
	requireJSONEq(t, `{"key":"results.publish","scope":"global","before":null,"after":{"public":"certified"}}`, global[0].Data)
	for _, tok := range []string{admin, super, other} {
		for _, row := range e.auditAll(tok, 100) {
			require.NotEqual(t, global[0].ID, row.ID)
		}
	}
	require.Equal(t, http.StatusOK, e.do("GET", "/api/v1/audit-logs/"+global[0].ID, super, nil).status)
	requireError(t, e.do("GET", "/api/v1/audit-logs/"+global[0].ID, admin, nil), http.StatusNotFound, "NOT_FOUND", "")

	// Refused writes leave no audit row.
	requireError(t, e.do("PUT", "/api/v1/settings/Bad", admin, `{"value":1}`), 400, "VALIDATION_FAILED", "key")
	requireError(t, e.do("PUT", "/api/v1/settings/"+key+"?scope=global", admin, `{"value":1}`), 403, "FORBIDDEN", "")
	require.Len(t, e.auditList(admin, "entity_type", "setting").Data, 3)
	require.Len(t, e.auditList(super, "scope", "global").Data, 1)
}

func TestSettingsList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adminA := e.tenant("set-list-a")
	adminB := e.tenant("set-list-b")
	super := e.addUser("set-list-a", auth.SuperAdmin)

	e.settingPut(super, "alpha.flags", `{"enabled":true,"level":1}`, "?scope=global")
	e.settingPut(super, "beta.flags", `{"enabled":false}`, "?scope=global")
	e.settingPut(adminA, "beta.flags", `{"enabled":true,"level":2}`, "")
	e.settingPut(adminA, "gamma.count", `5`, "")
	e.settingPut(adminA, "delta.name", `"Grand Final"`, "")
	e.settingPut(adminA, "epsilon.tags", `["a","b"]`, "")
	e.settingPut(adminB, "zeta.secret", `{"enabled":true}`, "")

	// Every setting that applies to A, by key, one per key: A's own value hides the global one.
	want := []string{"alpha.flags@global", "beta.flags@tenant", "delta.name@tenant", "epsilon.tags@tenant", "gamma.count@tenant"}
	for _, size := range []int{1, 2, 5, 50} {
		require.Equal(t, want, e.settingKeys(adminA, "", size), "page size %d", size)
	}
	// B sees the global values and its own only.
	require.Equal(t, []string{"alpha.flags@global", "beta.flags@global", "zeta.secret@tenant"}, e.settingKeys(adminB, "", 2))

	// Containment applies to the value that applies: B's {"enabled":false} global is hidden in A by
	// A's own value, and B's own setting never shows in A.
	require.Equal(t, []string{"alpha.flags@global", "beta.flags@tenant"}, e.settingKeys(adminA, `{"enabled":true}`, 1))
	require.Equal(t, []string{"beta.flags@tenant"}, e.settingKeys(adminA, `{"level":2}`, 50))
	require.Empty(t, e.settingKeys(adminA, `{"enabled":false}`, 50))
	require.Equal(t, []string{"alpha.flags@global", "zeta.secret@tenant"}, e.settingKeys(adminB, `{"enabled":true}`, 50))
	// Any JSON value: a number, a string, an array element.
	require.Equal(t, []string{"gamma.count@tenant"}, e.settingKeys(adminA, `5`, 50))
	require.Equal(t, []string{"delta.name@tenant"}, e.settingKeys(adminA, `"Grand Final"`, 50))
	require.Equal(t, []string{"epsilon.tags@tenant"}, e.settingKeys(adminA, `["b"]`, 50))

	// The list answers values too.
	r := e.do("GET", "/api/v1/settings?value="+url.QueryEscape(`{"level":2}`), adminA, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	var page struct {
		Data       []settingBody `json:"data"`
		NextCursor *string       `json:"next_cursor"`
	}
	require.NoError(t, json.Unmarshal(r.body, &page))
	require.Len(t, page.Data, 1)
	requireJSONEq(t, `{"enabled":true,"level":2}`, page.Data[0].Value)
	require.Nil(t, page.NextCursor)
	require.NotContains(t, string(r.body), `"id"`, "setting row ids are not exposed")

	for _, c := range []struct{ name, query, code, field string }{
		{"value not json", "?value=" + url.QueryEscape(`{"a":`), "VALIDATION_FAILED", "value"},
		{"value two values", "?value=" + url.QueryEscape(`1 2`), "VALIDATION_FAILED", "value"},
		{"value too long", "?value=" + url.QueryEscape(`"`+strings.Repeat("x", 2048)+`"`), "VALIDATION_FAILED", "value"},
		{"value NUL", "?value=" + url.QueryEscape(`"\u0000"`), "VALIDATION_FAILED", "value"},
		{"value beyond numeric", "?value=" + url.QueryEscape(`1e1000000`), "VALIDATION_FAILED", "value"},
		{"limit", "?limit=500", "VALIDATION_FAILED", "limit"},
		{"bad cursor", "?cursor=garbage!", "INVALID_CURSOR", "cursor"},
		{"forged cursor", "?cursor=" + encodeTestCursor(`{"k":"Robert'); DROP TABLE system_settings;--"}`), "INVALID_CURSOR", "cursor"},
	} {
		requireError(t, e.do("GET", "/api/v1/settings"+c.query, adminA, nil), 400, c.code, c.field, c.name)
	}
}

func TestSettingsValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.tenant("set-bad")
	super := e.addUser("set-bad", auth.SuperAdmin)
	big := `"` + strings.Repeat("x", 64<<10) + `"` // 64 KiB + 2 quotes
	cases := []struct {
		name, method, path, body string
		token                    string
		status                   int
		code, field              string
	}{
		{"upper-case key", "PUT", "/api/v1/settings/Theme", `{"value":1}`, admin, 400, "VALIDATION_FAILED", "key"},
		{"key starts with digit", "PUT", "/api/v1/settings/1theme", `{"value":1}`, admin, 400, "VALIDATION_FAILED", "key"},
		{"key with space", "PUT", "/api/v1/settings/a%20b", `{"value":1}`, admin, 400, "VALIDATION_FAILED", "key"},
		{"key too long", "PUT", "/api/v1/settings/" + strings.Repeat("k", 101), `{"value":1}`, admin, 400, "VALIDATION_FAILED", "key"},
		{"bad key on get", "GET", "/api/v1/settings/Theme", "", admin, 400, "VALIDATION_FAILED", "key"},
		{"bad key on delete", "DELETE", "/api/v1/settings/_x", "", admin, 400, "VALIDATION_FAILED", "key"},
		{"missing value", "PUT", "/api/v1/settings/theme", `{}`, admin, 400, "VALIDATION_FAILED", "value"},
		{"value too large", "PUT", "/api/v1/settings/theme", `{"value":` + big + `}`, admin, 400, "VALIDATION_FAILED", "value"},
		{"value NUL", "PUT", "/api/v1/settings/theme", `{"value":{"a":"\u0000"}}`, admin, 400, "VALIDATION_FAILED", "value"},
		{"value beyond numeric", "PUT", "/api/v1/settings/theme", `{"value":{"a":1e1000000}}`, admin, 400, "VALIDATION_FAILED", "value"},
		{"value lone surrogate", "PUT", "/api/v1/settings/theme", `{"value":"\udc00"}`, admin, 400, "VALIDATION_FAILED", "value"},
		{"unknown field", "PUT", "/api/v1/settings/theme", `{"value":1,"scope":"global"}`, admin, 400, "UNKNOWN_FIELD", "scope"},
		{"not json", "PUT", "/api/v1/settings/theme", `{"value":`, admin, 400, "INVALID_JSON", ""},
		{"empty body", "PUT", "/api/v1/settings/theme", ``, admin, 400, "INVALID_JSON", ""},
		{"bad scope", "PUT", "/api/v1/settings/theme?scope=world", `{"value":1}`, super, 400, "VALIDATION_FAILED", "scope"},
		{"bad scope on delete", "DELETE", "/api/v1/settings/theme?scope=world", "", super, 400, "VALIDATION_FAILED", "scope"},
		{"unknown key", "GET", "/api/v1/settings/no.such.key", "", admin, 404, "NOT_FOUND", ""},
		{"delete unknown", "DELETE", "/api/v1/settings/no.such.key", "", admin, 404, "NOT_FOUND", ""},
		{"delete unknown global", "DELETE", "/api/v1/settings/no.such.key?scope=global", "", super, 404, "NOT_FOUND", ""},
		{"wrong method", "PATCH", "/api/v1/settings/theme", `{"value":1}`, admin, 405, "METHOD_NOT_ALLOWED", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			requireError(t, e.do(c.method, c.path, c.token, c.body), c.status, c.code, c.field)
		})
	}
	// Nothing was written by any refused request.
	require.Empty(t, e.settingKeys(admin, "", 50))
	require.Empty(t, e.auditList(admin, "entity_type", "setting").Data)

	// The limits themselves are accepted: a 100-character key, a value of exactly 64 KiB (compacted:
	// whitespace does not count), JSON null, and keys with every allowed character.
	e.settingPut(admin, "k"+strings.Repeat("x", 99), `1`, "")
	exact := `"` + strings.Repeat("x", 64<<10-2) + `"`
	e.settingPut(admin, "big", "  "+exact+"  ", "")
	require.Len(t, e.settingGet(admin, "big").Value, 64<<10)
	requireJSONEq(t, `null`, e.settingPut(admin, "nothing", `null`, "").Value)
	e.settingPut(admin, "a0_.-z", `{"nested":{"deep":[1,2,{"x":"ü"}]}}`, "")
	requireJSONEq(t, `{"nested":{"deep":[1,2,{"x":"ü"}]}}`, e.settingGet(admin, "a0_.-z").Value)
}

func TestSettingsTenantIsolation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adminA := e.tenant("set-iso-a")
	adminB := e.tenant("set-iso-b")
	e.settingPut(adminB, "secret.key", `{"token":"b-only"}`, "")
	bAudit := e.auditList(adminB, "entity_type", "setting").Data
	require.Len(t, bAudit, 1)

	// A cannot read, list, find by value, delete or see the audit of B's setting.
	requireError(t, e.do("GET", "/api/v1/settings/secret.key", adminA, nil), http.StatusNotFound, "NOT_FOUND", "")
	require.Empty(t, e.settingKeys(adminA, "", 50))
	require.Empty(t, e.settingKeys(adminA, `{"token":"b-only"}`, 50))
	requireError(t, e.do("DELETE", "/api/v1/settings/secret.key", adminA, nil), http.StatusNotFound, "NOT_FOUND", "")
	requireError(t, e.do("GET", "/api/v1/audit-logs/"+bAudit[0].ID, adminA, nil), http.StatusNotFound, "NOT_FOUND", "")
	require.Empty(t, e.auditList(adminA, "entity_id", *bAudit[0].EntityID).Data)
	require.Empty(t, e.auditList(adminA, "data", `{"key":"secret.key"}`).Data)

	// A's own value of the same key is a separate row; B's is untouched.
	a := e.settingPut(adminA, "secret.key", `{"token":"a-only"}`, "")
	require.Equal(t, "tenant", a.Scope)
	requireJSONEq(t, `{"token":"b-only"}`, e.settingGet(adminB, "secret.key").Value)
	requireJSONEq(t, `{"token":"a-only"}`, e.settingGet(adminA, "secret.key").Value)
	aAudit := e.auditList(adminA, "entity_type", "setting").Data
	require.Len(t, aAudit, 1)
	require.NotEqual(t, *bAudit[0].EntityID, *aAudit[0].EntityID)
	requireJSONEq(t, `null`, mustField(t, aAudit[0].Data, "before"), "B's value does not leak into A's audit")
	require.Equal(t, http.StatusNoContent, e.do("DELETE", "/api/v1/settings/secret.key", adminA, nil).status)
	requireJSONEq(t, `{"token":"b-only"}`, e.settingGet(adminB, "secret.key").Value)
	require.Len(t, e.auditList(adminB, "entity_type", "setting").Data, 1)
}

// TestSettingsConcurrentFirstWrites races writers on a new key: the upsert never fails on the
// unique constraint, and the audit trail stays a chain in which each write's "before" is the
// "after" of the write it replaced.
func TestSettingsConcurrentFirstWrites(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.tenant("set-race")
	const writers = 8
	var wg sync.WaitGroup
	statuses := make([]int, writers)
	for i := range writers {
		wg.Go(func() {
			statuses[i] = e.do("PUT", "/api/v1/settings/race.key", admin, `{"value":`+strconv.Itoa(i)+`}`).status
		})
	}
	wg.Wait()
	for i, s := range statuses {
		require.Equal(t, http.StatusOK, s, "writer %d", i)
	}
	rows := e.auditList(admin, "entity_type", "setting").Data
	require.Len(t, rows, writers)
	befores := map[string]int{}
	afters := map[string]bool{}
	for _, row := range rows {
		befores[string(mustField(t, row.Data, "before"))]++
		afters[string(mustField(t, row.Data, "after"))] = true
	}
	require.Equal(t, 1, befores["null"], "exactly one write created the setting")
	for b, n := range befores {
		require.Equal(t, 1, n, "value %s was replaced twice", b)
		if b != "null" {
			require.True(t, afters[b], "before %s was never written", b)
		}
	}
	// The final value is the one that no write replaced.
	final := e.settingGet(admin, "race.key").Value
	require.True(t, afters[string(final)])
	require.Zero(t, befores[string(final)])
}
