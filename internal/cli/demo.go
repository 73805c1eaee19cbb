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
	// The operator runs the platform (SUPER_ADMIN): the database's health, the status page and the
	// global rate limits are theirs, not a tenant ADMIN's. A tenant of its own keeps the operator
	// apart from the demo customer's users.
	operatorSlug  = "platform"
	operatorEmail = "operator@platform.test"
	// demoRateLimitTier lets the runbook's load test (ab -n 1000 -c 50 with the printed token)
	// through: the standard tier's burst of 120 would answer most of it 429. Tenants created
	// otherwise keep the standard tier.
	demoRateLimitTier = "internal"
)

// ensureDemo creates the demo tenant with an admin and a few events, and the operator's account,
// on first start (each when missing), then prints ready-to-paste curl commands with fresh tokens of
// both. Passwords and tokens go to stdout for the person at the terminal, never to the log.
func ensureDemo(ctx context.Context, st *store.Store, cfg config.Config, env Env) error {
	admin, err := ensureDemoAccount(ctx, st, env, demoSlug, "Demo Competitions", store.NewUser{Email: demoEmail, Name: "Demo Admin", Role: auth.Admin},
		func(tenantID string, a store.Actor) error { return createDemoEvents(ctx, st, tenantID, a) })
	if err != nil {
		return err
	}
	operator, err := ensureDemoAccount(ctx, st, env, operatorSlug, "Platform operator", store.NewUser{Email: operatorEmail, Name: "Operator", Role: auth.SuperAdmin}, nil)
	if err != nil {
		return err
	}
	if err := st.SetTenantRateLimitTier(ctx, store.Actor{RequestID: "demo-setup"}, admin.TenantID, demoRateLimitTier); err != nil {
		return err
	}
	adminSess, err := st.CreateSession(ctx, admin, cfg.TokenTTL)
	if err != nil {
		return err
	}
	operatorSess, err := st.CreateSession(ctx, operator, cfg.TokenTTL)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "\nThe API is starting on http://localhost:%d. Try, as the demo tenant's admin:\n\n"+
		"  curl -s -H 'Authorization: Bearer %s' http://localhost:%d/api/v1/events\n\n"+
		"As the operator (SUPER_ADMIN: database health, status page, global rate limits):\n\n"+
		"  curl -s -H 'Authorization: Bearer %s' http://localhost:%d/api/v1/admin/database/health\n\n"+
		"Live status page: http://localhost:%d/admin/status (sign in as the operator: tenant %q, email %q; or paste the operator's token above).\n\n",
		cfg.Port, adminSess.Token, cfg.Port, operatorSess.Token, cfg.Port, cfg.Port, operatorSlug, operatorEmail)
	fmt.Fprintf(env.Stdout, "The demo tenant is on rate-limit tier %q, for the runbook's load test (new tenants get \"standard\"):\n\n"+
		"  ab -n 1000 -c 50 -H 'Authorization: Bearer %s' http://127.0.0.1:%d/api/v1/events\n\n",
		demoRateLimitTier, adminSess.Token, cfg.Port)
	return nil
}

// ensureDemoAccount returns the user u of tenant slug, creating the tenant with u as its first user
// (and then calling fill, when not nil) if the tenant does not exist; the new password is printed
// once.
func ensureDemoAccount(ctx context.Context, st *store.Store, env Env, slug, name string, u store.NewUser,
	fill func(tenantID string, a store.Actor) error) (store.User, error) {
	system := store.Actor{RequestID: "demo-setup"}
	tenant, err := st.TenantBySlug(ctx, slug)
	switch {
	case errors.Is(err, db.ErrNotFound):
		u.Password = auth.RandomPassword()
		tenant, user, err := st.CreateTenant(ctx, system, slug, name, u)
		if err != nil {
			return store.User{}, err
		}
		if fill != nil {
			if err := fill(tenant.ID, system); err != nil {
				return store.User{}, err
			}
		}
		fmt.Fprintf(env.Stdout, "\n%s created. Sign in with tenant %q, email %q, password %q (shown once).\n",
			name, slug, u.Email, u.Password)
		return user, nil
	case err != nil:
		return store.User{}, err
	}
	return st.UserByEmail(ctx, tenant.ID, u.Email)
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
