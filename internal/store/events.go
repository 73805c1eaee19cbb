package store

import (
	"context"
	"strings"
	"time"

	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/jsonappend"
	"github.com/jackc/pgx/v5"
)

// Event is a competition event of one tenant.
type Event struct {
	ID          string    `json:"id"`
	TenantID    string    `json:"tenant_id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Location    string    `json:"location"`
	StartDate   time.Time `json:"start_date"`
	EndDate     time.Time `json:"end_date"`
	Archived    bool      `json:"archived"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// AppendJSON appends e as encoding/json writes it, without reflection: a page of 50 events cost
// more to encode than to query (docs/performance.md).
func (e *Event) AppendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"id":`...)
	b = jsonappend.String(b, e.ID)
	b = append(b, `,"tenant_id":`...)
	b = jsonappend.String(b, e.TenantID)
	b = append(b, `,"name":`...)
	b = jsonappend.String(b, e.Name)
	b = append(b, `,"description":`...)
	b = jsonappend.String(b, e.Description)
	b = append(b, `,"location":`...)
	b = jsonappend.String(b, e.Location)
	var err error
	b = append(b, `,"start_date":`...)
	if b, err = jsonappend.Time(b, e.StartDate); err != nil {
		return b, err
	}
	b = append(b, `,"end_date":`...)
	if b, err = jsonappend.Time(b, e.EndDate); err != nil {
		return b, err
	}
	b = append(b, `,"archived":`...)
	b = jsonappend.Bool(b, e.Archived)
	b = append(b, `,"created_at":`...)
	if b, err = jsonappend.Time(b, e.CreatedAt); err != nil {
		return b, err
	}
	b = append(b, `,"updated_at":`...)
	if b, err = jsonappend.Time(b, e.UpdatedAt); err != nil {
		return b, err
	}
	return append(b, '}'), nil
}

// EventInput are the fields of a new event, already validated.
type EventInput struct {
	Name, Description, Location string
	StartDate, EndDate          time.Time
}

// EventPatch holds the fields to change; nil leaves a field as it is.
type EventPatch struct {
	Name, Description, Location *string
	StartDate, EndDate          *time.Time
}

// EventCursor is the position after the last event of a page (keyset pagination).
type EventCursor struct {
	StartDate time.Time `json:"s"`
	ID        string    `json:"i"`
}

// EventFilter selects a page of events.
type EventFilter struct {
	Archived bool
	Search   string // case-insensitive substring of the name
	Limit    int
	After    *EventCursor
}

const eventColumns = `id, tenant_id, name, description, location, start_date, end_date, archived, created_at, updated_at`

var (
	opEventsList    = db.Op{Name: "events.list", Class: db.Standard}
	opEventsGet     = db.Op{Name: "events.get", Class: db.Simple}
	opEventsCreate  = db.Op{Name: "events.create", Class: db.Simple}
	opEventsUpdate  = db.Op{Name: "events.update", Class: db.Simple}
	opEventsArchive = db.Op{Name: "events.archive", Class: db.Simple}
)

// eventDest lists e's fields in the order of eventColumns.
func eventDest(e *Event) []any {
	return []any{&e.ID, &e.TenantID, &e.Name, &e.Description, &e.Location, &e.StartDate, &e.EndDate,
		&e.Archived, &e.CreatedAt, &e.UpdatedAt}
}

func scanEvent(row pgx.Row, e *Event) error { return row.Scan(eventDest(e)...) }

// ListEvents returns up to f.Limit events of the tenant, newest start date first, after f.After.
// It runs one query whatever the page size, served by events_list_idx.
func (s *Store) ListEvents(ctx context.Context, tenantID string, f EventFilter) ([]Event, error) {
	var (
		afterStart any
		afterID    any
	)
	if f.After != nil {
		afterStart, afterID = f.After.StartDate, f.After.ID
	}
	var search any
	if f.Search != "" {
		search = "%" + escapeLike(f.Search) + "%"
	}
	var events []Event
	err := s.db.Query(ctx, opEventsList, tenantID, collectRows(&events, f.Limit, eventDest, nil),
		`SELECT `+eventColumns+` FROM events
		WHERE tenant_id = $1 AND archived = $2
		  AND ($3::timestamptz IS NULL OR (start_date, id) < ($3, $4::uuid))
		  AND ($5::text IS NULL OR name ILIKE $5)
		ORDER BY start_date DESC, id DESC
		LIMIT $6`,
		tenantID, f.Archived, afterStart, afterID, search, f.Limit)
	return events, err
}

// escapeLike makes % and _ in user input match themselves in ILIKE.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// GetEvent returns one event of the tenant, or db.ErrNotFound.
func (s *Store) GetEvent(ctx context.Context, tenantID, id string) (Event, error) {
	var e Event
	err := s.db.QueryRow(ctx, opEventsGet, tenantID, `SELECT `+eventColumns+` FROM events WHERE tenant_id = $1 AND id = $2`,
		[]any{tenantID, id}, eventDest(&e)...)
	return e, err
}

// CreateEvent adds an event and its audit record.
func (s *Store) CreateEvent(ctx context.Context, tenantID string, a Actor, in EventInput) (Event, error) {
	var e Event
	err := s.inTx(ctx, opEventsCreate, tenantID, func(tx *db.Tx) error {
		err := scanEvent(tx.QueryRow(`INSERT INTO events (tenant_id, name, description, location, start_date, end_date)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+eventColumns,
			tenantID, in.Name, in.Description, in.Location, in.StartDate, in.EndDate), &e)
		if err != nil {
			return err
		}
		return audit(tx, tenantID, a, "event.created", "event", e.ID, map[string]any{"after": e})
	})
	return e, err
}

// UpdateEvent changes the given fields of an event. The new dates must keep end_date >= start_date
// (checked by the database against the stored values too).
func (s *Store) UpdateEvent(ctx context.Context, tenantID, id string, a Actor, p EventPatch) (Event, error) {
	var before, after Event
	err := s.inTx(ctx, opEventsUpdate, tenantID, func(tx *db.Tx) error {
		if err := scanEvent(tx.QueryRow(`SELECT `+eventColumns+` FROM events WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
			tenantID, id), &before); err != nil {
			return err
		}
		err := scanEvent(tx.QueryRow(`UPDATE events SET
				name = coalesce($3, name), description = coalesce($4, description), location = coalesce($5, location),
				start_date = coalesce($6, start_date), end_date = coalesce($7, end_date), updated_at = now()
			WHERE tenant_id = $1 AND id = $2 RETURNING `+eventColumns,
			tenantID, id, p.Name, p.Description, p.Location, p.StartDate, p.EndDate), &after)
		if err != nil {
			return err
		}
		return audit(tx, tenantID, a, "event.updated", "event", id, map[string]any{"before": before, "after": after})
	})
	return after, withRule(err)
}

// SetEventArchived archives (DELETE) or restores an event; the data is kept either way.
func (s *Store) SetEventArchived(ctx context.Context, tenantID, id string, a Actor, archived bool) (Event, error) {
	var e Event
	action := "event.restored"
	if archived {
		action = "event.archived"
	}
	err := s.inTx(ctx, opEventsArchive, tenantID, func(tx *db.Tx) error {
		err := scanEvent(tx.QueryRow(`UPDATE events SET archived = $3, updated_at = now()
			WHERE tenant_id = $1 AND id = $2 RETURNING `+eventColumns, tenantID, id, archived), &e)
		if err != nil {
			return err
		}
		return audit(tx, tenantID, a, action, "event", id, map[string]any{"archived": archived})
	})
	return e, err
}
