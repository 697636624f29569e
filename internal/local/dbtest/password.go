package dbtest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/rotorhq/rotor/internal/local/dbserver"
)

// SetPassword changes role name's password as the superuser, sending a
// SCRAM-SHA-256 verifier computed here. Sessions already open stay open, as
// after a single-user rotation's setSecret.
func (pg *PG) SetPassword(t testing.TB, name, password string) {
	t.Helper()
	verifier, err := dbserver.SCRAMSHA256Verifier(password)
	if err != nil {
		t.Fatalf("testdb: set password of %q: %v", name, err)
	}
	admin := pg.connect(t, pg.SuperUser, pg.SuperPassword, "postgres")
	defer admin.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if _, err := admin.Exec(ctx, "ALTER ROLE "+pgx.Identifier{name}.Sanitize()+" PASSWORD "+quoteLiteral(verifier)); err != nil {
		t.Fatalf("testdb: set password of %q: %v", name, err)
	}
}

// SetPassword changes the password of user name@'%' as root, sending a
// mysql_native_password hash computed here. Sessions already open stay
// open.
func (m *Maria) SetPassword(t testing.TB, name, password string) {
	t.Helper()
	if err := m.exec("ALTER USER " + UserAccount(name) + " IDENTIFIED BY PASSWORD " + quoteString(dbserver.NativePasswordHash(password))); err != nil {
		t.Fatalf("testdb: set password of %q: %v", name, err)
	}
}
