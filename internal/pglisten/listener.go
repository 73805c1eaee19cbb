// Package pglisten keeps one PostgreSQL connection LISTENing on a set of channels and hands every
// notification to the channel's handler, reconnecting with backoff when the connection breaks.
// One Listener serves every consumer of an instance (rate-limit invalidation, live updates), so an
// instance holds one listening connection whatever else it does.
package pglisten

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// Handler receives the notifications of one channel.
type Handler struct {
	// Notify is called with each notification's payload, in order, on the listener's goroutine:
	// it must not block.
	Notify func(payload string)
	// Resync, if set, is called when notifications may have been missed: when the connection is
	// lost and again once LISTEN is back in place (changes made before LISTEN are not notified).
	Resync func()
}

// Listener holds one connection of its own, outside the pool (LISTEN needs a session; a pooled
// connection would be given back, and PgBouncer in transaction mode cannot hold one).
type Listener struct {
	connString string
	log        *slog.Logger

	mu        sync.Mutex
	handlers  map[string]Handler
	listening atomic.Bool

	// OnListen, if set, is called after each successful LISTEN (tests wait for it).
	OnListen func()
	// MinBackoff and MaxBackoff bound the wait between reconnection attempts.
	MinBackoff, MaxBackoff time.Duration
	// PingEvery is how long the connection may stay silent before it is checked.
	PingEvery time.Duration
	// AppName is the connection's application_name (ApplicationName when empty), unless the
	// connection string names one.
	AppName string
}

// New returns a listener without channels. connString must reach PostgreSQL directly
// (DIRECT_DATABASE_URL when DATABASE_URL goes through PgBouncer).
func New(connString string, log *slog.Logger) *Listener {
	if log == nil {
		log = slog.Default()
	}
	return &Listener{connString: connString, log: log, handlers: map[string]Handler{},
		MinBackoff: 100 * time.Millisecond, MaxBackoff: 5 * time.Second, PingEvery: 30 * time.Second}
}

// Handle adds a channel. Call it before Run; a channel added later is listened to from the next
// (re)connection on.
func (l *Listener) Handle(channel string, h Handler) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.handlers[channel] = h
}

func (l *Listener) snapshot() map[string]Handler {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]Handler, len(l.handlers))
	for c, h := range l.handlers {
		out[c] = h
	}
	return out
}

func resyncAll(hs map[string]Handler) {
	for _, h := range hs {
		if h.Resync != nil {
			h.Resync()
		}
	}
}

// Listening reports whether the LISTEN is in place, so that notifications reach the handlers. A
// cache that must never serve a revoked entry bypasses itself while it is false.
func (l *Listener) Listening() bool { return l.listening.Load() }

// Run listens until ctx ends.
func (l *Listener) Run(ctx context.Context) {
	backoff := l.MinBackoff
	for ctx.Err() == nil {
		err := l.session(ctx)
		l.listening.Store(false)
		if ctx.Err() != nil {
			return
		}
		// Whatever is notified while disconnected is lost.
		resyncAll(l.snapshot())
		if errors.Is(err, errListenedLong) {
			backoff = l.MinBackoff
		}
		l.log.Warn("database listener disconnected; reconnecting", "error", err.Error(), "backoff", backoff.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, l.MaxBackoff)
	}
}

// errListenedLong marks a session that worked for a while before it broke: reconnect quickly.
var errListenedLong = errors.New("connection lost")

// ApplicationName names the listening connection in pg_stat_activity (unless the connection
// string names one), so that an operator can count the instances' listeners.
const ApplicationName = "eventmanager-listener"

// session connects, listens and waits for notifications until the connection fails.
func (l *Listener) session(ctx context.Context) error {
	cfg, err := pgx.ParseConfig(l.connString)
	if err != nil {
		return err
	}
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = cmp.Or(l.AppName, ApplicationName)
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.ConnectConfig(cctx, cfg)
	cancel()
	if err != nil {
		return err
	}
	defer func() {
		// A dead peer must not hold the reconnection up: the goodbye message gets 5 s.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	handlers := l.snapshot()
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	for channel := range handlers {
		if _, err = conn.Exec(lctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
			break
		}
	}
	cancel()
	if err != nil {
		return err
	}
	// Changes made before LISTEN were not notified.
	resyncAll(handlers)
	l.listening.Store(true)
	if l.OnListen != nil {
		l.OnListen()
	}
	for {
		wctx, cancel := context.WithTimeout(ctx, l.PingEvery)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			if h, ok := handlers[n.Channel]; ok && h.Notify != nil {
				h.Notify(n.Payload)
			}
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, context.DeadlineExceeded):
			// Silence: make sure the connection is still alive (a dead peer is not always noticed).
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err = conn.Ping(pctx)
			cancel()
			if err != nil {
				return errors.Join(errListenedLong, err)
			}
		default:
			return errors.Join(errListenedLong, err)
		}
	}
}
