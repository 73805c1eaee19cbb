package store

import (
	"github.com/eventmanager/eventmanager/internal/db"
)

// audit adds an audit log row in the transaction of the change it records, so that a change and
// its record are committed (or lost) together. tenantID "" records a change of no tenant (a global
// setting), which the row-level security of audit_logs allows only in a transaction that declared
// itself system-wide (see PutSetting). data is marshalled to JSON; nil records an empty object.
func audit(tx *db.Tx, tenantID string, a Actor, action, entityType, entityID string, data any) error {
	if data == nil {
		data = map[string]any{}
	}
	_, err := tx.Exec(`INSERT INTO audit_logs (tenant_id, actor_user_id, action, entity_type, entity_id, data, request_id, ip)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		nullString(tenantID), nullString(a.UserID), action, entityType, nullString(entityID), data,
		nullString(a.RequestID), nullString(a.IP))
	return err
}

// nullString maps "" to SQL NULL.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
