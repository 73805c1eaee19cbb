package api

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
)

// Paging of every list: ?limit= and ?cursor= in, {"data": [...], "next_cursor": ...} out. A
// handler reads the parent id and the limit (listParams) and its cursor (readCursor), asks the store
// for one row more than the page, and answers with writePage.

const (
	defaultLimit = 50
	maxLimit     = 100
)

// listParams reads the parent id of a nested list and ?limit=.
func listParams(r *http.Request) (parentID string, limit int, err error) {
	if parentID, err = pathID(r, "id"); err != nil {
		return "", 0, err
	}
	limit, err = pageLimit(r)
	return parentID, limit, err
}

// readCursor decodes ?cursor= into a new C; nil when absent. ids returns the ids the cursor holds,
// which must be UUIDs: a forged cursor is refused rather than sent to the database.
func readCursor[C any](r *http.Request, ids func(*C) []string) (*C, error) {
	var c C
	ok, err := decodeCursor(r, &c)
	if err != nil || !ok {
		return nil, err
	}
	for _, id := range ids(&c) {
		if !isUUID(id) {
			return nil, badRequest("INVALID_CURSOR", "cursor", "the cursor is not one this service returned")
		}
	}
	return &c, nil
}

// writePage answers a list page. rows holds up to want+1 items: the extra one, fetched instead of
// a count query, shows that another page follows.
func writePage[T any](w http.ResponseWriter, rows []T, want int, cursor func(T) any) {
	resp := listResponse[T]{Data: rows}
	if len(rows) > want {
		resp.Data = rows[:want]
		next := encodeCursor(cursor(rows[want-1]))
		resp.NextCursor = &next
	}
	writeJSON(w, http.StatusOK, resp)
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

// encodeCursor makes an opaque cursor of a keyset position.
func encodeCursor(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor reads ?cursor= into dst; absent leaves dst untouched and returns false.
func decodeCursor(r *http.Request, dst any) (bool, error) {
	raw := queryValue(r, "cursor")
	if raw == "" {
		return false, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || len(b) > 512 || json.Unmarshal(b, dst) != nil {
		return false, badRequest("INVALID_CURSOR", "cursor", "the cursor is not one this service returned")
	}
	return true, nil
}
