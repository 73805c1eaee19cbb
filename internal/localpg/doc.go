// Package localpg runs a private PostgreSQL server from the binaries installed on the machine, so that
// the service and its tests need nothing but the PostgreSQL packages of the operating system.
//
// A Server owns one data folder (initialised with initdb on first use and reused afterwards) and runs
// the postmaster as a child process. The postmaster listens on a Unix socket (trust authentication,
// superuser "postgres") and on 127.0.0.1 (password authentication, SCRAM-SHA-256). An exclusive lock
// file keeps two processes from using the same data folder at once.
//
// The postmaster is started directly rather than through "pg_ctl start", for three reasons:
//   - it gets the parent-death signal (Linux), so a crashed or killed owner (a test binary hitting its
//     timeout, kill -9) never leaves an orphaned server behind;
//   - it runs in its own process group, so the Ctrl-C that a terminal sends to the whole foreground group
//     does not shut the database down while the owner is still draining requests;
//   - the owner notices at once when the server exits unexpectedly.
//
// Stopping uses PostgreSQL's "fast" shutdown (SIGINT, as "pg_ctl stop -m fast"). A postmaster left
// running on the data folder by some other means (for instance started by hand with pg_ctl) is stopped
// with "pg_ctl stop -m fast" before the Server starts its own.
//
// The service does not use the superuser, nor the owner of its tables. EnsureServiceRoles creates two
// ordinary login roles (neither superuser nor BYPASSRLS): OwnerRole, which EnsureDatabaseOwnedBy
// gives the database and which runs the migrations, and ServiceRole, which the service connects as:
// it owns nothing and has only the rights of the group role AppRole, which the migrations grant.
// URLAs connects as either over the Unix socket.
//
// PostgreSQL refuses to run as root. When the process runs as root, initdb and the server run as the
// "postgres" system user, which then owns the data folder.
package localpg
