package localpg

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// EnsureDatabase creates the database name unless it exists. Two callers racing to create the same
// database both succeed.
func (s *Server) EnsureDatabase(ctx context.Context, name string) error {
	return s.EnsureDatabaseOwnedBy(ctx, name, "")
}

// EnsureDatabaseOwnedBy creates the database name owned by role owner unless it exists (owner ""
// leaves the superuser as the owner). A database that exists with another owner, such as one
// created before the service had a role of its own, is given to owner with everything in it
// (tables, views, sequences, functions, types and schemas of the superuser or another role), so that
// the service can go on using it as owner. Two callers racing to create the same database both
// succeed.
func (s *Server) EnsureDatabaseOwnedBy(ctx context.Context, name, owner string) error {
	conn, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		return fmt.Errorf("localpg: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var currentOwner string
	err = conn.QueryRow(ctx, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", name).Scan(&currentOwner)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		sql := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
		if owner != "" {
			sql += " OWNER " + pgx.Identifier{owner}.Sanitize()
		}
		_, err = conn.Exec(ctx, sql)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // duplicate_database: created meanwhile
			return nil
		}
		if err != nil {
			return fmt.Errorf("localpg: create database %s: %w", name, err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("localpg: look up database %s: %w", name, err)
	case owner == "" || currentOwner == owner:
		return nil
	}
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{name}.Sanitize()+" OWNER TO "+pgx.Identifier{owner}.Sanitize()); err != nil {
		return fmt.Errorf("localpg: give database %s to %s: %w", name, owner, err)
	}
	s.logger.Info("localpg: database given to its owner role", "database", name, "owner", owner, "previous_owner", currentOwner)
	return s.adoptObjects(ctx, name, owner)
}

// adoptObjectsSQL gives every object of the database's own schemas to the role $1. REASSIGN OWNED
// cannot do it: it refuses objects of the bootstrap superuser. Sequences that belong to a column
// follow their table; indexes follow their table too.
const adoptObjectsSQL = `DO $$
DECLARE
	owner text := current_setting('localpg.new_owner');
	r record;
BEGIN
	FOR r IN SELECT n.nspname FROM pg_namespace n
		WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
		  AND n.nspowner <> (SELECT oid FROM pg_roles WHERE rolname = owner)
		  AND pg_get_userbyid(n.nspowner) <> 'pg_database_owner'
	LOOP
		EXECUTE format('ALTER SCHEMA %I OWNER TO %I', r.nspname, owner);
	END LOOP;
	FOR r IN SELECT c.oid::regclass AS obj, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
		  AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
		  AND pg_get_userbyid(c.relowner) <> owner
		  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
			AND (d.deptype = 'e' OR c.relkind = 'S' AND d.deptype IN ('a', 'i')))
	LOOP
		IF r.relkind = 'S' THEN
			EXECUTE format('ALTER SEQUENCE %s OWNER TO %I', r.obj, owner);
		ELSIF r.relkind = 'v' THEN
			EXECUTE format('ALTER VIEW %s OWNER TO %I', r.obj, owner);
		ELSIF r.relkind = 'm' THEN
			EXECUTE format('ALTER MATERIALIZED VIEW %s OWNER TO %I', r.obj, owner);
		ELSIF r.relkind = 'f' THEN
			EXECUTE format('ALTER FOREIGN TABLE %s OWNER TO %I', r.obj, owner);
		ELSE
			EXECUTE format('ALTER TABLE %s OWNER TO %I', r.obj, owner);
		END IF;
	END LOOP;
	FOR r IN SELECT p.oid::regprocedure AS obj, p.prokind FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
		  AND pg_get_userbyid(p.proowner) <> owner
		  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
	LOOP
		EXECUTE format('ALTER ROUTINE %s OWNER TO %I', r.obj, owner);
	END LOOP;
	FOR r IN SELECT t.oid::regtype AS obj FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
		WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
		  AND pg_get_userbyid(t.typowner) <> owner
		  AND (t.typtype IN ('e', 'd', 'r')
		       OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
		  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
	LOOP
		EXECUTE format('ALTER TYPE %s OWNER TO %I', r.obj, owner);
	END LOOP;
END
$$`

// adoptObjects gives the objects in database name to owner, in one transaction.
func (s *Server) adoptObjects(ctx context.Context, name, owner string) error {
	conn, err := pgx.Connect(ctx, s.URL(name))
	if err != nil {
		return fmt.Errorf("localpg: connect to %s: %w", name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		// A DO block takes no parameters: the owner's name goes through a transaction-local setting.
		if _, err := tx.Exec(ctx, "SELECT set_config('localpg.new_owner', $1, true)", owner); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, adoptObjectsSQL)
		return err
	})
	if err != nil {
		return fmt.Errorf("localpg: give the objects of database %s to %s: %w", name, owner, err)
	}
	return nil
}
