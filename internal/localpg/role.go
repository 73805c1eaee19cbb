package localpg

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The roles of the private PostgreSQL. None is a superuser or BYPASSRLS.
const (
	// OwnerRole owns the service's database and its schema, and runs the migrations.
	OwnerRole = "eventmanager_owner"
	// ServiceRole is the login role the service connects as: a member of AppRole, owning nothing,
	// so that row-level security and the grants of AppRole are all it has.
	ServiceRole = "eventmanager"
	// AppRole is the group role (NOLOGIN) that holds the service's rights: the migrations grant it
	// what the service needs and no more (SELECT, INSERT, UPDATE, DELETE; audit_logs INSERT and
	// SELECT only), and give it the same on every table that later migrations create. Its name is
	// the one the migration uses.
	AppRole = "eventmanager_app"
)

// roleLockKey serialises EnsureRoleAt callers on one server (pg_advisory_xact_lock), so that two
// test binaries or two starting instances do not update the same role at once: PostgreSQL answers
// "tuple concurrently updated" to the second of two concurrent ALTER ROLEs.
const roleLockKey = 0x65766d6e_726f6c65 // "evmnrole"

// EnsureRole creates the login role name unless it exists, as an ordinary role: NOSUPERUSER,
// NOBYPASSRLS, INHERIT (it has the rights of the group roles it is a member of), no password (the
// Unix socket trusts it). An existing role with superuser or BYPASSRLS
// is changed back to an ordinary one. Safe to call concurrently.
func (s *Server) EnsureRole(ctx context.Context, name string) error {
	return EnsureRoleAt(ctx, s.URL("postgres"), name, "")
}

// EnsureRoleAt is EnsureRole on any server, through connString (a role allowed to create roles).
// A non-empty password is set on the role, also when it exists, for servers that ask for one.
func EnsureRoleAt(ctx context.Context, connString, name, password string) error {
	conn, err := pgx.Connect(ctx, connString)
	if err != nil {
		return fmt.Errorf("localpg: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	role := pgx.Identifier{name}.Sanitize()
	attrs := "LOGIN INHERIT NOSUPERUSER NOBYPASSRLS"
	if password != "" {
		attrs += " PASSWORD " + quoteLiteral(password)
	}
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(roleLockKey)); err != nil {
			return err
		}
		var exists, privileged bool
		err := tx.QueryRow(ctx, `SELECT true, rolsuper OR rolbypassrls OR NOT rolcanlogin OR NOT rolinherit FROM pg_roles WHERE rolname = $1`,
			name).Scan(&exists, &privileged)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		switch {
		case !exists:
			_, err = tx.Exec(ctx, "CREATE ROLE "+role+" "+attrs)
		case privileged || password != "":
			_, err = tx.Exec(ctx, "ALTER ROLE "+role+" "+attrs)
		}
		return err
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42710" { // duplicate_object: created meanwhile by a caller on another database
		return nil
	}
	if err != nil {
		return fmt.Errorf("localpg: ensure role %s: %w", name, err)
	}
	return nil
}

// EnsureAppRoleAt creates the group role AppRole unless it exists (NOLOGIN, neither superuser nor
// BYPASSRLS), through connString (a role allowed to create roles), and makes each of members (login
// roles) a member of it, so that they have its rights. Safe to call concurrently.
func EnsureAppRoleAt(ctx context.Context, connString string, members ...string) error {
	conn, err := pgx.Connect(ctx, connString)
	if err != nil {
		return fmt.Errorf("localpg: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	role := pgx.Identifier{AppRole}.Sanitize()
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(roleLockKey)); err != nil {
			return err
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, AppRole).Scan(&exists); err != nil {
			return err
		}
		attrs := " NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE"
		if exists {
			_, err = tx.Exec(ctx, "ALTER ROLE "+role+attrs)
		} else {
			_, err = tx.Exec(ctx, "CREATE ROLE "+role+attrs)
		}
		if err != nil {
			return err
		}
		for _, m := range members {
			var member bool
			err := tx.QueryRow(ctx, `SELECT pg_has_role($1, $2, 'MEMBER')`, m, AppRole).Scan(&member)
			if err != nil {
				return err
			}
			if !member {
				if _, err := tx.Exec(ctx, "GRANT "+role+" TO "+pgx.Identifier{m}.Sanitize()); err != nil {
					return err
				}
			}
		}
		return nil
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42710" { // duplicate_object: created meanwhile by a caller on another database
		return EnsureAppRoleAt(ctx, connString, members...)
	}
	if err != nil {
		return fmt.Errorf("localpg: ensure role %s: %w", AppRole, err)
	}
	return nil
}

// EnsureServiceRoles sets up the roles of the private PostgreSQL: OwnerRole and ServiceRole as
// ordinary login roles, and ServiceRole a member of AppRole.
func (s *Server) EnsureServiceRoles(ctx context.Context) error {
	for _, r := range []string{OwnerRole, ServiceRole} {
		if err := s.EnsureRole(ctx, r); err != nil {
			return err
		}
	}
	return EnsureAppRoleAt(ctx, s.URL("postgres"), ServiceRole)
}

// quoteLiteral quotes s as an SQL string literal; utility statements such as CREATE ROLE take no
// parameters. standard_conforming_strings is on (the default since PostgreSQL 9.1): only quotes are
// doubled.
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// URLAs is a connection URL for database over the Unix socket as role user, which the socket trusts
// without a password.
func (s *Server) URLAs(database, user string) string {
	return socketURL(s.sockDir, s.port, database, user)
}
