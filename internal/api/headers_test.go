package api_test

import (
	"net/http"
	"testing"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/stretchr/testify/require"
)

// Every answer says nosniff; every API answer, errors included, may not be stored by a browser or
// a proxy, above all the signed-in ones.
func TestAnswersCarrySecurityHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.tenant("headers")
	judge := e.addUser("headers", auth.Judge)
	cases := []struct {
		method, path, token string
		body                any
		status              int
	}{
		{"GET", "/api/v1/events", admin, nil, http.StatusOK},
		{"GET", "/api/v1/auth/me", judge, nil, http.StatusOK},
		{"GET", "/api/v1/users", judge, nil, http.StatusForbidden},
		{"POST", "/api/v1/events", admin, "{", http.StatusBadRequest},
		{"GET", "/api/v1/events/00000000-0000-0000-0000-000000000000", admin, nil, http.StatusNotFound},
		{"GET", "/api/v1/events", "", nil, http.StatusUnauthorized},
		{"GET", "/api/v1/events", "not-a-token", nil, http.StatusUnauthorized},
		{"POST", "/api/v1/auth/login", "", map[string]string{"tenant": "headers", "email": "admin@headers.test", "password": testPassword}, http.StatusOK},
		{"GET", "/healthz", "", nil, http.StatusOK},
		{"GET", "/no/such/route", "", nil, http.StatusNotFound},
		{"DELETE", "/healthz", "", nil, http.StatusMethodNotAllowed},
	}
	for _, c := range cases {
		r := e.do(c.method, c.path, c.token, c.body)
		require.Equal(t, c.status, r.status, "%s %s: %s", c.method, c.path, r.body)
		require.Equal(t, "nosniff", r.header.Get("X-Content-Type-Options"), "%s %s", c.method, c.path)
		require.Equal(t, "no-store", r.header.Get("Cache-Control"), "%s %s", c.method, c.path)
	}
}
