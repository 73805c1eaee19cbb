// Package metrics holds the service's Prometheus registry and its collectors: query durations,
// timeouts and errors by class and operation (fed by package db through its Observer), the
// statistics of the connection pool, and the Go runtime and process. Each query is also recorded
// in a querywindow.Window, from which the health service reads P50, P95 and P99 without going
// through Prometheus.
package metrics
