package api_test

import (
	"bytes"
	"context"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/api"
	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

type createdLink struct {
	ID, Secret, URL, QRURL string
}

func (e *env) createSignInLink(token, judgeID string) createdLink {
	e.t.Helper()
	r := e.do("POST", "/api/v1/judges/"+judgeID+"/sign-in-links", token, nil)
	require.Equal(e.t, http.StatusCreated, r.status, string(r.body))
	m := r.json(e.t)
	require.Equal(e.t, "no-store", r.header.Get("Cache-Control"))
	return createdLink{ID: m["id"].(string), Secret: m["secret"].(string), URL: m["url"].(string), QRURL: m["qr_url"].(string)}
}

func (e *env) exchange(secret string) response {
	e.t.Helper()
	return e.do("POST", "/api/v1/auth/link", "", map[string]string{"token": secret})
}

func TestSignInLinkSingleUseAndAudit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.scNewTenant("links-once")
	j := tn.judge("Judge Link")
	organizer, _ := tn.user(auth.Organizer)
	l := e.createSignInLink(organizer, j.id)
	require.True(t, strings.HasSuffix(strings.SplitN(l.URL, "?", 2)[0], api.SignInLinkPath), l.URL)
	u, err := url.Parse(l.URL)
	require.NoError(t, err)
	require.Equal(t, l.Secret, u.Query().Get("token"))
	// Only the hash is stored.
	require.Zero(t, tn.count(`SELECT count(*) FROM sign_in_links WHERE tenant_id = $1 AND secret_hash = convert_to($2, 'UTF8')`, l.Secret))
	require.Equal(t, 1, tn.count(`SELECT count(*) FROM sign_in_links WHERE tenant_id = $1 AND secret_hash = sha256(convert_to($2, 'UTF8'))`, l.Secret))

	r := e.exchange(l.Secret)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	m := r.json(t)
	token := m["token"].(string)
	require.Equal(t, j.userID, m["user"].(map[string]any)["id"])
	require.Equal(t, j.id, m["user"].(map[string]any)["judge_id"])
	me := e.do("GET", "/api/v1/auth/me", token, nil)
	require.Equal(t, http.StatusOK, me.status)
	require.Equal(t, j.userID, me.json(t)["id"])

	// Second use: refused, and audited as refused.
	requireError(t, e.exchange(l.Secret), 401, "SIGN_IN_LINK_INVALID", "")
	require.Equal(t, 1, tn.auditCount("sign_in_link.create"))
	require.Equal(t, 1, tn.auditCount("sign_in_link.exchange"))
	require.Equal(t, 1, tn.auditCount("sign_in_link.refused"))
	require.Equal(t, 1, tn.count(`SELECT count(*) FROM audit_logs WHERE tenant_id = $1 AND action = 'sign_in_link.exchange'
		AND actor_user_id = $2 AND entity_id = $3`, j.userID, l.ID))
	// A used link cannot be revoked (its session is ended by signing out).
	requireError(t, e.do("DELETE", "/api/v1/sign-in-links/"+l.ID, organizer, nil), 409, "SIGN_IN_LINK_USED", "")
	// Garbage and unknown secrets.
	requireError(t, e.exchange("nope"), 401, "SIGN_IN_LINK_INVALID", "")
	requireError(t, e.exchange(auth.TokenPrefix+strings.Repeat("x", auth.TokenLen-3)), 401, "SIGN_IN_LINK_INVALID", "")
	requireError(t, e.do("POST", "/api/v1/auth/link", "", map[string]string{}), 400, "VALIDATION_FAILED", "token")
}

// Two exchanges of one link at once: exactly one session. The test holds the link's row lock so
// that both exchanges are waiting on it before either runs.
func TestSignInLinkConcurrentExchangeOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.scNewTenant("links-race")
	j := tn.judge("Judge Race")
	l := e.createSignInLink(tn.admin, j.id)

	ctx := context.Background()
	lockConn, err := pgx.Connect(ctx, e.db.Pool().Config().ConnString())
	require.NoError(t, err)
	defer lockConn.Close(ctx)
	tx, err := lockConn.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `SELECT 1 FROM sign_in_links WHERE id = $1 FOR UPDATE`, l.ID)
	require.NoError(t, err)

	// pg_stat_activity is read once per transaction: watch from a connection of its own.
	watch, err := pgx.Connect(ctx, e.db.Pool().Config().ConnString())
	require.NoError(t, err)
	defer watch.Close(ctx)

	var wg sync.WaitGroup
	statuses := make([]int, 2)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = e.exchange(l.Secret).status
		}()
	}
	require.Eventually(t, func() bool {
		var waiting int
		err := watch.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%UPDATE sign_in_links SET used_at%'`).Scan(&waiting)
		return err == nil && waiting == 2
	}, 15*time.Second, 10*time.Millisecond, "both exchanges wait on the link's row lock")
	require.NoError(t, tx.Rollback(ctx))
	wg.Wait()
	require.ElementsMatch(t, []int{http.StatusOK, http.StatusUnauthorized}, statuses)
	require.Equal(t, 1, tn.count(`SELECT count(*) FROM sessions WHERE tenant_id = $1 AND user_id = $2`, j.userID)-1,
		"one session besides the judge's password sign-in")
}

func TestSignInLinkExpiryRevocationAndTenants(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.scNewTenant("links-a")
	other := e.scNewTenant("links-b")
	j := tn.judge("Judge A")
	otherJudge := other.judge("Judge B")

	// Expired.
	expired := e.createSignInLink(tn.admin, j.id)
	tn.exec(`UPDATE sign_in_links SET created_at = now() - interval '1 hour', expires_at = now() - interval '1 minute'
		WHERE tenant_id = $1 AND id = $2`, tn.id, expired.ID)
	requireError(t, e.exchange(expired.Secret), 401, "SIGN_IN_LINK_INVALID", "")
	require.Equal(t, 1, tn.count(`SELECT count(*) FROM audit_logs WHERE tenant_id = $1 AND action = 'sign_in_link.refused' AND data->>'reason' = 'expired'`))

	// Revoked: by the tenant's admin only; another tenant's admin gets 404 and changes nothing.
	revoked := e.createSignInLink(tn.admin, j.id)
	requireError(t, e.do("DELETE", "/api/v1/sign-in-links/"+revoked.ID, other.admin, nil), 404, "NOT_FOUND", "")
	r := e.do("DELETE", "/api/v1/sign-in-links/"+revoked.ID, tn.admin, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.NotNil(t, r.json(t)["revoked_at"])
	r = e.do("DELETE", "/api/v1/sign-in-links/"+revoked.ID, tn.admin, nil) // again: no change
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, 1, tn.auditCount("sign_in_link.revoke"))
	requireError(t, e.exchange(revoked.Secret), 401, "SIGN_IN_LINK_INVALID", "")
	requireError(t, e.do("GET", revoked.QRURL, tn.admin, nil), 404, "NOT_FOUND", "")

	// Another tenant's judge cannot be given a link, nor its links listed.
	requireError(t, e.do("POST", "/api/v1/judges/"+otherJudge.id+"/sign-in-links", tn.admin, nil), 404, "NOT_FOUND", "")
	requireError(t, e.do("GET", "/api/v1/judges/"+otherJudge.id+"/sign-in-links", tn.admin, nil), 404, "NOT_FOUND", "")
	// Roles: a judge, a tally master may not create links.
	tally, _ := tn.user(auth.TallyMaster)
	requireError(t, e.do("POST", "/api/v1/judges/"+j.id+"/sign-in-links", j.token, nil), 403, "FORBIDDEN", "")
	requireError(t, e.do("POST", "/api/v1/judges/"+j.id+"/sign-in-links", tally, nil), 403, "FORBIDDEN", "")
	// A judge without an account.
	bare := tn.id1(`INSERT INTO judges (tenant_id, name) VALUES ($1, 'No Account') RETURNING id`, tn.id)
	requireError(t, e.do("POST", "/api/v1/judges/"+bare+"/sign-in-links", tn.admin, nil), 409, "JUDGE_HAS_NO_ACCOUNT", "judge_id")

	// A link is bound to its judge's tenant: exchanging it signs into that tenant only.
	l := e.createSignInLink(other.admin, otherJudge.id)
	r = e.exchange(l.Secret)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, other.id, r.json(t)["user"].(map[string]any)["tenant_id"])

	// The list shows the links, newest first, without secrets.
	r = e.do("GET", "/api/v1/judges/"+j.id+"/sign-in-links", tn.admin, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.NotContains(t, string(r.body), "secret")
	data := r.json(t)["data"].([]any)
	require.Len(t, data, 2)
	require.Equal(t, revoked.ID, data[0].(map[string]any)["id"])

	// An inactive account: the link is refused and stays unused.
	fresh := e.createSignInLink(tn.admin, j.id)
	tn.exec(`UPDATE users SET active = false WHERE tenant_id = $1 AND id = $2`, tn.id, j.userID)
	requireError(t, e.exchange(fresh.Secret), 401, "SIGN_IN_LINK_INVALID", "")
	require.Equal(t, 1, tn.count(`SELECT count(*) FROM sign_in_links WHERE tenant_id = $1 AND id = $2 AND used_at IS NULL`, fresh.ID))
}

func TestSignInLinkQRCode(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.scNewTenant("links-qr")
	j := tn.judge("Judge QR")
	l := e.createSignInLink(tn.admin, j.id)
	r := e.do("GET", l.QRURL, tn.admin, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, "image/png", r.header.Get("Content-Type"))
	require.Equal(t, "no-store", r.header.Get("Cache-Control"))
	require.Less(t, len(r.body), 20_000)
	img, err := png.Decode(bytes.NewReader(r.body))
	require.NoError(t, err)
	require.GreaterOrEqual(t, img.Bounds().Dx(), 256)
	require.Equal(t, img.Bounds().Dx(), img.Bounds().Dy())
	// The secret is needed: the server keeps only its hash.
	requireError(t, e.do("GET", "/api/v1/sign-in-links/"+l.ID+"/qr.png", tn.admin, nil), 400, "VALIDATION_FAILED", "secret")
	wrong := e.createSignInLink(tn.admin, j.id)
	requireError(t, e.do("GET", "/api/v1/sign-in-links/"+l.ID+"/qr.png?secret="+url.QueryEscape(wrong.Secret), tn.admin, nil), 404, "NOT_FOUND", "")
}
