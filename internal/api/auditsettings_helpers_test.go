package api_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// auditRow is an item of GET /api/v1/audit-logs.
type auditRow struct {
	ID          string          `json:"id"`
	ActorUserID *string         `json:"actor_user_id"`
	Action      string          `json:"action"`
	EntityType  string          `json:"entity_type"`
	EntityID    *string         `json:"entity_id"`
	Data        json.RawMessage `json:"data"`
	RequestID   *string         `json:"request_id"`
	IP          *string         `json:"ip"`
	CreatedAt   time.Time       `json:"created_at"`
}

type auditPage struct {
	Data       []auditRow `json:"data"`
	NextCursor *string    `json:"next_cursor"`
}

// auditList answers GET /api/v1/audit-logs with the query built from pairs ("entity_type", "event", ...).
func (e *env) auditList(token string, pairs ...string) auditPage {
	e.t.Helper()
	r := e.do("GET", "/api/v1/audit-logs"+auditQuery(pairs...), token, nil)
	require.Equal(e.t, http.StatusOK, r.status, string(r.body))
	var p auditPage
	require.NoError(e.t, json.Unmarshal(r.body, &p))
	return p
}

// auditQuery encodes pairs of names and values as a query string ("" when there are none).
func auditQuery(pairs ...string) string {
	if len(pairs) == 0 {
		return ""
	}
	q := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		q.Set(pairs[i], pairs[i+1])
	}
	return "?" + q.Encode()
}

// auditAll follows next_cursor through every page of a listing, pageSize rows at a time.
func (e *env) auditAll(token string, pageSize int, pairs ...string) []auditRow {
	e.t.Helper()
	var all []auditRow
	cursor := ""
	for page := 0; ; page++ {
		require.Less(e.t, page, 1000, "pagination does not end")
		p := append([]string{"limit", strconv.Itoa(pageSize)}, pairs...)
		if cursor != "" {
			p = append(p, "cursor", cursor)
		}
		got := e.auditList(token, p...)
		require.LessOrEqual(e.t, len(got.Data), pageSize)
		all = append(all, got.Data...)
		if got.NextCursor == nil {
			return all
		}
		cursor = *got.NextCursor
	}
}

// auditActions lists the actions of rows, in order.
func auditActions(rows []auditRow) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Action
	}
	return out
}

// auditTenantID is the id of the tenant with this slug.
func (e *env) auditTenantID(slug string) string {
	e.t.Helper()
	t, err := e.store.TenantBySlug(context.Background(), slug)
	require.NoError(e.t, err)
	return t.ID
}

// auditMe is the user id behind token.
func (e *env) auditMe(token string) string {
	e.t.Helper()
	r := e.do("GET", "/api/v1/auth/me", token, nil)
	require.Equal(e.t, http.StatusOK, r.status, string(r.body))
	return r.json(e.t)["id"].(string)
}

// auditInsert adds an audit row directly (for data the API cannot produce: chosen times and data),
// and returns its id. Scoped to the tenant like the service's own writes.
func (e *env) auditInsert(tenantID, action, entityType string, createdAt time.Time, data string) string {
	e.t.Helper()
	var id string
	require.NoError(e.t, e.db.QueryRow(context.Background(), opTest, tenantID,
		`INSERT INTO audit_logs (tenant_id, action, entity_type, entity_id, data, created_at)
		VALUES ($1, $2, $3, gen_random_uuid(), $4::jsonb, $5) RETURNING id`,
		[]any{tenantID, action, entityType, data, createdAt}, &id))
	return id
}

// settingBody is an item of GET /api/v1/settings and the answer of GET and PUT /api/v1/settings/{key}.
type settingBody struct {
	Key       string          `json:"key"`
	Value     json.RawMessage `json:"value"`
	Scope     string          `json:"scope"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// settingGet answers GET /api/v1/settings/{key}, which must succeed.
func (e *env) settingGet(token, key string) settingBody {
	e.t.Helper()
	r := e.do("GET", "/api/v1/settings/"+key, token, nil)
	require.Equal(e.t, http.StatusOK, r.status, string(r.body))
	var s settingBody
	require.NoError(e.t, json.Unmarshal(r.body, &s))
	return s
}

// settingPut sets key to value (a JSON text) with PUT; query is "" or "?scope=global".
func (e *env) settingPut(token, key, value, query string) settingBody {
	e.t.Helper()
	r := e.do("PUT", "/api/v1/settings/"+key+query, token, `{"value":`+value+`}`)
	require.Equal(e.t, http.StatusOK, r.status, string(r.body))
	var s settingBody
	require.NoError(e.t, json.Unmarshal(r.body, &s))
	return s
}

// settingKeys lists the keys and scopes of every setting the token's tenant sees, following the
// pages, with an optional ?value= filter.
func (e *env) settingKeys(token, value string, pageSize int) []string {
	e.t.Helper()
	var keys []string
	cursor := ""
	for page := 0; ; page++ {
		require.Less(e.t, page, 1000, "pagination does not end")
		q := url.Values{"limit": {strconv.Itoa(pageSize)}}
		if value != "" {
			q.Set("value", value)
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		r := e.do("GET", "/api/v1/settings?"+q.Encode(), token, nil)
		require.Equal(e.t, http.StatusOK, r.status, string(r.body))
		var p struct {
			Data       []settingBody `json:"data"`
			NextCursor *string       `json:"next_cursor"`
		}
		require.NoError(e.t, json.Unmarshal(r.body, &p))
		require.LessOrEqual(e.t, len(p.Data), pageSize)
		for _, s := range p.Data {
			keys = append(keys, s.Key+"@"+s.Scope)
		}
		if p.NextCursor == nil {
			return keys
		}
		cursor = *p.NextCursor
	}
}

// requireJSONEq compares a JSON text with the expected one, ignoring formatting and key order.
func requireJSONEq(t *testing.T, want string, got json.RawMessage, msgAndArgs ...any) {
	t.Helper()
	require.JSONEq(t, want, string(got), msgAndArgs...)
}

// jsonValue decodes a JSON text.
func jsonValue(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(data, &v), string(data))
	return v
}

// jsonBytes encodes v as JSON.
func jsonBytes(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// encodeTestCursor encodes a cursor as the service does (base64url of JSON), for forged cursors.
func encodeTestCursor(jsonText string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(jsonText))
}

// requireAPIError checks the status, code and field of an error answer.
func requireAPIError(t *testing.T, r response, status int, code, field string, msgAndArgs ...any) {
	t.Helper()
	require.Equal(t, status, r.status, "%s %v", r.body, msgAndArgs)
	gotCode, gotField := r.errorCode(t)
	require.Equal(t, code, gotCode, msgAndArgs...)
	require.Equal(t, field, gotField, msgAndArgs...)
}
