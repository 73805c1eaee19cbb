package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/eventmanager/eventmanager/internal/replicatest"
	"github.com/stretchr/testify/require"
)

// Read-only queries of the complex and report classes go to a real streaming replica while it
// keeps up; to the primary when it lags (replay paused while the primary writes), when it is
// down, and for a tenant that has just written (whose read then sees its write). Which server
// answered is told by pg_is_in_recovery() in the query itself.
func TestReadReplicaRouting(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.NewDatabase(t)
	rep := replicatest.Start(t) // a copy of the cluster, this database included
	primary := open(t, dbURL+"&connection_limit=4")
	replicaDB := open(t, rep.URLFor(dbURL)+"&connection_limit=2&connect_timeout=1&pool_timeout=1")
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	primary.UseReplica(ctx, replicaDB, time.Second)

	const tenant = "6f1c7a52-3f9e-4a57-9a8e-0c2b5d9e1a11"
	opRead := db.Op{Name: "test.replica_read", Class: db.Complex, ReadOnly: true}
	opWrite := db.Op{Name: "test.replica_write", Class: db.Simple}
	answeredBy := func(op db.Op, tenantID string) string {
		t.Helper()
		var recovering bool
		require.NoError(t, primary.QueryRow(ctx, op, tenantID, `SELECT pg_is_in_recovery()`, nil, &recovering))
		if recovering {
			return "replica"
		}
		return "primary"
	}
	onReplica := func() bool { return answeredBy(opRead, "") == "replica" }
	onPrimary := func() bool { return answeredBy(opRead, "") == "primary" }

	// Normal: the replica answers; queries not marked read-only, or of a lighter class, do not go.
	require.Eventually(t, onReplica, 10*time.Second, 20*time.Millisecond)
	require.Equal(t, "primary", answeredBy(db.Op{Name: "test.unmarked", Class: db.Complex}, ""))
	require.Equal(t, "primary", answeredBy(db.Op{Name: "test.light", Class: db.Standard, ReadOnly: true}, ""))

	// Read-your-writes: right after a write for the tenant, its reads go to the primary and see
	// the write; another tenant's still go to the replica.
	_, err := primary.Exec(ctx, opWrite, "", `CREATE TABLE replica_probe (v int)`)
	require.NoError(t, err)
	require.Eventually(t, onReplica, 10*time.Second, 20*time.Millisecond)
	_, err = primary.Exec(ctx, opWrite, tenant, `INSERT INTO replica_probe VALUES (1)`)
	require.NoError(t, err)
	var n int
	require.NoError(t, primary.QueryRow(ctx, opRead, tenant, `SELECT count(*) FROM replica_probe`, nil, &n))
	require.Equal(t, 1, n, "the tenant's read right after its write missed the write")
	require.Equal(t, "primary", answeredBy(opRead, tenant))
	require.Equal(t, "replica", answeredBy(opRead, "other"))
	// The window ends: the tenant's reads go back to the replica, which has the row by then.
	require.Eventually(t, func() bool { return answeredBy(opRead, tenant) == "replica" }, 10*time.Second, 20*time.Millisecond)
	require.NoError(t, primary.QueryRow(ctx, opRead, tenant, `SELECT count(*) FROM replica_probe`, nil, &n))
	require.Equal(t, 1, n)

	// Lagging: replay paused while the primary goes on writing.
	rep.PauseReplay()
	_, err = primary.Exec(ctx, opWrite, "", `INSERT INTO replica_probe VALUES (2)`)
	require.NoError(t, err)
	require.Eventually(t, onPrimary, 10*time.Second, 20*time.Millisecond, "a lagging replica still answers")
	require.NoError(t, primary.QueryRow(ctx, opRead, "", `SELECT count(*) FROM replica_probe`, nil, &n))
	require.Equal(t, 2, n)
	rep.ResumeReplay()
	require.Eventually(t, onReplica, 10*time.Second, 20*time.Millisecond, "the replica caught up but is not used")

	// Down: the very next query runs on the primary, without an error; back up, it is used again.
	rep.Stop()
	require.Equal(t, "primary", answeredBy(opRead, ""))
	require.Equal(t, "primary", answeredBy(opRead, ""))
	rep.Restart()
	require.Eventually(t, onReplica, 30*time.Second, 50*time.Millisecond, "the restarted replica is not used")
}
