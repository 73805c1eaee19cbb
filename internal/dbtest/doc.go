// Package dbtest gives tests real PostgreSQL databases: a fresh database per test, cloned from a
// template database that is migrated once per test binary.
//
// When TEST_DATABASE_URL is set (a postgres:// URL of a superuser of an existing server, or of a user
// allowed to create databases and roles, with no parameters of our own such as connection_limit),
// the databases are created there; several test binaries may share that server at once, so every name
// is unique per process. Otherwise each test binary starts its own throwaway cluster with package
// localpg in a temporary folder, tuned for speed rather than durability, and removes it at the end.
//
// Two ordinary roles (neither superuser nor BYPASSRLS) are used, as in production. The owner owns
// the databases and migrates the template, and the URLs that NewDatabase returns connect as it (row-
// level security is FORCEd on it): "eventmanager_owner" on a throwaway cluster, "eventmanager_test"
// on TEST_DATABASE_URL's server. ServiceURL connects to the same database as the service's role,
// which owns nothing and has only what the migrations grant the group role eventmanager_app:
// "eventmanager" on a throwaway cluster, "eventmanager_test_service" on TEST_DATABASE_URL's server.
// Tests of what the service does should use ServiceURL, so that a missing grant fails them. The
// throwaway cluster's Unix socket trusts both; on TEST_DATABASE_URL's server their passwords are
// derived from the superuser's. The roles are created when missing, safely when several test
// binaries start at once. AdminURL gives a superuser's URL of the same database, for tests that must
// look past row-level security.
//
// A package that uses dbtest must hand its TestMain to Main:
//
//	func TestMain(m *testing.M) { dbtest.Main(m) }
package dbtest
