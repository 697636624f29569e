package dbtest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/rotorhq/rotor/internal/local/dbserver"
)

// psqlPath returns psql's path, or a *dbserver.MissingBinaryError naming
// the package to install.
func psqlPath() (string, error) {
	p, err := exec.LookPath("psql")
	if err != nil {
		return "", &dbserver.MissingBinaryError{Binary: "psql", Package: "postgresql-client", Looked: []string{"PATH"}}
	}
	return p, nil
}

// RequirePsql fails t, naming the package to install, unless psql is
// installed. Call it first in a test that uses Psql from other goroutines.
func RequirePsql(t testing.TB) {
	t.Helper()
	if _, err := psqlPath(); err != nil {
		t.Fatalf("testdb: psql (libpq's own client) is not installed, so this test cannot run: %v\n(or run scripts/ensure-deps.sh postgres)", err)
	}
}

// Psql runs psql (libpq, not pgx) as user with password on database, over
// the TLS ConnConfig uses (verify-full against the run's CA when the server
// has TLS), with sql on its standard input and ON_ERROR_STOP, and returns
// what it printed. The password reaches psql only through PGPASSWORD in its
// environment (never its arguments), which libpq prepares with its own
// SASLprep; the client encoding is UTF8 whatever the locale. PG* variables
// of the test's own environment are not passed on. The password never
// appears in the result or the error: psql's output is redacted. A missing
// psql is a *dbserver.MissingBinaryError (see RequirePsql). Safe to call
// from any goroutine.
func (pg *PG) Psql(user, password, database, sql string) (string, error) {
	bin, err := psqlPath()
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-X", "-w", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", pg.ConnString(user, database))
	env := []string{"PGPASSWORD=" + password, "PGCLIENTENCODING=UTF8", "PGCONNECT_TIMEOUT=10"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	cmd.Stdin = strings.NewReader(sql)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	text := strings.ReplaceAll(out.String(), password, "<password>")
	if err != nil {
		return text, fmt.Errorf("psql as %q on %q: %v: %s", user, database, err, strings.TrimSpace(text))
	}
	return text, nil
}

// PsqlCanLogin reports whether psql logs in as user with password on
// database and runs a query: nil, or psql's error (without the password).
func (pg *PG) PsqlCanLogin(user, password, database string) error {
	out, err := pg.Psql(user, password, database, "SELECT 'logged-in';\n")
	if err == nil && strings.TrimSpace(out) != "logged-in" {
		return fmt.Errorf("psql as %q: logged in but the query printed %q", user, out)
	}
	return err
}

// SetPasswordWithPsql sets role name's password the way a person does in
// psql: ALTER ROLE ... PASSWORD with the plaintext, as the superuser, so
// the server builds the SCRAM verifier itself (with its own SASLprep). The
// statement is kept out of the server log (log_statement is 'all' on the
// harness's server) by turning statement logging off for the session
// first. The error never holds the password. Safe to call from any
// goroutine.
func (pg *PG) SetPasswordWithPsql(name, password string) error {
	sql := "SET log_statement = 'none';\nALTER ROLE " + pgx.Identifier{name}.Sanitize() + " PASSWORD " + quoteLiteral(password) + ";\n"
	if _, err := pg.Psql(pg.SuperUser, pg.SuperPassword, "postgres", sql); err != nil {
		return fmt.Errorf("set password of %q with psql: %s", name, strings.ReplaceAll(err.Error(), password, "<password>"))
	}
	return nil
}
