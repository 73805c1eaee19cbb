package api

import "net/http"

// withStandardHeaders gives every answer X-Content-Type-Options: nosniff (a browser must never
// read a JSON error as a script or a page) and Cache-Control: no-store, since API answers are
// per caller and often hold a token or a tenant's data: no browser or proxy may keep them. A
// handler serving static files sets its own Cache-Control over it.
func withStandardHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}
