package store

import (
	"context"
	"errors"
	"strings"

	"github.com/eventmanager/eventmanager/internal/db"
)

// RuleKind says how a refused request is answered.
type RuleKind uint8

// The kinds of refusal a domain rule can give.
const (
	Invalid       RuleKind = iota // 400: the request's values break a rule
	Refused                       // 409: the current state does not allow it (locked, out of order)
	Forbidden                     // 403: the caller may not do this to this resource
	Unprocessable                 // 422: well-formed, but not acceptable (idempotency key reused with another body)
)

// RuleError is a request refused by a domain rule, with a stable code and the field at fault.
// The API answers it as is; the store returns it before writing anything.
type RuleError struct {
	Kind    RuleKind
	Code    string // e.g. SCORE_OUT_OF_RANGE
	Field   string // e.g. scores[3].score; "" when no single field is at fault
	Message string
}

func (e *RuleError) Error() string { return e.Code + ": " + e.Message }

// The database's refusals, in the words of the API's requests: the field behind a constraint,
// a parent or a referenced row that is not the tenant's, a row still in use. The constraint names
// are the schema's (internal/db/migrations); this file is the one place that knows them.

// constraintFields names the request field behind a database constraint.
var constraintFields = map[string]string{
	"events_check":              "end_date",
	"users_tenant_id_email_key": "email",
	"tenants_slug_key":          "slug",
	"tenants_slug_check":        "slug",
	// Competition resources.
	"contestants_tenant_id_number_key":       "number",
	"judges_user_id_key":                     "user_id",
	"judges_tenant_id_user_id_fkey":          "user_id",
	"assignments_judge_id_category_id_key":   "category_id",
	"assignments_tenant_id_judge_id_fkey":    "judge_id",
	"assignments_tenant_id_category_id_fkey": "category_id",
	// Rate limits.
	"rate_limit_configs_tenant_user_fkey":                    "user_id",
	"rate_limit_configs_hour_covers_minute":                  "per_hour",
	"rate_limit_configs_tenant_id_user_id_endpoint_tier_key": "endpoint",
}

// named sets the request field of a constraint violation from constraintFields; a constraint not
// there keeps the column the database named.
func named(err error) error {
	var ce *db.ConstraintError
	if errors.As(err, &ce) {
		if f, ok := constraintFields[ce.Constraint]; ok {
			ce.Field = f
		}
	}
	return err
}

// inTx runs fn in a transaction (db.DB.InTx) and names the field of a constraint it breaks. Every
// write of the store goes through it, so that its errors carry their field.
func (s *Store) inTx(ctx context.Context, op db.Op, tenantID string, fn func(tx *db.Tx) error) error {
	return named(s.db.InTx(ctx, op, tenantID, fn))
}

// jsonRefused turns PostgreSQL's refusal of a JSON value the request gave in field (a number
// beyond numeric's range, a lone surrogate) into a 400 naming that field.
func jsonRefused(err error, field, message string) error {
	if errors.Is(err, db.ErrCheckViolation) {
		return &RuleError{Kind: Invalid, Code: "VALIDATION_FAILED", Field: field, Message: message}
	}
	return err
}

// parentMissing turns a foreign-key violation on insert (the parent named in the path is not the
// tenant's) into db.ErrNotFound, as a read of that parent would answer.
func parentMissing(err error) error {
	var ce *db.ConstraintError
	if errors.As(err, &ce) && errors.Is(ce.Kind, db.ErrInvalidReference) {
		return db.ErrNotFound
	}
	return err
}

// MissingReferenceError is a request body naming a row that is not the tenant's (a judge, a
// category, a user). The API answers it 404 naming the field, as a read of that row would answer.
type MissingReferenceError struct {
	Field string
}

func (e *MissingReferenceError) Error() string { return e.Field + ": not found" }

// Unwrap makes errors.Is(err, db.ErrNotFound) true.
func (e *MissingReferenceError) Unwrap() error { return db.ErrNotFound }

// missingReference turns a foreign-key violation on insert or update into a MissingReferenceError
// naming the field behind the foreign key (constraintFields).
func missingReference(err error) error {
	var ce *db.ConstraintError
	if errors.As(err, &ce) && errors.Is(ce.Kind, db.ErrInvalidReference) {
		if f, ok := constraintFields[ce.Constraint]; ok {
			return &MissingReferenceError{Field: f}
		}
	}
	return err
}

// dependents names, by the referencing table, what keeps a row from being deleted; longest
// prefixes first, since constraint names start with their table's name.
var dependents = []struct{ table, what string }{
	{"category_certifications", "certifications"},
	{"category_contestants", "entered contestants"},
	{"assignments", "judge assignments"},
	{"deductions", "deductions"},
	{"categories", "categories"},
	{"criteria", "criteria"},
	{"scores", "scores"},
}

// inUse turns a RESTRICT foreign-key violation of a delete into a 409 IN_USE refusal that says
// what still depends on the row. Deletes never cascade: scores must not vanish as a side effect.
func inUse(err error, entity string) error {
	var ce *db.ConstraintError
	if !errors.As(err, &ce) || !errors.Is(ce.Kind, db.ErrInvalidReference) {
		return err
	}
	what := "other records"
	for _, d := range dependents {
		if strings.HasPrefix(ce.Constraint, d.table+"_") {
			what = d.what
			break
		}
	}
	return &RuleError{Kind: Refused, Code: "IN_USE", Message: "the " + entity + " cannot be deleted: " + what + " depend on it"}
}
