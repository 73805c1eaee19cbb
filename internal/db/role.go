package db

import (
	"context"
	"fmt"
	"strings"
)

// RoleCheck is what the pool's role may do beyond the service's grants. The service must be bound
// by row-level security and must not be able to undo it: a superuser or a BYPASSRLS role escapes the
// policies, and the owner of a table (or of the schema, or the database, whose owner owns schema
// public) may alter it, turn its row-level security off or empty audit_logs.
type RoleCheck struct {
	Role      string
	Schema    string
	Superuser bool
	BypassRLS bool
	// OwnsSchema: the role owns the schema, or is the database's owner when the schema belongs
	// to pg_database_owner (schema public since PostgreSQL 15).
	OwnsSchema bool
	// Owned counts the relations of the schema the role owns (directly or through a role it
	// inherits); OwnedNames names the first few.
	Owned      int
	OwnedNames []string
	// Ungranted names tables of the schema the role may not even read: a migration run by another
	// role than the one whose default privileges grant the service its rights.
	Ungranted []string
}

// CheckRole reads what the pool's role may do in the pool's schema.
func (d *DB) CheckRole(ctx context.Context) (RoleCheck, error) {
	var c RoleCheck
	err := d.QueryRow(ctx, opRoleCheck, "", `
		SELECT current_user::text, coalesce(current_schema()::text, ''), r.rolsuper, r.rolbypassrls,
			coalesce(pg_has_role(n.nspowner, 'USAGE'), false),
			(SELECT count(*) FROM pg_class c WHERE c.relnamespace = n.oid AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
				AND pg_has_role(c.relowner, 'USAGE')),
			array(SELECT c.relname::text FROM pg_class c WHERE c.relnamespace = n.oid AND c.relkind IN ('r', 'p')
				AND pg_has_role(c.relowner, 'USAGE') ORDER BY c.relname LIMIT 5),
			array(SELECT c.relname::text FROM pg_class c WHERE c.relnamespace = n.oid AND c.relkind IN ('r', 'p')
				AND NOT has_table_privilege(c.oid, 'SELECT') ORDER BY c.relname LIMIT 5)
		FROM pg_roles r LEFT JOIN pg_namespace n ON n.nspname = current_schema()
		WHERE r.rolname = current_user`,
		nil, &c.Role, &c.Schema, &c.Superuser, &c.BypassRLS, &c.OwnsSchema, &c.Owned, &c.OwnedNames, &c.Ungranted)
	return c, err
}

var opRoleCheck = Op{Name: "db.role_check", Class: Simple}

// Problems says, one phrase each, why the role is not fit to run the service; none when it is.
func (c RoleCheck) Problems() []string {
	var p []string
	if c.Superuser {
		p = append(p, fmt.Sprintf("role %q is a superuser, which row-level security does not bind", c.Role))
	} else {
		if c.BypassRLS {
			p = append(p, fmt.Sprintf("role %q has BYPASSRLS", c.Role))
		}
		if c.Owned > 0 {
			p = append(p, fmt.Sprintf("role %q owns %d relations of schema %q (%s...), so it could alter them, turn their row-level security off or empty audit_logs",
				c.Role, c.Owned, c.Schema, strings.Join(c.OwnedNames, ", ")))
		}
		if c.OwnsSchema {
			p = append(p, fmt.Sprintf("role %q owns schema %q (or the database)", c.Role, c.Schema))
		}
	}
	return p
}
