// Package dbtest gives tests real PostgreSQL databases: a fresh database per test, cloned from a
// template database that is migrated once per test binary.
//
// When TEST_DATABASE_URL is set (a postgres:// URL of a superuser of an existing server, or of a user
// allowed to create databases and roles, with no parameters of our own such as connection_limit),
// the databases are created there; several test binaries may share that server at once, so every name
// is unique per process. Otherwise each test binary starts its own throwaway cluster with package
// localpg in a temporary folder, tuned for speed rather than durability, and removes it at the end.
//
// The databases belong to an ordinary role (neither superuser nor BYPASSRLS), as the service's does,
// and the URLs that NewDatabase returns connect as that role: row-level security applies to the tests
// as it does in production. The role is "eventmanager" on a throwaway cluster (its Unix socket trusts
// it) and "eventmanager_test" on TEST_DATABASE_URL's server, with a password derived from the
// superuser's; it is created when missing, safely when several test binaries start at once. AdminURL
// gives a superuser's URL of the same database, for tests that must look past row-level security.
//
// A package that uses dbtest must hand its TestMain to Main:
//
//	func TestMain(m *testing.M) { dbtest.Main(m) }
package dbtest
