// Package bench measures the service under load: closed-loop HTTP scenarios driven by vegeta
// (runbook, read sweep, mixed reads and score writes), the same store calls run directly through
// pgx without HTTP (the ceiling the API can approach on the machine), the server's CPU and peak
// RSS, and the report: a table, bench-results.json and an SVG chart. Run owns a whole bench run
// (migrate, seed, prepare the tenant, start the server, run the scenarios, report);
// `eventmanager bench` only turns its flags into Options. docs/performance.md reads its figures.
package bench
