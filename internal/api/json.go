package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
)

const maxBodyBytes = 1 << 20 // 1 MiB

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// decodeJSON reads a JSON object body into dst: JSON only, at most 1 MiB, unknown fields refused,
// nothing after the object. The UUIDs of its id fields are put in lower case (see ids.go).
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return &Error{Status: http.StatusUnsupportedMediaType, Code: "UNSUPPORTED_MEDIA_TYPE", Message: "the body must be application/json"}
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("INVALID_JSON", "", "the body must hold a single JSON object")
	}
	canonicalBodyIDs(reflect.ValueOf(dst), false)
	return nil
}

func jsonError(err error) error {
	var (
		maxErr    *http.MaxBytesError
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &maxErr):
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: "BODY_TOO_LARGE", Message: "the body is larger than 1 MiB"}
	case errors.Is(err, io.EOF):
		return badRequest("INVALID_JSON", "", "the body is empty: a JSON object is required")
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("INVALID_JSON", "", "the body is not valid JSON")
	case errors.As(err, &typeErr):
		return badRequest("VALIDATION_FAILED", typeErr.Field, "has the wrong type: want "+typeErr.Type.String())
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return badRequest("UNKNOWN_FIELD", field, "unknown field")
	}
	return badRequest("INVALID_JSON", "", "the body is not valid JSON")
}

// listResponse is the envelope of every list.
type listResponse[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

const (
	defaultLimit = 50
	maxLimit     = 100
)

// pageLimit reads ?limit= (1..100, default 50).
func pageLimit(r *http.Request) (int, error) {
	raw := r.URL.Query().Get("limit")
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
	raw := r.URL.Query().Get("cursor")
	if raw == "" {
		return false, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || len(b) > 512 || json.Unmarshal(b, dst) != nil {
		return false, badRequest("INVALID_CURSOR", "cursor", "the cursor is not one this service returned")
	}
	return true, nil
}
