package live

import (
	"encoding/json"
	"errors"
)

// Channel is the NOTIFY channel of the live triggers (migration 00010).
const Channel = "live_events"

// The kinds of event.
const (
	KindScore         = "score"         // ID: the judge whose scores changed; data: contestant_ids
	KindDeduction     = "deduction"     // ID: the deduction; data: contestant_id, op
	KindCertification = "certification" // ID: the certification; data: step, judge_id, revoked
	KindAssignment    = "assignment"    // ID: the assignment; data: judge_id, status, op
	KindDevice        = "device"        // ID: the judge; data: queued, seen_at
	// KindAudienceLink: an audience link was revoked (ID: the link); its open streams end.
	KindAudienceLink = "audience_link"
	// KindResync says events may have been missed (the instance's listener reconnected, or the
	// subscriber fell behind): refetch everything shown.
	KindResync = "resync"
)

// Event is one change of a category. It carries ids only.
type Event struct {
	Kind       string `json:"kind"`
	TenantID   string `json:"tenant_id,omitempty"`
	CategoryID string `json:"category_id"`
	// ContestID is the category's contest, so that a contest-wide view can subscribe once.
	ContestID string `json:"contest_id,omitempty"`
	// ID is the row the event is about (see the kinds).
	ID string `json:"id,omitempty"`
	// Data is a small JSON object of further ids and counts; null when there is none.
	Data json.RawMessage `json:"data,omitempty"`
	// Seq numbers the events of one instance in the order its hub published them (the SSE id).
	Seq uint64 `json:"-"`
	// encoded is the event as JSON, made once by the hub for all its subscribers.
	encoded []byte
}

// JSON is the event as a frame's data.
func (e Event) JSON() ([]byte, error) {
	if e.encoded != nil {
		return e.encoded, nil
	}
	return json.Marshal(e)
}

var errBadEvent = errors.New("live: notification is not an event")

// parseEvent reads a notification's payload.
func parseEvent(payload string) (Event, error) {
	var e Event
	if err := json.Unmarshal([]byte(payload), &e); err != nil {
		return Event{}, errors.Join(errBadEvent, err)
	}
	switch e.Kind {
	case KindScore, KindDeduction, KindCertification, KindAssignment, KindDevice, KindAudienceLink:
	default:
		// The kind becomes the SSE event name: only known words.
		return Event{}, errBadEvent
	}
	if e.TenantID == "" || e.CategoryID == "" {
		return Event{}, errBadEvent
	}
	return e, nil
}
