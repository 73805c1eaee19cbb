package db

import (
	"context"
	"sync/atomic"
	"time"
)

type requestKey struct{}

// request is what the database layer knows of the HTTP request (or job) a query belongs to.
type request struct {
	id string
	// waited is the time the request has spent waiting for pool connections so far (ns). A request
	// often needs several connections one after the other (the token check, then the query): each
	// wait counts against one pool_timeout for the whole request, so that under overload a request
	// is answered 503 within about pool_timeout instead of once per query.
	waited atomic.Int64
}

// WithRequestID marks the start of a request: the context carries the request id into query logs
// and the request's budget of pool_timeout for waiting on connections, shared by all its queries.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestKey{}, &request{id: id})
}

// RequestID is the request id carried by ctx, or "".
func RequestID(ctx context.Context) string {
	if r, ok := ctx.Value(requestKey{}).(*request); ok {
		return r.id
	}
	return ""
}

// poolWaitLeft is how long a query of ctx's request may still wait for a connection: pool_timeout
// less what the request has already waited. Outside a request every query has a whole pool_timeout.
func poolWaitLeft(ctx context.Context, poolTimeout time.Duration) (time.Duration, *request) {
	r, _ := ctx.Value(requestKey{}).(*request)
	if r == nil {
		return poolTimeout, nil
	}
	return poolTimeout - time.Duration(r.waited.Load()), r
}
