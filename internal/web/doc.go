// Package web is the web app served at /: the pages of the event night (sign-in, the judges'
// scoresheets, the tally master's, auditor's and board's category boards, the emcee's running
// order and reveal, the contestants' results), rendered on the server with html/template, with
// small plain JavaScript modules and a style sheet embedded in the binary.
//
// Pages are signed in with an HttpOnly, SameSite=Strict cookie holding a session token of the
// API's own sessions; every write made with that cookie carries the session's CSRF token (a form
// field for page forms, the X-CSRF-Token header for the scripts, which call the JSON API).
package web
