package db

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// cancelGuard is how long a connection stays out of use after its cancel request, so that a
// cancel still on its way to the server does not stop the connection's next query (pgx's own
// handler waits as long, for the same reason).
const cancelGuard = 100 * time.Millisecond

// bouncerCancelHandler is pgx's CancelRequestContextWatcherHandler with one difference: the cancel
// request's connection is always left for the other side to close. pgx closes it as soon as the
// cancelled query returns, which may be before PgBouncer has forwarded the request, and PgBouncer
// 1.18 (Debian 12's) then stops on an assertion ("disconnect_client(): bad client state: 0"),
// dropping every client. Found by the timeout tests through a real PgBouncer.
type bouncerCancelHandler struct {
	conn          *pgconn.PgConn
	deadlineDelay time.Duration
	done          chan struct{}
}

// HandleCancel sends the cancel request in the background and bounds the wait on the connection.
func (h *bouncerCancelHandler) HandleCancel(context.Context) {
	h.done = make(chan struct{})
	deadline := time.Now().Add(h.deadlineDelay)
	_ = h.conn.Conn().SetDeadline(deadline)
	go func() {
		defer close(h.done)
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		defer cancel()
		_ = h.conn.CancelRequest(ctx)
		time.Sleep(cancelGuard)
	}()
}

// HandleUnwatchAfterCancel waits for the cancel request to finish before the connection is used
// again.
func (h *bouncerCancelHandler) HandleUnwatchAfterCancel() {
	<-h.done
	_ = h.conn.Conn().SetDeadline(time.Time{})
}
