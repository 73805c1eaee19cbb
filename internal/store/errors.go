package store

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
