package api_test

import (
	"bytes"
	"image/png"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/eventmanager/eventmanager/internal/live"
	"github.com/stretchr/testify/require"
)

func (e *env) createAudienceLink(token, path string) createdLink {
	e.t.Helper()
	r := e.do("POST", path, token, nil)
	require.Equal(e.t, http.StatusCreated, r.status, string(r.body))
	m := r.json(e.t)
	return createdLink{ID: m["id"].(string), Secret: m["secret"].(string), URL: m["url"].(string), QRURL: m["qr_url"].(string)}
}

func audiencePath(secret string) string { return "/api/v1/audience?token=" + url.QueryEscape(secret) }

// The big screen: running order and progress at once, names and numbers only, results only once
// the BOARD has certified; a revoked link is gone, and its stream ends.
func TestAudienceLinkResultsOnlyAfterBoard(t *testing.T) {
	t.Parallel()
	e := newLiveInstance(t, dbtest.NewDatabase(t))
	f := newLiveFixture(e.env, "audience")
	tn, cat := f.tn, f.cat
	// Personal data that must never show.
	tn.exec(`UPDATE contestants SET email = 'private@example.org', bio = 'secret bio' WHERE tenant_id = $1`, tn.id)
	organizer, _ := tn.user(auth.Organizer)
	l := e.createAudienceLink(organizer, "/api/v1/categories/"+cat.id+"/audience-links")

	view := func() map[string]any {
		t.Helper()
		r := e.do("GET", audiencePath(l.Secret), "", nil)
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		require.NotContains(t, string(r.body), "private@example.org")
		require.NotContains(t, string(r.body), "secret bio")
		require.NotContains(t, string(r.body), f.judge.name, "no judge names")
		return r.json(t)["categories"].([]any)[0].(map[string]any)
	}
	c := view()
	require.Equal(t, "Category", c["name"])
	require.Equal(t, false, c["certified"])
	require.Nil(t, c["results"])
	order := c["running_order"].([]any)
	require.Len(t, order, 2)
	require.Equal(t, map[string]any{"number": float64(1), "name": "Contestant 1"}, order[0])
	progress := c["progress"].(map[string]any)
	require.EqualValues(t, 0, progress["scores_entered"])
	require.EqualValues(t, 4, progress["scores_expected"])

	stream := openStream(t, e.srv.URL, "/api/v1/audience/stream?token="+url.QueryEscape(l.Secret), "")
	require.Equal(t, http.StatusOK, stream.status, string(stream.body))

	// Scores are entered and certified step by step: progress shows, results do not.
	e.scFill(f.judge, cat, func(k, cr int) int64 { return int64(500 + 100*k) })
	ev := stream.next(t, 10*time.Second, live.KindScore)
	require.Equal(t, map[string]any{"kind": "score", "category_id": cat.id, "contest_id": cat.contestID}, ev.data,
		"the audience's events carry no judge or row ids")
	require.EqualValues(t, 4, view()["progress"].(map[string]any)["scores_entered"], "the view read after the event shows the change")
	tally, _ := tn.user(auth.TallyMaster)
	auditor, _ := tn.user(auth.Auditor)
	board, _ := tn.user(auth.Board)
	for _, step := range []struct{ token, step string }{{f.judge.token, "JUDGE"}, {tally, "TALLY_MASTER"}, {auditor, "AUDITOR"}} {
		require.Equal(t, http.StatusCreated, e.scCertify(step.token, cat.id, step.step).status, step.step)
		stream.next(t, 10*time.Second, live.KindCertification)
		c = view()
		require.Equal(t, false, c["certified"], step.step)
		require.Nil(t, c["results"], step.step)
	}
	require.Equal(t, []any{"TALLY_MASTER", "AUDITOR"}, c["progress"].(map[string]any)["steps"])
	require.Equal(t, http.StatusCreated, e.scCertify(board, cat.id, "BOARD").status)
	stream.next(t, 10*time.Second, live.KindCertification)
	c = view()
	require.Equal(t, true, c["certified"])
	results := c["results"].([]any)
	require.Len(t, results, 2)
	first := results[0].(map[string]any)
	require.EqualValues(t, 1, first["rank"])
	require.Equal(t, "Contestant 2", first["name"])
	require.EqualValues(t, 12, first["final_score"])
	require.Len(t, first, 4, "rank, number, name and final score only")

	// Revoked: the view is gone and the open stream ends.
	r := e.do("DELETE", "/api/v1/audience-links/"+l.ID, organizer, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, 1, tn.auditCount("audience_link.create"))
	require.Equal(t, 1, tn.auditCount("audience_link.revoke"))
	requireError(t, e.do("GET", audiencePath(l.Secret), "", nil), 404, "NOT_FOUND", "")
	select {
	case _, ok := <-stream.events:
		for ok {
			_, ok = <-stream.events
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the stream of a revoked link did not end")
	}
	again := openStream(t, e.srv.URL, "/api/v1/audience/stream?token="+url.QueryEscape(l.Secret), "")
	require.Equal(t, http.StatusNotFound, again.status)
}

func TestAudienceLinkContestScopeRolesAndTenants(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := newLiveFixture(e, "audience-contest")
	second := f.tn.category(f.cat.contestID, "Second", []string{"5"}, 1)
	other := newLiveFixture(e, "audience-other")

	l := e.createAudienceLink(f.tn.admin, "/api/v1/contests/"+f.cat.contestID+"/audience-links")
	r := e.do("GET", audiencePath(l.Secret), "", nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	m := r.json(t)
	require.Equal(t, f.cat.contestID, m["contest"].(map[string]any)["id"])
	cats := m["categories"].([]any)
	require.Len(t, cats, 2)
	require.Equal(t, f.cat.id, cats[0].(map[string]any)["id"])
	require.Equal(t, second.id, cats[1].(map[string]any)["id"])

	// Listing shows the link without its secret.
	r = e.do("GET", "/api/v1/contests/"+f.cat.contestID+"/audience-links", f.tn.admin, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.NotContains(t, string(r.body), l.Secret)
	require.Len(t, r.json(t)["data"].([]any), 1)

	// QR code of the link.
	r = e.do("GET", l.QRURL, f.tn.admin, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	_, err := png.Decode(bytes.NewReader(r.body))
	require.NoError(t, err)
	requireError(t, e.do("GET", l.QRURL, other.tn.admin, nil), 404, "NOT_FOUND", "")

	// Roles and tenants.
	tally, _ := f.tn.user(auth.TallyMaster)
	requireError(t, e.do("POST", "/api/v1/categories/"+f.cat.id+"/audience-links", f.judge.token, nil), 403, "FORBIDDEN", "")
	requireError(t, e.do("POST", "/api/v1/categories/"+f.cat.id+"/audience-links", tally, nil), 403, "FORBIDDEN", "")
	requireError(t, e.do("POST", "/api/v1/categories/"+f.cat.id+"/audience-links", other.tn.admin, nil), 404, "NOT_FOUND", "")
	requireError(t, e.do("POST", "/api/v1/contests/"+f.cat.contestID+"/audience-links", other.tn.admin, nil), 404, "NOT_FOUND", "")
	requireError(t, e.do("DELETE", "/api/v1/audience-links/"+l.ID, other.tn.admin, nil), 404, "NOT_FOUND", "")
	requireError(t, e.do("GET", "/api/v1/categories/"+f.cat.id+"/audience-links", other.tn.admin, nil), 404, "NOT_FOUND", "")
	// Unknown and malformed secrets.
	requireError(t, e.do("GET", "/api/v1/audience", "", nil), 404, "NOT_FOUND", "")
	requireError(t, e.do("GET", audiencePath(auth.TokenPrefix+"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), "", nil), 404, "NOT_FOUND", "")
	// An inactive tenant's links stop working.
	f.tn.exec(`UPDATE tenants SET active = false WHERE id = $1`, f.tn.id)
	// The view read just before may be shared for up to a second.
	require.Eventually(t, func() bool {
		return e.do("GET", audiencePath(l.Secret), "", nil).status == http.StatusNotFound
	}, 10*time.Second, 100*time.Millisecond)
}
