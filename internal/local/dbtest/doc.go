// Package dbtest gives tests across rotor a real PostgreSQL and a real
// MariaDB with password authentication, started by internal/local/dbserver.
//
// Each test binary shares one server of each kind, started lazily by the
// first test that asks for it (dbtest.Postgres, dbtest.MariaDB) and safe to
// ask for from parallel tests. Tests isolate themselves with per-test
// databases, roles and users that are dropped in t.Cleanup, and read only the
// server log written since they began (LogSince).
//
// Packages that use the shared servers should stop them when their tests
// end:
//
//	func TestMain(m *testing.M) { dbtest.Main(m) }
//
// Without it the servers still die with the test process (they receive a
// shutdown signal when it exits) and the next start removes their
// directories.
//
// On failure: a missing server program fails the test (never skips it) with
// the Debian package and the command that installs it. A server that cannot
// start fails every test that asks for it with the same error and the tail of
// the server's log. Helpers fail the test with t.Fatalf naming what failed;
// cleanup failures are reported with t.Errorf. Passwords are never sent as
// SQL text: roles get a SCRAM-SHA-256 verifier and users a
// mysql_native_password hash computed in Go.
package dbtest
