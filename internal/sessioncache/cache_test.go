package sessioncache

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/stretchr/testify/require"
)

var errNotFound = errors.New("not found")

// fakeSessions verifies tokens "good-<user>-<tenant>" and refuses the rest; it counts its calls.
type fakeSessions struct {
	calls   atomic.Int64
	expires time.Time
	// block, if set, holds every load until it is closed (after entered is signalled).
	block   chan struct{}
	entered chan struct{}
}

func (f *fakeSessions) SessionByHash(_ context.Context, h []byte) (auth.Principal, time.Time, error) {
	f.calls.Add(1)
	if f.entered != nil {
		f.entered <- struct{}{}
		<-f.block
	}
	tok, ok := tokens.Load(string(h))
	if !ok {
		return auth.Principal{}, time.Time{}, errNotFound
	}
	_, rest, _ := strings.Cut(tok.(string), "-")
	user, tenant, _ := strings.Cut(rest, "-")
	return auth.Principal{UserID: user, TenantID: tenant, Role: auth.Admin}, f.expires, nil
}

// tokens maps the hash of every "good-" token the tests use to the token.
var tokens sync.Map

func good(user, tenant string) string {
	t := "good-" + user + "-" + tenant
	tokens.Store(string(auth.HashToken(t)), t)
	return t
}

type liveFlag struct{ atomic.Bool }

func (l *liveFlag) Listening() bool { return l.Load() }

func newLive(src Source, o Options) (*Cache, *liveFlag) {
	c := New(src, o)
	l := &liveFlag{}
	l.Store(true)
	c.UseListener(l)
	return c, l
}

func TestSteadyStateAsksTheDatabaseOnce(t *testing.T) {
	t.Parallel()
	src := &fakeSessions{expires: time.Now().Add(time.Hour)}
	c, _ := newLive(src, Options{TTL: time.Minute})
	tok := good("u1", "t1")
	for range 1000 {
		p, err := c.Authenticate(context.Background(), tok)
		require.NoError(t, err)
		require.Equal(t, "u1", p.UserID)
	}
	require.Equal(t, int64(1), src.calls.Load())
}

// Without a live invalidation channel every check goes to the database (fail closed).
func TestNotListeningBypassesTheCache(t *testing.T) {
	t.Parallel()
	src := &fakeSessions{expires: time.Now().Add(time.Hour)}
	c, live := newLive(src, Options{TTL: time.Minute})
	tok := good("u2", "t1")
	_, err := c.Authenticate(context.Background(), tok)
	require.NoError(t, err)
	live.Store(false)
	for range 10 {
		_, err := c.Authenticate(context.Background(), tok)
		require.NoError(t, err)
	}
	require.Equal(t, int64(11), src.calls.Load())
	noListener := New(src, Options{TTL: time.Minute})
	for range 3 {
		_, err := noListener.Authenticate(context.Background(), tok)
		require.NoError(t, err)
	}
	require.Equal(t, 0, noListener.Len())
}

func TestInvalidateDropsTheUserOrTheTenant(t *testing.T) {
	t.Parallel()
	src := &fakeSessions{expires: time.Now().Add(time.Hour)}
	c, _ := newLive(src, Options{TTL: time.Minute})
	a1, a2, b1 := good("ua", "ta"), good("ua2", "ta"), good("ub", "tb")
	for _, tok := range []string{a1, a2, b1} {
		_, err := c.Authenticate(context.Background(), tok)
		require.NoError(t, err)
	}
	require.Equal(t, 3, c.Len())
	c.Invalidate("u:ua")
	require.Equal(t, 2, c.Len())
	_, ok := c.Get(auth.HashToken(a1))
	require.False(t, ok)
	c.Invalidate("t:ta")
	require.Equal(t, 1, c.Len())
	_, ok = c.Get(auth.HashToken(b1))
	require.True(t, ok)
	c.Invalidate("something else")
	require.Equal(t, 0, c.Len())
}

// A load that read the database before an invalidation is not kept: it may hold the old role.
// The source is held inside the load while the invalidation arrives.
func TestLoadRacingAnInvalidationIsNotKept(t *testing.T) {
	t.Parallel()
	src := &fakeSessions{expires: time.Now().Add(time.Hour), block: make(chan struct{}), entered: make(chan struct{})}
	c, _ := newLive(src, Options{TTL: time.Minute})
	tok := good("ur", "tr")
	done := make(chan error)
	go func() {
		_, err := c.Authenticate(context.Background(), tok)
		done <- err
	}()
	<-src.entered
	c.Invalidate("u:ur")
	close(src.block)
	require.NoError(t, <-done)
	require.Equal(t, 0, c.Len())

	// The same when the listener drops and reconnects (Flush) during the load.
	src2 := &fakeSessions{expires: time.Now().Add(time.Hour), block: make(chan struct{}), entered: make(chan struct{})}
	c2, _ := newLive(src2, Options{TTL: time.Minute})
	go func() {
		_, err := c2.Authenticate(context.Background(), tok)
		done <- err
	}()
	<-src2.entered
	c2.Flush()
	close(src2.block)
	require.NoError(t, <-done)
	require.Equal(t, 0, c2.Len())
}

func TestEntriesEndAtTheTTLAndAtTheSessionExpiry(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	src := &fakeSessions{expires: now.Add(time.Hour)}
	c, _ := newLive(src, Options{TTL: 30 * time.Second})
	c.now = func() time.Time { return now }
	tok := good("ut", "tt")
	_, err := c.Authenticate(context.Background(), tok)
	require.NoError(t, err)
	now = now.Add(29 * time.Second)
	_, ok := c.Get(auth.HashToken(tok))
	require.True(t, ok)
	now = now.Add(time.Second)
	_, ok = c.Get(auth.HashToken(tok))
	require.False(t, ok, "past the TTL")

	src.expires = now.Add(10 * time.Second)
	_, err = c.Authenticate(context.Background(), tok)
	require.NoError(t, err)
	now = now.Add(10 * time.Second)
	_, ok = c.Get(auth.HashToken(tok))
	require.False(t, ok, "past the session's expiry, within the TTL")
}

// A storm of distinct bad tokens caches nothing, and distinct good ones never more than Size.
func TestMissStormIsBounded(t *testing.T) {
	t.Parallel()
	src := &fakeSessions{expires: time.Now().Add(time.Hour)}
	c, _ := newLive(src, Options{Size: 500, TTL: time.Minute})
	for i := range 10000 {
		_, err := c.Authenticate(context.Background(), "bad-"+strconv.Itoa(i))
		require.ErrorIs(t, err, errNotFound)
	}
	require.Equal(t, 0, c.Len(), "failed checks are not cached")
	for i := range 2000 {
		_, err := c.Authenticate(context.Background(), good("storm"+strconv.Itoa(i), "ts"))
		require.NoError(t, err)
		require.LessOrEqual(t, c.Len(), 500)
	}
	require.Equal(t, 500, c.Len())
}

func TestZeroTTLTurnsTheCacheOff(t *testing.T) {
	t.Parallel()
	src := &fakeSessions{expires: time.Now().Add(time.Hour)}
	c, _ := newLive(src, Options{TTL: 0})
	tok := good("uz", "tz")
	for range 3 {
		_, err := c.Authenticate(context.Background(), tok)
		require.NoError(t, err)
	}
	require.Equal(t, int64(3), src.calls.Load())
	require.Equal(t, 0, c.Len())
}
