// Package testproc holds what the harnesses that run a server process of their own (redistest,
// bouncertest, pgbouncer for the bench) share: a free loopback port for tests, and process
// attributes that tie the child to its parent.
package testproc

import (
	"net"
	"testing"
)

// FreePort asks the kernel for a free loopback port. Another process could take it before the
// server binds it; the harness then fails loudly rather than talk to the wrong server.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
