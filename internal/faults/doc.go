// Package faults holds the fault tests: the service under a database restart, under
// terminated backends, with PostgreSQL at max_connections, and killed with SIGKILL mid-write. Each
// test keeps a client-side ledger of every write the service acknowledged and checks it against
// the database afterwards. The package has no code of its own besides the tests; they run with
// `make test` (go test ./...); `go test -race -count=1 -v ./internal/faults/` also prints each
// test's figures (outage length, answers by status and code, recovery time, writes checked).
package faults
