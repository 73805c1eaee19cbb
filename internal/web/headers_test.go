package web_test

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/web"
	"github.com/stretchr/testify/require"
)

// Every answer of the app carries the strict policy: nothing inline, nothing from elsewhere.
func TestPagesSendStrictCSPAndNoStore(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	e.buildNight("csp", 2, []string{"10"}, 1, "")
	require.NotContains(t, web.ContentSecurityPolicy, "unsafe")
	require.Contains(t, web.ContentSecurityPolicy, "default-src 'none'")
	require.Contains(t, web.ContentSecurityPolicy, "script-src 'self'")
	require.Contains(t, web.ContentSecurityPolicy, "frame-ancestors 'none'")

	c := e.client()
	resp, body := e.get(c, "/signin")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, web.ContentSecurityPolicy, resp.Header.Get("Content-Security-Policy"))
	require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	require.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
	// No inline script, style or handler, and every asset comes from this origin.
	for _, bad := range []string{"<style", " style=", " onclick=", " onload=", "http://", "https://"} {
		require.NotContains(t, body, bad)
	}
	require.NotRegexp(t, regexp.MustCompile(`<script>`), body)

	resp = e.signIn(c, "judge1@csp.test")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/judge", resp.Header.Get("Location"))
	for _, path := range []string{"/judge", "/judge/categories/" + e.night.categoryID} {
		resp, body := e.get(c, path)
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		require.Equal(t, web.ContentSecurityPolicy, resp.Header.Get("Content-Security-Policy"), path)
		require.Equal(t, "no-store", resp.Header.Get("Cache-Control"), path)
		require.NotContains(t, body, "<script>", path)
		require.NotContains(t, body, " style=", path)
	}

	// Assets: immutable under their checksum, 404 under another.
	_, body = e.get(c, "/judge/categories/"+e.night.categoryID)
	m := regexp.MustCompile(`src="(/static/[0-9a-f]+/scoresheet\.js)"`).FindStringSubmatch(body)
	require.NotNil(t, m, "the sheet loads its script")
	resp, js := e.get(c, m[1])
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "public, max-age=31536000, immutable", resp.Header.Get("Cache-Control"))
	require.Equal(t, "text/javascript; charset=utf-8", resp.Header.Get("Content-Type"))
	require.Contains(t, js, "Idempotency-Key")
	stale := strings.Replace(m[1], "/static/", "/static/0", 1)
	resp, _ = e.get(c, stale)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	// The JSON API keeps its own answers under /api.
	resp, _ = e.get(e.client(), "/api/v1/no-such-thing")
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Content-Type"), "application/json")
}

// The session cookie: HttpOnly, SameSite=Strict, whole site, Secure only behind TLS; sign-out
// ends the session on the server.
func TestSessionCookieFlagsAndSignOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	e.buildNight("cookie", 1, []string{"10"}, 1, "")
	c := e.client()
	resp := e.signIn(c, "tally_master@cookie.test")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/categories", resp.Header.Get("Location"))
	var sess *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == auth.SessionCookie {
			sess = ck
		}
	}
	require.NotNil(t, sess)
	require.True(t, sess.HttpOnly)
	require.Equal(t, http.SameSiteStrictMode, sess.SameSite)
	require.Equal(t, "/", sess.Path)
	require.False(t, sess.Secure, "plain http in this test")
	require.False(t, sess.Expires.IsZero())
	require.Equal(t, 1, e.count(`SELECT count(*) FROM sessions`))

	// The same token works as the API's session (one mechanism).
	req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/auth/me", nil)
	req.Header.Set("Authorization", "Bearer "+sess.Value)
	r, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	r.Body.Close()
	require.Equal(t, http.StatusOK, r.StatusCode)

	// The API's sign-out with the cookie (and its CSRF token) ends the same session.
	c3 := e.client()
	e.signIn(c3, "board@cookie.test")
	var tok3 string
	for _, ck := range c3.Jar.Cookies(req.URL) {
		if ck.Name == auth.SessionCookie {
			tok3 = ck.Value
		}
	}
	req, _ = http.NewRequest("POST", e.srv.URL+"/api/v1/auth/logout", nil)
	req.Header.Set(auth.CSRFHeader, auth.CSRFToken(tok3))
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	r, err = c3.Do(req)
	require.NoError(t, err)
	r.Body.Close()
	require.Equal(t, http.StatusNoContent, r.StatusCode)
	require.Equal(t, 1, e.count(`SELECT count(*) FROM sessions`))

	// A wrong password says so on the form and sets no cookie.
	c2 := e.client()
	form := strings.NewReader("tenant=cookie&email=board%40cookie.test&password=wrong")
	req, _ = http.NewRequest("POST", e.srv.URL+"/signin", form)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r, err = c2.Do(req)
	require.NoError(t, err)
	r.Body.Close()
	require.Equal(t, http.StatusUnauthorized, r.StatusCode)
	require.Empty(t, r.Cookies())

	// Sign-out needs the CSRF token; then the session is gone and the cookie cleared.
	req, _ = http.NewRequest("POST", e.srv.URL+"/signout", strings.NewReader("csrf=nope"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r, err = c.Do(req)
	require.NoError(t, err)
	r.Body.Close()
	require.Equal(t, http.StatusForbidden, r.StatusCode)
	require.Equal(t, 1, e.count(`SELECT count(*) FROM sessions`))
	req, _ = http.NewRequest("POST", e.srv.URL+"/signout", strings.NewReader("csrf="+auth.CSRFToken(sess.Value)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r, err = c.Do(req)
	require.NoError(t, err)
	r.Body.Close()
	require.Equal(t, http.StatusSeeOther, r.StatusCode)
	require.Equal(t, 0, e.count(`SELECT count(*) FROM sessions`))
	resp, _ = e.get(c, "/categories")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/signin?next=%2Fcategories", resp.Header.Get("Location"))
}

// A write to the JSON API with the session cookie needs the CSRF header and a same-site origin;
// reads need neither; a bearer token needs neither.
func TestCookieWritesNeedCSRF(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	n := e.buildNight("csrf", 1, []string{"10"}, 1, "")
	c := e.client()
	e.signIn(c, "judge1@csrf.test")
	u, _ := http.NewRequest("GET", e.srv.URL, nil)
	var token string
	for _, ck := range c.Jar.Cookies(u.URL) {
		if ck.Name == auth.SessionCookie {
			token = ck.Value
		}
	}
	require.NotEmpty(t, token)
	body := `{"scores":[{"contestant_id":"` + n.contestants[0] + `","criterion_id":"` + n.criteria[0] + `","score":7}]}`
	put := func(csrf, site string) (int, string) {
		req, _ := http.NewRequest("PUT", e.srv.URL+"/api/v1/categories/"+n.categoryID+"/scores", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if csrf != "" {
			req.Header.Set(auth.CSRFHeader, csrf)
		}
		if site != "" {
			req.Header.Set("Sec-Fetch-Site", site)
		}
		r, err := c.Do(req)
		require.NoError(t, err)
		defer r.Body.Close()
		b := new(strings.Builder)
		_, _ = io.Copy(b, r.Body)
		return r.StatusCode, b.String()
	}
	status, b := put("", "same-origin")
	require.Equal(t, http.StatusForbidden, status)
	require.Contains(t, b, `"CSRF_FAILED"`)
	status, _ = put("wrong", "same-origin")
	require.Equal(t, http.StatusForbidden, status)
	status, _ = put(auth.CSRFToken(token), "cross-site")
	require.Equal(t, http.StatusForbidden, status, "another site may not write even with a leaked token")
	require.Equal(t, 0, e.count(`SELECT count(*) FROM scores`))
	status, b = put(auth.CSRFToken(token), "same-origin")
	require.Equal(t, http.StatusOK, status, b)
	require.Equal(t, 1, e.count(`SELECT count(*) FROM scores`))

	// Reads with the cookie alone.
	resp, b := e.get(c, "/api/v1/categories/"+n.categoryID+"/scoresheet")
	require.Equal(t, http.StatusOK, resp.StatusCode, b)
	require.Contains(t, b, `"score_cap":1000`)
	// A cross-site form post to sign out is refused.
	req, _ := http.NewRequest("POST", e.srv.URL+"/signout", strings.NewReader("csrf="+auth.CSRFToken(token)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	r, err := c.Do(req)
	require.NoError(t, err)
	r.Body.Close()
	require.Equal(t, http.StatusForbidden, r.StatusCode)
}

// Each role lands on its page; a page of another role is refused in words.
func TestRolesReachTheirPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	n := e.buildNight("roles", 2, []string{"10", "5"}, 1, "")
	cat := n.categoryID
	cases := []struct {
		email, home string
		ok, refused []string
	}{
		{"judge1@roles.test", "/judge", []string{"/judge", "/judge/categories/" + cat}, []string{"/categories/" + cat + "/board"}},
		{"tally_master@roles.test", "/categories", []string{"/categories", "/categories/" + cat + "/board"}, []string{"/categories/" + cat + "/emcee"}},
		{"emcee@roles.test", "/categories", []string{"/categories", "/categories/" + cat + "/emcee"}, []string{"/categories/" + cat + "/board"}},
		{"contestant@roles.test", "/results", []string{"/results"}, []string{"/categories/" + cat + "/board", "/categories/" + cat + "/emcee"}},
		{"admin@roles.test", "/categories", []string{"/categories", "/categories/" + cat + "/board", "/categories/" + cat + "/emcee"}, nil},
	}
	for _, tc := range cases {
		c := e.client()
		resp := e.signIn(c, tc.email)
		require.Equal(t, tc.home, resp.Header.Get("Location"), tc.email)
		for _, p := range tc.ok {
			resp, body := e.get(c, p)
			require.Equal(t, http.StatusOK, resp.StatusCode, "%s %s: %s", tc.email, p, body)
		}
		for _, p := range tc.refused {
			resp, _ := e.get(c, p)
			require.Equal(t, http.StatusForbidden, resp.StatusCode, "%s %s", tc.email, p)
		}
	}
	// Not a UUID, or no such category: 404 pages, never a 500.
	c := e.client()
	e.signIn(c, "admin@roles.test")
	for _, p := range []string{"/categories/nope/board", "/categories/00000000-0000-0000-0000-000000000000/board", "/nowhere"} {
		resp, _ := e.get(c, p)
		require.Equal(t, http.StatusNotFound, resp.StatusCode, p)
	}
}

// Behind a proxy that terminates TLS (PUBLIC_URL https://...), the cookie is Secure although the
// request reached the server without TLS.
func TestSessionCookieSecureBehindTLSProxy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false, func(d *web.Deps) { d.SecureCookies = true })
	e.buildNight("proxy", 1, []string{"10"}, 1, "")
	resp := e.signIn(e.client(), "judge1@proxy.test")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Len(t, resp.Cookies(), 1)
	require.True(t, resp.Cookies()[0].Secure)
	require.True(t, resp.Cookies()[0].HttpOnly)
}
