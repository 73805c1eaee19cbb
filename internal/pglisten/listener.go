// Package pglisten keeps one PostgreSQL LISTEN open and hands each notification to an in-process
// cache, so that every instance drops what another instance changed.
package pglisten

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// Target is the cache a Listener keeps current.
type Target interface {
	// Invalidate handles the payload of one notification.
	Invalidate(payload string)
	// Flush drops everything: notifications may have been missed.
	Flush()
}

// Listener holds one connection of its own, outside the pool (LISTEN needs a session; a pooled
// connection would be given back, and PgBouncer in transaction mode cannot hold one), and hands
// every notification on its channel to the target. When the connection breaks it reconnects with
// backoff and flushes the target: notifications sent while it was away are lost.
type Listener struct {
	connString string
	channel    string
	target     Target
	log        *slog.Logger
	listening  atomic.Bool
	// OnListen, if set, is called after each successful LISTEN (tests wait for it).
	OnListen func()
	// MinBackoff and MaxBackoff bound the wait between reconnection attempts.
	MinBackoff, MaxBackoff time.Duration
	// PingEvery is how long the connection may stay silent before it is checked.
	PingEvery time.Duration
}

// New returns a listener of channel that invalidates target. connString must reach PostgreSQL
// directly (DIRECT_DATABASE_URL when DATABASE_URL goes through PgBouncer).
func New(connString, channel string, target Target, log *slog.Logger) *Listener {
	if log == nil {
		log = slog.Default()
	}
	return &Listener{connString: connString, channel: channel, target: target, log: log,
		MinBackoff: 100 * time.Millisecond, MaxBackoff: 5 * time.Second, PingEvery: 30 * time.Second}
}

// Listening reports whether the LISTEN is in place, so that notifications reach the target. A
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
		// Whatever was missed while disconnected is dropped from the cache.
		l.target.Flush()
		if errors.Is(err, errListenedLong) {
			backoff = l.MinBackoff
		}
		l.log.Warn("listener disconnected; reconnecting", "channel", l.channel, "error", err.Error(), "backoff", backoff.String())
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

// session connects, listens and waits for notifications until the connection fails.
func (l *Listener) session(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.Connect(cctx, l.connString)
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
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	_, err = conn.Exec(lctx, "LISTEN "+pgx.Identifier{l.channel}.Sanitize())
	cancel()
	if err != nil {
		return err
	}
	// Changes made before LISTEN are not notified: start from an empty cache.
	l.target.Flush()
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
			l.target.Invalidate(n.Payload)
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
