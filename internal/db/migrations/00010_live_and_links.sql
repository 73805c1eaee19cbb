-- Live updates, judges' sign-in links, device reports and audience links.
--
-- Live updates: triggers NOTIFY every change of scores, deductions, certifications, assignments
-- and device reports on the channel live_events. The payload is a small JSON object of ids
-- (kind, tenant_id, category_id, contest_id, id, data): never names or scores, and far below
-- NOTIFY's 8000-byte limit; pages refetch what they show. NOTIFY is delivered at commit, and only
-- then, so a rolled-back change notifies nothing. Scores are notified once per statement, judge and
-- category (a scoresheet saved in one request is one event, not one per cell).
--
-- sign_in_links and audience_links have no row-level security, like sessions: the exchange of a
-- sign-in link and the audience's read find the row by the SHA-256 of the link's secret before any
-- tenant is known, and take the tenant from it. Knowing the secret is the authorisation; the rows
-- hold ids and times only. Every other query of them filters by tenant_id.

-- The tables that get triggers are locked first, scores first, in the mode the triggers need: a
-- score write locks scores and then reads assignments and certifications (the certified-lock
-- triggers), so a migration that locked assignments first and scores later would deadlock with it.

-- +goose Up
LOCK TABLE scores, deductions, category_certifications, assignments IN SHARE ROW EXCLUSIVE MODE;
CREATE TABLE sign_in_links (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id   uuid NOT NULL,
    judge_id    uuid NOT NULL,
    secret_hash bytea NOT NULL UNIQUE CHECK (length(secret_hash) = 32),
    created_by  uuid,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    revoked_at  timestamptz,
    revoked_by  uuid,
    UNIQUE (tenant_id, id),
    CHECK (expires_at > created_at),
    FOREIGN KEY (tenant_id, judge_id) REFERENCES judges (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, created_by) REFERENCES users (tenant_id, id) ON DELETE SET NULL (created_by),
    FOREIGN KEY (tenant_id, revoked_by) REFERENCES users (tenant_id, id) ON DELETE SET NULL (revoked_by)
);
CREATE INDEX sign_in_links_judge_idx ON sign_in_links (tenant_id, judge_id, created_at DESC);
CREATE INDEX sign_in_links_expires_idx ON sign_in_links (expires_at);

CREATE TABLE audience_links (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id   uuid NOT NULL,
    -- Exactly one of the two: the link shows one category, or every category of a contest.
    category_id uuid,
    contest_id  uuid,
    secret_hash bytea NOT NULL UNIQUE CHECK (length(secret_hash) = 32),
    created_by  uuid,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    revoked_by  uuid,
    UNIQUE (tenant_id, id),
    CHECK ((category_id IS NULL) <> (contest_id IS NULL)),
    FOREIGN KEY (tenant_id, category_id) REFERENCES categories (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, contest_id) REFERENCES contests (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, created_by) REFERENCES users (tenant_id, id) ON DELETE SET NULL (created_by),
    FOREIGN KEY (tenant_id, revoked_by) REFERENCES users (tenant_id, id) ON DELETE SET NULL (revoked_by)
);
CREATE INDEX audience_links_category_idx ON audience_links (tenant_id, category_id) WHERE category_id IS NOT NULL;
CREATE INDEX audience_links_contest_idx ON audience_links (tenant_id, contest_id) WHERE contest_id IS NOT NULL;

-- The last report of a judge's device for a category: when it was last heard from and how many
-- rows wait in its queue. notified_at throttles the NOTIFY of frequent reports.
CREATE TABLE device_reports (
    tenant_id   uuid NOT NULL,
    category_id uuid NOT NULL,
    judge_id    uuid NOT NULL,
    queued      integer NOT NULL CHECK (queued >= 0),
    seen_at     timestamptz NOT NULL DEFAULT now(),
    notified_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, category_id, judge_id),
    FOREIGN KEY (tenant_id, category_id) REFERENCES categories (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, judge_id) REFERENCES judges (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX device_reports_judge_idx ON device_reports (tenant_id, judge_id);
ALTER TABLE device_reports ENABLE ROW LEVEL SECURITY;
ALTER TABLE device_reports FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON device_reports
    USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);

-- live_notify sends one event. The category's contest is looked up so that a contest-wide view
-- can follow all its categories at once.
-- +goose StatementBegin
CREATE FUNCTION live_notify(kind text, tenant uuid, category uuid, row_id uuid, data jsonb) RETURNS void
LANGUAGE sql AS $$
    SELECT pg_notify('live_events', jsonb_build_object(
        'kind', kind, 'tenant_id', tenant, 'category_id', category,
        'contest_id', (SELECT c.contest_id FROM categories c WHERE c.tenant_id = tenant AND c.id = category),
        'id', row_id, 'data', data)::text)
$$;
-- +goose StatementEnd

-- Scores: one event per statement, judge and category, naming up to 50 of the contestants.
-- +goose StatementBegin
CREATE FUNCTION live_scores_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM live_notify('score', g.tenant_id, g.category_id, g.judge_id,
        jsonb_build_object('contestant_ids', to_jsonb(g.contestant_ids[1:50]), 'count', g.n))
    FROM (SELECT tenant_id, category_id, judge_id, array_agg(DISTINCT contestant_id) AS contestant_ids, count(*) AS n
          FROM changed GROUP BY tenant_id, category_id, judge_id) g;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER scores_live_insert AFTER INSERT ON scores REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION live_scores_notify();
CREATE TRIGGER scores_live_update AFTER UPDATE ON scores REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION live_scores_notify();
CREATE TRIGGER scores_live_delete AFTER DELETE ON scores REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION live_scores_notify();

-- +goose StatementBegin
CREATE FUNCTION live_row_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
    data jsonb;
BEGIN
    IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
    CASE TG_TABLE_NAME
    WHEN 'deductions' THEN
        PERFORM live_notify('deduction', r.tenant_id, r.category_id, r.id,
            jsonb_build_object('contestant_id', r.contestant_id, 'op', lower(TG_OP)));
    WHEN 'category_certifications' THEN
        PERFORM live_notify('certification', r.tenant_id, r.category_id, r.id,
            jsonb_build_object('step', r.step, 'judge_id', r.judge_id, 'revoked', r.revoked_at IS NOT NULL, 'op', lower(TG_OP)));
    WHEN 'assignments' THEN
        PERFORM live_notify('assignment', r.tenant_id, r.category_id, r.id,
            jsonb_build_object('judge_id', r.judge_id, 'status', r.status, 'op', lower(TG_OP)));
    WHEN 'device_reports' THEN
        PERFORM live_notify('device', r.tenant_id, r.category_id, r.judge_id,
            jsonb_build_object('queued', r.queued, 'seen_at', r.seen_at));
    END CASE;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER deductions_live AFTER INSERT OR UPDATE OR DELETE ON deductions
    FOR EACH ROW EXECUTE FUNCTION live_row_notify();
CREATE TRIGGER category_certifications_live AFTER INSERT OR UPDATE OR DELETE ON category_certifications
    FOR EACH ROW EXECUTE FUNCTION live_row_notify();
CREATE TRIGGER assignments_live AFTER INSERT OR UPDATE OR DELETE ON assignments
    FOR EACH ROW EXECUTE FUNCTION live_row_notify();
-- A device report notifies when it is new, or when the store moved notified_at (the queue changed,
-- or the last notification is old): a report every few seconds costs no NOTIFY in between.
CREATE TRIGGER device_reports_live_insert AFTER INSERT ON device_reports
    FOR EACH ROW EXECUTE FUNCTION live_row_notify();
CREATE TRIGGER device_reports_live_update AFTER UPDATE ON device_reports
    FOR EACH ROW WHEN (NEW.notified_at IS DISTINCT FROM OLD.notified_at) EXECUTE FUNCTION live_row_notify();

-- A revoked audience link ends its open streams on every instance. The event goes to the link's
-- category, or to its contest (category_id carries the contest then: the hub routes by either).
-- +goose StatementBegin
CREATE FUNCTION live_audience_link_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('live_events', jsonb_build_object(
        'kind', 'audience_link', 'tenant_id', NEW.tenant_id,
        'category_id', coalesce(NEW.category_id, NEW.contest_id), 'contest_id', NEW.contest_id,
        'id', NEW.id, 'data', jsonb_build_object('revoked', NEW.revoked_at IS NOT NULL))::text);
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER audience_links_live AFTER UPDATE OF revoked_at ON audience_links
    FOR EACH ROW EXECUTE FUNCTION live_audience_link_notify();

-- +goose Down
LOCK TABLE scores, deductions, category_certifications, assignments, device_reports, audience_links IN ACCESS EXCLUSIVE MODE;
DROP TRIGGER audience_links_live ON audience_links;
DROP FUNCTION live_audience_link_notify();
DROP TRIGGER device_reports_live_update ON device_reports;
DROP TRIGGER device_reports_live_insert ON device_reports;
DROP TRIGGER assignments_live ON assignments;
DROP TRIGGER category_certifications_live ON category_certifications;
DROP TRIGGER deductions_live ON deductions;
DROP TRIGGER scores_live_delete ON scores;
DROP TRIGGER scores_live_update ON scores;
DROP TRIGGER scores_live_insert ON scores;
DROP FUNCTION live_row_notify();
DROP FUNCTION live_scores_notify();
DROP FUNCTION live_notify(text, uuid, uuid, uuid, jsonb);
DROP TABLE device_reports;
DROP TABLE audience_links;
DROP TABLE sign_in_links;
