-- Tenant isolation enforced by PostgreSQL, in addition to the tenant_id filter of every store query:
-- a query that forgets its filter returns nothing instead of another tenant's rows.
--
-- The tenant. Every policy compares tenant_id with
--     nullif(current_setting('app.tenant_id', true), '')::uuid
-- which the db package sets with set_config('app.tenant_id', $1, true) in front of each scoped query
-- (in the same batch: one round trip, one implicit transaction) or at the start of each scoped
-- transaction. The setting is transaction-local, so it never leaks to the next user of a pooled
-- connection and stays correct behind PgBouncer in transaction mode. Unset, it reads as NULL (never
-- set on the connection) or '' (set by an earlier transaction, then reset): nullif makes both NULL,
-- and tenant_id = NULL is never true, so no tenant setting means no tenant rows.
--
-- Global rows. rate_limit_configs, system_settings and audit_logs have a nullable tenant_id; NULL
-- marks a row of no tenant: the global rate-limit tiers, the global settings every tenant falls back
-- to, and the audit records of changes to those. They are
--   * readable by everyone (every tenant falls back to them, and the rate limiter reads them before
--     it knows the tenant); they hold nothing private to a tenant;
--   * writable only in a transaction that also sets
--         set_config('app.scope', 'system', true)
--     which only the code paths of SUPER_ADMIN operations and of the operator's CLI do. A tenant's
--     request, whatever its filters, cannot create, change or delete a global row.
-- app.scope = 'system' gives no access to any tenant's rows.
--
-- The audit log is append-only: it has policies for SELECT and INSERT only, so UPDATE and DELETE
-- change no row, whoever asks (FORCE applies to the owner too). A future retention job needs a
-- migration that adds a DELETE policy for it.
--
-- Not covered, on purpose:
--   * tenants: it is how a request finds its tenant (sign-in by slug) and it belongs to no tenant;
--     SUPER_ADMIN lists and changes it. Its rows are not secret (slug, name, settings of the tenant).
--   * sessions: the token check finds the session by the token's SHA-256 before any tenant is
--     known, and takes the tenant from it. Knowing a token's hash is the authorisation; the row holds
--     no tenant data beyond the ids. The token check sets app.tenant_id from the session in the same
--     batch as its join with users (see store.Authenticate).
--   * goose_db_version: the schema's, not a tenant's.
--
-- Who is bound. Row-level security does not apply to superusers nor to roles with BYPASSRLS: the
-- service must connect as an ordinary role. FORCE ROW LEVEL SECURITY makes the policies apply to
-- the tables' owner as well, so the service may own its schema (the private PostgreSQL creates role
-- "eventmanager" owning database "eventmanager", and migrations run as that role). `serve` warns at
-- start-up when its role bypasses row-level security. Foreign-key checks are not subject to
-- row-level security: the composite (tenant_id, id) keys of 00001 keep rejecting cross-tenant
-- references.
--
-- Data migrations written after this one run as the owner and see no tenant rows unless they set
-- app.tenant_id (one tenant at a time) in their transaction.

-- +goose Up

-- Tables whose every row belongs to one tenant: one policy for every command.
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON users
    USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE events ENABLE ROW LEVEL SECURITY;
ALTER TABLE events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON events
    USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE contests ENABLE ROW LEVEL SECURITY;
ALTER TABLE contests FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON contests
    USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE categories ENABLE ROW LEVEL SECURITY;
ALTER TABLE categories FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON categories
    USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE criteria ENABLE ROW LEVEL SECURITY;
ALTER TABLE criteria FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON criteria
    USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE contestants ENABLE ROW LEVEL SECURITY;
ALTER TABLE contestants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON contestants
    USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE category_contestants ENABLE ROW LEVEL SECURITY;
ALTER TABLE category_contestants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON category_contestants
    USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE judges ENABLE ROW LEVEL SECURITY;
ALTER TABLE judges FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON judges
    USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE assignments ENABLE ROW LEVEL SECURITY;
ALTER TABLE assignments FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON assignments
    USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE scores ENABLE ROW LEVEL SECURITY;
ALTER TABLE scores FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON scores
    USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE deductions ENABLE ROW LEVEL SECURITY;
ALTER TABLE deductions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON deductions
    USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE category_certifications ENABLE ROW LEVEL SECURITY;
ALTER TABLE category_certifications FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON category_certifications
    USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON idempotency_keys
    USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);

-- Tables with global rows (tenant_id NULL). Permissive policies are combined with OR, per command:
--   tenant_rows   every command on the current tenant's rows;
--   global_read   SELECT of the global rows, in any scope;
--   global_write  every command on the global rows, in system scope only.
ALTER TABLE rate_limit_configs ENABLE ROW LEVEL SECURITY;
ALTER TABLE rate_limit_configs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON rate_limit_configs
    USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY global_read ON rate_limit_configs FOR SELECT
    USING (tenant_id IS NULL);
CREATE POLICY global_write ON rate_limit_configs
    USING (tenant_id IS NULL AND current_setting('app.scope', true) = 'system')
    WITH CHECK (tenant_id IS NULL AND current_setting('app.scope', true) = 'system');

ALTER TABLE system_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE system_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON system_settings
    USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY global_read ON system_settings FOR SELECT
    USING (tenant_id IS NULL);
CREATE POLICY global_write ON system_settings
    USING (tenant_id IS NULL AND current_setting('app.scope', true) = 'system')
    WITH CHECK (tenant_id IS NULL AND current_setting('app.scope', true) = 'system');

-- Append-only: read and insert, never update or delete.
ALTER TABLE audit_logs ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_logs FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_read ON audit_logs FOR SELECT
    USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid OR tenant_id IS NULL);
CREATE POLICY audit_insert ON audit_logs FOR INSERT
    WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
                OR (tenant_id IS NULL AND current_setting('app.scope', true) = 'system'));

-- +goose Down
DROP POLICY audit_insert ON audit_logs;
DROP POLICY audit_read ON audit_logs;
ALTER TABLE audit_logs NO FORCE ROW LEVEL SECURITY;
ALTER TABLE audit_logs DISABLE ROW LEVEL SECURITY;

DROP POLICY global_write ON system_settings;
DROP POLICY global_read ON system_settings;
DROP POLICY tenant_rows ON system_settings;
ALTER TABLE system_settings NO FORCE ROW LEVEL SECURITY;
ALTER TABLE system_settings DISABLE ROW LEVEL SECURITY;

DROP POLICY global_write ON rate_limit_configs;
DROP POLICY global_read ON rate_limit_configs;
DROP POLICY tenant_rows ON rate_limit_configs;
ALTER TABLE rate_limit_configs NO FORCE ROW LEVEL SECURITY;
ALTER TABLE rate_limit_configs DISABLE ROW LEVEL SECURITY;

DROP POLICY tenant_isolation ON idempotency_keys;
ALTER TABLE idempotency_keys NO FORCE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys DISABLE ROW LEVEL SECURITY;

DROP POLICY tenant_isolation ON category_certifications;
ALTER TABLE category_certifications NO FORCE ROW LEVEL SECURITY;
ALTER TABLE category_certifications DISABLE ROW LEVEL SECURITY;

DROP POLICY tenant_isolation ON deductions;
ALTER TABLE deductions NO FORCE ROW LEVEL SECURITY;
ALTER TABLE deductions DISABLE ROW LEVEL SECURITY;

DROP POLICY tenant_isolation ON scores;
ALTER TABLE scores NO FORCE ROW LEVEL SECURITY;
ALTER TABLE scores DISABLE ROW LEVEL SECURITY;

DROP POLICY tenant_isolation ON assignments;
ALTER TABLE assignments NO FORCE ROW LEVEL SECURITY;
ALTER TABLE assignments DISABLE ROW LEVEL SECURITY;

DROP POLICY tenant_isolation ON judges;
ALTER TABLE judges NO FORCE ROW LEVEL SECURITY;
ALTER TABLE judges DISABLE ROW LEVEL SECURITY;

DROP POLICY tenant_isolation ON category_contestants;
ALTER TABLE category_contestants NO FORCE ROW LEVEL SECURITY;
ALTER TABLE category_contestants DISABLE ROW LEVEL SECURITY;

DROP POLICY tenant_isolation ON contestants;
ALTER TABLE contestants NO FORCE ROW LEVEL SECURITY;
ALTER TABLE contestants DISABLE ROW LEVEL SECURITY;

DROP POLICY tenant_isolation ON criteria;
ALTER TABLE criteria NO FORCE ROW LEVEL SECURITY;
ALTER TABLE criteria DISABLE ROW LEVEL SECURITY;

DROP POLICY tenant_isolation ON categories;
ALTER TABLE categories NO FORCE ROW LEVEL SECURITY;
ALTER TABLE categories DISABLE ROW LEVEL SECURITY;

DROP POLICY tenant_isolation ON contests;
ALTER TABLE contests NO FORCE ROW LEVEL SECURITY;
ALTER TABLE contests DISABLE ROW LEVEL SECURITY;

DROP POLICY tenant_isolation ON events;
ALTER TABLE events NO FORCE ROW LEVEL SECURITY;
ALTER TABLE events DISABLE ROW LEVEL SECURITY;

DROP POLICY tenant_isolation ON users;
ALTER TABLE users NO FORCE ROW LEVEL SECURITY;
ALTER TABLE users DISABLE ROW LEVEL SECURITY;
