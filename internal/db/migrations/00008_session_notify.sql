-- Every instance keeps the sessions it has verified in process (internal/sessioncache). A change that
-- revokes or alters a verified session is notified on the channel auth_sessions, so that every
-- instance drops the affected entries within a second:
--     u:<user id>    a session of the user ended (logout, password change), or the user's role,
--                    active flag, password, email or name changed, or a judge was linked or unlinked
--     t:<tenant id>  the tenant was deactivated, reactivated or removed
-- NOTIFY is delivered at commit, and only then, so a rolled-back change invalidates nothing; the
-- same payload twice in one transaction is delivered once.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION auth_sessions_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    CASE TG_TABLE_NAME
    WHEN 'tenants' THEN
        PERFORM pg_notify('auth_sessions', 't:' || COALESCE(NEW.id, OLD.id)::text);
    WHEN 'users' THEN
        PERFORM pg_notify('auth_sessions', 'u:' || COALESCE(NEW.id, OLD.id)::text);
    WHEN 'sessions' THEN
        -- Purging expired sessions needs no notification: a cached session ends at its expiry.
        IF OLD.expires_at > now() THEN
            PERFORM pg_notify('auth_sessions', 'u:' || OLD.user_id::text);
        END IF;
    WHEN 'judges' THEN
        IF TG_OP <> 'INSERT' AND OLD.user_id IS NOT NULL THEN
            PERFORM pg_notify('auth_sessions', 'u:' || OLD.user_id::text);
        END IF;
        IF TG_OP <> 'DELETE' AND NEW.user_id IS NOT NULL THEN
            PERFORM pg_notify('auth_sessions', 'u:' || NEW.user_id::text);
        END IF;
    END CASE;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER sessions_auth_notify AFTER DELETE ON sessions
    FOR EACH ROW EXECUTE FUNCTION auth_sessions_notify();
CREATE TRIGGER users_auth_notify AFTER UPDATE OF role, active, password_hash, email, name OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION auth_sessions_notify();
CREATE TRIGGER judges_auth_notify AFTER INSERT OR UPDATE OF user_id OR DELETE ON judges
    FOR EACH ROW EXECUTE FUNCTION auth_sessions_notify();
CREATE TRIGGER tenants_auth_notify AFTER UPDATE OF active OR DELETE ON tenants
    FOR EACH ROW EXECUTE FUNCTION auth_sessions_notify();

-- +goose Down
DROP TRIGGER tenants_auth_notify ON tenants;
DROP TRIGGER judges_auth_notify ON judges;
DROP TRIGGER users_auth_notify ON users;
DROP TRIGGER sessions_auth_notify ON sessions;
DROP FUNCTION auth_sessions_notify();
