package api

import (
	"encoding/json"
	"math/big"
	"net/mail"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/eventmanager/eventmanager/internal/store"
)

// Field validation of request bodies: names, texts, emails, times and decimals, and the
// tristate of a nullable field (absent, null or a value).

// nameField trims a name in place and checks it is 1 to 200 characters; nil (absent) passes.
func nameField(field string, v *string) error {
	if v == nil {
		return nil
	}
	*v = strings.TrimSpace(*v)
	if *v == "" || utf8.RuneCountInString(*v) > 200 {
		return invalid(field, "must be 1 to 200 characters")
	}
	return nil
}

// textField checks a free text's length; nil (absent) passes.
func textField(field string, v *string, max int) error {
	if v != nil && utf8.RuneCountInString(*v) > max {
		return invalid(field, "must be at most "+strconv.Itoa(max)+" characters")
	}
	return nil
}

// emailField checks and normalises an optional email (lower case); "" and null clear it.
func emailField(field string, v tristate[string]) (store.Clearable[string], error) {
	if !v.Set {
		return store.Clearable[string]{}, nil
	}
	e := strings.ToLower(strings.TrimSpace(v.V))
	if v.Null || e == "" {
		return store.Clearable[string]{Set: true}, nil
	}
	if addr, err := mail.ParseAddress(e); err != nil || addr.Address != e || len(e) > 254 {
		return store.Clearable[string]{}, invalid(field, "must be an email address such as name@example.com")
	}
	return store.Clearable[string]{Set: true, Value: &e}, nil
}

// accountEmail checks and normalises a required sign-in email: trimmed, lower case.
func accountEmail(field, v string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(v))
	if e == "" {
		return "", invalid(field, "is required")
	}
	if addr, err := mail.ParseAddress(e); err != nil || addr.Address != e || len(e) > 254 {
		return "", invalid(field, "must be an email address such as name@example.com")
	}
	return e, nil
}

// personName checks an optional person's name: trimmed, at most 200 characters.
func personName(field, v string) (string, error) {
	v = strings.TrimSpace(v)
	if utf8.RuneCountInString(v) > 200 {
		return "", invalid(field, "must be at most 200 characters")
	}
	return v, nil
}

func parseTime(field string, v *string) (*time.Time, error) {
	if v == nil {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, *v)
	if err != nil {
		return nil, invalid(field, "must be an RFC 3339 time, e.g. 2026-06-01T18:00:00Z")
	}
	if t.Year() < 1900 || t.Year() > 9999 {
		return nil, invalid(field, "must be a year from 1900 to 9999")
	}
	t = t.UTC()
	return &t, nil
}

// tristate is a field of a nullable column: absent (Set false: leave it), null (clear it) or a value.
type tristate[T any] struct {
	Set, Null bool
	V         T
}

// UnmarshalJSON is called for null too (not for an absent field), which is what tells them apart.
func (f *tristate[T]) UnmarshalJSON(b []byte) error {
	f.Set = true
	if string(b) == "null" {
		f.Null = true
		return nil
	}
	return json.Unmarshal(b, &f.V)
}

func (f tristate[T]) clearable() store.Clearable[T] {
	if !f.Set || f.Null {
		return store.Clearable[T]{Set: f.Set}
	}
	v := f.V
	return store.Clearable[T]{Set: true, Value: &v}
}

// decimalText is a JSON number kept as its text, so that 0.1 stays exactly 0.1 on its way to a
// numeric column.
type decimalText string

// UnmarshalJSON accepts JSON numbers only; "9.5" as a string is refused like any wrong type.
func (d *decimalText) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || (b[0] != '-' && (b[0] < '0' || b[0] > '9')) {
		return &json.UnmarshalTypeError{Value: "non-number", Type: reflect.TypeFor[float64]()}
	}
	*d = decimalText(b)
	return nil
}

// decimal checks that d is greater than 0, below limit and has at most two decimals, and returns
// it as exact decimal text for the database.
func (d decimalText) decimal(field string, limit int64) (string, error) {
	s := string(d)
	// Bound the text and the magnitude before big.Rat, which would expand 1e999999999 in full.
	f, err := strconv.ParseFloat(s, 64)
	if len(s) > 40 || err != nil {
		return "", invalid(field, "must be a number with at most two decimals")
	}
	if f <= 0 {
		return "", invalid(field, "must be greater than 0")
	}
	if f >= float64(limit) {
		return "", invalid(field, "must be less than "+strconv.FormatInt(limit, 10))
	}
	rat, ok := new(big.Rat).SetString(s)
	if !ok {
		return "", invalid(field, "must be a number with at most two decimals")
	}
	if !new(big.Rat).Mul(rat, big.NewRat(100, 1)).IsInt() {
		return "", invalid(field, "must have at most two decimals")
	}
	if rat.Sign() <= 0 {
		return "", invalid(field, "must be greater than 0")
	}
	return rat.FloatString(2), nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
