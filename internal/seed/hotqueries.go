package seed

// HotQuery is one of the service's hot queries, in the shape the store runs it, with the index that
// should serve it. Tests run EXPLAIN of each on seeded data and docs/indexes.md lists them.
type HotQuery struct {
	Name string
	// Index is the runbook's name for the query's index (migration 00004). Where 00009 dropped it
	// as redundant, another index serves the same access path; docs/indexes.md maps each name.
	Index string
	// Serving are the indexes that the planner was seen to choose for it on seeded data (the test
	// requires one of them): the one index of its access path, or another of the schema that serves
	// the query as well at the volume of one tenant. docs/indexes.md explains each case.
	Serving []string
	// Table is the big table the query must not scan sequentially; empty for small tables (a few
	// hundred rows) where a sequential scan is the right plan.
	Table string
	// SQL is the query; its parameters come from ParamsSQL.
	SQL string
	// ParamsSQL picks realistic parameters from seeded data (run past row-level security): the
	// busiest tenant, a scored category, a judge who scored it. $1 is always the tenant.
	ParamsSQL string
}

// HotQueries are the queries the product runs most, each with parameters from the generated data:
// the indexes of migration 00004 are measured against them (EXPLAIN, timings, index use).
var HotQueries = []HotQuery{
	{
		Name:  "events list of a tenant",
		Index: "idx_events_tenant_archived",
		// Served by events_list_idx (00001), which has the keyset tie-breaker too; at about 100
		// events per tenant the planner may read them all through the tenant key and sort.
		Serving: []string{"events_list_idx", "events_tenant_id_id_key"},
		Table:   "events",
		SQL: `SELECT id, name, start_date FROM events
			WHERE tenant_id = $1 AND archived = true ORDER BY start_date DESC, id DESC LIMIT 50`,
		ParamsSQL: `SELECT tenant_id FROM events GROUP BY tenant_id ORDER BY count(*) DESC, tenant_id LIMIT 1`,
	},
	{
		Name:    "category results",
		Index:   "idx_scores_category_contestant",
		Serving: []string{"idx_scores_category_contestant"},
		Table:   "scores",
		SQL: `SELECT contestant_id, judge_id, sum(score) FROM scores
			WHERE tenant_id = $1 AND category_id = $2 GROUP BY contestant_id, judge_id`,
		ParamsSQL: `SELECT tenant_id, category_id FROM scores GROUP BY tenant_id, category_id ORDER BY count(*) DESC, category_id LIMIT 1`,
	},
	{
		Name:    "judge's scoresheet",
		Index:   "idx_scores_judge_category",
		Serving: []string{"idx_scores_judge_category"},
		Table:   "scores",
		SQL: `SELECT contestant_id, criterion_id, score FROM scores
			WHERE tenant_id = $1 AND judge_id = $2 AND category_id = $3`,
		ParamsSQL: `SELECT tenant_id, judge_id, category_id FROM scores GROUP BY tenant_id, judge_id, category_id ORDER BY count(*) DESC, judge_id, category_id LIMIT 1`,
	},
	{
		Name:  "judge's assignments",
		Index: "idx_assignments_judge_category",
		// The unique constraint (judge_id, category_id) of 00001 is the same index.
		Serving: []string{"assignments_judge_id_category_id_key"},
		Table:   "assignments",
		SQL: `SELECT id, category_id, status FROM assignments
			WHERE tenant_id = $1 AND judge_id = $2 ORDER BY category_id LIMIT 50`,
		ParamsSQL: `SELECT tenant_id, judge_id FROM assignments GROUP BY tenant_id, judge_id ORDER BY count(*) DESC, judge_id LIMIT 1`,
	},
	{
		Name:  "rate limit configuration lookup",
		Index: "idx_rate_limit_config_lookup",
		// The unique key (tenant_id, user_id, endpoint, tier) has the same leading columns.
		Serving: []string{"rate_limit_configs_tenant_id_user_id_endpoint_tier_key"},
		SQL: `SELECT per_minute, per_hour, burst FROM rate_limit_configs
			WHERE tenant_id = $1 AND user_id IS NULL AND endpoint = $2 AND enabled`,
		ParamsSQL: `SELECT tenant_id, endpoint FROM rate_limit_configs WHERE tenant_id IS NOT NULL ORDER BY tenant_id, endpoint LIMIT 1`,
	},
	{
		Name:    "categories of a contest",
		Index:   "idx_categories_contest_created",
		Serving: []string{"idx_categories_contest_created"},
		Table:   "categories",
		SQL: `SELECT id, name, created_at FROM categories
			WHERE tenant_id = $1 AND contest_id = $2 ORDER BY created_at, id LIMIT 51`,
		ParamsSQL: `SELECT tenant_id, contest_id FROM categories GROUP BY tenant_id, contest_id ORDER BY count(*) DESC, contest_id LIMIT 1`,
	},
	{
		Name:  "audit log search by data containment",
		Index: "idx_audit_logs_data_gin",
		// Row-level security scopes the search to one tenant: at 1 000 to 2 500 rows per tenant the
		// planner filters the tenant's rows rather than use the GIN index.
		Serving: []string{"idx_audit_logs_data_gin", "audit_logs_entity_idx", "audit_logs_tenant_created_idx"},
		Table:   "audit_logs",
		SQL: `SELECT id, action, created_at FROM audit_logs
			WHERE tenant_id = $1 AND data @> jsonb_build_object('category_id', $2::text)`,
		ParamsSQL: `SELECT tenant_id, entity_id FROM audit_logs WHERE action = 'category.created' ORDER BY tenant_id, entity_id LIMIT 1`,
	},
	{
		Name:      "tenants by settings containment",
		Index:     "idx_tenants_settings_gin",
		Serving:   []string{"idx_tenants_settings_gin"},
		SQL:       `SELECT id, slug FROM tenants WHERE $1::uuid IS NOT NULL AND settings @> '{"plan": "enterprise"}'`,
		ParamsSQL: `SELECT id FROM tenants ORDER BY id LIMIT 1`,
	},
	{
		Name:      "settings by value containment",
		Index:     "idx_system_settings_value_gin",
		Serving:   []string{"idx_system_settings_value_gin", "system_settings_tenant_id_key_key"},
		SQL:       `SELECT tenant_id, key FROM system_settings WHERE tenant_id = $1 AND value @> '{"mode": "immediate"}'`,
		ParamsSQL: `SELECT tenant_id FROM system_settings WHERE tenant_id IS NOT NULL ORDER BY tenant_id LIMIT 1`,
	},
}
