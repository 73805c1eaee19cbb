package api

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
)

// Paging of every list: ?limit= and ?cursor= in, {"data": [...], "next_cursor": ...} out, all
// through servePage. A handler reads what comes before the list's own parameters (the parent id
// of a nested list), and gives servePage its filter, its cursor check, its fetch and the cursor of
// a row. Lists that are short by nature and never paged answer with writeAll.

const (
	defaultLimit = 50
	maxLimit     = 100
)

// servePage answers one page of a list. It reads ?limit=, then the list's own query parameters
// (filter; nil when there are none), then ?cursor=, in that order, so that the first bad
// parameter is the one named. A cursor that does not decode, or that valid refuses (nil accepts
// any), is a 400 INVALID_CURSOR: a forged cursor is refused rather than sent to the database.
// fetch is asked for limit+1 rows after the cursor (nil: from the start); the extra one, fetched
// instead of a count query, shows that another page follows, and next_cursor is then the cursor
// of the page's last row.
func servePage[T, C any](w http.ResponseWriter, r *http.Request, filter func() error, valid func(*C) bool,
	fetch func(limit int, after *C) ([]T, error), cursor func(T) C) error {
	limit, err := pageLimit(r)
	if err != nil {
		return err
	}
	if filter != nil {
		if err := filter(); err != nil {
			return err
		}
	}
	after, err := readCursor(r, valid)
	if err != nil {
		return err
	}
	rows, err := fetch(limit+1, after)
	if err != nil {
		return err
	}
	resp := listResponse[T]{Data: rows}
	if len(rows) > limit {
		resp.Data = rows[:limit]
		next := encodeCursor(cursor(rows[limit-1]))
		resp.NextCursor = &next
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// writeAll answers a list that is never paged: every row, and no next cursor.
func writeAll[T any](w http.ResponseWriter, rows []T) {
	writeJSON(w, http.StatusOK, listResponse[T]{Data: rows})
}

// listResponse is the envelope of every list.
type listResponse[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

// pageLimit reads ?limit= (1..100, default 50).
func pageLimit(r *http.Request) (int, error) {
	raw := queryValue(r, "limit")
	if raw == "" {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > maxLimit {
		return 0, badRequest("VALIDATION_FAILED", "limit", "must be a whole number from 1 to 100")
	}
	return n, nil
}

var errInvalidCursor = badRequest("INVALID_CURSOR", "cursor", "the cursor is not one this service returned")

// readCursor decodes ?cursor= into a new C; nil when absent.
func readCursor[C any](r *http.Request, valid func(*C) bool) (*C, error) {
	raw := queryValue(r, "cursor")
	if raw == "" {
		return nil, nil
	}
	var c C
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || len(b) > 512 || json.Unmarshal(b, &c) != nil || valid != nil && !valid(&c) {
		return nil, errInvalidCursor
	}
	return &c, nil
}

// encodeCursor makes an opaque cursor of a keyset position.
func encodeCursor(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}
