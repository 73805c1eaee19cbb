-- Rate limits: the tenants' tier, a tenant-safe user reference, the seeded tiers and
-- sign-in limits, and a NOTIFY on every change so that every instance drops its cached limits.
--
-- Resolution order, most specific first (internal/ratelimit): user+endpoint, tenant+endpoint, user,
-- tenant, endpoint, tier default. A row's tier, when set on a row that is not a tier default, limits
-- the row to tenants of that tier.

-- +goose Up
ALTER TABLE tenants ADD COLUMN rate_limit_tier text NOT NULL DEFAULT 'standard'
    CHECK (rate_limit_tier IN ('free', 'standard', 'premium', 'enterprise', 'internal'));

-- user_id pointed at users(id) alone, so a tenant's row could name another tenant's user. A user
-- row now needs its tenant, and the pair must be a user of that tenant.
ALTER TABLE rate_limit_configs DROP CONSTRAINT rate_limit_configs_user_id_fkey;
ALTER TABLE rate_limit_configs ADD CONSTRAINT rate_limit_configs_user_needs_tenant
    CHECK (user_id IS NULL OR tenant_id IS NOT NULL);
ALTER TABLE rate_limit_configs ADD CONSTRAINT rate_limit_configs_tenant_user_fkey
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE;
-- per_hour below per_minute would make per_minute a lie.
ALTER TABLE rate_limit_configs ADD CONSTRAINT rate_limit_configs_hour_covers_minute
    CHECK (per_hour >= per_minute);

-- Tier defaults: limits per user, all endpoints. "internal" is for load tests and the operator's
-- own tools: 1000 concurrent clients of one user must not be limited.
-- Sign-in: three buckets, so that password guessing is slow whichever of them an attacker varies.
--   POST /api/v1/auth/login          per account (tenant + email): strict
--   POST /api/v1/auth/login#ip       per client IP: room for a venue behind one address
--   POST /api/v1/auth/login#tenant   per tenant: every judge signing in at the start of a show
-- The seeded rows are global (tenant_id NULL): migrations run without app.scope, so the policy
-- global_write must be satisfied explicitly.
SELECT set_config('app.scope', 'system', true);
INSERT INTO rate_limit_configs (tenant_id, user_id, endpoint, tier, per_minute, per_hour, burst, priority) VALUES
    (NULL, NULL, NULL, 'free',       60,      1000,     20,     0),
    (NULL, NULL, NULL, 'standard',   600,     20000,    120,    0),
    (NULL, NULL, NULL, 'premium',    1800,    60000,    300,    0),
    (NULL, NULL, NULL, 'enterprise', 6000,    200000,   1000,   0),
    (NULL, NULL, NULL, 'internal',   10000000, 600000000, 1000000, 0),
    (NULL, NULL, 'POST /api/v1/auth/login',        NULL, 10,  60,   10,  0),
    (NULL, NULL, 'POST /api/v1/auth/login#ip',     NULL, 60,  1000, 60,  0),
    (NULL, NULL, 'POST /api/v1/auth/login#tenant', NULL, 300, 5000, 200, 0),
    -- Load tests sign in by the thousand from one address: the internal tier's own per-address and
    -- per-tenant rows, ranked above the general ones by priority (same level: endpoint). Not per
    -- account: guessing one account's password stays slow on every tier.
    (NULL, NULL, 'POST /api/v1/auth/login#ip',     'internal', 10000000, 600000000, 1000000, 10),
    (NULL, NULL, 'POST /api/v1/auth/login#tenant', 'internal', 10000000, 600000000, 1000000, 10)
ON CONFLICT DO NOTHING;

-- One channel, payload = the tenant id of the changed row ('' for a global row): an instance drops
-- that tenant's cached limits, or all of them for a global change. NOTIFY is delivered at commit,
-- and only then, so a rolled-back change invalidates nothing.
-- +goose StatementBegin
CREATE FUNCTION rate_limit_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'tenants' THEN
        PERFORM pg_notify('rate_limit_configs', COALESCE(NEW.id, OLD.id)::text);
    ELSE
        PERFORM pg_notify('rate_limit_configs', COALESCE(COALESCE(NEW.tenant_id, OLD.tenant_id)::text, ''));
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER rate_limit_configs_notify AFTER INSERT OR UPDATE OR DELETE ON rate_limit_configs
    FOR EACH ROW EXECUTE FUNCTION rate_limit_notify();
-- A tenant's tier, slug or activity changes which limits apply to it.
CREATE TRIGGER tenants_rate_limit_notify AFTER UPDATE OF rate_limit_tier, slug, active ON tenants
    FOR EACH ROW EXECUTE FUNCTION rate_limit_notify();

-- +goose Down
DROP TRIGGER tenants_rate_limit_notify ON tenants;
DROP TRIGGER rate_limit_configs_notify ON rate_limit_configs;
DROP FUNCTION rate_limit_notify();
SELECT set_config('app.scope', 'system', true);
DELETE FROM rate_limit_configs WHERE tenant_id IS NULL AND user_id IS NULL AND (
    (endpoint IS NULL AND tier IN ('free', 'standard', 'premium', 'enterprise', 'internal'))
    OR ((tier IS NULL OR tier = 'internal')
        AND endpoint IN ('POST /api/v1/auth/login', 'POST /api/v1/auth/login#ip', 'POST /api/v1/auth/login#tenant')));
ALTER TABLE rate_limit_configs DROP CONSTRAINT rate_limit_configs_hour_covers_minute;
ALTER TABLE rate_limit_configs DROP CONSTRAINT rate_limit_configs_tenant_user_fkey;
ALTER TABLE rate_limit_configs DROP CONSTRAINT rate_limit_configs_user_needs_tenant;
ALTER TABLE rate_limit_configs ADD CONSTRAINT rate_limit_configs_user_id_fkey
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE tenants DROP COLUMN rate_limit_tier;
