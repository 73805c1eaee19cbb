package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/api"
	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/eventmanager/eventmanager/internal/live"
	"github.com/eventmanager/eventmanager/internal/pglisten"
	"github.com/eventmanager/eventmanager/internal/store"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// liveInstance is one API server with its own hub and listener, as serve builds them, connected as
// the service's role.
type liveInstance struct {
	*env
	hub       *live.Hub
	listening chan struct{} // one value per successful LISTEN
}

func newLiveInstance(t *testing.T, url string) *liveInstance {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hub := live.NewHub(0, log)
	listening := make(chan struct{}, 10)
	e := newEnv(t, onDatabase(dbtest.ServiceURL(t, url)), withDeps(func(e *env, d *api.Deps) {
		l := pglisten.New(e.settings.ConnString, log)
		l.MinBackoff = 10 * time.Millisecond
		hub.Listen(l)
		l.OnListen = func() { listening <- struct{}{} }
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { l.Run(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done }) // after the server has closed
		d.Logger, d.Live.Hub = log, hub
	}))
	t.Cleanup(hub.Close) // first: streams end, so that the server can close
	waitListening(t, listening)
	return &liveInstance{env: e, hub: hub, listening: listening}
}

func waitListening(t *testing.T, listening <-chan struct{}) {
	t.Helper()
	select {
	case <-listening:
	case <-time.After(15 * time.Second):
		t.Fatal("the listener did not LISTEN within 15 s")
	}
}

// sseEvent is one frame of a stream as a client reads it.
type sseEvent struct {
	id, name string
	data     map[string]any
	at       time.Time
}

// sseClient reads a stream in the background.
type sseClient struct {
	events chan sseEvent
	status int
	body   []byte // the answer when it is not a stream
	cancel func()
}

// openStream opens GET path with the token and waits for the stream's first comment.
func openStream(t *testing.T, base, path, token string) *sseClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	c := &sseClient{events: make(chan sseEvent, 1000), status: resp.StatusCode, cancel: cancel}
	t.Cleanup(cancel)
	if resp.StatusCode != http.StatusOK {
		c.body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		close(c.events)
		return c
	}
	br := bufio.NewReader(resp.Body)
	first, err := br.ReadString('\n')
	for err == nil && !strings.HasPrefix(first, ": connected") {
		first, err = br.ReadString('\n')
	}
	require.NoError(t, err)
	go func() {
		defer resp.Body.Close()
		defer close(c.events)
		var ev sseEvent
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimSuffix(line, "\n")
			k, v, _ := strings.Cut(line, ":")
			v = strings.TrimPrefix(v, " ")
			switch {
			case line == "":
				if ev.name != "" {
					ev.at = time.Now()
					c.events <- ev
				}
				ev = sseEvent{}
			case k == "id":
				ev.id = v
			case k == "event":
				ev.name = v
			case k == "data":
				_ = json.Unmarshal([]byte(v), &ev.data)
			}
		}
	}()
	return c
}

// next returns the next event of one of the kinds, skipping the others, within the timeout.
func (c *sseClient) next(t *testing.T, timeout time.Duration, kinds ...string) sseEvent {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case ev, ok := <-c.events:
			require.True(t, ok, "the stream ended")
			for _, k := range kinds {
				if ev.name == k {
					return ev
				}
			}
		case <-deadline:
			t.Fatalf("no %v event within %s", kinds, timeout)
		}
	}
}

// liveFixture is a category with two contestants, two criteria and an assigned judge.
type liveFixture struct {
	tn    *scTenant
	cat   scCategory
	judge scJudge
}

func newLiveFixture(e *env, slug string) liveFixture {
	tn := e.scNewTenant(slug)
	ev := tn.event("Night", "")
	c := tn.contest(ev, "Contest", "")
	cat := tn.category(c, "Category", []string{"10", "10"}, 2)
	j := tn.judge("Judge One")
	tn.assign(j.id, cat.id, "ACTIVE")
	return liveFixture{tn: tn, cat: cat, judge: j}
}

func (f liveFixture) cell(k, cr int, score string) scCell {
	return scCell{ContestantID: f.cat.contestants[k], CriterionID: f.cat.criteria[cr], Score: json.Number(score)}
}

// A score written through one instance reaches a stream of another instance (its own hub and
// listener) within a second of the write's acknowledgement.
func TestLiveScoreReachesStreamOfAnotherInstance(t *testing.T) {
	t.Parallel()
	url := dbtest.NewDatabase(t)
	a := newLiveInstance(t, url)
	b := newLiveInstance(t, url)
	f := newLiveFixture(a.env, "live-two")
	tally, _ := f.tn.user(auth.TallyMaster)
	stream := openStream(t, b.srv.URL, "/api/v1/categories/"+f.cat.id+"/stream", tally)
	require.Equal(t, http.StatusOK, stream.status, string(stream.body))

	a.scPutOK(f.judge.token, f.cat.id, []scCell{f.cell(0, 0, "7"), f.cell(0, 1, "8")})
	acked := time.Now()
	ev := stream.next(t, 10*time.Second, live.KindScore)
	require.Less(t, ev.at.Sub(acked), time.Second, "score event arrived %s after the write's acknowledgement", ev.at.Sub(acked))
	require.Equal(t, f.judge.id, ev.data["id"])
	require.Equal(t, f.cat.id, ev.data["category_id"])
	require.Equal(t, f.cat.contestID, ev.data["contest_id"])
	data := ev.data["data"].(map[string]any)
	require.Equal(t, []any{f.cat.contestants[0]}, data["contestant_ids"], "one event per statement, naming the contestant")
	require.EqualValues(t, 2, data["count"])
	require.NotContains(t, ev.data, "score", "no score value on the wire")

	// A deduction and a certification are streamed too.
	r := a.do("POST", "/api/v1/categories/"+f.cat.id+"/deductions", f.tn.admin,
		map[string]any{"contestant_id": f.cat.contestants[1], "amount": 1, "reason": "late"})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	ev = stream.next(t, 10*time.Second, live.KindDeduction)
	require.Equal(t, f.cat.contestants[1], ev.data["data"].(map[string]any)["contestant_id"])
}

// The listener reconnects after its backend is terminated; streams get a resync, then events again.
func TestLiveListenerReconnectsAfterTermination(t *testing.T) {
	t.Parallel()
	url := dbtest.NewDatabase(t)
	a := newLiveInstance(t, url)
	f := newLiveFixture(a.env, "live-reconnect")
	tally, _ := f.tn.user(auth.TallyMaster)
	stream := openStream(t, a.srv.URL, "/api/v1/categories/"+f.cat.id+"/stream", tally)
	require.Equal(t, http.StatusOK, stream.status, string(stream.body))

	admin, err := pgx.Connect(context.Background(), dbtest.AdminURL(t, url))
	require.NoError(t, err)
	defer admin.Close(context.Background())
	var terminated int
	require.NoError(t, admin.QueryRow(context.Background(),
		`SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		 WHERE datname = current_database() AND application_name = $1) x`, pglisten.ApplicationName).Scan(&terminated))
	require.Equal(t, 1, terminated, "one listener per instance")

	stream.next(t, 10*time.Second, live.KindResync)
	waitListening(t, a.listening)
	a.scPutOK(f.judge.token, f.cat.id, []scCell{f.cell(1, 0, "5")})
	ev := stream.next(t, 10*time.Second, live.KindScore)
	require.Equal(t, f.judge.id, ev.data["id"])
}

func TestLiveStreamAccess(t *testing.T) {
	t.Parallel()
	e := newLiveInstance(t, dbtest.NewDatabase(t))
	f := newLiveFixture(e.env, "live-access")
	other := newLiveFixture(e.env, "live-access-other")
	unassigned := f.tn.judge("Judge Two")
	contestant, _ := f.tn.user(auth.Contestant)
	path := "/api/v1/categories/" + f.cat.id + "/stream"

	for _, c := range []struct {
		name, token, path string
		status            int
		code              string
	}{
		{"no token", "", path, 401, "UNAUTHENTICATED"},
		{"contestant", contestant, path, 403, "FORBIDDEN"},
		{"judge not assigned", unassigned.token, path, 403, "NOT_ASSIGNED"},
		{"other tenant's category", other.tn.admin, path, 404, "NOT_FOUND"},
		{"malformed id", f.tn.admin, "/api/v1/categories/x/stream", 400, "INVALID_ID"},
	} {
		s := openStream(t, e.srv.URL, c.path, c.token)
		require.Equal(t, c.status, s.status, c.name)
		var body struct{ Error struct{ Code string } }
		require.NoError(t, json.Unmarshal(s.body, &body), c.name)
		require.Equal(t, c.code, body.Error.Code, c.name)
	}
	// The assigned judge and the admin may follow it.
	require.Equal(t, http.StatusOK, openStream(t, e.srv.URL, path, f.judge.token).status)
	require.Equal(t, http.StatusOK, openStream(t, e.srv.URL, path, f.tn.admin).status)
}

// A judge reports their device for a category they are assigned to, and only then; the board
// reads the reports; a report notifies the boards, and a repeated report within the throttle does not.
func TestLiveDeviceReports(t *testing.T) {
	t.Parallel()
	e := newLiveInstance(t, dbtest.NewDatabase(t))
	f := newLiveFixture(e.env, "live-device")
	other := f.tn.judge("Judge Two") // not assigned
	cancelled := f.tn.judge("Judge Three")
	f.tn.assign(cancelled.id, f.cat.id, "CANCELLED")
	tally, _ := f.tn.user(auth.TallyMaster)
	stream := openStream(t, e.srv.URL, "/api/v1/categories/"+f.cat.id+"/stream", tally)
	path := "/api/v1/categories/" + f.cat.id + "/device"

	requireError(t, e.do("PUT", path, other.token, map[string]any{"queued": 1}), 403, "NOT_ASSIGNED", "")
	requireError(t, e.do("PUT", path, cancelled.token, map[string]any{"queued": 1}), 403, "NOT_ASSIGNED", "")
	requireError(t, e.do("PUT", path, f.tn.admin, map[string]any{"queued": 1}), 403, "NOT_A_JUDGE", "")
	requireError(t, e.do("PUT", path, f.judge.token, map[string]any{}), 400, "VALIDATION_FAILED", "queued")
	requireError(t, e.do("PUT", path, f.judge.token, map[string]any{"queued": -1}), 400, "VALIDATION_FAILED", "queued")
	requireError(t, e.do("PUT", "/api/v1/categories/"+f.cat.criteria[0]+"/device", f.judge.token, map[string]any{"queued": 1}), 404, "NOT_FOUND", "")
	require.Zero(t, f.tn.count(`SELECT count(*) FROM device_reports WHERE tenant_id = $1`))

	r := e.do("PUT", path, f.judge.token, map[string]any{"queued": 3})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	ev := stream.next(t, 10*time.Second, live.KindDevice)
	require.Equal(t, f.judge.id, ev.data["id"])
	require.EqualValues(t, 3, ev.data["data"].(map[string]any)["queued"])

	notifiedAt := func() time.Time {
		var at time.Time
		require.NoError(t, e.db.QueryRow(context.Background(), opScoringFixture, f.tn.id,
			`SELECT notified_at FROM device_reports WHERE tenant_id = $1 AND judge_id = $2`, []any{f.tn.id, f.judge.id}, &at))
		return at
	}
	first := notifiedAt()
	// The same count again: contact is recorded, no notification (notified_at stays).
	r = e.do("PUT", path, f.judge.token, map[string]any{"queued": 3})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, first, notifiedAt())
	// A changed count notifies at once.
	r = e.do("PUT", path, f.judge.token, map[string]any{"queued": 0})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	ev = stream.next(t, 10*time.Second, live.KindDevice)
	require.EqualValues(t, 0, ev.data["data"].(map[string]any)["queued"])

	// The board: every assigned judge, reported or not; cancelled assignments left out.
	r = e.do("GET", "/api/v1/categories/"+f.cat.id+"/devices", tally, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	var list struct {
		Data []store.Device `json:"data"`
	}
	require.NoError(t, json.Unmarshal(r.body, &list))
	require.Len(t, list.Data, 1)
	d := list.Data[0]
	require.Equal(t, f.judge.id, d.JudgeID)
	require.Equal(t, "Judge One", d.JudgeName)
	require.NotNil(t, d.Queued)
	require.Equal(t, 0, *d.Queued)
	require.NotNil(t, d.SeenAt)
	require.NotNil(t, d.AgeSeconds)
	requireError(t, e.do("GET", "/api/v1/categories/"+f.cat.id+"/devices", f.judge.token, nil), 403, "FORBIDDEN", "")
	otherTenant := newLiveFixture(e.env, "live-device-other")
	requireError(t, e.do("GET", "/api/v1/categories/"+f.cat.id+"/devices", otherTenant.tn.admin, nil), 404, "NOT_FOUND", "")
	requireError(t, e.do("PUT", path, otherTenant.judge.token, map[string]any{"queued": 1}), 404, "NOT_FOUND", "")
}
