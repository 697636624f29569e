package dbtest

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/rotorhq/rotor/internal/local/dbserver"
)

// SetPassword changes role name's password as the superuser, sending a
// SCRAM-SHA-256 verifier computed here. Sessions already open stay open, as
// after a single-user rotation's setSecret.
func (pg *PG) SetPassword(t testing.TB, name, password string) {
	t.Helper()
	if err := pg.AlterPassword(context.Background(), name, password); err != nil {
		t.Fatalf("testdb: %v", err)
	}
}

// AlterPassword is SetPassword returning its error instead of failing a
// test, for code that runs outside the test's goroutine: the stand-in's
// RDS master password hook (awslocal.MasterPasswordOptions.Apply). The
// error never holds the password.
func (pg *PG) AlterPassword(ctx context.Context, name, password string) error {
	verifier, err := dbserver.SCRAMSHA256Verifier(password)
	if err != nil {
		return fmt.Errorf("set password of %q: %w", name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	admin, err := pg.Connect(ctx, "postgres")
	if err != nil {
		return fmt.Errorf("set password of %q: %w", name, err)
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(ctx, "ALTER ROLE "+pgx.Identifier{name}.Sanitize()+" PASSWORD "+quoteLiteral(verifier)); err != nil {
		return fmt.Errorf("set password of %q: %w", name, err)
	}
	return nil
}

// SetPassword changes the password of user name@'%' as root, sending a
// mysql_native_password hash computed here. Sessions already open stay
// open.
func (m *Maria) SetPassword(t testing.TB, name, password string) {
	t.Helper()
	if err := m.AlterPassword(context.Background(), name, password); err != nil {
		t.Fatalf("testdb: %v", err)
	}
}

// AlterPassword is SetPassword returning its error instead of failing a
// test (see PG.AlterPassword).
func (m *Maria) AlterPassword(_ context.Context, name, password string) error {
	if err := m.exec("ALTER USER " + UserAccount(name) + " IDENTIFIED BY PASSWORD " + quoteString(dbserver.NativePasswordHash(password))); err != nil {
		return fmt.Errorf("set password of %q: %w", name, err)
	}
	return nil
}
