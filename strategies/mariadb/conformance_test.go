package mariadb_test

import (
	"context"
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
	enginetest.Run(t, enginetest.Harness{
		Engine:     mariadb.New(),
		Target:     params(t, m, "", "", ""),
		UniqueName: dbtest.UniqueName,
		CreateUser: func(t testing.TB, name, password string) { create(t, name, password) },
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
		StatementLog: func(t testing.TB) func() string {
			off := m.LogOffset(t)
			return func() string { return m.LogFrom(t, off) }
		},
	})
}
