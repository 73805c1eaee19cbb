// Package dbtest gives tests real PostgreSQL databases: a fresh database per test, cloned from a
// template database that is migrated once per test binary.
//
// When TEST_DATABASE_URL is set (a postgres:// URL of a user allowed to create databases on an existing
// server, with no parameters of our own such as connection_limit),
// the databases are created there; several test binaries may share that server at once, so every name
// is unique per process. Otherwise each test binary starts its own throwaway cluster with package
// localpg in a temporary folder, tuned for speed rather than durability, and removes it at the end.
//
// A package that uses dbtest must hand its TestMain to Main:
//
//	func TestMain(m *testing.M) { dbtest.Main(m) }
package dbtest
