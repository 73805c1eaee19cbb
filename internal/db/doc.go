// Package db is the service's only door to PostgreSQL: the bounded connection pool built from
// DATABASE_URL, query classes with their timeouts, transactions, tenant scoping and the translation
// of database errors into the few errors the rest of the code understands.
//
// Every query names an Op (a stable operation name and a query Class). The class fixes the query's
// timeout; the operation names it in logs. There is no way to run a query without one.
package db
