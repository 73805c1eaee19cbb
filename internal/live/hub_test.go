package live

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

func receive(t *testing.T, ch <-chan Event) Event {
	t.Helper()
	select {
	case e, ok := <-ch:
		require.True(t, ok, "channel closed")
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5 s")
	}
	return Event{}
}

func requireEmpty(t *testing.T, ch <-chan Event) {
	t.Helper()
	select {
	case e := <-ch:
		t.Fatalf("unexpected event %+v", e)
	default:
	}
}

func TestHubRoutesByTenantCategoryAndContest(t *testing.T) {
	t.Parallel()
	h := NewHub(4, nil)
	cat, cancelCat := h.Subscribe("t1", "cat1")
	defer cancelCat()
	contest, cancelContest := h.SubscribeContest("t1", "contest1")
	defer cancelContest()
	other, cancelOther := h.Subscribe("t2", "cat1") // same category id, other tenant
	defer cancelOther()
	otherCat, cancelOtherCat := h.Subscribe("t1", "cat2")
	defer cancelOtherCat()

	h.Publish(Event{Kind: KindScore, TenantID: "t1", CategoryID: "cat1", ContestID: "contest1", ID: "j1"})
	e := receive(t, cat)
	require.Equal(t, "j1", e.ID)
	require.NotZero(t, e.Seq)
	require.Equal(t, e, receive(t, contest))
	requireEmpty(t, other)
	requireEmpty(t, otherCat)
	require.Equal(t, 4, h.Subscribers())
}

// A subscriber that does not read never blocks the hub nor the others: its pending events are
// replaced by one resync.
func TestHubSlowSubscriberIsCoalescedAndOthersKeepReceiving(t *testing.T) {
	t.Parallel()
	h := NewHub(4, nil)
	_, cancelSlow := h.Subscribe("t", "c") // never read
	defer cancelSlow()
	fast, cancelFast := h.Subscribe("t", "c")
	defer cancelFast()
	// In step with the reader that keeps up: it gets every event, in order, while the other's
	// buffer overflowed long ago.
	for i := range 1000 {
		h.Publish(Event{Kind: KindScore, TenantID: "t", CategoryID: "c", ID: fmt.Sprint(i)})
		require.Equal(t, fmt.Sprint(i), receive(t, fast).ID)
	}
	require.NotZero(t, h.Coalesced())
}

func TestHubCoalescesIntoOneResync(t *testing.T) {
	t.Parallel()
	h := NewHub(2, nil)
	ch, cancel := h.Subscribe("t", "c")
	defer cancel()
	for i := range 5 {
		h.Publish(Event{Kind: KindScore, TenantID: "t", CategoryID: "c", ID: fmt.Sprint(i)})
	}
	// Buffer of 2: events 0 and 1 fill it, event 2 turns them into a resync, event 3 follows it,
	// event 4 finds it full again and coalesces once more.
	e := receive(t, ch)
	require.Equal(t, KindResync, e.Kind)
	require.Equal(t, "t", e.TenantID)
	require.Equal(t, "c", e.CategoryID)
	requireEmpty(t, ch)
}

func TestHubCancelAndClose(t *testing.T) {
	t.Parallel()
	h := NewHub(0, nil)
	a, cancelA := h.Subscribe("t", "c")
	b, cancelB := h.Subscribe("t", "c")
	cancelA()
	cancelA() // twice is harmless
	_, ok := <-a
	require.False(t, ok)
	require.Equal(t, 1, h.Subscribers())
	h.Publish(Event{Kind: KindScore, TenantID: "t", CategoryID: "c"})
	receive(t, b)
	h.Close()
	_, ok = <-b
	require.False(t, ok)
	cancelB() // after Close: harmless
	c, _ := h.Subscribe("t", "c")
	_, ok = <-c
	require.False(t, ok, "a subscription after Close ends at once")
	require.Zero(t, h.Subscribers())
}

func TestHubResyncReachesEverySubscriber(t *testing.T) {
	t.Parallel()
	h := NewHub(0, nil)
	a, ca := h.Subscribe("t", "c1")
	defer ca()
	b, cb := h.SubscribeContest("t", "k1")
	defer cb()
	h.Resync()
	ea, eb := receive(t, a), receive(t, b)
	require.Equal(t, Event{Kind: KindResync, TenantID: "t", CategoryID: "c1", Seq: ea.Seq}, ea)
	require.Equal(t, KindResync, eb.Kind)
	require.Equal(t, "k1", eb.CategoryID)
}

func TestParseEvent(t *testing.T) {
	t.Parallel()
	e, err := parseEvent(`{"kind":"score","tenant_id":"t","category_id":"c","contest_id":"k","id":"j","data":{"count":2}}`)
	require.NoError(t, err)
	require.Equal(t, "k", e.ContestID)
	require.JSONEq(t, `{"count":2}`, string(e.Data))
	for _, bad := range []string{``, `{}`, `{"kind":"score"}`, `{"kind":"x\ny","tenant_id":"t","category_id":"c"}`, `[1]`} {
		_, err := parseEvent(bad)
		require.Error(t, err, bad)
	}
}

func TestHubMetrics(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	h := NewHub(1, nil)
	h.Register(reg)
	_, cancel := h.Subscribe("t", "c")
	defer cancel()
	for range 3 {
		h.Publish(Event{Kind: KindScore, TenantID: "t", CategoryID: "c"})
	}
	got := map[string]float64{}
	families, err := reg.Gather()
	require.NoError(t, err)
	for _, f := range families {
		m := f.GetMetric()[0]
		got[f.GetName()] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
	}
	require.Equal(t, map[string]float64{"eventmanager_live_subscribers": 1, "eventmanager_live_coalesced_total": 2,
		"eventmanager_live_events_total": 3}, got)
}
