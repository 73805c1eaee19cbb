// Package db is the service's only door to PostgreSQL: the bounded connection pool built from
// DATABASE_URL, query classes with their timeouts, transactions, tenant scoping and the translation
// of database errors into the few errors the rest of the code understands.
//
// Every query names an Op (a stable operation name and a query Class). The class fixes the query's
// timeout; the operation names it in logs and metrics. There is no way to run a query without one.
// A query that reaches its deadline is cancelled on the server (a cancel request, not a timer race),
// and server-side limits stop the queries of a client that died; docs/timeouts.md tells the whole
// story. An Observer (package metrics) is told about every query.
package db
