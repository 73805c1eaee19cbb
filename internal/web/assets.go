package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed static
var staticFS embed.FS

//go:embed templates
var templateFS embed.FS

// asset is an embedded static file with the checksum that goes into its URL.
type asset struct {
	body        []byte
	contentType string
	sum         string
}

var assetTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
	".svg": "image/svg+xml",
}

// loadAssets reads every static file once, at start, and names each by a checksum of its bytes:
// the URL changes when the file does, so browsers may cache it for a year.
func loadAssets() (map[string]asset, error) {
	out := map[string]asset{}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		out[path.Base(p)] = asset{body: b, contentType: assetTypes[path.Ext(p)], sum: hex.EncodeToString(sum[:6])}
		return nil
	})
	return out, err
}

// assetURL is the URL of a static file; "" for a name that is not one (a template bug, caught by
// the tests that render every page).
func (a *App) assetURL(name string) string {
	f, ok := a.assets[name]
	if !ok {
		return ""
	}
	return "/static/" + f.sum + "/" + name
}

// serveAsset answers /static/{sum}/{file}. A stale checksum is a 404: an old page must not get
// new code under an immutable URL.
func (a *App) serveAsset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	f, ok := a.assets[name]
	if !ok || r.PathValue("sum") != f.sum || strings.Contains(name, "/") {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", `"`+f.sum+`"`)
	if r.Header.Get("If-None-Match") == `"`+f.sum+`"` {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write(f.body)
}

// serveWorker answers /sw.js, the judges' offline copy: at the root so that it may serve the
// judge's pages, revalidated on each load so that a new version replaces the old one.
func (a *App) serveWorker(w http.ResponseWriter, r *http.Request) {
	f := a.assets["sw.js"]
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Cache-Control", "no-cache")
	_, _ = w.Write(f.body)
}
