package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/config"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/store"
)

const tenantsUsage = `Usage: eventmanager tenants create --slug SLUG --name NAME --admin-email EMAIL [flags]

Creates a tenant with its first user (an ADMIN unless --admin-role says SUPER_ADMIN) and prints
that user's one-time password, shown once. The database is DATABASE_URL, or the private PostgreSQL
in PG_DATA_DIR when it is unset; its schema must be current ("eventmanager migrate up").

Flags:
`

// tenantSlugForm is the form of a slug, as the tenants table's CHECK has it.
var tenantSlugForm = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

func tenants(ctx context.Context, args []string, env Env) int {
	fs := flag.NewFlagSet("tenants", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(env.Stderr, tenantsUsage); fs.PrintDefaults() }
	cfg, ok := loadConfig(env)
	if !ok {
		return exitUsage
	}
	dataDir := fs.String("data-dir", cfg.PGDataDir, "data folder of the private PostgreSQL (PG_DATA_DIR)")
	slug := fs.String("slug", "", "the tenant's slug, used to sign in: lower-case letters, digits and hyphens (required)")
	name := fs.String("name", "", "the tenant's name (required)")
	adminEmail := fs.String("admin-email", "", "email of the tenant's first user (required)")
	adminName := fs.String("admin-name", "", "name of the tenant's first user")
	adminRole := fs.String("admin-role", string(auth.Admin), "role of the tenant's first user: ADMIN or SUPER_ADMIN")
	if len(args) == 0 {
		fs.Usage()
		return exitUsage
	}
	command := args[0]
	if command == "-h" || command == "--help" || command == "help" {
		fs.Usage()
		return exitOK
	}
	if command != "create" {
		fmt.Fprintf(env.Stderr, "eventmanager tenants: unknown command %q (want create)\n", command)
		return exitUsage
	}
	if done, code := parseTenantFlags(fs, args[1:], env); done {
		return code
	}
	in, err := checkTenantFlags(*slug, *name, *adminEmail, *adminName, *adminRole)
	if err != nil {
		fmt.Fprintln(env.Stderr, "eventmanager tenants create: "+err.Error())
		return exitUsage
	}

	log := newLogger(cfg, env.Stderr)
	database, err := openDatabase(ctx, cfg, *dataDir, log, true)
	if err != nil {
		printErr(env, "eventmanager tenants create: ", err)
		return exitFailed
	}
	defer database.close(ctx)
	password := auth.RandomPassword()
	in.admin.Password = password
	t, admin, err := createTenant(ctx, cfg, database, in, log)
	if err != nil {
		printErr(env, "eventmanager tenants create: ", err)
		return exitFailed
	}
	fmt.Fprintf(env.Stdout, "Tenant %q created (id %s).\nUser %s (%s) created (id %s).\nOne-time password: %s\n",
		t.Slug, t.ID, admin.Email, admin.Role, admin.ID, password)
	return exitOK
}

// parseTenantFlags parses the flags. A mistake is one line on stderr (not the flag package's usage
// dump) and exit code 2; --help prints the usage. Stray arguments are refused: a value with a space
// given without quotes would otherwise be silently cut short.
func parseTenantFlags(fs *flag.FlagSet, args []string, env Env) (done bool, code int) {
	usage := fs.Usage
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.Usage = usage
	fs.SetOutput(env.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.Usage()
		return true, exitOK
	case err != nil:
		fmt.Fprintln(env.Stderr, "eventmanager tenants create: "+err.Error())
		return true, exitUsage
	case fs.NArg() > 0:
		fmt.Fprintf(env.Stderr, "eventmanager tenants create: unexpected argument %q (quote values that hold spaces)\n", fs.Arg(0))
		return true, exitUsage
	}
	return false, exitOK
}

type newTenant struct {
	slug, name string
	admin      store.NewUser
}

// checkTenantFlags validates the flags before anything starts, so that a mistake costs no database.
func checkTenantFlags(slug, name, email, adminName, role string) (newTenant, error) {
	in := newTenant{slug: strings.TrimSpace(slug), name: strings.TrimSpace(name)}
	email = strings.ToLower(strings.TrimSpace(email))
	adminName = strings.TrimSpace(adminName)
	switch {
	case in.slug == "":
		return in, fmt.Errorf("--slug is required")
	case !tenantSlugForm.MatchString(in.slug):
		return in, fmt.Errorf("--slug %q: want 1 to 63 lower-case letters, digits and hyphens, starting with a letter or digit", in.slug)
	case in.name == "":
		return in, fmt.Errorf("--name is required")
	case utf8.RuneCountInString(in.name) > 200:
		return in, fmt.Errorf("--name: at most 200 characters")
	case email == "":
		return in, fmt.Errorf("--admin-email is required")
	case utf8.RuneCountInString(adminName) > 200:
		return in, fmt.Errorf("--admin-name: at most 200 characters")
	}
	if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email || len(email) > 254 {
		return in, fmt.Errorf("--admin-email %q: want an email address such as admin@example.com", email)
	}
	r, err := auth.ParseRole(role)
	if err != nil || (r != auth.Admin && r != auth.SuperAdmin) {
		return in, fmt.Errorf("--admin-role %q: want ADMIN or SUPER_ADMIN", role)
	}
	if adminName == "" {
		adminName = "Administrator"
	}
	in.admin = store.NewUser{Email: email, Name: adminName, Role: r}
	return in, nil
}

// createTenant opens a one-connection pool on the database, checks that the schema is current and
// creates the tenant with its first user, audited as done by the system (the CLI has no user).
func createTenant(ctx context.Context, cfg config.Config, database *database, in newTenant, log *slog.Logger) (store.Tenant, store.User, error) {
	settings := database.pooled
	settings.ConnectionLimit = 1
	pool, err := db.Open(settings, db.Options{Timeouts: cfg.QueryTimeouts, Logger: log})
	if err != nil {
		return store.Tenant{}, store.User{}, err
	}
	defer pool.Close()
	if err := pool.WaitReady(ctx, cfg.DBStartupWait); err != nil {
		return store.Tenant{}, store.User{}, err
	}
	latest, err := db.LatestVersion()
	if err != nil {
		return store.Tenant{}, store.User{}, err
	}
	if applied, err := pool.SchemaVersion(ctx); err != nil || applied < latest {
		return store.Tenant{}, store.User{}, errors.New(`the database schema is not up to date: run "eventmanager migrate up" first`)
	}
	t, u, err := store.New(pool).CreateTenant(ctx, store.Actor{RequestID: "cli"}, in.slug, in.name, in.admin)
	if errors.Is(err, db.ErrConflict) {
		return t, u, fmt.Errorf("a tenant with slug %q already exists", in.slug)
	}
	if err == nil {
		log.Info("tenant created", "tenant_id", t.ID, "slug", t.Slug, "user_id", u.ID)
	}
	return t, u, err
}
