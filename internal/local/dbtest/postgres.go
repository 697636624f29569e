package dbtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rotorhq/rotor/internal/local/dbserver"
)

// opTimeout bounds each helper's round trips to a server.
const opTimeout = 30 * time.Second

// PG is the shared PostgreSQL server as seen by one test. The embedded
// *dbserver.Postgres gives Host, Port, CAFile, SuperUser, ConnConfig and the
// rest; do not call its Stop, the server belongs to every test of the binary.
type PG struct {
	*dbserver.Postgres
	logStart int64
}

// Postgres returns the PostgreSQL server shared by the tests of this binary,
// starting it on first use. LogSince on the result covers what the server
// logs from now on.
func Postgres(t testing.TB) *PG {
	t.Helper()
	srv, err := sharedPostgres.get(func(ctx context.Context) (*dbserver.Postgres, error) {
		return dbserver.StartPostgres(ctx, dbserver.PostgresOptions{})
	})
	if err != nil {
		startFailed(t, "PostgreSQL", "postgres", err)
	}
	off, err := srv.LogSize()
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	return &PG{Postgres: srv, logStart: off}
}

// PrivatePostgres starts a PostgreSQL server for t alone, stopped when t
// ends: for tests that halt or restart it (Halt, Resume, Restart), which
// on the shared server would cut every other test's sessions. It costs a
// cluster's start (initdb), so use it only for that.
func PrivatePostgres(t testing.TB) *PG {
	t.Helper()
	srv := private(t, "PostgreSQL", "postgres", func(ctx context.Context) (*dbserver.Postgres, error) {
		return dbserver.StartPostgres(ctx, dbserver.PostgresOptions{})
	})
	return &PG{Postgres: srv}
}

// connect opens a connection, failing t if it cannot.
func (pg *PG) connect(t testing.TB, user, password, database string) *pgx.Conn {
	t.Helper()
	cfg, err := pg.ConnConfig(user, password, database)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("testdb: connect to database %q as %q: %v", database, user, err)
	}
	return conn
}

// Admin returns a superuser connection to the "postgres" database, closed
// when the test ends.
func (pg *PG) Admin(t testing.TB) *pgx.Conn {
	t.Helper()
	return pg.AdminDB(t, "postgres")
}

// AdminDB returns a superuser connection to database, closed when the test
// ends.
func (pg *PG) AdminDB(t testing.TB, database string) *pgx.Conn {
	t.Helper()
	return pg.ConnectAs(t, pg.SuperUser, pg.SuperPassword, database)
}

// ConnectAs logs in as user over verify-full TLS and returns the connection,
// closed when the test ends. A refused login fails the test; use CanLogin to
// test whether a login works.
func (pg *PG) ConnectAs(t testing.TB, user, password, database string) *pgx.Conn {
	t.Helper()
	conn := pg.connect(t, user, password, database)
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// CanLogin tries to log in as user over verify-full TLS and returns nil if
// the server accepted the login, or the error (a *pgconn.PgError with code
// 28P01 for a wrong password). It never fails the test itself.
func (pg *PG) CanLogin(t testing.TB, user, password, database string) error {
	t.Helper()
	cfg, err := pg.ConnConfig(user, password, database)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

// NewDatabase creates an empty database with a name unique to this test
// and returns the name. The database is dropped, ending any sessions in it,
// when the test ends.
func (pg *PG) NewDatabase(t testing.TB) string {
	t.Helper()
	name := UniqueName(testName(t))
	admin := pg.connect(t, pg.SuperUser, pg.SuperPassword, "postgres")
	defer admin.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("testdb: create database %q: %v", name, err)
	}
	t.Cleanup(func() {
		if err := pg.dropDatabase(name); err != nil {
			t.Errorf("testdb: cleanup: %v", err)
		}
	})
	return name
}

func (pg *PG) dropDatabase(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	admin, err := pg.Connect(ctx, "postgres")
	if err != nil {
		return fmt.Errorf("drop database %q: %w", name, err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %q: %w", name, err)
	}
	return nil
}

// roleAttributes are the options CreateRole accepts, written as in CREATE
// ROLE.
var roleAttributes = map[string]bool{
	"SUPERUSER": true, "NOSUPERUSER": true,
	"CREATEDB": true, "NOCREATEDB": true,
	"CREATEROLE": true, "NOCREATEROLE": true,
	"INHERIT": true, "NOINHERIT": true,
	"REPLICATION": true, "NOREPLICATION": true,
	"BYPASSRLS": true, "NOBYPASSRLS": true,
}

// CreateRole creates a LOGIN role with password and the given attributes
// (such as "CREATEROLE", "CREATEDB"; case-insensitive). The password is sent
// as a SCRAM-SHA-256 verifier computed here; an empty password creates the
// role without one. Role names are visible to every test sharing the server:
// use UniqueName for tests that may run in parallel. The role is dropped
// when the test ends, after the objects it owns and its privileges in every
// database are dropped.
func (pg *PG) CreateRole(t testing.TB, name, password string, attrs ...string) {
	t.Helper()
	stmt := "CREATE ROLE " + pgx.Identifier{name}.Sanitize() + " LOGIN"
	for _, a := range attrs {
		a = strings.ToUpper(strings.TrimSpace(a))
		if !roleAttributes[a] {
			t.Fatalf("testdb: create role %q: unsupported attribute %q", name, a)
		}
		stmt += " " + a
	}
	if password != "" {
		verifier, err := dbserver.SCRAMSHA256Verifier(password)
		if err != nil {
			t.Fatalf("testdb: create role %q: %v", name, err)
		}
		stmt += " PASSWORD " + quoteLiteral(verifier)
	}
	admin := pg.connect(t, pg.SuperUser, pg.SuperPassword, "postgres")
	defer admin.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if _, err := admin.Exec(ctx, stmt); err != nil {
		t.Fatalf("testdb: create role %q: %v", name, err)
	}
	t.Cleanup(func() {
		if err := pg.dropRole(name); err != nil {
			t.Errorf("testdb: cleanup: %v", err)
		}
	})
}

// dropRole drops role name. If it still owns objects or holds privileges,
// those are dropped in every database first.
func (pg *PG) dropRole(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	admin, err := pg.Connect(ctx, "postgres")
	if err != nil {
		return fmt.Errorf("drop role %q: %w", name, err)
	}
	defer admin.Close(ctx)
	role := pgx.Identifier{name}.Sanitize()
	_, err = admin.Exec(ctx, "DROP ROLE IF EXISTS "+role)
	var pgErr *pgconn.PgError
	if err == nil || !errors.As(err, &pgErr) || pgErr.Code != "2BP01" { // dependent_objects_still_exist
		if err != nil {
			return fmt.Errorf("drop role %q: %w", name, err)
		}
		return nil
	}
	rows, err := admin.Query(ctx, "SELECT datname FROM pg_database WHERE datallowconn")
	if err != nil {
		return fmt.Errorf("drop role %q: list databases: %w", name, err)
	}
	databases, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("drop role %q: list databases: %w", name, err)
	}
	for _, db := range databases {
		conn, err := pg.Connect(ctx, db)
		if err != nil {
			// A parallel test may drop its database between the listing
			// and this connection; whatever the role owned there is gone
			// with it.
			if errors.As(err, &pgErr) && pgErr.Code == "3D000" { // invalid_catalog_name
				continue
			}
			return fmt.Errorf("drop role %q: %w", name, err)
		}
		_, err = conn.Exec(ctx, "DROP OWNED BY "+role)
		conn.Close(ctx)
		if errors.As(err, &pgErr) && pgErr.Code == "57P01" { // admin_shutdown: database dropped WITH (FORCE) meanwhile
			continue
		}
		if err != nil {
			return fmt.Errorf("drop role %q: drop what it owns in %q: %w", name, db, err)
		}
	}
	if _, err := admin.Exec(ctx, "DROP ROLE IF EXISTS "+role); err != nil {
		return fmt.Errorf("drop role %q: %w", name, err)
	}
	return nil
}

// quoteLiteral quotes s as a standard SQL string literal.
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// LogSince returns what the server logged since this PG was returned by
// Postgres. Tests running in parallel share the log, so look for names
// unique to the test rather than for the absence of lines.
func (pg *PG) LogSince(t testing.TB) string {
	t.Helper()
	return logSince(t, pg.ReadLogFrom, pg.logStart)
}

// LogOffset returns the log's current end, for LogFrom.
func (pg *PG) LogOffset(t testing.TB) int64 {
	t.Helper()
	off, err := pg.LogSize()
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	return off
}

// LogFrom returns what the server logged after offset off from LogOffset.
func (pg *PG) LogFrom(t testing.TB, off int64) string {
	t.Helper()
	return logSince(t, pg.ReadLogFrom, off)
}
