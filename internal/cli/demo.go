package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/config"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/store"
)

const (
	demoSlug  = "demo"
	demoEmail = "admin@demo.test"
)

// ensureDemo creates the demo tenant with an admin and a few events on first start, then prints a
// ready-to-paste curl command with a fresh token of the demo admin. The token goes to stdout for
// the operator, never to the log.
func ensureDemo(ctx context.Context, st *store.Store, cfg config.Config, env Env) error {
	system := store.Actor{RequestID: "demo-setup"}
	tenant, err := st.TenantBySlug(ctx, demoSlug)
	var admin store.User
	nightPassword := ""
	switch {
	case errors.Is(err, db.ErrNotFound):
		password := auth.RandomPassword()
		tenant, admin, err = st.CreateTenant(ctx, system, demoSlug, "Demo Competitions",
			store.NewUser{Email: demoEmail, Name: "Demo Admin", Password: password, Role: auth.Admin})
		if err != nil {
			return err
		}
		if err := createDemoEvents(ctx, st, tenant.ID, system); err != nil {
			return err
		}
		if nightPassword, err = createDemoNight(ctx, st, tenant.ID, system); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "\nDemo tenant created. Sign in with tenant %q, email %q, password %q (shown once).\n",
			demoSlug, demoEmail, password)
	case err != nil:
		return err
	default:
		if admin, err = st.UserByEmail(ctx, tenant.ID, demoEmail); err != nil {
			return err
		}
	}
	sess, err := st.CreateSession(ctx, admin, cfg.TokenTTL)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "\nThe API is starting on http://localhost:%d. Try:\n\n  curl -s -H 'Authorization: Bearer %s' http://localhost:%d/api/v1/events\n\n"+
		"Live status page: http://localhost:%d/admin/status (sign in as the demo admin, or paste the token above).\n\n",
		cfg.Port, sess.Token, cfg.Port, cfg.Port)
	printDemoNight(env.Stdout, cfg.Port, nightPassword)
	return nil
}

func createDemoEvents(ctx context.Context, st *store.Store, tenantID string, a store.Actor) error {
	base := time.Now().UTC().Truncate(24 * time.Hour)
	demo := []struct {
		name, location string
		inDays         int
	}{
		{"Spring Talent Show", "Town Hall", -60},
		{"Regional Dance Championship", "Civic Arena", -7},
		{"Summer Music Festival", "Riverside Park", 14},
		{"Autumn Pageant", "Grand Theatre", 45},
		{"Winter Choir Contest", "St. Mary's Hall", 90},
	}
	for _, d := range demo {
		start := base.AddDate(0, 0, d.inDays).Add(18 * time.Hour)
		_, err := st.CreateEvent(ctx, tenantID, a, store.EventInput{
			Name: d.name, Location: d.location, Description: "Demo event",
			StartDate: start, EndDate: start.Add(4 * time.Hour),
		})
		if err != nil {
			return err
		}
	}
	return nil
}
