package live

import (
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/eventmanager/eventmanager/internal/pglisten"
)

// DefaultBuffer is how many events a subscriber may fall behind before its events are coalesced.
const DefaultBuffer = 64

// Hub fans events out to subscribers. Publishing never blocks: a subscriber whose buffer is full
// has its pending events replaced by one resync event (the page refetches everything, which is
// what the lost events would have made it do anyway).
type Hub struct {
	buffer int
	log    *slog.Logger

	mu     sync.RWMutex
	subs   map[scope]map[*subscriber]struct{}
	closed bool

	seq       atomic.Uint64
	coalesced atomic.Uint64
	count     atomic.Int64
}

// scope is what a subscriber follows: a category or a contest of a tenant.
type scope struct{ tenantID, id string }

type subscriber struct {
	scope scope
	mu    sync.Mutex // serialises the coalescing of concurrent publishers
	ch    chan Event
}

// NewHub returns a hub whose subscribers buffer up to buffer events (DefaultBuffer when <= 0).
func NewHub(buffer int, log *slog.Logger) *Hub {
	if buffer <= 0 {
		buffer = DefaultBuffer
	}
	if log == nil {
		log = slog.Default()
	}
	return &Hub{buffer: buffer, log: log, subs: map[scope]map[*subscriber]struct{}{}}
}

// Listen has l feed the hub: every notification on Channel is published, and a resync goes to
// every subscriber whenever notifications may have been missed.
func (h *Hub) Listen(l *pglisten.Listener) {
	l.Handle(Channel, pglisten.Handler{Notify: h.notify, Resync: h.Resync})
}

func (h *Hub) notify(payload string) {
	e, err := parseEvent(payload)
	if err != nil {
		h.log.Warn("live: notification ignored", "error", err.Error(), "bytes", len(payload))
		return
	}
	h.Publish(e)
}

// Subscribe follows the events of one category of a tenant. The channel is closed by cancel, or
// when the hub closes; cancel may be called more than once.
func (h *Hub) Subscribe(tenantID, categoryID string) (events <-chan Event, cancel func()) {
	return h.subscribe(scope{tenantID, categoryID})
}

// SubscribeContest follows the events of every category of a contest.
func (h *Hub) SubscribeContest(tenantID, contestID string) (events <-chan Event, cancel func()) {
	return h.subscribe(scope{tenantID, contestID})
}

func (h *Hub) subscribe(sc scope) (<-chan Event, func()) {
	s := &subscriber{scope: sc, ch: make(chan Event, h.buffer)}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		close(s.ch)
		return s.ch, func() {}
	}
	set := h.subs[sc]
	if set == nil {
		set = map[*subscriber]struct{}{}
		h.subs[sc] = set
	}
	set[s] = struct{}{}
	h.mu.Unlock()
	h.count.Add(1)
	var once sync.Once
	return s.ch, func() { once.Do(func() { h.remove(s) }) }
}

func (h *Hub) remove(s *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	set, ok := h.subs[s.scope]
	if _, subscribed := set[s]; !ok || !subscribed {
		return // the hub closed it already
	}
	delete(set, s)
	if len(set) == 0 {
		delete(h.subs, s.scope)
	}
	h.count.Add(-1)
	// Publishers send under the read lock, so none is sending now.
	close(s.ch)
}

// Publish hands e to the subscribers of its category and of its contest. It never blocks.
func (h *Hub) Publish(e Event) {
	e.Seq = h.seq.Add(1)
	// Encoded once, not once per stream: a change reaches every open board.
	e.encoded = nil
	if b, err := json.Marshal(e); err == nil {
		e.encoded = b
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	for s := range h.subs[scope{e.TenantID, e.CategoryID}] {
		h.send(s, e)
	}
	if e.ContestID != "" && e.ContestID != e.CategoryID {
		for s := range h.subs[scope{e.TenantID, e.ContestID}] {
			h.send(s, e)
		}
	}
}

// Resync tells every subscriber that events may have been missed.
func (h *Hub) Resync() {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for sc, set := range h.subs {
		e := Event{Kind: KindResync, TenantID: sc.tenantID, CategoryID: sc.id, Seq: h.seq.Add(1)}
		for s := range set {
			h.send(s, e)
		}
	}
}

// send delivers e without blocking; when the buffer is full, the pending events are dropped and
// a single resync takes their place. Called under h.mu's read lock.
func (h *Hub) send(s *subscriber, e Event) {
	select {
	case s.ch <- e:
		return
	default:
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for drained := false; !drained; {
		select {
		case <-s.ch:
		default:
			drained = true
		}
	}
	h.coalesced.Add(1)
	resync := Event{Kind: KindResync, TenantID: s.scope.tenantID, CategoryID: s.scope.id, Seq: e.Seq}
	select {
	case s.ch <- resync:
	default: // another publisher filled it again meanwhile: it will coalesce in turn
	}
}

// Close ends every subscription (open streams finish, so a graceful shutdown is not held up by
// them) and makes later subscriptions end at once.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.closed = true
	for _, set := range h.subs {
		for s := range set {
			close(s.ch)
			h.count.Add(-1)
		}
	}
	h.subs = map[scope]map[*subscriber]struct{}{}
}

// Subscribers is the number of open subscriptions.
func (h *Hub) Subscribers() int { return int(h.count.Load()) }

// Coalesced is how many times a slow subscriber's pending events were replaced by a resync.
func (h *Hub) Coalesced() uint64 { return h.coalesced.Load() }
