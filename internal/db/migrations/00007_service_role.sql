-- Least privilege: the service no longer owns what it uses.
--
-- Two roles. The owner (the role that runs the migrations, e.g. "eventmanager_owner") owns the
-- tables, policies, functions and indexes. The service connects as a login role that is a member of
-- the group role eventmanager_app (NOLOGIN) and has only what is granted to it here:
--   * SELECT, INSERT, UPDATE, DELETE on the tables of the schema: no TRUNCATE, REFERENCES or
--     TRIGGER, and no DDL (only an owner may ALTER or DROP a table, or turn row-level security off);
--   * audit_logs: INSERT and SELECT only, so that the log stays append-only whatever the policies;
--   * goose_db_version: SELECT only (it is the migrations' bookkeeping);
--   * sequences: USAGE and SELECT; functions: EXECUTE.
-- Row-level security binds the service role: it is not the tables' owner, and `serve` refuses to
-- start as a superuser, a BYPASSRLS role or a role that owns the tables.
--
-- Later migrations need not grant anything: ALTER DEFAULT PRIVILEGES gives eventmanager_app
-- SELECT, INSERT, UPDATE, DELETE on every table (and USAGE on every sequence, EXECUTE on every
-- function) that the role running the migrations creates from now on, in this database. A table that
-- must be restricted further says so in its migration with a REVOKE, as audit_logs does below.
-- Default privileges belong to the role that creates the objects: migrations must always run as the
-- same owner role.
--
-- The group role is cluster-wide, so it is created only when missing. The private PostgreSQL of
-- `make run` and the test harness create it beforehand; on another server, the owner role needs
-- CREATEROLE, or a superuser creates it first (docs/operations.md).

-- +goose Up
-- +goose StatementBegin
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'eventmanager_app') THEN
        BEGIN
            CREATE ROLE eventmanager_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
        EXCEPTION
            WHEN duplicate_object OR unique_violation THEN
                NULL; -- created meanwhile by a migration of another database
            WHEN insufficient_privilege THEN
                RAISE EXCEPTION 'role eventmanager_app does not exist and role % may not create it', current_user
                    USING HINT = 'as a superuser: CREATE ROLE eventmanager_app NOLOGIN; GRANT eventmanager_app TO <the service''s login role>';
        END;
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
DO $$
DECLARE
    s text := current_schema();
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO eventmanager_app', s);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO eventmanager_app', s);
    EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO eventmanager_app', s);
    EXECUTE format('GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA %I TO eventmanager_app', s);
END
$$;
-- +goose StatementEnd

-- Append-only: the policies already allow no UPDATE or DELETE; without the privileges either, the
-- statement itself is refused.
REVOKE UPDATE, DELETE ON audit_logs FROM eventmanager_app;
REVOKE INSERT, UPDATE, DELETE ON goose_db_version FROM eventmanager_app;

ALTER DEFAULT PRIVILEGES GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO eventmanager_app;
ALTER DEFAULT PRIVILEGES GRANT USAGE, SELECT ON SEQUENCES TO eventmanager_app;
ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO eventmanager_app;

-- +goose Down
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM eventmanager_app;
ALTER DEFAULT PRIVILEGES REVOKE USAGE, SELECT ON SEQUENCES FROM eventmanager_app;
ALTER DEFAULT PRIVILEGES REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM eventmanager_app;

-- The role itself stays: it is cluster-wide, other databases may grant it rights, and the service's
-- login role is a member of it.
-- +goose StatementBegin
DO $$
DECLARE
    s text := current_schema();
BEGIN
    EXECUTE format('REVOKE ALL ON ALL FUNCTIONS IN SCHEMA %I FROM eventmanager_app', s);
    EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA %I FROM eventmanager_app', s);
    EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM eventmanager_app', s);
    EXECUTE format('REVOKE USAGE ON SCHEMA %I FROM eventmanager_app', s);
END
$$;
-- +goose StatementEnd
