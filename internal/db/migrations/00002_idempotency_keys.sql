-- Idempotency keys of score writes. A key is claimed (inserted) at the start of the transaction
-- that does the write and holds the answer once it commits: a retry with the same key replays that
-- answer, and two concurrent requests with one key are serialised by the primary key (the second
-- waits for the first to commit, then replays its answer). A refused request rolls back and leaves
-- no key behind, so it can be corrected and sent again.

-- +goose Up
CREATE TABLE idempotency_keys (
    tenant_id       uuid NOT NULL,
    user_id         uuid NOT NULL,
    key             text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    -- SHA-256 of the method, the path and the (normalised) body: the same key with another request
    -- is refused instead of replaying an answer that belongs to something else.
    request_hash    bytea NOT NULL CHECK (length(request_hash) = 32),
    -- The first answer: its status and its exact bytes, so that a replay is byte for byte the same.
    -- Both are NULL only inside the claiming transaction, which fills them before it commits: other
    -- transactions never see a claimed key without its answer.
    response_status integer CHECK (response_status BETWEEN 100 AND 599),
    response_body   bytea,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((response_status IS NULL) = (response_body IS NULL)),
    PRIMARY KEY (tenant_id, user_id, key),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
-- Serves the removal of old keys.
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- +goose Down
DROP TABLE idempotency_keys;
