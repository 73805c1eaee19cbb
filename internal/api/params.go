package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Request parameters: path ids and the query parameters that several routes read.

// maxFilterJSON bounds a JSON filter in a query string (?data=, ?value=): containment filters are
// small, and a large one only costs the database time.
const maxFilterJSON = 2 << 10

// pathID reads a UUID path parameter; a malformed one cannot name a resource.
func pathID(r *http.Request, name string) (string, error) {
	id := r.PathValue(name)
	if !isUUID(id) {
		return "", badRequest("INVALID_ID", name, "must be a UUID")
	}
	return id, nil
}

func isUUID(s string) bool {
	_, err := uuid.Parse(s)
	return err == nil && len(s) == 36
}

// uuidQuery reads an optional UUID query parameter used as a filter.
func uuidQuery(r *http.Request, name string) (string, error) {
	v := canonicalUUID(r.URL.Query().Get(name))
	if v != "" && !isUUID(v) {
		return "", invalid(name, "must be a UUID")
	}
	return v, nil
}

// searchLength checks a ?search= text (trimmed by the caller): at most 200 characters.
func searchLength(search string) error {
	if utf8.RuneCountInString(search) > 200 {
		return invalid("search", "is longer than 200 characters")
	}
	return nil
}

// boolQuery reads an optional true/false query parameter; absent is nil.
func boolQuery(r *http.Request, name string) (*bool, error) {
	switch r.URL.Query().Get(name) {
	case "":
		return nil, nil
	case "true":
		v := true
		return &v, nil
	case "false":
		v := false
		return &v, nil
	}
	return nil, invalid(name, "must be true or false")
}

// queryTime reads an optional RFC 3339 time from the query string.
func queryTime(raw, field string) (*time.Time, error) {
	if raw == "" {
		return nil, nil
	}
	return parseTime(field, &raw)
}

// jsonFilter checks a JSON value given in the query string for a containment filter: at most
// 2 KiB, one value (an object when object is set), nothing PostgreSQL's jsonb refuses that we can
// see here. It returns the value compacted.
func jsonFilter(field, raw string, object bool) ([]byte, error) {
	if len(raw) > maxFilterJSON {
		return nil, invalid(field, "is longer than 2 KiB")
	}
	want := "a JSON value"
	if object {
		want = "a JSON object"
	}
	v, err := checkJSON([]byte(raw))
	if err != nil {
		return nil, invalid(field, "must be "+want+": "+err.Error())
	}
	if _, isObject := v.(map[string]any); object && !isObject {
		return nil, invalid(field, "must be "+want)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(raw)); err != nil {
		return nil, invalid(field, "is not valid JSON")
	}
	return buf.Bytes(), nil
}

// checkJSON parses one JSON value and refuses what PostgreSQL's jsonb cannot store: the NUL
// character (\u0000), in a string or a key.
func checkJSON(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // keep numbers as written: no float64 rounding, no overflow
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, errors.New("not valid JSON")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("more than one JSON value")
	}
	if hasNUL(v) {
		return nil, errors.New(`\u0000 is not allowed in strings`)
	}
	return v, nil
}

func hasNUL(v any) bool {
	switch v := v.(type) {
	case string:
		return strings.IndexByte(v, 0) >= 0
	case []any:
		for _, e := range v {
			if hasNUL(e) {
				return true
			}
		}
	case map[string]any:
		for k, e := range v {
			if strings.IndexByte(k, 0) >= 0 || hasNUL(e) {
				return true
			}
		}
	}
	return false
}

// queryValue is r.URL.Query().Get(name) without parsing an empty query string (most requests).
func queryValue(r *http.Request, name string) string {
	if r.URL.RawQuery == "" {
		return ""
	}
	return r.URL.Query().Get(name)
}
