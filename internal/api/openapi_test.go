package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/eventmanager/eventmanager/docs"
	"github.com/eventmanager/eventmanager/internal/health"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"
)

// describedRoutes lists the operations of docs/openapi.yaml as route patterns ("GET /api/v1/events").
func describedRoutes(t *testing.T) []string {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(docs.OpenAPIYAML)
	require.NoError(t, err)
	var out []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, method+" "+path)
		}
	}
	return out
}

// Every route of the route table is described in docs/openapi.yaml, and every operation described
// there is a route: a route added or removed without its description fails here, naming it.
func TestRouteTableMatchesOpenAPI(t *testing.T) {
	t.Parallel()
	_, err := openAPI()
	require.NoError(t, err, "docs/openapi.yaml is not a valid OpenAPI document")
	e := newEnv(t, withHealth(health.Thresholds{}, nil, nil), withLiveHub()) // every optional route
	served := e.server.Routes()
	described := describedRoutes(t)
	var problems []string
	for _, r := range served {
		if !slices.Contains(described, r) {
			problems = append(problems, "route "+r+" is in the route table (internal/api/routes.go) but not in docs/openapi.yaml")
		}
	}
	for _, r := range described {
		if !slices.Contains(served, r) {
			problems = append(problems, "operation "+r+" is in docs/openapi.yaml but not in the route table (internal/api/routes.go)")
		}
	}
	slices.Sort(problems)
	require.Empty(t, problems, "\n"+strings.Join(problems, "\n"))
}

// The service answers its description, as JSON, and it is the document in docs/openapi.yaml.
func TestOpenAPIIsServed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.do("GET", "/api/v1/openapi.json", "", nil)
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, "application/json", r.header.Get("Content-Type"))
	doc, err := openapi3.NewLoader().LoadFromData(r.body)
	require.NoError(t, err)
	require.Equal(t, "3.1.0", doc.OpenAPI)
	want, err := docs.OpenAPIJSON()
	require.NoError(t, err)
	require.JSONEq(t, string(want), string(r.body))
}

// The contract check finds the operations of the document: a check that found none would pass
// every request unchecked.
func TestContractCheckFindsOperations(t *testing.T) {
	t.Parallel()
	req, err := http.NewRequest(http.MethodGet, "http://127.0.0.1:1/api/v1/events?limit=5", nil)
	require.NoError(t, err)
	require.True(t, checkContract(t, req, nil, response{status: http.StatusOK,
		header: http.Header{"Content-Type": {"application/json"}}, body: []byte(`{"data": [], "next_cursor": null}`)}))
	req, err = http.NewRequest(http.MethodGet, "http://127.0.0.1:1/test/sleep", nil)
	require.NoError(t, err)
	require.False(t, checkContract(t, req, nil, response{status: http.StatusOK}), "a path the document does not know")
}
