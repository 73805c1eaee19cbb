package config

import "fmt"

// ParamError is a setting with a bad value. Start-up prints it as its only line before it exits
// with status 2, so the message is self-contained: where the setting lives, its name, the value
// as given, and what would be accepted. An operator fixes it without reading code.
type ParamError struct {
	// Var is the environment variable holding the connection string when Param is one of the
	// parameters inside it (DATABASE_URL for connection_limit). It is empty when Param is itself
	// an environment variable (PORT).
	Var string
	// Param is the setting: an environment variable (PORT) or a connection string parameter
	// (connection_limit).
	Param string
	// Value is the value as given (percent-decoded for URL parameters). Passwords are never
	// validated through ParamError, so Value is never a secret.
	Value string
	// Accepted says what would be accepted; it starts with "want".
	Accepted string
}

// Error returns one line, e.g.
// DATABASE_URL: connection_limit="0" is invalid: want a whole number from 1 to 10000.
func (e *ParamError) Error() string {
	if e.Var != "" {
		return fmt.Sprintf("%s: %s=%q is invalid: %s", e.Var, e.Param, e.Value, e.Accepted)
	}
	return fmt.Sprintf("%s=%q is invalid: %s", e.Param, e.Value, e.Accepted)
}

// URLError is a connection string that cannot be used as a whole rather than one bad parameter
// value: not a URL, an unknown, duplicated or conflicting parameter, or one pgx rejects.
//
// It deliberately holds no wrapped error: pgx's errors can quote the connection string, and an
// Unwrap chain would let a caller print the password by accident. Msg is already scrubbed.
type URLError struct {
	// Var is the environment variable that held the connection string (DATABASE_URL or
	// DIRECT_DATABASE_URL).
	Var string
	// Msg says what is wrong and how to fix it; it never contains the password.
	Msg string
}

// Error returns one line: the variable, then the problem.
func (e *URLError) Error() string { return e.Var + ": " + e.Msg }
