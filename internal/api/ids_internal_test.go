package api

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCanonicalBodyIDs(t *testing.T) {
	t.Parallel()
	const upper = "0F8FAD5B-D9CB-469F-A165-70867728950E"
	lower := strings.ToLower(upper)
	type item struct {
		ContestantID string          `json:"contestant_id"`
		Score        json.RawMessage `json:"score"`
		Comment      *string         `json:"comment"`
	}
	type body struct {
		ID       string           `json:"id"`
		UserID   tristate[string] `json:"user_id"`
		JudgeID  *string          `json:"judge_id"`
		EntryIDs []string         `json:"entry_ids"`
		Items    []item           `json:"items"`
		Name     string           `json:"name"`
		Bogus    string           `json:"tenant_id"`
	}
	raw := `{"id":"` + upper + `","user_id":"` + upper + `","judge_id":"` + upper + `","entry_ids":["` + upper + `"],
		"items":[{"contestant_id":"` + upper + `","score":"` + upper + `","comment":"` + upper + `"}],
		"name":"` + upper + `","tenant_id":"NOT-A-UUID"}`
	var b body
	require.NoError(t, decodeJSON(httptest.NewRecorder(), httptest.NewRequest("POST", "/", strings.NewReader(raw)), &b))
	require.Equal(t, lower, b.ID)
	require.Equal(t, lower, b.UserID.V)
	require.Equal(t, lower, *b.JudgeID)
	require.Equal(t, []string{lower}, b.EntryIDs)
	require.Equal(t, lower, b.Items[0].ContestantID)
	// Text that merely looks like a UUID is the client's, kept as written.
	require.Equal(t, `"`+upper+`"`, string(b.Items[0].Score))
	require.Equal(t, upper, *b.Items[0].Comment)
	require.Equal(t, upper, b.Name)
	require.Equal(t, "NOT-A-UUID", b.Bogus, "left for the validation to refuse")
}

func TestPathWildcards(t *testing.T) {
	t.Parallel()
	for pattern, want := range map[string][]string{
		"GET /healthz":                          nil,
		"PATCH /api/v1/users/{id}":              {"id"},
		"GET /x/{event_id}/y/{id}":              {"event_id", "id"},
		"GET /files/{path...}":                  {"path"},
		"GET /api/v1/results/categories/{id}/x": {"id"},
	} {
		require.Equal(t, want, pathWildcards(pattern), pattern)
	}
	require.Equal(t, "ABC", canonicalUUID("ABC"))
}
