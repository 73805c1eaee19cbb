-- One index per access path: drop the five indexes that another index of the same table already
-- serves (the health check's redundant_indexes lists them). Each cost every write to its table and
-- bought nothing. docs/indexes.md maps each of the runbook's index names to the index that now
-- serves its queries.
--
--   idx_events_tenant_archived              prefix of events_list_idx, which also has the keyset tie-breaker id
--   idx_scores_category_contestant_created  its prefix idx_scores_category_contestant serves every scores
--                                           query by category; nothing orders scores by created_at, and the
--                                           wide one is the largest (distinct keys defeat B-tree deduplication)
--   idx_assignments_judge_category          the same columns as the unique key (judge_id, category_id)
--   categories_contest_idx                  prefix of idx_categories_contest_created
--   idx_rate_limit_config_lookup            prefix of the unique key (tenant_id, user_id, endpoint, tier)
--
-- NO TRANSACTION, CONCURRENTLY, lock_timeout and statement_timeout: as in 00004, so that writes go on
-- while the indexes are dropped (or built again by the down migration), and a drop that waits behind a
-- long transaction gives up after 5 s instead of queueing every writer behind it.

-- +goose NO TRANSACTION
-- +goose Up
SET lock_timeout = '5s';
SET statement_timeout = 0;
DROP INDEX CONCURRENTLY IF EXISTS idx_events_tenant_archived;
DROP INDEX CONCURRENTLY IF EXISTS idx_scores_category_contestant_created;
DROP INDEX CONCURRENTLY IF EXISTS idx_assignments_judge_category;
DROP INDEX CONCURRENTLY IF EXISTS categories_contest_idx;
DROP INDEX CONCURRENTLY IF EXISTS idx_rate_limit_config_lookup;
RESET statement_timeout;
RESET lock_timeout;

-- +goose Down
SET lock_timeout = '5s';
SET statement_timeout = 0;
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_rate_limit_config_lookup ON rate_limit_configs (tenant_id, user_id, endpoint);
CREATE INDEX CONCURRENTLY IF NOT EXISTS categories_contest_idx ON categories (contest_id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_assignments_judge_category ON assignments (judge_id, category_id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_scores_category_contestant_created ON scores (category_id, contestant_id, created_at DESC);
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_events_tenant_archived ON events (tenant_id, archived, start_date DESC);
RESET statement_timeout;
RESET lock_timeout;
