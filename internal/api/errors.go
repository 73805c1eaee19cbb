package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/store"
)

// Error is an answer other than success: HTTP status, stable code, message and the field at fault.
type Error struct {
	Status     int
	Code       string
	Message    string
	Field      string
	RetryAfter int // seconds; 0 sends no Retry-After
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func badRequest(code, field, msg string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: code, Field: field, Message: msg}
}

func invalid(field, msg string) *Error { return badRequest("VALIDATION_FAILED", field, msg) }

var (
	errUnauthenticated = &Error{Status: http.StatusUnauthorized, Code: "UNAUTHENTICATED", Message: "a valid bearer token is required"}
	errForbidden       = &Error{Status: http.StatusForbidden, Code: "FORBIDDEN", Message: "your role may not do this"}
	errNotFound        = &Error{Status: http.StatusNotFound, Code: "NOT_FOUND", Message: "no such resource"}
)

var ruleStatus = map[store.RuleKind]int{
	store.Invalid:       http.StatusBadRequest,
	store.Refused:       http.StatusConflict,
	store.Forbidden:     http.StatusForbidden,
	store.Unprocessable: http.StatusUnprocessableEntity,
}

// toAPIError maps any error to the answer the client gets. It is the only place that does.
func toAPIError(err error) *Error {
	var apiErr *Error
	if errors.As(err, &apiErr) {
		return apiErr
	}
	rule := store.DatabaseRule(err) // a judging rule the database refused (a write the store did not check)
	if rule != nil || errors.As(err, &rule) {
		return &Error{Status: ruleStatus[rule.Kind], Code: rule.Code, Field: rule.Field, Message: rule.Message}
	}
	var missing *store.MissingReferenceError
	if errors.As(err, &missing) {
		// A row the body names is not the tenant's: 404 naming the field, as a read of that row.
		what := strings.TrimSuffix(missing.Field, "_id")
		return &Error{Status: http.StatusNotFound, Code: "NOT_FOUND", Field: missing.Field, Message: "no such " + what + " in your organisation"}
	}
	var ce *db.ConstraintError
	field := ""
	if errors.As(err, &ce) {
		field = ce.Field // named by the store
	}
	switch {
	case errors.Is(err, db.ErrNotFound):
		return errNotFound
	case errors.Is(err, store.ErrSignInLinkInvalid):
		return errSignInLinkInvalid
	case errors.Is(err, store.ErrBadCredentials):
		return &Error{Status: http.StatusUnauthorized, Code: "INVALID_CREDENTIALS", Message: "tenant, email or password is wrong"}
	case errors.Is(err, db.ErrConflict):
		return &Error{Status: http.StatusConflict, Code: "CONFLICT", Field: field, Message: "a resource with this value already exists"}
	case errors.Is(err, db.ErrInvalidReference):
		return &Error{Status: http.StatusConflict, Code: "INVALID_REFERENCE", Field: field, Message: "the resource refers to, or is referred to by, another resource"}
	case errors.Is(err, db.ErrCheckViolation):
		return &Error{Status: http.StatusBadRequest, Code: "VALIDATION_FAILED", Field: field, Message: "the value is not allowed"}
	case errors.Is(err, db.ErrQueryTimeout):
		return &Error{Status: http.StatusGatewayTimeout, Code: "QUERY_TIMEOUT", Message: "the database query took too long and was cancelled"}
	case errors.Is(err, db.ErrPoolTimeout):
		return &Error{Status: http.StatusServiceUnavailable, Code: "DB_POOL_TIMEOUT", Message: "the service is busy: no database connection became free in time", RetryAfter: 1}
	case errors.Is(err, db.ErrUnavailable):
		return &Error{Status: http.StatusServiceUnavailable, Code: "DB_UNAVAILABLE", Message: "the database is unavailable", RetryAfter: 2}
	case errors.Is(err, db.ErrCanceled):
		// The client has gone; nobody reads this answer. 499 as nginx does, so logs tell it apart.
		return &Error{Status: 499, Code: "REQUEST_CANCELLED", Message: "the request was cancelled"}
	}
	return &Error{Status: http.StatusInternalServerError, Code: "INTERNAL", Message: "internal error"}
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// writeError answers with the error envelope. Unknown errors are logged with the request id and
// answered 500 without their text.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := toAPIError(err)
	if e.Status == http.StatusInternalServerError {
		s.log.ErrorContext(r.Context(), "internal error", "request_id", requestID(r.Context()), "error", err.Error())
	} else if e.Status >= 500 {
		s.log.WarnContext(r.Context(), "request failed", "request_id", requestID(r.Context()), "code", e.Code, "error", err.Error())
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="eventmanager"`)
	}
	writeJSON(w, e.Status, errorBody{Error: errorDetail{Code: e.Code, Message: e.Message, Field: e.Field}})
}
