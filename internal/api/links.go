package api

import (
	"net/http"
	"net/url"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/qr"
)

// Sign-in and audience links share their addresses and QR codes: a page opened with the link's
// secret as ?token=, and an API route that draws the address as a QR code from ?secret=.

// publicBase is where people open links: PUBLIC_URL, or the scheme and host the request came to.
func (s *Server) publicBase(r *http.Request) string {
	if s.live.PublicURL != "" {
		return s.live.PublicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// linkAddress is the address a link opens: page, with the secret as ?token=.
func (s *Server) linkAddress(r *http.Request, page, secret string) string {
	return s.publicBase(r) + page + "?token=" + url.QueryEscape(secret)
}

// qrAddress is the route that draws a link's QR code; the secret is in its query string, so it
// is as private as the link itself.
func qrAddress(collection, id, secret string) string {
	return "/api/v1/" + collection + "/" + id + "/qr.png?secret=" + url.QueryEscape(secret)
}

// qrSecret reads a QR route's ?secret=: the server keeps only the hash of a link's secret, so it
// cannot draw the code without it.
func qrSecret(r *http.Request) (string, error) {
	secret := r.URL.Query().Get("secret")
	if !auth.LooksLikeToken(secret) {
		return "", invalid("secret", "is required: the secret returned when the link was created")
	}
	return secret, nil
}

// writeQR answers with address drawn as a QR code, a PNG that nobody caches.
func writeQR(w http.ResponseWriter, address string) error {
	png, err := qr.PNG(address)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "image/png")
	_, _ = w.Write(png)
	return nil
}
