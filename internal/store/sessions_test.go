package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/config"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/eventmanager/eventmanager/internal/store"
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
