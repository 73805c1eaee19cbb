package db

import (
	"context"
	"errors"
	"io"
	"net"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The errors the store returns. Callers test them with errors.Is.
var (
	// ErrNotFound: no row matched (in the caller's tenant).
	ErrNotFound = errors.New("not found")
	// ErrConflict: a unique constraint was violated.
	ErrConflict = errors.New("conflict")
	// ErrInvalidReference: a foreign key was violated (a referenced row is missing, or a row is still referenced).
	ErrInvalidReference = errors.New("invalid reference")
	// ErrCheckViolation: a CHECK or NOT NULL constraint refused the value.
	ErrCheckViolation = errors.New("value refused by a constraint")
	// ErrQueryTimeout: the query reached its class deadline and was cancelled on the server.
	ErrQueryTimeout = errors.New("query timeout")
	// ErrPoolTimeout: no connection became free within pool_timeout.
	ErrPoolTimeout = errors.New("timed out waiting for a database connection")
	// ErrUnavailable: the database could not be reached, or it closed the connection.
	ErrUnavailable = errors.New("database unavailable")
	// ErrCanceled: the caller went away (the request was cancelled) before the query finished.
	ErrCanceled = errors.New("request cancelled")
)

// ConstraintError is a constraint violation: Kind is ErrConflict, ErrInvalidReference or
// ErrCheckViolation, Constraint names the constraint and Field the request field at fault: the
// column PostgreSQL named, unless the store names the field behind the constraint.
type ConstraintError struct {
	Kind       error
	Constraint string
	Field      string
}

func (e *ConstraintError) Error() string {
	if e.Constraint == "" {
		return e.Kind.Error()
	}
	return e.Kind.Error() + " (" + e.Constraint + ")"
}

// Unwrap lets errors.Is(err, ErrConflict) see through it.
func (e *ConstraintError) Unwrap() error { return e.Kind }

func constraintError(kind error, pgErr *pgconn.PgError) *ConstraintError {
	return &ConstraintError{Kind: kind, Constraint: pgErr.ConstraintName, Field: pgErr.ColumnName}
}

// queryError keeps the underlying cause for logs while matching one of our sentinel errors.
type queryError struct {
	kind  error
	cause error
}

func (e *queryError) Error() string   { return e.kind.Error() + ": " + e.cause.Error() }
func (e *queryError) Unwrap() []error { return []error{e.kind, e.cause} }

func wrap(kind, cause error) error { return &queryError{kind: kind, cause: cause} }

// isOurs reports whether err was already translated.
func isOurs(err error) bool {
	for _, k := range []error{ErrNotFound, ErrConflict, ErrInvalidReference, ErrCheckViolation,
		ErrQueryTimeout, ErrPoolTimeout, ErrUnavailable, ErrCanceled} {
		if errors.Is(err, k) {
			return true
		}
	}
	return false
}

// translate turns a pgx error into one of ours. parent is the caller's context and queryCtx the one
// that carried the class deadline: a query whose deadline passed (the class's, or one the caller
// set) is a timeout, one whose caller went away is a cancellation. SQLSTATE 57014 is the server's
// word for both (our cancel request after the deadline, or statement_timeout), so the contexts
// decide between them.
func translate(err error, parent, queryCtx context.Context) error {
	if err == nil || isOurs(err) {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505":
			return constraintError(ErrConflict, pgErr)
		case "23503":
			return constraintError(ErrInvalidReference, pgErr)
		case "23514", "23502", "22001", "22003", "22P02", "22007", "22008":
			return constraintError(ErrCheckViolation, pgErr)
		case "57014": // query_canceled: statement_timeout, or our cancel request after a deadline
			if callerLeft(parent) {
				return wrap(ErrCanceled, err)
			}
			return wrap(ErrQueryTimeout, err)
		case "55P03": // lock_not_available: lock_timeout
			return wrap(ErrQueryTimeout, err)
		case "57P01", "57P02", "57P03", "53300": // shutdown, crash, starting up, too many connections
			return wrap(ErrUnavailable, err)
		}
		if len(pgErr.Code) == 2+3 && pgErr.Code[:2] == "08" { // connection exceptions
			return wrap(ErrUnavailable, err)
		}
		return err
	}
	if callerLeft(parent) {
		return wrap(ErrCanceled, err)
	}
	if parent.Err() != nil || queryCtx != nil && queryCtx.Err() != nil {
		return wrap(ErrQueryTimeout, err)
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	if errors.As(err, &connectErr) || errors.As(err, &netErr) || pgconn.SafeToRetry(err) {
		return wrap(ErrUnavailable, err)
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return wrap(ErrUnavailable, err)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return wrap(ErrUnavailable, err)
	}
	return err
}

// callerLeft reports whether the caller cancelled ctx (a client that disconnected), as opposed to
// a deadline passing.
func callerLeft(ctx context.Context) bool { return errors.Is(ctx.Err(), context.Canceled) }
