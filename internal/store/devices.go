package store

import (
	"context"
	"time"

	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/jackc/pgx/v5"
)

// DeviceNotifyEvery is how often a judge's device report is notified to live boards when its
// queue has not changed: a report every few seconds updates the row, but notifies only when the
// queue changes or this long after the last notification (the board ages "last contact" itself).
const DeviceNotifyEvery = 15 * time.Second

// maxQueued bounds a reported queue length (a scoresheet holds at most a few thousand cells).
const maxQueued = 100000

// Device is what the board shows of a judge assigned to the category: the last report of the
// judge's device, if any.
type Device struct {
	JudgeID          string     `json:"judge_id"`
	JudgeName        string     `json:"judge_name"`
	AssignmentStatus string     `json:"assignment_status"`
	Queued           *int       `json:"queued"`  // null: the device never reported
	SeenAt           *time.Time `json:"seen_at"` // last contact
	// AgeSeconds is the time since the last contact by the database clock (null: never), so that a
	// board whose clock is off still tells a silent device.
	AgeSeconds *float64 `json:"age_seconds"`
}

// CategoryAccess is what the live routes need to know of a category before they follow it.
type CategoryAccess struct {
	ContestID string
	// AssignmentStatus is the judge's assignment to the category, nil when none (or no judge asked).
	AssignmentStatus *string
}

// Assigned reports whether the judge may score the category (ACTIVE or PENDING).
func (c CategoryAccess) Assigned() bool {
	return c.AssignmentStatus != nil && (*c.AssignmentStatus == assignmentActive || *c.AssignmentStatus == assignmentPending)
}

var (
	opCategoryAccess = db.Op{Name: "categories.access", Class: db.Simple}
	opDevicesReport  = db.Op{Name: "devices.report", Class: db.Simple}
	opDevicesList    = db.Op{Name: "devices.list", Class: db.Standard}
)

// CategoryAccess returns the category's contest and judgeID's assignment to it ("" for no judge);
// db.ErrNotFound when the tenant has no such category.
func (s *Store) CategoryAccess(ctx context.Context, tenantID, categoryID, judgeID string) (CategoryAccess, error) {
	var c CategoryAccess
	err := s.db.QueryRow(ctx, opCategoryAccess, tenantID,
		`SELECT c.contest_id,
		    (SELECT a.status FROM assignments a WHERE a.tenant_id = c.tenant_id AND a.category_id = c.id AND a.judge_id = $3::uuid)
		FROM categories c WHERE c.tenant_id = $1 AND c.id = $2`,
		[]any{tenantID, categoryID, nullString(judgeID)}, &c.ContestID, &c.AssignmentStatus)
	return c, err
}

// deviceReportSQL records a report in one statement, if the judge is assigned (ACTIVE or PENDING).
// notified_at moves (and the trigger notifies) only when the queue changed or the last
// notification is older than $5 seconds.
const deviceReportSQL = `
WITH a AS (
    SELECT (SELECT x.status FROM assignments x WHERE x.tenant_id = c.tenant_id AND x.category_id = c.id AND x.judge_id = $3) AS status
    FROM categories c WHERE c.tenant_id = $1 AND c.id = $2
), up AS (
    INSERT INTO device_reports AS d (tenant_id, category_id, judge_id, queued)
    SELECT $1, $2, $3, $4 FROM a WHERE a.status IN ('ACTIVE', 'PENDING')
    ON CONFLICT (tenant_id, category_id, judge_id) DO UPDATE SET
        queued = EXCLUDED.queued,
        seen_at = now(),
        notified_at = CASE WHEN d.queued <> EXCLUDED.queued OR d.notified_at <= now() - make_interval(secs => $5)
                           THEN now() ELSE d.notified_at END
    RETURNING d.seen_at
)
SELECT a.status, (SELECT seen_at FROM up) FROM a`

// ReportDevice records that the judge's device for the category was heard from now with queued
// rows waiting. A judge not assigned (ACTIVE or PENDING) is refused with NOT_ASSIGNED; an unknown
// category is db.ErrNotFound.
func (s *Store) ReportDevice(ctx context.Context, tenantID, categoryID, judgeID string, queued int) (time.Time, error) {
	if queued < 0 || queued > maxQueued {
		return time.Time{}, &RuleError{Kind: Invalid, Code: "VALIDATION_FAILED", Field: "queued", Message: "must be from 0 to 100000"}
	}
	var (
		status *string
		seenAt *time.Time
	)
	err := s.db.QueryRow(ctx, opDevicesReport, tenantID, deviceReportSQL,
		[]any{tenantID, categoryID, judgeID, queued, DeviceNotifyEvery.Seconds()}, &status, &seenAt)
	if err != nil {
		return time.Time{}, err
	}
	if seenAt == nil {
		return time.Time{}, notAssigned(false, status)
	}
	return seenAt.UTC(), nil
}

// ListDevices returns every judge assigned to the category (assignment not CANCELLED) with the
// last report of their device, in judge name order; db.ErrNotFound for an unknown category.
func (s *Store) ListDevices(ctx context.Context, tenantID, categoryID string) ([]Device, error) {
	out := []Device{}
	found := false
	err := s.db.Query(ctx, opDevicesList, tenantID, func(rows pgx.Rows) error {
		for rows.Next() {
			found = true
			var (
				d       Device
				judgeID *string
				name    *string
				status  *string
			)
			if err := rows.Scan(&judgeID, &name, &status, &d.Queued, &d.SeenAt, &d.AgeSeconds); err != nil {
				return err
			}
			if judgeID == nil {
				continue // the category, without assigned judges
			}
			d.JudgeID, d.JudgeName, d.AssignmentStatus = *judgeID, *name, *status
			if d.SeenAt != nil {
				t := d.SeenAt.UTC()
				d.SeenAt = &t
			}
			out = append(out, d)
		}
		return rows.Err()
	}, `SELECT j.id, j.name, a.status, d.queued, d.seen_at, extract(epoch FROM now() - d.seen_at)::float8
		FROM categories c
		LEFT JOIN assignments a ON a.tenant_id = c.tenant_id AND a.category_id = c.id AND a.status <> 'CANCELLED'
		LEFT JOIN judges j ON j.tenant_id = a.tenant_id AND j.id = a.judge_id
		LEFT JOIN device_reports d ON d.tenant_id = a.tenant_id AND d.category_id = a.category_id AND d.judge_id = a.judge_id
		WHERE c.tenant_id = $1 AND c.id = $2
		ORDER BY j.name, j.id`, tenantID, categoryID)
	if err == nil && !found {
		err = db.ErrNotFound
	}
	return out, err
}
