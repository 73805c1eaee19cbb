-- Certified means final, enforced by the database, and the judging rules that read before they
-- write made safe under concurrency.
--
-- The lock. A standing certification freezes the inputs of a category's results:
--   * a judge's JUDGE certification freezes that judge's inputs: their scores, their assignment to
--     the category, their judge record's name and user link;
--   * the TALLY_MASTER certification (and AUDITOR and BOARD after it) freezes every input: scores,
--     deductions, assignments, entered contestants, criteria and their maxima, the category's name,
--     contest and score_cap, the names and numbers of its contestants, the names and links of its
--     judges, and the scoring type in force (the contest's, else the event's, else the tenant's).
-- category_lock_steps is the one guard. The store calls it first (through category_lock_step) in
-- every write of a category's inputs, so that every such write takes the category's lock before any
-- other, and the triggers below call it for the rows of every statement, whoever writes them.
--
-- Why it is race-safe. A certification takes the category row FOR NO KEY UPDATE (and FOR SHARE the
-- rows outside the category that its results show: contest, event, tenant, entered contestants,
-- assigned judges). The guard takes the category row FOR SHARE, which waits for a certification in
-- flight, and only then reads the certifications, in a new statement: under READ COMMITTED a new
-- statement has a new snapshot, so it sees a certification that committed while it waited. The
-- other way round, a certification waits for the writes in flight and reads the state after them.
-- Rows outside the category are changed by UPDATE, which locks the row before the BEFORE trigger
-- runs, so the trigger's check waits for a certification in flight in the same way.
--
-- Refusals raise SQLSTATE EM000 with CONSTRAINT naming the rule and DETAIL a JSON object; the store
-- maps each rule to the API's error code (store.DatabaseRule).

-- +goose Up

-- +goose StatementBegin
-- category_lock_steps is the guard, for a set of (tenant, category, judge) keys of rows being written
-- (judge NULL: inputs of no one judge). It takes the categories' input lock (FOR SHARE, in id order)
-- and returns the first key's category frozen by a standing certification, with the step that
-- freezes it: the latest standing step from TALLY_MASTER on, else JUDGE when that judge's own
-- certification stands. No row: nothing is frozen. Set-based, so that a bulk load costs two
-- statements, not two per category.
CREATE FUNCTION category_lock_steps(p_tenant uuid[], p_category uuid[], p_judge uuid[])
RETURNS TABLE (category_id uuid, step text)
LANGUAGE plpgsql AS $$
BEGIN
    -- EXECUTE: planned with the tables' current size, never with a plan cached while they were small.
    -- Keys are matched on the unique ids (primary keys), never on tenant_id alone: row-level
    -- security adds a tenant condition that would otherwise lead the planner to the tenant index.
    EXECUTE 'SELECT 1 FROM categories c
        WHERE c.id IN (SELECT unnest($2)) AND c.tenant_id = ANY ($1)
        ORDER BY c.id FOR SHARE OF c' USING p_tenant, p_category;
    -- A new statement: a certification that committed while the lock waited is seen.
    RETURN QUERY EXECUTE 'SELECT x.category_id, x.step FROM unnest($1, $2, $3) AS k(t, c, j)
        JOIN category_certifications x ON x.tenant_id = k.t AND x.category_id = k.c AND x.revoked_at IS NULL
            AND (x.step <> ''JUDGE'' OR x.judge_id = k.j)
        ORDER BY array_position(ARRAY[''JUDGE'', ''TALLY_MASTER'', ''AUDITOR'', ''BOARD''], x.step) DESC
        LIMIT 1' USING p_tenant, p_category, p_judge;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- category_lock_step is category_lock_steps for one category: the store calls it first in every
-- write of a category's inputs and answers the step it returns (NULL: not frozen).
CREATE FUNCTION category_lock_step(p_tenant uuid, p_category uuid, p_judge uuid) RETURNS text
LANGUAGE sql AS $$
    SELECT step FROM category_lock_steps(ARRAY[p_tenant], ARRAY[p_category], ARRAY[p_judge])
$$;
-- +goose StatementEnd

-- +goose StatementBegin
-- refuse raises a rule's refusal, the one way the database refuses a judging rule.
CREATE FUNCTION refuse(p_rule text, p_detail jsonb, p_message text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'EM000', CONSTRAINT = p_rule, DETAIL = p_detail::text, MESSAGE = p_message;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- refuse_if_certified is the guard applied by the triggers to the keys of the rows written.
CREATE FUNCTION refuse_if_certified(p_tenant uuid[], p_category uuid[], p_judge uuid[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    hit record;
BEGIN
    SELECT * INTO hit FROM category_lock_steps(p_tenant, p_category, p_judge);
    IF FOUND THEN
        PERFORM refuse('category_certified', jsonb_build_object('step', hit.step, 'category_id', hit.category_id),
            'the category is certified (' || hit.step || ' step): revoke the certification to change it');
    END IF;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- standing_results_step is the latest standing step from TALLY_MASTER on of a category, or NULL;
-- for rows outside the category, whose UPDATE already holds their lock.
CREATE FUNCTION standing_results_step(p_tenant uuid, p_category uuid) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT x.step FROM category_certifications x
    WHERE x.tenant_id = p_tenant AND x.category_id = p_category AND x.revoked_at IS NULL AND x.step <> 'JUDGE'
    ORDER BY array_position(ARRAY['TALLY_MASTER', 'AUDITOR', 'BOARD'], x.step) DESC
    LIMIT 1
$$;
-- +goose StatementEnd

-- +goose StatementBegin
-- guard_category_rows guards the rows of a category's inputs (scores, deductions, assignments,
-- criteria, entered contestants) once per statement. An UPDATE that changes only the certification
-- marks (locked, certified_at) or updated_at is the certification's own and is let through.
CREATE FUNCTION guard_category_rows() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ignored CONSTANT text[] := ARRAY['locked', 'certified_at', 'updated_at'];
    t uuid[];
    c uuid[];
    j uuid[];
BEGIN
    -- One branch per event: a statement naming a transition table the trigger lacks must not run.
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(k.tenant_id), array_agg(k.category_id), array_agg(k.judge_id) INTO t, c, j
        FROM (SELECT DISTINCT r.tenant_id, r.category_id, (to_jsonb(r) ->> 'judge_id')::uuid AS judge_id FROM new_rows r) k;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(k.tenant_id), array_agg(k.category_id), array_agg(k.judge_id) INTO t, c, j
        FROM (SELECT DISTINCT r.tenant_id, r.category_id, (to_jsonb(r) ->> 'judge_id')::uuid AS judge_id FROM old_rows r) k;
    ELSE
        SELECT array_agg(k.tenant_id), array_agg(k.category_id), array_agg(k.judge_id) INTO t, c, j
        FROM (SELECT DISTINCT (d.j ->> 'tenant_id')::uuid AS tenant_id, (d.j ->> 'category_id')::uuid AS category_id,
                     (d.j ->> 'judge_id')::uuid AS judge_id
              FROM ((SELECT to_jsonb(n) - ignored AS j FROM new_rows n EXCEPT SELECT to_jsonb(o) - ignored FROM old_rows o)
                    UNION
                    (SELECT to_jsonb(o) - ignored FROM old_rows o EXCEPT SELECT to_jsonb(n) - ignored FROM new_rows n)) d) k;
    END IF;
    IF t IS NOT NULL THEN
        PERFORM refuse_if_certified(t, c, j);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- check_score_rows holds the rules of the score rows written by a statement, after the guard:
--   * the judge holds an assignment to the category that is not CANCELLED (no orphaned score); the
--     assignment is locked FOR NO KEY UPDATE, which serialises one judge's writes in a category and
--     makes deleting or cancelling the assignment wait for them;
--   * the score is at most the criterion's max_score (the criterion is locked FOR SHARE, so that
--     lowering the maximum waits for the write and then sees it);
--   * the judge's total for the contestant is at most the category's score_cap (the guard holds the
--     category FOR SHARE, so that the cap cannot change under the write).
CREATE FUNCTION check_score_rows() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    bad jsonb;
BEGIN
    -- An UPDATE that changes only the certification marks is the certification's own.
    -- (Nested IFs: an expression naming old_rows must not be prepared in the INSERT trigger.)
    IF TG_OP = 'UPDATE' THEN
        IF NOT EXISTS (SELECT 1 FROM new_rows n JOIN old_rows o ON o.id = n.id
                WHERE (n.tenant_id, n.category_id, n.judge_id, n.contestant_id, n.criterion_id, n.score, n.comment)
                    IS DISTINCT FROM (o.tenant_id, o.category_id, o.judge_id, o.contestant_id, o.criterion_id, o.score, o.comment)) THEN
            RETURN NULL;
        END IF;
    END IF;
    PERFORM refuse_if_certified(array_agg(k.tenant_id), array_agg(k.category_id), array_agg(k.judge_id))
    FROM (SELECT DISTINCT tenant_id, category_id, judge_id FROM new_rows) k
    HAVING count(*) > 0;

    -- The statements below read tables that a bulk load grows: they are run with EXECUTE, so that
    -- each is planned with the tables' current size (a plan cached while a table was still empty
    -- would scan it whole for every key once it is not), and they match rows on unique keys, never
    -- on tenant_id alone (row-level security's tenant condition would lead the planner to the
    -- tenant index and a scan of all the tenant's rows per key). The composite foreign keys keep
    -- every row in its tenant.
    EXECUTE 'SELECT 1 FROM assignments a
        WHERE (a.judge_id, a.category_id) IN (SELECT DISTINCT judge_id, category_id FROM new_rows)
        ORDER BY a.id FOR NO KEY UPDATE OF a';
    EXECUTE 'SELECT jsonb_build_object(''category_id'', k.category_id, ''judge_id'', k.judge_id)
        FROM (SELECT DISTINCT judge_id, category_id FROM new_rows) k
        LEFT JOIN assignments a ON a.judge_id = k.judge_id AND a.category_id = k.category_id
        WHERE a.id IS NULL OR a.status = ''CANCELLED''
        LIMIT 1' INTO bad;
    IF bad IS NOT NULL THEN
        PERFORM refuse('scores_need_assignment', bad, 'the judge holds no assignment to the category that is not CANCELLED');
    END IF;

    EXECUTE 'SELECT 1 FROM criteria c
        WHERE c.id IN (SELECT DISTINCT criterion_id FROM new_rows)
        ORDER BY c.id FOR SHARE OF c';
    EXECUTE 'SELECT jsonb_build_object(''contestant_id'', n.contestant_id, ''criterion_id'', n.criterion_id,
            ''max_score'', trim_scale(c.max_score)::text)
        FROM new_rows n JOIN criteria c ON c.id = n.criterion_id
        WHERE n.score > c.max_score
        LIMIT 1' INTO bad;
    IF bad IS NOT NULL THEN
        PERFORM refuse('scores_within_max_score', bad, 'the score is above the criterion''s max_score');
    END IF;

    EXECUTE 'SELECT jsonb_build_object(''contestant_id'', t.contestant_id, ''total'', trim_scale(t.total)::text,
            ''score_cap'', trim_scale(cat.score_cap)::text)
        FROM (SELECT s.category_id, s.judge_id, s.contestant_id, sum(s.score) AS total
              FROM scores s
              WHERE (s.judge_id, s.contestant_id) IN (SELECT DISTINCT judge_id, contestant_id FROM new_rows)
              GROUP BY 1, 2, 3) t
        JOIN categories cat ON cat.id = t.category_id
        WHERE t.total > cat.score_cap
        LIMIT 1' INTO bad;
    IF bad IS NOT NULL THEN
        PERFORM refuse('scores_within_score_cap', bad, 'the judge''s total for the contestant is above the category''s score_cap');
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- Score writes: the guard and the rules, once per statement (bulk loads stay set-based). A trigger
-- with transition tables serves one event only, hence one trigger per event.
CREATE TRIGGER scores_check_insert AFTER INSERT ON scores
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION check_score_rows();
CREATE TRIGGER scores_check_update AFTER UPDATE ON scores
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION check_score_rows();
CREATE TRIGGER scores_guard_delete AFTER DELETE ON scores
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION guard_category_rows();

-- The other inputs inside a category.
CREATE TRIGGER deductions_guard_insert AFTER INSERT ON deductions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION guard_category_rows();
CREATE TRIGGER deductions_guard_update AFTER UPDATE ON deductions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION guard_category_rows();
CREATE TRIGGER deductions_guard_delete AFTER DELETE ON deductions
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION guard_category_rows();
CREATE TRIGGER assignments_guard_insert AFTER INSERT ON assignments
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION guard_category_rows();
CREATE TRIGGER assignments_guard_update AFTER UPDATE ON assignments
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION guard_category_rows();
CREATE TRIGGER assignments_guard_delete AFTER DELETE ON assignments
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION guard_category_rows();
CREATE TRIGGER criteria_guard_insert AFTER INSERT ON criteria
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION guard_category_rows();
CREATE TRIGGER criteria_guard_update AFTER UPDATE ON criteria
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION guard_category_rows();
CREATE TRIGGER criteria_guard_delete AFTER DELETE ON criteria
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION guard_category_rows();
CREATE TRIGGER category_contestants_guard_insert AFTER INSERT ON category_contestants
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION guard_category_rows();
CREATE TRIGGER category_contestants_guard_update AFTER UPDATE ON category_contestants
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION guard_category_rows();
CREATE TRIGGER category_contestants_guard_delete AFTER DELETE ON category_contestants
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION guard_category_rows();

-- +goose StatementBegin
-- An assignment with scores is not deleted (the scores would drop out of the results); cancel it.
-- BEFORE DELETE runs after the row is locked, so it sees a score write that committed meanwhile.
CREATE FUNCTION check_assignment_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM scores s WHERE s.tenant_id = OLD.tenant_id AND s.category_id = OLD.category_id
               AND s.judge_id = OLD.judge_id) THEN
        PERFORM refuse('assignments_without_scores', jsonb_build_object('assignment_id', OLD.id),
            'the judge has scores in this category');
    END IF;
    RETURN OLD;
END $$;
-- +goose StatementEnd
CREATE TRIGGER assignments_check_delete BEFORE DELETE ON assignments
    FOR EACH ROW EXECUTE FUNCTION check_assignment_delete();

-- +goose StatementBegin
-- Lowering a criterion's maximum below a score already given is refused. The UPDATE holds the
-- criterion's row lock, which score writes wait for (FOR SHARE), and this check runs after it.
CREATE FUNCTION check_criterion_max() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.max_score < OLD.max_score AND EXISTS (SELECT 1 FROM scores s
            WHERE s.tenant_id = NEW.tenant_id AND s.criterion_id = NEW.id AND s.score > NEW.max_score) THEN
        PERFORM refuse('criteria_max_score_above_scores', jsonb_build_object('criterion_id', NEW.id),
            'scores above this maximum have already been given for this criterion');
    END IF;
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER criteria_check_max BEFORE UPDATE ON criteria
    FOR EACH ROW EXECUTE FUNCTION check_criterion_max();

-- +goose StatementBegin
-- A category: its name, contest and score_cap are frozen from TALLY_MASTER on, and a certified
-- category is not deleted. Lowering score_cap below a judge's existing total is refused; score
-- writes hold the category FOR SHARE, so this check (after the UPDATE's row lock) sees them all.
CREATE FUNCTION check_category_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    standing text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        standing := standing_results_step(OLD.tenant_id, OLD.id);
    ELSIF (NEW.name, NEW.contest_id, NEW.score_cap) IS DISTINCT FROM (OLD.name, OLD.contest_id, OLD.score_cap) THEN
        standing := standing_results_step(NEW.tenant_id, NEW.id);
    END IF;
    IF standing IS NOT NULL THEN
        PERFORM refuse('category_certified', jsonb_build_object('step', standing, 'category_id', OLD.id),
            'the category is certified (' || standing || ' step): revoke the certification to change it');
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    IF NEW.score_cap IS NOT NULL AND (OLD.score_cap IS NULL OR NEW.score_cap < OLD.score_cap) AND EXISTS (
            SELECT 1 FROM scores s WHERE s.tenant_id = NEW.tenant_id AND s.category_id = NEW.id
            GROUP BY s.judge_id, s.contestant_id HAVING sum(s.score) > NEW.score_cap) THEN
        PERFORM refuse('categories_score_cap_above_totals', jsonb_build_object('category_id', NEW.id),
            'a judge''s total for a contestant is already above this score_cap');
    END IF;
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER categories_check_change BEFORE UPDATE OR DELETE ON categories
    FOR EACH ROW EXECUTE FUNCTION check_category_change();

-- +goose StatementBegin
-- Rows outside the category that its results show: a contestant's name and number, a judge's name
-- and user link (frozen by that judge's own certification too), and the scoring type in force.
-- Each check runs after the UPDATE's row lock, which a certification in flight holds FOR SHARE.
CREATE FUNCTION check_results_shown_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    hit record;
BEGIN
    IF TG_TABLE_NAME = 'contestants' THEN
        IF TG_OP = 'UPDATE' AND (NEW.name, NEW.number) IS NOT DISTINCT FROM (OLD.name, OLD.number) THEN
            RETURN NEW;
        END IF;
        SELECT cc.category_id, standing_results_step(cc.tenant_id, cc.category_id) AS step INTO hit
        FROM category_contestants cc WHERE cc.tenant_id = OLD.tenant_id AND cc.contestant_id = OLD.id
          AND standing_results_step(cc.tenant_id, cc.category_id) IS NOT NULL
        LIMIT 1;
    ELSIF TG_TABLE_NAME = 'judges' THEN
        IF TG_OP = 'UPDATE' AND (NEW.name, NEW.user_id) IS NOT DISTINCT FROM (OLD.name, OLD.user_id) THEN
            RETURN NEW;
        END IF;
        SELECT x.category_id, x.step INTO hit FROM (
            SELECT x.category_id, 'JUDGE' AS step, 0 AS o FROM category_certifications x
            WHERE x.tenant_id = OLD.tenant_id AND x.judge_id = OLD.id AND x.step = 'JUDGE' AND x.revoked_at IS NULL
            UNION ALL
            SELECT a.category_id, standing_results_step(a.tenant_id, a.category_id), 1 FROM assignments a
            WHERE a.tenant_id = OLD.tenant_id AND a.judge_id = OLD.id AND a.status <> 'CANCELLED'
              AND standing_results_step(a.tenant_id, a.category_id) IS NOT NULL) x
        ORDER BY x.o DESC LIMIT 1;
    ELSIF TG_TABLE_NAME = 'contests' THEN
        IF NEW.scoring_type IS NOT DISTINCT FROM OLD.scoring_type THEN
            RETURN NEW;
        END IF;
        SELECT c.id AS category_id, standing_results_step(c.tenant_id, c.id) AS step INTO hit
        FROM categories c
        JOIN events e ON e.tenant_id = c.tenant_id AND e.id = NEW.event_id
        JOIN tenants t ON t.id = c.tenant_id
        WHERE c.tenant_id = NEW.tenant_id AND c.contest_id = NEW.id
          AND coalesce(NEW.scoring_type, e.scoring_type, t.scoring_type) IS DISTINCT FROM coalesce(OLD.scoring_type, e.scoring_type, t.scoring_type)
          AND standing_results_step(c.tenant_id, c.id) IS NOT NULL
        LIMIT 1;
    ELSIF TG_TABLE_NAME = 'events' THEN
        IF NEW.scoring_type IS NOT DISTINCT FROM OLD.scoring_type THEN
            RETURN NEW;
        END IF;
        SELECT c.id AS category_id, standing_results_step(c.tenant_id, c.id) AS step INTO hit
        FROM contests ct
        JOIN categories c ON c.tenant_id = ct.tenant_id AND c.contest_id = ct.id
        JOIN tenants t ON t.id = ct.tenant_id
        WHERE ct.tenant_id = NEW.tenant_id AND ct.event_id = NEW.id AND ct.scoring_type IS NULL
          AND coalesce(NEW.scoring_type, t.scoring_type) IS DISTINCT FROM coalesce(OLD.scoring_type, t.scoring_type)
          AND standing_results_step(c.tenant_id, c.id) IS NOT NULL
        LIMIT 1;
    ELSIF TG_TABLE_NAME = 'tenants' THEN
        IF NEW.scoring_type IS NOT DISTINCT FROM OLD.scoring_type THEN
            RETURN NEW;
        END IF;
        SELECT c.id AS category_id, standing_results_step(c.tenant_id, c.id) AS step INTO hit
        FROM events e
        JOIN contests ct ON ct.tenant_id = e.tenant_id AND ct.event_id = e.id
        JOIN categories c ON c.tenant_id = ct.tenant_id AND c.contest_id = ct.id
        WHERE e.tenant_id = NEW.id AND e.scoring_type IS NULL AND ct.scoring_type IS NULL
          AND standing_results_step(c.tenant_id, c.id) IS NOT NULL
        LIMIT 1;
    END IF;
    IF hit.step IS NOT NULL THEN
        PERFORM refuse('category_certified', jsonb_build_object('step', hit.step, 'category_id', hit.category_id),
            'a category whose results show this is certified (' || hit.step || ' step): revoke the certification to change it');
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER contestants_check_change BEFORE UPDATE OR DELETE ON contestants
    FOR EACH ROW EXECUTE FUNCTION check_results_shown_change();
CREATE TRIGGER judges_check_change BEFORE UPDATE OR DELETE ON judges
    FOR EACH ROW EXECUTE FUNCTION check_results_shown_change();
CREATE TRIGGER contests_check_change BEFORE UPDATE ON contests
    FOR EACH ROW EXECUTE FUNCTION check_results_shown_change();
CREATE TRIGGER events_check_change BEFORE UPDATE ON events
    FOR EACH ROW EXECUTE FUNCTION check_results_shown_change();
CREATE TRIGGER tenants_check_change BEFORE UPDATE ON tenants
    FOR EACH ROW EXECUTE FUNCTION check_results_shown_change();

-- +goose Down
DROP TRIGGER tenants_check_change ON tenants;
DROP TRIGGER events_check_change ON events;
DROP TRIGGER contests_check_change ON contests;
DROP TRIGGER judges_check_change ON judges;
DROP TRIGGER contestants_check_change ON contestants;
DROP FUNCTION check_results_shown_change();
DROP TRIGGER categories_check_change ON categories;
DROP FUNCTION check_category_change();
DROP TRIGGER criteria_check_max ON criteria;
DROP FUNCTION check_criterion_max();
DROP TRIGGER assignments_check_delete ON assignments;
DROP FUNCTION check_assignment_delete();
DROP TRIGGER category_contestants_guard_delete ON category_contestants;
DROP TRIGGER category_contestants_guard_update ON category_contestants;
DROP TRIGGER category_contestants_guard_insert ON category_contestants;
DROP TRIGGER criteria_guard_delete ON criteria;
DROP TRIGGER criteria_guard_update ON criteria;
DROP TRIGGER criteria_guard_insert ON criteria;
DROP TRIGGER assignments_guard_delete ON assignments;
DROP TRIGGER assignments_guard_update ON assignments;
DROP TRIGGER assignments_guard_insert ON assignments;
DROP TRIGGER deductions_guard_delete ON deductions;
DROP TRIGGER deductions_guard_update ON deductions;
DROP TRIGGER deductions_guard_insert ON deductions;
DROP TRIGGER scores_guard_delete ON scores;
DROP TRIGGER scores_check_update ON scores;
DROP TRIGGER scores_check_insert ON scores;
DROP FUNCTION check_score_rows();
DROP FUNCTION guard_category_rows();
DROP FUNCTION standing_results_step(uuid, uuid);
DROP FUNCTION refuse_if_certified(uuid[], uuid[], uuid[]);
DROP FUNCTION refuse(text, jsonb, text);
DROP FUNCTION category_lock_step(uuid, uuid, uuid);
DROP FUNCTION category_lock_steps(uuid[], uuid[], uuid[]);
