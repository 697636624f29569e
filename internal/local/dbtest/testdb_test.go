package dbtest_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rotorhq/rotor/internal/local/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestPostgresIsShared(t *testing.T) {
	t.Parallel()
	const callers = 4
	ports := make([]int, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() { ports[i] = dbtest.Postgres(t).Port })
	}
	wg.Wait()
	for i, p := range ports {
		if p != ports[0] {
			t.Errorf("caller %d got the server on port %d, caller 0 on %d", i, p, ports[0])
		}
	}
}

func TestPostgresHelpers(t *testing.T) {
	t.Parallel()
	pg := dbtest.Postgres(t)
	ctx := context.Background()
	role := dbtest.UniqueName("app")
	const password = "correct-horse-battery"
	var database string

	t.Run("isolated", func(t *testing.T) {
		database = pg.NewDatabase(t)
		pg.CreateRole(t, role, password, "createdb")

		if err := pg.CanLogin(t, role, password, database); err != nil {
			t.Errorf("CanLogin with the right password: %v", err)
		}
		var pgErr *pgconn.PgError
		if err := pg.CanLogin(t, role, "wrong", database); !errors.As(err, &pgErr) || pgErr.Code != "28P01" {
			t.Errorf("CanLogin with a wrong password: got %v, want SQLSTATE 28P01", err)
		}

		// The role owns a table, so dropping it needs DROP OWNED first.
		admin := pg.AdminDB(t, database)
		if _, err := admin.Exec(ctx, "CREATE TABLE owned (id int)"); err != nil {
			t.Fatalf("create table: %v", err)
		}
		if _, err := admin.Exec(ctx, "ALTER TABLE owned OWNER TO "+pgx.Identifier{role}.Sanitize()); err != nil {
			t.Fatalf("give table to role: %v", err)
		}
		conn := pg.ConnectAs(t, role, password, database)
		var user string
		var createDB bool
		if err := conn.QueryRow(ctx, "SELECT current_user, rolcreatedb FROM pg_roles WHERE rolname = current_user").Scan(&user, &createDB); err != nil {
			t.Fatalf("query as role: %v", err)
		}
		if user != role || !createDB {
			t.Errorf("session user %q with CREATEDB %v, want %q with CREATEDB", user, createDB, role)
		}

		logged := pg.LogSince(t)
		for _, want := range []string{"CREATE ROLE " + pgx.Identifier{role}.Sanitize() + " LOGIN CREATEDB PASSWORD 'SCRAM-SHA-256$", "CREATE DATABASE " + `"` + database + `"`, "connection authorized: user=" + role} {
			if !strings.Contains(logged, want) {
				t.Errorf("LogSince lacks %q:\n%s", want, logged)
			}
		}
		if strings.Contains(logged, password) {
			t.Errorf("server log contains the role's password")
		}
	})

	var roles, databases int
	err := pg.Admin(t).QueryRow(ctx,
		"SELECT (SELECT count(*) FROM pg_roles WHERE rolname = $1), (SELECT count(*) FROM pg_database WHERE datname = $2)",
		role, database).Scan(&roles, &databases)
	if err != nil {
		t.Fatalf("look for leftovers: %v", err)
	}
	if roles != 0 || databases != 0 {
		t.Errorf("after the subtest: %d roles named %q and %d databases named %q, want none", roles, role, databases, database)
	}
}

func TestPostgresLogOffset(t *testing.T) {
	t.Parallel()
	pg := dbtest.Postgres(t)
	admin := pg.Admin(t)
	marker := dbtest.UniqueName("marker")
	if _, err := admin.Exec(context.Background(), "SELECT '"+marker+"-before'"); err != nil {
		t.Fatal(err)
	}
	off := pg.LogOffset(t)
	if _, err := admin.Exec(context.Background(), "SELECT '"+marker+"-after'"); err != nil {
		t.Fatal(err)
	}
	logged := pg.LogFrom(t, off)
	if strings.Contains(logged, marker+"-before") || !strings.Contains(logged, marker+"-after") {
		t.Errorf("LogFrom(%d) should hold only the later statement:\n%s", off, logged)
	}
}

func TestMariaDBHelpers(t *testing.T) {
	t.Parallel()
	m := dbtest.MariaDB(t)
	ctx := context.Background()
	user := dbtest.UniqueName("app")
	const password = "correct-horse-battery"
	var database string

	t.Run("isolated", func(t *testing.T) {
		database = m.NewDatabase(t)
		m.CreateUser(t, user, password)
		if _, err := m.Admin(t).ExecContext(ctx, "GRANT ALL ON `"+database+"`.* TO "+dbtest.UserAccount(user)); err != nil {
			t.Fatalf("grant: %v", err)
		}

		if err := m.CanLogin(t, user, password, database); err != nil {
			t.Errorf("CanLogin with the right password: %v", err)
		}
		var myErr *mysql.MySQLError
		if err := m.CanLogin(t, user, "wrong", database); !errors.As(err, &myErr) || myErr.Number != 1045 {
			t.Errorf("CanLogin with a wrong password: got %v, want error 1045", err)
		}

		db := m.ConnectAs(t, user, password, database)
		if _, err := db.ExecContext(ctx, "CREATE TABLE owned (id int)"); err != nil {
			t.Fatalf("create table as user: %v", err)
		}

		logged := m.LogSince(t)
		for _, want := range []string{"CREATE USER `" + user + "`@'%' IDENTIFIED BY PASSWORD '*", "CREATE DATABASE `" + database + "`", user + "@127.0.0.1 on " + database + " using SSL/TLS"} {
			if !strings.Contains(logged, want) {
				t.Errorf("LogSince lacks %q:\n%s", want, logged)
			}
		}
		if strings.Contains(logged, password) {
			t.Errorf("general log contains the user's password")
		}
	})

	var users, databases int
	err := m.Admin(t).QueryRowContext(ctx,
		"SELECT (SELECT COUNT(*) FROM mysql.user WHERE User = ?), (SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ?)",
		user, database).Scan(&users, &databases)
	if err != nil {
		t.Fatalf("look for leftovers: %v", err)
	}
	if users != 0 || databases != 0 {
		t.Errorf("after the subtest: %d users named %q and %d databases named %q, want none", users, user, databases, database)
	}
}

func TestUniqueName(t *testing.T) {
	tests := []struct {
		name   string
		prefix string
		want   string // the name's start
	}{
		{name: "plain", prefix: "app", want: "app_"},
		{name: "upper case and punctuation", prefix: "My-Role.x", want: "my_role_x_"},
		{name: "long", prefix: strings.Repeat("a", 100), want: "aaaa"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := dbtest.UniqueName(tc.prefix), dbtest.UniqueName(tc.prefix)
			if a == b {
				t.Errorf("two calls returned %q", a)
			}
			if !strings.HasPrefix(a, tc.want) || len(a) > 63 {
				t.Errorf("UniqueName(%q) = %q, want a name starting %q of at most 63 bytes", tc.prefix, a, tc.want)
			}
		})
	}
}
