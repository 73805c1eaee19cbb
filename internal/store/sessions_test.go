package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/config"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/eventmanager/eventmanager/internal/store"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// Expired sessions are refused at once and removed by the purge; live ones stay.
func TestExpiredSessionsRefusedAndPurged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	settings, err := config.ParseDatabaseURL(dbtest.NewDatabase(t))
	require.NoError(t, err)
	d, err := db.Open(settings, db.Options{Timeouts: config.DefaultQueryTimeouts})
	require.NoError(t, err)
	t.Cleanup(d.Close)
	st := store.New(d)
	_, admin, err := st.CreateTenant(ctx, store.Actor{}, "purge", "Purge",
		store.NewUser{Email: "a@purge.test", Name: "A", Password: "correct horse battery", Role: auth.Admin})
	require.NoError(t, err)

	live, err := st.CreateSession(ctx, admin, time.Hour)
	require.NoError(t, err)
	expired, err := st.CreateSession(ctx, admin, -time.Minute)
	require.NoError(t, err)

	_, err = st.Authenticate(ctx, expired.Token)
	require.ErrorIs(t, err, db.ErrNotFound)
	n, err := st.DeleteExpiredSessions(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	p, err := st.Authenticate(ctx, live.Token)
	require.NoError(t, err)
	require.Equal(t, admin.ID, p.UserID)
}

// Keys older than the retention are removed in every tenant (each under its own row-level
// security scope), younger ones stay.
func TestOldIdempotencyKeysPurged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := dbtest.NewDatabase(t)
	settings, err := config.ParseDatabaseURL(url)
	require.NoError(t, err)
	d, err := db.Open(settings, db.Options{Timeouts: config.DefaultQueryTimeouts})
	require.NoError(t, err)
	t.Cleanup(d.Close)
	st := store.New(d)
	admin, err := pgx.Connect(ctx, dbtest.AdminURL(t, url))
	require.NoError(t, err)
	t.Cleanup(func() { _ = admin.Close(ctx) })

	for _, slug := range []string{"keys-a", "keys-b"} {
		_, u, err := st.CreateTenant(ctx, store.Actor{}, slug, slug,
			store.NewUser{Email: "a@" + slug + ".test", Name: "A", Password: "correct horse battery", Role: auth.Admin})
		require.NoError(t, err)
		for i, age := range []string{"25 hours", "23 hours", "1 minute"} {
			_, err := admin.Exec(ctx, `INSERT INTO idempotency_keys (tenant_id, user_id, key, request_hash, response_status, response_body, created_at)
				VALUES ($1, $2, $3, sha256('x'), 200, '{}', now() - $4::interval)`, u.TenantID, u.ID, fmt.Sprint("k", i), age)
			require.NoError(t, err)
		}
	}
	n, err := st.PurgeIdempotencyKeys(ctx, store.IdempotencyKeyRetention)
	require.NoError(t, err)
	require.EqualValues(t, 2, n)
	var left int
	require.NoError(t, admin.QueryRow(ctx, `SELECT count(*) FROM idempotency_keys WHERE created_at > now() - interval '24 hours'`).Scan(&left))
	require.Equal(t, 4, left)
	require.NoError(t, admin.QueryRow(ctx, `SELECT count(*) FROM idempotency_keys`).Scan(&left))
	require.Equal(t, 4, left)
}
