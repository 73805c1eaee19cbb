package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/jackc/pgx/v5"
)

// Idempotency is an Idempotency-Key sent with a write. Keys belong to the user who sent them.
type Idempotency struct {
	UserID string
	Key    string
	// RequestHash is the SHA-256 of the method, the path and the body: a key may only be replayed
	// for the same request.
	RequestHash []byte
	// Render makes the answer of the write, stored with the key in the write's transaction.
	Render func(ScoresResult) (StoredAnswer, error)
}

// StoredAnswer is an HTTP answer kept with an idempotency key.
type StoredAnswer struct {
	Status int
	Body   []byte
	// Replayed is true when the answer is the stored one of an earlier request with the same key.
	Replayed bool
}

// claimIdempotencyKey takes the key for this transaction. The primary key serialises concurrent
// requests with one key: the second INSERT waits until the first transaction ends, then either
// claims the key (the first rolled back) or finds its committed answer, which is returned to be
// replayed. Reusing a key for another request is IDEMPOTENCY_KEY_REUSED.
func claimIdempotencyKey(tx *db.Tx, tenantID string, k *Idempotency) (*StoredAnswer, error) {
	tag, err := tx.Exec(`INSERT INTO idempotency_keys (tenant_id, user_id, key, request_hash) VALUES ($1, $2, $3, $4)
		ON CONFLICT (tenant_id, user_id, key) DO NOTHING`, tenantID, k.UserID, k.Key, k.RequestHash)
	if err != nil {
		return nil, err
	}
	if tag.RowsAffected() == 1 {
		return nil, nil
	}
	var (
		hash   []byte
		status *int
		body   []byte
	)
	// A new statement, so a new snapshot: it sees the row that the other transaction committed.
	if err := tx.QueryRow(`SELECT request_hash, response_status, response_body FROM idempotency_keys
		WHERE tenant_id = $1 AND user_id = $2 AND key = $3`, tenantID, k.UserID, k.Key).Scan(&hash, &status, &body); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			// Claimed and released again between the two statements: rare; the client may retry.
			return nil, idempotencyInFlight()
		}
		return nil, err
	}
	if !bytes.Equal(hash, k.RequestHash) {
		return nil, &RuleError{Kind: Unprocessable, Code: "IDEMPOTENCY_KEY_REUSED", Field: "Idempotency-Key",
			Message: "this Idempotency-Key was used with another request; use a new key for a new request"}
	}
	if status == nil {
		return nil, idempotencyInFlight()
	}
	return &StoredAnswer{Status: *status, Body: body, Replayed: true}, nil
}

func idempotencyInFlight() error {
	return &RuleError{Kind: Refused, Code: "IDEMPOTENCY_KEY_IN_USE", Field: "Idempotency-Key",
		Message: "a request with this Idempotency-Key is still being processed; retry shortly"}
}

// saveIdempotentAnswer stores the answer with the claimed key, before the commit.
func saveIdempotentAnswer(tx *db.Tx, tenantID string, k *Idempotency, a StoredAnswer) error {
	_, err := tx.Exec(`UPDATE idempotency_keys SET response_status = $4, response_body = $5
		WHERE tenant_id = $1 AND user_id = $2 AND key = $3`, tenantID, k.UserID, k.Key, a.Status, a.Body)
	return err
}

var (
	opIdempotencyTenants = db.Op{Name: "idempotency.purge_tenants", Class: db.Simple}
	opIdempotencyPurge   = db.Op{Name: "idempotency.purge", Class: db.Standard}
)

// IdempotencyKeyRetention is how long a key can be replayed: a client retries within seconds or
// minutes; a day covers a retry after a night-long outage without keeping keys forever.
const IdempotencyKeyRetention = 24 * time.Hour

// purgeBatch bounds one DELETE so that a tenant with many old keys never runs past the class
// timeout or holds many row locks at once.
const purgeBatch = 5000

// PurgeIdempotencyKeys removes keys older than retention, tenant by tenant: the keys are under
// row-level security, so each DELETE runs in its tenant's scope, in batches.
func (s *Store) PurgeIdempotencyKeys(ctx context.Context, retention time.Duration) (int64, error) {
	var tenants []string
	err := s.db.Query(ctx, opIdempotencyTenants, "", collectRows(&tenants, 0, func(id *string) []any { return []any{id} }, nil),
		`SELECT id FROM tenants ORDER BY id`)
	if err != nil {
		return 0, err
	}
	cutoff := time.Now().Add(-retention)
	var total int64
	var errs []error
	for _, tenantID := range tenants {
		for {
			tag, err := s.db.Exec(ctx, opIdempotencyPurge, tenantID,
				`DELETE FROM idempotency_keys WHERE ctid IN (
					SELECT ctid FROM idempotency_keys WHERE tenant_id = $1 AND created_at < $2 LIMIT $3)`,
				tenantID, cutoff, purgeBatch)
			if err != nil {
				// One tenant's failure (a timeout on a large backlog) must not stop the others'
				// purge; the next round retries it.
				errs = append(errs, fmt.Errorf("tenant %s: %w", tenantID, err))
				break
			}
			total += tag.RowsAffected()
			if tag.RowsAffected() < purgeBatch {
				break
			}
		}
		if ctx.Err() != nil {
			break
		}
	}
	return total, errors.Join(errs...)
}
