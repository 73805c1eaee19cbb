// Package api is the HTTP interface: the route table, one file per resource, the middleware
// (request id, logging, recovery, authentication) and the JSON and error writers.
package api
