package api

import (
	"net/http"
	"reflect"
	"regexp"
	"strings"

	"github.com/google/uuid"
)

// Ids are canonicalised where they enter: a UUID in a path, a query or a body is written in lower
// case from then on, as PostgreSQL writes it. Handlers compare ids as strings (is this the
// caller's own id? the caller's tenant?), and "ABC..." must not pass where "abc..." is refused.

// canonicalUUID returns s in lower case when it is a UUID in its 36-character form, and s as it is
// otherwise (the validation that follows refuses it with the field at fault).
func canonicalUUID(s string) string {
	if len(s) != 36 {
		return s
	}
	if _, err := uuid.Parse(s); err != nil {
		return s
	}
	return strings.ToLower(s)
}

var wildcard = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)(?:\.\.\.)?\}`)

// pathWildcards are the names of a route pattern's wildcards ("GET /users/{id}" has "id").
func pathWildcards(pattern string) []string {
	var names []string
	for _, m := range wildcard.FindAllStringSubmatch(pattern, -1) {
		names = append(names, m[1])
	}
	return names
}

// canonicalPathIDs rewrites the UUIDs among the named path values in lower case.
func canonicalPathIDs(r *http.Request, names []string) {
	for _, name := range names {
		if v := r.PathValue(name); v != "" {
			if c := canonicalUUID(v); c != v {
				r.SetPathValue(name, c)
			}
		}
	}
}

// canonicalBodyIDs rewrites in lower case the UUIDs held by the id fields of a decoded request
// body: fields whose JSON name is "id" or ends in "_id" or "_ids", at any depth (a list of score
// items, an optional field's value). Other strings, such as names, are never touched.
func canonicalBodyIDs(v reflect.Value, isID bool) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			canonicalBodyIDs(v.Elem(), isID)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			fieldIsID := isID || name == "id" || strings.HasSuffix(name, "_id") || strings.HasSuffix(name, "_ids")
			canonicalBodyIDs(v.Field(i), fieldIsID)
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return // raw JSON or bytes
		}
		for i := range v.Len() {
			canonicalBodyIDs(v.Index(i), isID)
		}
	case reflect.String:
		if isID && v.CanSet() {
			if c := canonicalUUID(v.String()); c != v.String() {
				v.SetString(c)
			}
		}
	}
}
