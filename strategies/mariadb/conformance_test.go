package mariadb_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/rotorhq/rotor/internal/local/dbtest"
	"github.com/rotorhq/rotor/strategies/engine/enginetest"
	"github.com/rotorhq/rotor/strategies/mariadb"
)

// TestConformance runs the engine conformance suite against the harness's
// MariaDB (password authentication, TLS with the run's CA).
func TestConformance(t *testing.T) {
	m := dbtest.MariaDB(t)
	db := m.NewDatabase(t)
	mustExec(t, m.Admin(t), "CREATE TABLE "+ident(db)+".probe (x int)")
	account := func(t testing.TB, user string) string {
		t.Helper()
		lit, err := mariadb.QuoteString(user, false)
		if err != nil {
			t.Fatal(err)
		}
		return lit + "@'%'"
	}
	exec := func(t testing.TB, stmt string) {
		t.Helper()
		if _, err := m.Admin(t).ExecContext(context.Background(), stmt); err != nil {
			t.Errorf("%s: %v", stmt, err)
		}
	}
	create := func(t testing.TB, name, password string) string {
		acct := account(t, name)
		exec(t, "CREATE USER "+acct+" IDENTIFIED BY PASSWORD '"+mariadb.NativePasswordHash(password)+"'")
		t.Cleanup(func() { exec(t, "DROP USER IF EXISTS "+acct) })
		return acct
	}
	query := func(t testing.TB, q string, args ...any) bool {
		t.Helper()
		var ok bool
		if err := m.Admin(t).QueryRowContext(context.Background(), q, args...).Scan(&ok); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return ok
	}
	// userRow asks a question of the clone's mysql.user or mysql.global_priv
	// row.
	userRow := func(table, cond string) func(t testing.TB, clone string) bool {
		return func(t testing.TB, clone string) bool {
			return query(t, "SELECT COUNT(*) > 0 FROM mysql."+table+" WHERE User = ? AND Host = '%' AND "+cond, clone)
		}
	}
	alter := func(clause string) func(t testing.TB, clone, _ string) {
		return func(t testing.TB, clone, _ string) { exec(t, "ALTER USER "+account(t, clone)+" "+clause) }
	}
	role := func(t testing.TB) string {
		r := dbtest.UniqueName("role")
		exec(t, "CREATE ROLE "+ident(r))
		t.Cleanup(func() { exec(t, "DROP ROLE IF EXISTS "+ident(r)) })
		return r
	}
	hasRole := func(t testing.TB, clone string) bool {
		return query(t, "SELECT COUNT(*) > 0 FROM mysql.roles_mapping WHERE User = ? AND Host = '%'", clone)
	}
	extras := []enginetest.CloneExtra{
		{
			Name: "global privilege",
			Give: func(t testing.TB, clone, _ string) { exec(t, "GRANT FILE, PROCESS ON *.* TO "+account(t, clone)) },
			Has:  userRow("user", "(File_priv = 'Y' OR Process_priv = 'Y')"),
		},
		{
			Name: "GRANT OPTION",
			Give: func(t testing.TB, clone, base string) {
				exec(t, "GRANT SELECT ON "+ident(db)+".* TO "+account(t, base))
				exec(t, "GRANT SELECT ON "+ident(db)+".* TO "+account(t, clone)+" WITH GRANT OPTION")
			},
			Has: func(t testing.TB, clone string) bool {
				return query(t, "SELECT COUNT(*) > 0 FROM mysql.db WHERE User = ? AND Host = '%' AND Grant_priv = 'Y'", clone)
			},
		},
		{Name: "REQUIRE", Give: alter("REQUIRE SUBJECT '/CN=someone'"), Has: userRow("user", "ssl_type <> ''")},
		{Name: "MAX_USER_CONNECTIONS", Give: alter("WITH MAX_USER_CONNECTIONS 5"), Has: userRow("user", "max_user_connections <> 0")},
		{Name: "MAX_QUERIES_PER_HOUR", Give: alter("WITH MAX_QUERIES_PER_HOUR 50"), Has: userRow("user", "max_questions <> 0")},
		{Name: "MAX_STATEMENT_TIME", Give: alter("WITH MAX_STATEMENT_TIME 2.5"), Has: userRow("user", "max_statement_time <> 0")},
		// Someone locked the clone on purpose: rotor does not unlock it.
		{Name: "ACCOUNT LOCK", Give: alter("ACCOUNT LOCK"), Has: userRow("global_priv", "JSON_VALUE(Priv, '$.account_locked') = 1"), Refused: true},
		{Name: "PASSWORD EXPIRE INTERVAL", Give: alter("PASSWORD EXPIRE INTERVAL 1 DAY"), Has: userRow("global_priv", "JSON_VALUE(Priv, '$.password_lifetime') = 1")},
		{Name: "PASSWORD EXPIRE", Give: alter("PASSWORD EXPIRE"), Has: userRow("global_priv", "JSON_VALUE(Priv, '$.password_last_changed') = 0")},
		// Only an account with ADMIN OPTION on a role may revoke it; the
		// harness's admin has none on this one.
		{
			Refused: true,
			Name:    "ADMIN OPTION",
			Give: func(t testing.TB, clone, _ string) {
				exec(t, "GRANT "+ident(role(t))+" TO "+account(t, clone)+" WITH ADMIN OPTION")
			},
			Has: hasRole,
		},
		{
			Name: "default role",
			Give: func(t testing.TB, clone, base string) {
				r := role(t)
				exec(t, "GRANT "+ident(r)+" TO "+account(t, base))
				exec(t, "GRANT "+ident(r)+" TO "+account(t, clone))
				exec(t, "SET DEFAULT ROLE "+ident(r)+" FOR "+account(t, clone))
			},
			Has: userRow("user", "default_role <> ''"),
		},
		// Revoking PROXY takes PROXY ... WITH GRANT OPTION on the proxied
		// account, which the harness's admin lacks.
		{
			Refused: true,
			Name:    "PROXY",
			Give: func(t testing.TB, clone, _ string) {
				exec(t, "GRANT PROXY ON ''@'%' TO "+account(t, clone))
			},
			Has: func(t testing.TB, clone string) bool {
				return query(t, "SELECT COUNT(*) > 0 FROM mysql.proxies_priv WHERE User = ? AND Host = '%'", clone)
			},
		},
	}
	enginetest.Run(t, enginetest.Harness{
		CloneExtras: extras,
		Engine:      mariadb.New(),
		Target:      params(t, m, "", "", ""),
		UniqueName:  dbtest.UniqueName,
		CreateUser:  func(t testing.TB, name, password string) { create(t, name, password) },
		CreateAdmin: func(t testing.TB, name, password string) {
			// Like RDS's master user: every privilege with GRANT OPTION.
			exec(t, "GRANT ALL PRIVILEGES ON *.* TO "+create(t, name, password)+" WITH GRANT OPTION")
		},
		CreatePrivileged: func(t testing.TB, name, password string) {
			exec(t, "GRANT ALL PRIVILEGES ON *.* TO "+create(t, name, password))
		},
		DropUserAtEnd: func(t testing.TB, name string) {
			acct := account(t, name)
			t.Cleanup(func() { exec(t, "DROP USER IF EXISTS "+acct) })
		},
		Grant: func(t testing.TB, user string) {
			exec(t, "GRANT SELECT ON "+ident(db)+".probe TO "+account(t, user))
		},
		Probe: func(t testing.TB, user, password string) error {
			c, err := m.Open(user, password, db)
			if err != nil {
				return err
			}
			defer c.Close()
			_, err = c.ExecContext(context.Background(), "SELECT COUNT(*) FROM probe")
			return err
		},
		CreateLeaseGroup: func(t testing.TB, g, admin string) {
			exec(t, "CREATE ROLE "+ident(g))
			t.Cleanup(func() { exec(t, "DROP ROLE IF EXISTS "+ident(g)) })
			exec(t, "GRANT SELECT ON "+ident(db)+".probe TO "+ident(g))
			exec(t, "GRANT CREATE, SELECT, INSERT ON "+ident(db)+".* TO "+ident(g))
			if admin != "" {
				exec(t, "GRANT "+ident(g)+" TO "+account(t, admin)+" WITH ADMIN OPTION")
			}
		},
		CreatePrivilegedGroup: func(t testing.TB, g string) {
			exec(t, "CREATE ROLE "+ident(g))
			t.Cleanup(func() { exec(t, "DROP ROLE IF EXISTS "+ident(g)) })
			exec(t, "GRANT PROCESS ON *.* TO "+ident(g))
		},
		MakeObject: func(t testing.TB, user, password string) func(testing.TB, string) error {
			table := dbtest.UniqueName("leased")
			c := m.ConnectAs(t, user, password, db)
			if _, err := c.ExecContext(context.Background(), "CREATE TABLE "+ident(table)+" (x int)"); err != nil {
				t.Fatalf("create a table as %q: %v", user, err)
			}
			c.Close()
			return func(t testing.TB, _ string) error {
				// MariaDB tables have no owner: the table must still be there.
				if !query(t, "SELECT COUNT(*) = 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?", db, table) {
					return fmt.Errorf("table %s.%s is gone", db, table)
				}
				return nil
			}
		},
		StatementLog: func(t testing.TB) func() string {
			off := m.LogOffset(t)
			return func() string { return m.LogFrom(t, off) }
		},
	})
}
