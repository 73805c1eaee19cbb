// Package querywindow keeps a rolling five-minute window of query latencies per query class, from
// which the health checks and the status page read counts, timeouts, P50, P95 and P99. It depends
// on nothing but the query classes of package db, so that both package metrics (which feeds it)
// and package health (which reads it) can import it without Prometheus coming along.
package querywindow
