package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/stretchr/testify/require"
)

// A request's queries share one pool_timeout: under overload a request that needs a connection
// for its token check and another for its query is answered after about pool_timeout, not twice
// that, and once its wait is spent it does not queue again.
func TestPoolTimeoutIsPerRequest(t *testing.T) {
	t.Parallel()
	const poolTimeout = time.Second
	d := open(t, dbtest.NewDatabase(t)+"&connection_limit=1&pool_timeout=1")
	ctx := context.Background()
	var one int
	require.NoError(t, d.QueryRow(ctx, opTest, "", "SELECT 1", nil, &one))

	held, err := d.Pool().Acquire(ctx)
	require.NoError(t, err)
	req := db.WithRequestID(ctx, "req-1")
	start := time.Now()
	err = d.QueryRow(req, opTest, "", "SELECT 1", nil, &one)
	require.ErrorIs(t, err, db.ErrPoolTimeout)
	require.GreaterOrEqual(t, time.Since(start), poolTimeout-50*time.Millisecond)

	// The connection is free now, but the request has spent its wait: refused without queueing.
	// Another request gets a whole pool_timeout.
	held.Release()
	start = time.Now()
	require.ErrorIs(t, d.QueryRow(req, opTest, "", "SELECT 1", nil, &one), db.ErrPoolTimeout)
	require.Less(t, time.Since(start), 100*time.Millisecond)
	require.NoError(t, d.QueryRow(db.WithRequestID(ctx, "req-2"), opTest, "", "SELECT 1", nil, &one))

	// The wait counts across queries: 600 ms on the first leaves 400 ms for the second.
	held, err = d.Pool().Acquire(ctx)
	require.NoError(t, err)
	time.AfterFunc(600*time.Millisecond, held.Release)
	req = db.WithRequestID(ctx, "req-3")
	require.NoError(t, d.QueryRow(req, opTest, "", "SELECT 1", nil, &one))
	held, err = d.Pool().Acquire(ctx)
	require.NoError(t, err)
	defer held.Release()
	start = time.Now()
	require.ErrorIs(t, d.QueryRow(req, opTest, "", "SELECT 1", nil, &one), db.ErrPoolTimeout)
	elapsed := time.Since(start)
	require.Greater(t, elapsed, 300*time.Millisecond)
	require.Less(t, elapsed, 500*time.Millisecond)
}

// A request whose client has gone never takes a connection.
func TestCancelledRequestTakesNoConnection(t *testing.T) {
	t.Parallel()
	d := open(t, dbtest.NewDatabase(t)+"&connection_limit=1&pool_timeout=5")
	ctx, cancel := context.WithCancel(db.WithRequestID(context.Background(), "gone"))
	cancel()
	var one int
	require.ErrorIs(t, d.QueryRow(ctx, opTest, "", "SELECT 1", nil, &one), db.ErrCanceled)
	require.EqualValues(t, 0, d.Pool().Stat().AcquireCount())
}
