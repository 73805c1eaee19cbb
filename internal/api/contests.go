package api

import (
	"context"
	"encoding/json"
	"math/big"
	"net/http"
	"net/mail"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/eventmanager/eventmanager/internal/store"
	"github.com/google/uuid"
)

// contestRequest is the body of POST and PATCH; PATCH leaves absent fields unchanged, and
// "scoring_type": null makes the contest inherit the event's scoring type again.
type contestRequest struct {
	Name        *string          `json:"name"`
	Description *string          `json:"description"`
	ScoringType tristate[string] `json:"scoring_type"`
}

func (req *contestRequest) validate() error {
	if err := nameField("name", req.Name); err != nil {
		return err
	}
	if err := textField("description", req.Description, 10000); err != nil {
		return err
	}
	if req.ScoringType.Set && !req.ScoringType.Null {
		t := strings.ToUpper(strings.TrimSpace(req.ScoringType.V))
		if t != "STRAIGHT" && t != "OLYMPIC" {
			return invalid("scoring_type", "must be STRAIGHT, OLYMPIC or null (inherit the event's)")
		}
		req.ScoringType.V = t
	}
	return nil
}

func (s *Server) listContests(w http.ResponseWriter, r *http.Request) error {
	eventID, limit, err := listParams(r)
	if err != nil {
		return err
	}
	after, err := readCursor(r, func(c *store.ContestCursor) []string { return []string{c.ID} })
	if err != nil {
		return err
	}
	list, err := s.store.ListContests(r.Context(), principal(r.Context()).TenantID, eventID, limit+1, after)
	if err != nil {
		return err
	}
	writePage(w, list, limit, func(c store.Contest) any { return store.ContestCursor{CreatedAt: c.CreatedAt, ID: c.ID} })
	return nil
}

func (s *Server) getContest(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, err := s.store.GetContest(r.Context(), principal(r.Context()).TenantID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) createContest(w http.ResponseWriter, r *http.Request) error {
	eventID, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req contestRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Name == nil {
		return invalid("name", "is required")
	}
	if err := req.validate(); err != nil {
		return err
	}
	in := store.ContestInput{Name: *req.Name, Description: deref(req.Description), ScoringType: req.ScoringType.clearable().Value}
	c, err := s.store.CreateContest(r.Context(), principal(r.Context()).TenantID, eventID, s.actor(r), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/contests/"+c.ID)
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (s *Server) updateContest(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req contestRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := req.validate(); err != nil {
		return err
	}
	p := store.ContestPatch{Name: req.Name, Description: req.Description, ScoringType: req.ScoringType.clearable()}
	c, err := s.store.UpdateContest(r.Context(), principal(r.Context()).TenantID, id, s.actor(r), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) deleteContest(w http.ResponseWriter, r *http.Request) error {
	return s.deleteByID(w, r, s.store.DeleteContest)
}

// The helpers below are shared by the competition resources (contests, categories, criteria,
// contestants, judges, assignments).

// deleteByID answers DELETE /…/{id}: 204, 404 for an id that is not the tenant's, 409 IN_USE for a
// row that others depend on.
func (s *Server) deleteByID(w http.ResponseWriter, r *http.Request,
	del func(ctx context.Context, tenantID, id string, a store.Actor) error) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := del(r.Context(), principal(r.Context()).TenantID, id, s.actor(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

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

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

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
