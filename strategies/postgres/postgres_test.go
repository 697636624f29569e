package postgres_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/local/dbtest"
	"github.com/rotorhq/rotor/strategies/engine"
	"github.com/rotorhq/rotor/strategies/postgres"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func params(t *testing.T, pg *dbtest.PG, db, user, password string) engine.Params {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pg.CAPEM) {
		t.Fatal("CA PEM")
	}
	return engine.Params{Host: pg.Host, Port: pg.Port, Database: db, User: user, Password: password,
		TLS: engine.TLS{Mode: events.TLSVerifyFull, RootCAs: pool}}
}

func connect(t *testing.T, p engine.Params) *postgres.Session {
	t.Helper()
	s, err := postgres.Connect(context.Background(), p)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

// A password made of every punctuation character GetRandomPassword can
// produce, plus letters and digits.
const hardPassword = "aA1!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ end"

func TestSetOwnPasswordSendsOnlyAVerifier(t *testing.T) {
	t.Parallel()
	pg := dbtest.Postgres(t)
	db := pg.NewDatabase(t)
	user := dbtest.UniqueName("own")
	pg.CreateRole(t, user, "first-password-1")
	off := pg.LogOffset(t)

	s := connect(t, params(t, pg, db, user, "first-password-1"))
	if err := s.SetPassword(context.Background(), user, hardPassword); err != nil {
		t.Fatalf("set password: %v", err)
	}
	if err := pg.CanLogin(t, user, hardPassword, db); err != nil {
		t.Fatalf("new password refused: %v", err)
	}
	if err := pg.CanLogin(t, user, "first-password-1", db); err == nil {
		t.Fatal("old password still logs in")
	}
	log := pg.LogFrom(t, off)
	if !strings.Contains(log, "SCRAM-SHA-256$4096:") {
		t.Fatalf("server log does not show the verifier statement:\n%s", log)
	}
	if strings.Contains(log, hardPassword) || strings.Contains(log, "!\"#$%&'()*+") {
		t.Fatalf("server log contains the password:\n%s", log)
	}
}

func TestWrongPasswordIsAnAuthError(t *testing.T) {
	t.Parallel()
	pg := dbtest.Postgres(t)
	db := pg.NewDatabase(t)
	user := dbtest.UniqueName("auth")
	pg.CreateRole(t, user, "right-password")
	_, err := postgres.Connect(context.Background(), params(t, pg, db, user, "wrong-password-xyz"))
	if !errors.Is(err, engine.ErrAuth) {
		t.Fatalf("err %v, want engine.ErrAuth", err)
	}
	if strings.Contains(err.Error(), "wrong-password-xyz") {
		t.Fatalf("error quotes the password: %v", err)
	}
}

func TestTLSModesNeverFallBack(t *testing.T) {
	t.Parallel()
	pg := dbtest.Postgres(t)
	db := pg.NewDatabase(t)
	user := dbtest.UniqueName("tls")
	pg.CreateRole(t, user, "tls-password")

	// verify-full against the system roots: the per-run CA is unknown, so
	// the login must fail on the certificate and not be retried in plaintext.
	p := params(t, pg, db, user, "tls-password")
	p.TLS.RootCAs = nil
	off := pg.LogOffset(t)
	_, err := postgres.Connect(context.Background(), p)
	if err == nil || errors.Is(err, engine.ErrAuth) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("verify-full with an unknown CA: err %v, want a certificate error", err)
	}
	if log := pg.LogFrom(t, off); strings.Contains(log, "user="+user) {
		t.Fatalf("a connection was authorized after the TLS failure:\n%s", log)
	}

	// Wrong host name under verify-full: refused.
	p = params(t, pg, db, user, "tls-password")
	p.Host = "127.0.0.2"
	if _, err := postgres.Connect(context.Background(), p); err == nil {
		t.Fatal("verify-full accepted a certificate for another name")
	}

	for _, mode := range []string{events.TLSVerifyFull, events.TLSRequire, events.TLSDisable} {
		p := params(t, pg, db, user, "tls-password")
		p.TLS.Mode = mode
		s := connect(t, p)
		var ssl bool
		if err := s.Ping(context.Background()); err != nil {
			t.Fatalf("%s: ping: %v", mode, err)
		}
		admin := pg.AdminDB(t, db)
		if err := admin.QueryRow(context.Background(),
			"SELECT bool_or(ssl) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) WHERE usename = $1", user).Scan(&ssl); err != nil {
			t.Fatal(err)
		}
		if want := mode != events.TLSDisable; ssl != want {
			t.Fatalf("%s: session ssl=%v, want %v", mode, ssl, want)
		}
		s.Close(context.Background())
	}
}

// names shaped like injection or otherwise awkward, all valid role names.
var awkwardNames = map[string]string{
	"quote":    `o'brien"x`,
	"spaces":   "app user",
	"unicode":  "приложение",
	"reserved": "select",
	"sql":      `x"; DROP ROLE postgres; --`,
	"upper":    "AppUser",
}

func TestAwkwardRoleNames(t *testing.T) {
	t.Parallel()
	pg := dbtest.Postgres(t)
	db := pg.NewDatabase(t)
	names := map[string]string{}
	for k, v := range awkwardNames {
		names[k] = v
	}
	long := dbtest.UniqueName("l")
	long += strings.Repeat("n", postgres.MaxIdentifierBytes-len(long))
	names["63 bytes"] = long
	for label, base := range names {
		t.Run(label, func(t *testing.T) {
			// Keep names unique across runs sharing the server.
			name := base
			if label != "63 bytes" {
				name = base + dbtest.UniqueName("")[:6]
			}
			pg.CreateRole(t, name, "initial-pass-1")
			s := connect(t, params(t, pg, db, name, "initial-pass-1"))
			if err := s.SetPassword(context.Background(), name, hardPassword); err != nil {
				t.Fatalf("set password: %v", err)
			}
			if err := pg.CanLogin(t, name, hardPassword, db); err != nil {
				t.Fatalf("login with new password: %v", err)
			}
			n, err := s.CountSessions(context.Background(), name)
			if err != nil || n < 1 {
				t.Fatalf("sessions %d, %v", n, err)
			}
		})
	}
	// The injection-shaped name was treated as data: the role it names
	// still exists.
	var count int
	if err := pg.Admin(t).QueryRow(context.Background(), "SELECT count(*) FROM pg_roles WHERE rolname = $1", pg.SuperUser).Scan(&count); err != nil || count != 1 {
		t.Fatalf("superuser role count %d, %v", count, err)
	}
}

func TestSyncAlternateOwnershipAndPrivileges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg := dbtest.Postgres(t)
	db := pg.NewDatabase(t)
	base := dbtest.UniqueName("app")
	clone := base + "_clone"
	adminName := dbtest.UniqueName("admin")
	readers := dbtest.UniqueName("readers")
	pg.CreateRole(t, adminName, "admin-pass-1", "CREATEROLE")
	pg.CreateRole(t, base, "base-pass-1", "CREATEDB")
	pg.CreateRole(t, readers, "")
	t.Cleanup(func() {
		a := pg.AdminDB(t, db)
		a.Exec(ctx, "DROP OWNED BY "+pgx.Identifier{clone}.Sanitize())
		a.Exec(ctx, "DROP ROLE IF EXISTS "+pgx.Identifier{clone}.Sanitize())
	})
	a := pg.AdminDB(t, db)
	for _, stmt := range []string{
		"GRANT " + pgx.Identifier{readers}.Sanitize() + " TO " + pgx.Identifier{base}.Sanitize(),
		"GRANT CREATE, USAGE ON SCHEMA public TO " + pgx.Identifier{base}.Sanitize(),
		"ALTER ROLE " + pgx.Identifier{base}.Sanitize() + " CONNECTION LIMIT 40",
	} {
		if _, err := a.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}

	admin := connect(t, params(t, pg, db, adminName, "admin-pass-1"))
	resp, err := admin.SyncAlternate(ctx, engine.AlternateRequest{Base: base, Clone: clone, Pending: clone, Password: "clone-pass-1"})
	if err != nil {
		t.Fatalf("sync (create clone): %v", err)
	}
	if !resp.CreatedClone {
		t.Fatal("clone not reported as created")
	}
	// A second sync is a no-op apart from the password.
	resp, err = admin.SyncAlternate(ctx, engine.AlternateRequest{Base: base, Clone: clone, Pending: clone, Password: "clone-pass-1"})
	if err != nil || resp.CreatedClone || len(resp.Changes) != 0 {
		t.Fatalf("repeat sync: %+v, %v", resp, err)
	}

	// Attributes and memberships mirror the base role.
	var createdb bool
	var connlimit int
	if err := a.QueryRow(ctx, "SELECT rolcreatedb, rolconnlimit FROM pg_roles WHERE rolname = $1", clone).Scan(&createdb, &connlimit); err != nil {
		t.Fatal(err)
	}
	if !createdb || connlimit != 40 {
		t.Fatalf("clone attributes createdb=%v connlimit=%d, want true 40", createdb, connlimit)
	}
	var inReaders bool
	if err := a.QueryRow(ctx, "SELECT pg_has_role($1, $2, 'MEMBER')", clone, readers).Scan(&inReaders); err != nil || !inReaders {
		t.Fatalf("clone not in %s: %v", readers, err)
	}

	// Each user creates a table; both can read and write both.
	baseConn := pg.ConnectAs(t, base, "base-pass-1", db)
	cloneConn := pg.ConnectAs(t, clone, "clone-pass-1", db)
	tBase, tClone := pgx.Identifier{dbtest.UniqueName("t_base")}.Sanitize(), pgx.Identifier{dbtest.UniqueName("t_clone")}.Sanitize()
	mustExec(t, baseConn, "CREATE TABLE "+tBase+" (v int)")
	mustExec(t, cloneConn, "CREATE TABLE "+tClone+" (v int)")
	for _, c := range []*pgx.Conn{baseConn, cloneConn} {
		for _, tbl := range []string{tBase, tClone} {
			mustExec(t, c, "INSERT INTO "+tbl+" VALUES (1)")
			var n int
			if err := c.QueryRow(ctx, "SELECT count(*) FROM "+tbl).Scan(&n); err != nil {
				t.Fatalf("read %s: %v", tbl, err)
			}
		}
	}
	var owner string
	if err := a.QueryRow(ctx, "SELECT tableowner FROM pg_tables WHERE tablename = $1", strings.Trim(tClone, `"`)).Scan(&owner); err != nil {
		t.Fatal(err)
	}
	if owner != base {
		t.Fatalf("table created by the clone is owned by %q, want %q", owner, base)
	}

	// The base loses a membership: the next sync revokes it from the clone.
	mustExec(t, a, "REVOKE "+pgx.Identifier{readers}.Sanitize()+" FROM "+pgx.Identifier{base}.Sanitize())
	resp, err = admin.SyncAlternate(ctx, engine.AlternateRequest{Base: base, Clone: clone, Pending: base, Password: "base-pass-2"})
	if err != nil {
		t.Fatalf("sync (base pending): %v", err)
	}
	if fmt.Sprint(resp.Changes) != fmt.Sprintf("[revoke %s from %s]", readers, clone) {
		t.Fatalf("changes %v", resp.Changes)
	}
	if err := pg.CanLogin(t, base, "base-pass-2", db); err != nil {
		t.Fatalf("base's new password: %v", err)
	}
	if err := pg.CanLogin(t, clone, "clone-pass-1", db); err != nil {
		t.Fatalf("clone's password changed by a base rotation: %v", err)
	}
}

func TestSyncAlternateIsAllOrNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg := dbtest.Postgres(t)
	db := pg.NewDatabase(t)
	base := dbtest.UniqueName("app")
	adminName := dbtest.UniqueName("weak")
	pg.CreateRole(t, adminName, "weak-pass-1") // no CREATEROLE
	pg.CreateRole(t, base, "base-pass-1")
	admin := connect(t, params(t, pg, db, adminName, "weak-pass-1"))
	_, err := admin.SyncAlternate(ctx, engine.AlternateRequest{Base: base, Clone: base + "_clone", Pending: base + "_clone", Password: "x-pass-123"})
	if err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("err %v, want permission denied", err)
	}
	var exists bool
	if err := pg.Admin(t).QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", base+"_clone").Scan(&exists); err != nil || exists {
		t.Fatalf("clone exists after a failed sync (%v)", err)
	}
}

func mustExec(t *testing.T, c *pgx.Conn, sql string) {
	t.Helper()
	if _, err := c.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// TestLoginNotPermittedIsNotAnAuthError: a role that may not log in fails
// with SQLSTATE 28000, which another password would not fix; it must not
// look like a wrong password, or single-user would go looking for one.
func TestLoginNotPermittedIsNotAnAuthError(t *testing.T) {
	t.Parallel()
	pg := dbtest.Postgres(t)
	db := pg.NewDatabase(t)
	user := dbtest.UniqueName("nologin")
	pg.CreateRole(t, user, "right-password-1")
	if _, err := pg.Admin(t).Exec(context.Background(), "ALTER ROLE "+pgx.Identifier{user}.Sanitize()+" NOLOGIN"); err != nil {
		t.Fatal(err)
	}
	_, err := postgres.Connect(context.Background(), params(t, pg, db, user, "right-password-1"))
	if err == nil || errors.Is(err, engine.ErrAuth) || !strings.Contains(err.Error(), "28000") {
		t.Fatalf("err %v, want a non-auth error with SQLSTATE 28000", err)
	}
}
