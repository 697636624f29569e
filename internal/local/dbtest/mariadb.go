package dbtest

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/rotorhq/rotor/internal/local/dbserver"
)

// Maria is the shared MariaDB server as seen by one test. The embedded
// *dbserver.MariaDB gives Host, Port, CAFile, SuperUser, Config and the rest;
// do not call its Stop, the server belongs to every test of the binary.
type Maria struct {
	*dbserver.MariaDB
	logStart int64
}

// MariaDB returns the MariaDB server shared by the tests of this binary,
// starting it on first use. LogSince on the result covers what the general
// query log gets from now on.
func MariaDB(t testing.TB) *Maria {
	t.Helper()
	srv, err := sharedMariaDB.get(func(ctx context.Context) (*dbserver.MariaDB, error) {
		return dbserver.StartMariaDB(ctx, dbserver.MariaDBOptions{})
	})
	if err != nil {
		startFailed(t, "MariaDB", "mariadb", err)
	}
	off, err := srv.LogSize()
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	return &Maria{MariaDB: srv, logStart: off}
}

// PrivateMariaDB starts a MariaDB server for t alone, stopped when t ends:
// for tests that halt or restart it (Halt, Resume, Restart), which on the
// shared server would cut every other test's sessions. It costs a server's
// installation and start, so use it only for that.
func PrivateMariaDB(t testing.TB) *Maria {
	t.Helper()
	srv := private(t, "MariaDB", "mariadb", func(ctx context.Context) (*dbserver.MariaDB, error) {
		return dbserver.StartMariaDB(ctx, dbserver.MariaDBOptions{})
	})
	return &Maria{MariaDB: srv}
}

// open returns a pool for user that has logged in once, failing t if the
// login is refused.
func (m *Maria) open(t testing.TB, user, password, database string) *sql.DB {
	t.Helper()
	db, err := m.Open(user, password, database)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		t.Fatalf("testdb: connect to database %q as %q: %v", database, user, err)
	}
	return db
}

// Admin returns a root connection pool with no default database, closed
// when the test ends.
func (m *Maria) Admin(t testing.TB) *sql.DB {
	t.Helper()
	return m.AdminDB(t, "")
}

// AdminDB returns a root connection pool on database, closed when the test
// ends.
func (m *Maria) AdminDB(t testing.TB, database string) *sql.DB {
	t.Helper()
	return m.ConnectAs(t, m.SuperUser, m.SuperPassword, database)
}

// ConnectAs logs in as user over TLS verified against the run's CA and
// returns the pool, closed when the test ends. A refused login fails the
// test; use CanLogin to test whether a login works.
func (m *Maria) ConnectAs(t testing.TB, user, password, database string) *sql.DB {
	t.Helper()
	db := m.open(t, user, password, database)
	t.Cleanup(func() { db.Close() })
	return db
}

// CanLogin tries to log in as user over verified TLS and returns nil if the
// server accepted the login, or the error (a *mysql.MySQLError numbered 1045
// for a wrong password). It never fails the test itself.
func (m *Maria) CanLogin(t testing.TB, user, password, database string) error {
	t.Helper()
	db, err := m.Open(user, password, database)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	return db.PingContext(ctx)
}

// exec runs statements as root on a fresh connection.
func (m *Maria) exec(stmts ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	db, err := m.Connect(ctx, "")
	if err != nil {
		return err
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// NewDatabase creates an empty database with a name unique to this test and
// returns the name. The database is dropped when the test ends.
func (m *Maria) NewDatabase(t testing.TB) string {
	t.Helper()
	name := UniqueName(testName(t))
	if err := m.exec("CREATE DATABASE " + quoteIdent(name)); err != nil {
		t.Fatalf("testdb: create database %q: %v", name, err)
	}
	t.Cleanup(func() {
		if err := m.exec("DROP DATABASE IF EXISTS " + quoteIdent(name)); err != nil {
			t.Errorf("testdb: cleanup: drop database %q: %v", name, err)
		}
	})
	return name
}

// CreateUser creates user name@'%' with password, sent as a
// mysql_native_password hash computed here, and no privileges: grant them
// through Admin. User names are visible to every test sharing the server:
// use UniqueName for tests that may run in parallel. The user is dropped
// when the test ends.
func (m *Maria) CreateUser(t testing.TB, name, password string) {
	t.Helper()
	account := UserAccount(name)
	stmt := "CREATE USER " + account + " IDENTIFIED BY PASSWORD " + quoteString(dbserver.NativePasswordHash(password))
	if err := m.exec(stmt); err != nil {
		t.Fatalf("testdb: create user %q: %v", name, err)
	}
	t.Cleanup(func() {
		if err := m.exec("DROP USER IF EXISTS " + account); err != nil {
			t.Errorf("testdb: cleanup: drop user %q: %v", name, err)
		}
	})
}

// UserAccount returns the quoted account name name@'%' that CreateUser
// creates, for GRANT statements.
func UserAccount(name string) string {
	return quoteIdent(name) + "@'%'"
}

// quoteIdent quotes name as a MariaDB identifier.
func quoteIdent(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

// quoteString quotes s as a MariaDB string literal for the default sql_mode.
func quoteString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\x00", `\0`, "\n", `\n`, "\r", `\r`, "\x1a", `\Z`)
	return "'" + r.Replace(s) + "'"
}

// LogSince returns what the general query log got since this Maria was
// returned by MariaDB. Tests running in parallel share the log, so look for
// names unique to the test rather than for the absence of lines.
func (m *Maria) LogSince(t testing.TB) string {
	t.Helper()
	return logSince(t, m.ReadLogFrom, m.logStart)
}

// LogOffset returns the general query log's current end, for LogFrom.
func (m *Maria) LogOffset(t testing.TB) int64 {
	t.Helper()
	off, err := m.LogSize()
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	return off
}

// LogFrom returns what the general query log got after offset off from
// LogOffset.
func (m *Maria) LogFrom(t testing.TB, off int64) string {
	t.Helper()
	return logSince(t, m.ReadLogFrom, off)
}
