package db_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/bouncertest"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/eventmanager/eventmanager/internal/store"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// The tenant setting is transaction-local, so it never outlives the query or transaction that set
// it, even when PgBouncer hands one server connection to every client in turn. Here PgBouncer has
// a single server connection; two tenants' queries (batches and transactions) and queries of no
// tenant take turns on it thousands of times, and each sees exactly its own rows. The queries have
// no tenant filter of their own: row-level security, fed by the setting, is all that separates
// the tenants.
func TestTenantSettingNeverLeaksThroughOneServerConnection(t *testing.T) {
	t.Parallel()
	const rounds = 1000 // per worker and query shape
	dbURL := dbtest.NewDatabase(t)
	b := bouncertest.Start(t, dbURL, bouncertest.Options{PoolSize: 1})
	d := open(t, b.URL()+"&connection_limit=6&pool_timeout=30")
	ctx := context.Background()

	st := store.New(d)
	owned := map[string]int{} // tenant id -> number of its events
	var tenants []string
	for i, events := range []int{3, 2} {
		slug := fmt.Sprintf("leak-%d", i)
		ten, _, err := st.CreateTenant(ctx, store.Actor{}, slug, slug,
			store.NewUser{Email: "admin@" + slug + ".test", Name: "Admin", Password: "correct horse battery", Role: auth.Admin})
		require.NoError(t, err)
		for k := range events {
			start := time.Date(2026, 5, 1+k, 18, 0, 0, 0, time.UTC)
			_, err := st.CreateEvent(ctx, ten.ID, store.Actor{}, store.EventInput{Name: "Show", StartDate: start, EndDate: start.Add(time.Hour)})
			require.NoError(t, err)
		}
		owned[ten.ID] = events
		tenants = append(tenants, ten.ID)
	}

	// Each answer carries the server's backend and the moment it ran, to show afterwards that one
	// server connection served everyone and that the tenants really took turns on it.
	type answer struct {
		tenant string
		pid    uint32
		at     time.Time
	}
	const sql = `SELECT coalesce(array_agg(tenant_id::text), '{}'), pg_backend_pid(), clock_timestamp() FROM events`
	op := db.Op{Name: "test.leak", Class: db.Standard}
	ask := func(tenant string, inTx bool) (answer, []string, error) {
		a := answer{tenant: tenant}
		var seen []string
		scan := func(row pgx.Row) error { return row.Scan(&seen, &a.pid, &a.at) }
		if inTx {
			return a, seen, d.InTx(ctx, op, tenant, func(tx *db.Tx) error { return scan(tx.QueryRow(sql)) })
		}
		err := d.QueryRow(ctx, op, tenant, sql, nil, &seen, &a.pid, &a.at)
		return a, seen, err
	}

	var (
		mu      sync.Mutex
		answers []answer
		wg      sync.WaitGroup
	)
	worker := func(tenant string, inTx bool) {
		defer wg.Done()
		mine := make([]answer, 0, rounds)
		defer func() { mu.Lock(); answers = append(answers, mine...); mu.Unlock() }()
		for range rounds {
			a, seen, err := ask(tenant, inTx)
			if err != nil {
				t.Error(err)
				return
			}
			want := slices.Repeat([]string{tenant}, owned[tenant])
			if tenant == "" {
				want = nil // no tenant: no tenant's row
			}
			if len(seen) != len(want) || (len(want) > 0 && !slices.Equal(seen, want)) {
				t.Errorf("tenant %q (transaction %v) saw %v", tenant, inTx, seen)
				return
			}
			mine = append(mine, a)
		}
	}
	began := time.Now()
	for _, tenant := range append(slices.Clone(tenants), "") {
		for _, inTx := range []bool{false, true} {
			wg.Add(1)
			go worker(tenant, inTx)
		}
	}
	wg.Wait()
	require.False(t, t.Failed())

	pids := map[uint32]bool{}
	slices.SortFunc(answers, func(x, y answer) int { return x.at.Compare(y.at) })
	turns := 0
	for i, a := range answers {
		pids[a.pid] = true
		if i > 0 && answers[i-1].tenant != a.tenant {
			turns++
		}
	}
	t.Logf("%d queries in %s on %d server connection(s); the tenant changed %d times between consecutive queries",
		len(answers), time.Since(began).Round(time.Millisecond), len(pids), turns)
	require.Len(t, answers, 6*rounds)
	require.Len(t, pids, 1, "PgBouncer used more than one server connection")
	// Six workers on one connection: most consecutive queries are of another tenant (or none).
	require.Greater(t, turns, len(answers)/4, "the tenants hardly took turns on the connection")
}
