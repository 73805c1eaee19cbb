package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/live"
	"github.com/eventmanager/eventmanager/internal/store"
	"golang.org/x/sync/singleflight"
)

// AudienceLinkPath is the page an audience link opens, with the secret as ?token=. The page reads
// GET /api/v1/audience?token= and follows GET /api/v1/audience/stream?token=.
const AudienceLinkPath = "/audience"

// audienceScope reads the scope from the route: /categories/{id}/... or /contests/{id}/....
func audienceScope(r *http.Request) (store.AudienceScope, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return store.AudienceScope{}, err
	}
	if strings.HasPrefix(r.URL.Path, "/api/v1/contests/") {
		return store.AudienceScope{ContestID: id}, nil
	}
	return store.AudienceScope{CategoryID: id}, nil
}

type audienceLinkResponse struct {
	store.AudienceLink
	URL   string `json:"url"`
	QRURL string `json:"qr_url"`
}

func (s *Server) createAudienceLink(w http.ResponseWriter, r *http.Request) error {
	sc, err := audienceScope(r)
	if err != nil {
		return err
	}
	if err := decodeOptionalJSON(w, r, &struct{}{}); err != nil { // no body is needed; {} is accepted
		return err
	}
	l, err := s.store.CreateAudienceLink(r.Context(), principal(r.Context()).TenantID, s.actor(r), sc)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, audienceLinkResponse{AudienceLink: l,
		URL: s.linkAddress(r, AudienceLinkPath, l.Secret), QRURL: qrAddress("audience-links", l.ID, l.Secret)})
	return nil
}

func (s *Server) listAudienceLinks(w http.ResponseWriter, r *http.Request) error {
	sc, err := audienceScope(r)
	if err != nil {
		return err
	}
	links, err := s.store.ListAudienceLinks(r.Context(), principal(r.Context()).TenantID, sc)
	if err != nil {
		return err
	}
	writeAll(w, links)
	return nil
}

func (s *Server) revokeAudienceLink(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	l, err := s.store.RevokeAudienceLink(r.Context(), principal(r.Context()).TenantID, s.actor(r), id)
	if err != nil {
		return err
	}
	s.live.audience.forget()
	writeJSON(w, http.StatusOK, l)
	return nil
}

func (s *Server) audienceLinkQR(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	secret, err := qrSecret(r)
	if err != nil {
		return err
	}
	t, err := s.store.ResolveAudienceLink(r.Context(), secret)
	if err != nil || t.LinkID != id || t.TenantID != principal(r.Context()).TenantID {
		return errNotFound
	}
	return writeQR(w, s.linkAddress(r, AudienceLinkPath, secret))
}

// audienceToken reads ?token=; anything but a token's shape is not found.
func audienceToken(r *http.Request) (string, error) {
	t := r.URL.Query().Get("token")
	if !auth.LooksLikeToken(t) {
		return "", errNotFound
	}
	return t, nil
}

func (s *Server) audienceView(w http.ResponseWriter, r *http.Request) error {
	if err := s.limitPublic(w, r, "audience"); err != nil {
		return err
	}
	token, err := audienceToken(r)
	if err != nil {
		return err
	}
	v, err := s.live.audience.get(r.Context(), s.store, token)
	if err != nil {
		return err
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	writeJSON(w, http.StatusOK, v)
	return nil
}

// audienceStream follows the link's category or contest. Its events carry the kind and the
// category only (no ids of judges or rows); device events are left out. It ends when the link is
// revoked.
func (s *Server) audienceStream(w http.ResponseWriter, r *http.Request) error {
	if err := s.limitPublic(w, r, "audience"); err != nil {
		return err
	}
	token, err := audienceToken(r)
	if err != nil {
		return err
	}
	t, err := s.store.ResolveAudienceLink(r.Context(), token)
	if err != nil {
		return err
	}
	release, err := s.openStream()
	if err != nil {
		return err
	}
	defer release()
	var events <-chan live.Event
	var cancel func()
	if t.ContestID != "" {
		events, cancel = s.live.Hub.SubscribeContest(t.TenantID, t.ContestID)
	} else {
		events, cancel = s.live.Hub.Subscribe(t.TenantID, t.CategoryID)
	}
	defer cancel()
	out := make(chan live.Event)
	go s.audienceEvents(r.Context(), t, token, events, out)
	live.ServeSSE(w, r, out)
	return nil
}

// audienceEvents passes what the audience may see from events to out, and closes out when the
// link is revoked or ctx ends.
func (s *Server) audienceEvents(ctx context.Context, t store.AudienceTarget, token string, events <-chan live.Event, out chan<- live.Event) {
	defer close(out)
	for {
		var e live.Event
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			e = ev
		}
		switch e.Kind {
		case live.KindDevice:
			continue
		case live.KindAudienceLink:
			if e.ID == t.LinkID {
				return
			}
			continue
		case live.KindResync:
			// A revocation may be among the missed events.
			if _, err := s.store.ResolveAudienceLink(ctx, token); err != nil {
				return
			}
		}
		s.live.audience.drop(token)
		select {
		case out <- live.Event{Kind: e.Kind, CategoryID: e.CategoryID, ContestID: e.ContestID, Seq: e.Seq}:
		case <-ctx.Done():
			return
		}
	}
}

// audienceCache shares one read of a link's view among the screens that ask within a second: a
// venue's screens all refetch on the same event. An event on a link's stream drops the link's
// entry (drop) before the screen hears of it, so that its refetch never gets a view read before
// the change: a read started before a drop is neither shared with later callers nor kept.
type audienceCache struct {
	group singleflight.Group
	mu    sync.Mutex
	views map[string]cachedView
	gens  map[string]uint64 // bumped by drop
}

type cachedView struct {
	view store.AudienceView
	at   time.Time
	gen  uint64
}

const (
	audienceCacheAge = time.Second
	audienceCacheMax = 1000
)

func (c *audienceCache) get(ctx context.Context, st *store.Store, token string) (store.AudienceView, error) {
	key := string(auth.HashToken(token))
	c.mu.Lock()
	gen := c.gens[key]
	if v, ok := c.views[key]; ok && v.gen == gen && time.Since(v.at) < audienceCacheAge {
		c.mu.Unlock()
		return v.view, nil
	}
	c.mu.Unlock()
	v, err, _ := c.group.Do(key+"|"+strconv.FormatUint(gen, 10), func() (any, error) {
		// Not the request's context: the read is shared by the screens that wait for it.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		t, err := st.ResolveAudienceLink(rctx, token)
		if err != nil {
			return nil, err
		}
		view, err := st.AudienceView(rctx, t)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if len(c.views) >= audienceCacheMax {
			c.views, c.gens = nil, nil
		}
		if c.gens[key] == gen {
			if c.views == nil {
				c.views = map[string]cachedView{}
			}
			c.views[key] = cachedView{view: view, at: time.Now(), gen: gen}
		}
		return view, nil
	})
	if err != nil {
		return store.AudienceView{}, err
	}
	return v.(store.AudienceView), nil
}

// drop forgets the link's view: something it shows has changed.
func (c *audienceCache) drop(token string) {
	key := string(auth.HashToken(token))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gens == nil {
		c.gens = map[string]uint64{}
	}
	c.gens[key]++
	delete(c.views, key)
}

// forget drops every cached view, so that a revocation shows at once on this instance.
func (c *audienceCache) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gens == nil {
		c.gens = map[string]uint64{}
	}
	for k := range c.views {
		c.gens[k]++ // reads in flight are not kept either
	}
	c.views = nil
}
