package localpg

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ServiceRole is the role the service connects as on the private PostgreSQL. It owns the service's
// database and is neither a superuser nor BYPASSRLS, so row-level security applies to it (the tables
// FORCE it on their owner).
const ServiceRole = "eventmanager"

// roleLockKey serialises EnsureRoleAt callers on one server (pg_advisory_xact_lock), so that two
// test binaries or two starting instances do not update the same role at once: PostgreSQL answers
// "tuple concurrently updated" to the second of two concurrent ALTER ROLEs.
const roleLockKey = 0x65766d6e_726f6c65 // "evmnrole"

// EnsureRole creates the login role name unless it exists, as an ordinary role: NOSUPERUSER,
// NOBYPASSRLS, no password (the Unix socket trusts it). An existing role with superuser or BYPASSRLS
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
	attrs := "LOGIN NOSUPERUSER NOBYPASSRLS"
	if password != "" {
		attrs += " PASSWORD " + quoteLiteral(password)
	}
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(roleLockKey)); err != nil {
			return err
		}
		var exists, privileged bool
		err := tx.QueryRow(ctx, `SELECT true, rolsuper OR rolbypassrls OR NOT rolcanlogin FROM pg_roles WHERE rolname = $1`,
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

// quoteLiteral quotes s as an SQL string literal; utility statements such as CREATE ROLE take no
// parameters. standard_conforming_strings is on (the default since PostgreSQL 9.1): only quotes are
// doubled.
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// URLAs is a connection URL for database over the Unix socket as role user, which the socket trusts
// without a password.
func (s *Server) URLAs(database, user string) string {
	return socketURL(s.sockDir, s.port, database, user)
}
