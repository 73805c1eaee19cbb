package store

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/eventmanager/eventmanager/internal/db"
)

// AuditLog is one recorded change: who did what to which entity, with what changed.
type AuditLog struct {
	ID          string          `json:"id"`
	ActorUserID *string         `json:"actor_user_id"`
	Action      string          `json:"action"`
	EntityType  string          `json:"entity_type"`
	EntityID    *string         `json:"entity_id"`
	Data        json.RawMessage `json:"data"`
	RequestID   *string         `json:"request_id"`
	IP          *string         `json:"ip"`
	CreatedAt   time.Time       `json:"created_at"`
}

// AuditCursor is the position after the last row of a page (keyset pagination).
type AuditCursor struct {
	CreatedAt time.Time `json:"c"`
	ID        string    `json:"i"`
}

// AuditFilter selects a page of audit rows. Empty fields do not filter.
type AuditFilter struct {
	// Global lists the rows of no tenant (changes to global settings) instead of the tenant's.
	Global     bool
	EntityType string
	EntityID   string
	ActorID    string
	Action     string
	From       *time.Time // created_at >= From
	To         *time.Time // created_at < To
	// Data is a JSON object the row's data must contain (jsonb @>), already validated.
	Data  []byte
	Limit int
	After *AuditCursor
}

// auditColumns lists what is selected of audit_logs; host(ip) gives the bare address ("10.0.0.1",
// not "10.0.0.1/32").
const auditColumns = `id, actor_user_id, action, entity_type, entity_id, data, request_id, host(ip), created_at`

var (
	opAuditList = db.Op{Name: "audit_logs.list", Class: db.Standard}
	opAuditGet  = db.Op{Name: "audit_logs.get", Class: db.Simple}
)

// utc makes the time UTC: pgx gives local time; the API speaks UTC.
func (l *AuditLog) utc() { l.CreatedAt = l.CreatedAt.UTC() }

func auditDest(l *AuditLog) []any {
	return []any{&l.ID, &l.ActorUserID, &l.Action, &l.EntityType, &l.EntityID, &l.Data, &l.RequestID, &l.IP, &l.CreatedAt}
}

// ListAuditLogs returns up to f.Limit audit rows of the tenant (or the global rows, with f.Global),
// newest first, after f.After. One query whatever the page size. Only the conditions asked for are
// put in the SQL, so that the planner sees plain predicates and can use the index that fits:
// audit_logs_tenant_created_idx for the order, audit_logs_entity_idx for an entity, the GIN index
// on data for containment. (A catch-all "$n IS NULL OR col = $n" would hide them from a generic
// plan.) There are at most 2^7 statement texts, so the statement cache stays small.
func (s *Store) ListAuditLogs(ctx context.Context, tenantID string, f AuditFilter) ([]AuditLog, error) {
	var (
		where strings.Builder
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.Global {
		where.WriteString("tenant_id IS NULL")
	} else {
		where.WriteString("tenant_id = " + arg(tenantID))
	}
	if f.EntityType != "" {
		where.WriteString(" AND entity_type = " + arg(f.EntityType))
	}
	if f.EntityID != "" {
		where.WriteString(" AND entity_id = " + arg(f.EntityID) + "::uuid")
	}
	if f.ActorID != "" {
		where.WriteString(" AND actor_user_id = " + arg(f.ActorID) + "::uuid")
	}
	if f.Action != "" {
		where.WriteString(" AND action = " + arg(f.Action))
	}
	if f.From != nil {
		where.WriteString(" AND created_at >= " + arg(*f.From))
	}
	if f.To != nil {
		where.WriteString(" AND created_at < " + arg(*f.To))
	}
	if f.Data != nil {
		where.WriteString(" AND data @> " + arg(string(f.Data)) + "::jsonb")
	}
	if f.After != nil {
		where.WriteString(" AND (created_at, id) < (" + arg(f.After.CreatedAt) + "::timestamptz, " + arg(f.After.ID) + "::uuid)")
	}
	sql := `SELECT ` + auditColumns + ` FROM audit_logs WHERE ` + where.String() +
		` ORDER BY created_at DESC, id DESC LIMIT ` + arg(f.Limit)

	var logs []AuditLog
	err := s.db.Query(ctx, opAuditList, tenantID, collectRows(&logs, f.Limit, auditDest, (*AuditLog).utc), sql, args...)
	return logs, jsonRefused(err, "data", "is not a JSON object PostgreSQL accepts")
}

// GetAuditLog returns one audit row of the tenant, or db.ErrNotFound. With global, a row of no
// tenant is found too (for SUPER_ADMIN).
func (s *Store) GetAuditLog(ctx context.Context, tenantID, id string, global bool) (AuditLog, error) {
	var l AuditLog
	err := s.db.QueryRow(ctx, opAuditGet, tenantID,
		`SELECT `+auditColumns+` FROM audit_logs
		WHERE id = $2 AND (tenant_id = $1 OR ($3 AND tenant_id IS NULL))`,
		[]any{tenantID, id, global}, auditDest(&l)...)
	l.utc()
	return l, err
}
