package cli

import (
	"bytes"
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/config"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/eventmanager/eventmanager/internal/store"
	"github.com/stretchr/testify/require"
)

// The demo prints the web app's address and sign-ins that work, and its category is ready to score:
// three judges assigned, six contestants, three criteria.
func TestDemoHasAReadyCategory(t *testing.T) {
	t.Parallel()
	settings, err := config.ParseDatabaseURL(dbtest.NewDatabase(t))
	require.NoError(t, err)
	d, err := db.Open(settings, db.Options{Timeouts: config.QueryTimeouts{Simple: time.Second, Standard: 5 * time.Second, Complex: 15 * time.Second, Report: 30 * time.Second}})
	require.NoError(t, err)
	t.Cleanup(d.Close)
	st := store.New(d)
	ctx := context.Background()
	var out bytes.Buffer
	require.NoError(t, ensureDemo(ctx, st, config.Config{Port: 3000, TokenTTL: time.Hour}, Env{Stdout: &out, Stderr: &out}))
	require.Contains(t, out.String(), "The web app: http://localhost:3000/")
	m := regexp.MustCompile(`sign in with the password "([^"]+)" \(printed only now\)`).FindStringSubmatch(out.String())
	require.NotNil(t, m, out.String())
	sess, err := st.Login(ctx, demoSlug, "judge1@demo.test", m[1], time.Hour)
	require.NoError(t, err)
	require.NotNil(t, sess.User.JudgeID)
	cats, err := st.JudgeCategories(ctx, sess.User.TenantID, *sess.User.JudgeID)
	require.NoError(t, err)
	require.Len(t, cats, 1)
	require.Equal(t, 18, cats[0].Required)
	_, err = st.Login(ctx, demoSlug, "tally@demo.test", m[1], time.Hour)
	require.NoError(t, err)

	// A second start finds the tenant and still prints the app's address and the accounts.
	out.Reset()
	require.NoError(t, ensureDemo(ctx, st, config.Config{Port: 3000, TokenTTL: time.Hour}, Env{Stdout: &out, Stderr: &out}))
	require.Contains(t, out.String(), "judge1@demo.test")
	require.Contains(t, out.String(), "printed when the demo tenant was created")
}
