-- Indexes of the hot queries, built without blocking writes (CREATE INDEX CONCURRENTLY). Names are
-- the runbook's; columns are adapted to our schema. docs/indexes.md says which query each one serves,
-- what it measurably buys, and which are redundant (kept for now, on purpose).
--
-- NO TRANSACTION: a concurrent build cannot run inside a transaction block. goose then runs the
-- statements one by one on the one connection it holds for the migration (the session locker's), so
-- the SETs below apply to every statement that follows them.
--
-- lock_timeout: a concurrent build waits for every transaction that writes the table to end; without
-- a limit it can wait behind a forgotten transaction for ever. When it gives up it leaves an INVALID
-- index behind, which IF NOT EXISTS would skip on the next run: db.MigrateUp and `migrate status`
-- report invalid indexes and `eventmanager migrate repair` rebuilds them.
-- statement_timeout 0: building an index on a large table legitimately takes longer than any
-- per-query backstop the role or URL may set.

-- +goose NO TRANSACTION
-- +goose Up
SET lock_timeout = '5s';
SET statement_timeout = 0;
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_scores_category_contestant ON scores (category_id, contestant_id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_scores_judge_category ON scores (judge_id, category_id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_assignments_judge_category ON assignments (judge_id, category_id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_scores_category_contestant_created ON scores (category_id, contestant_id, created_at DESC);
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_rate_limit_config_lookup ON rate_limit_configs (tenant_id, user_id, endpoint);
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_events_tenant_archived ON events (tenant_id, archived, start_date DESC);
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_categories_contest_created ON categories (contest_id, created_at DESC);
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_tenants_settings_gin ON tenants USING gin (settings);
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_system_settings_value_gin ON system_settings USING gin (value);
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_audit_logs_data_gin ON audit_logs USING gin (data);
RESET statement_timeout;
RESET lock_timeout;

-- +goose Down
SET lock_timeout = '5s';
SET statement_timeout = 0;
DROP INDEX CONCURRENTLY IF EXISTS idx_audit_logs_data_gin;
DROP INDEX CONCURRENTLY IF EXISTS idx_system_settings_value_gin;
DROP INDEX CONCURRENTLY IF EXISTS idx_tenants_settings_gin;
DROP INDEX CONCURRENTLY IF EXISTS idx_categories_contest_created;
DROP INDEX CONCURRENTLY IF EXISTS idx_events_tenant_archived;
DROP INDEX CONCURRENTLY IF EXISTS idx_rate_limit_config_lookup;
DROP INDEX CONCURRENTLY IF EXISTS idx_scores_category_contestant_created;
DROP INDEX CONCURRENTLY IF EXISTS idx_assignments_judge_category;
DROP INDEX CONCURRENTLY IF EXISTS idx_scores_judge_category;
DROP INDEX CONCURRENTLY IF EXISTS idx_scores_category_contestant;
RESET statement_timeout;
RESET lock_timeout;
