// Package statuspage holds the operator's status page: one HTML file, its script and its style
// sheet, embedded in the binary so that the page needs no build step, no CDN and no network beyond
// this server. The page is static; it signs in and polls the authenticated JSON snapshot of the API.
package statuspage

import (
	"embed"
	"net/http"
	"path"
)

//go:embed assets
var assets embed.FS

// ContentSecurityPolicy allows only this origin: no inline script or style, no other host, no
// framing. The script talks to the API on the same origin (connect-src 'self').
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
}

// Serve writes the page (name "") or one of its files with the security headers, and reports
// false, writing nothing, when there is no such file.
func Serve(w http.ResponseWriter, name string) bool {
	if name == "" {
		name = "index.html"
	}
	ct, ok := contentTypes[path.Ext(name)]
	if !ok || path.Base(name) != name {
		return false
	}
	body, err := assets.ReadFile("assets/" + name)
	if err != nil {
		return false
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	// Revalidated on each load: the files change with the binary.
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
	return true
}
