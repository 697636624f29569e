package mariadb_test

import (
	"context"
	"crypto/x509"
	"database/sql"
	"errors"
	"strings"
	"testing"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/local/dbtest"
	"github.com/rotorhq/rotor/strategies/engine"
	"github.com/rotorhq/rotor/strategies/mariadb"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// hardPassword holds every punctuation character GetRandomPassword can
// produce, plus letters, digits and a space.
const hardPassword = "aA1!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ end"

func params(t *testing.T, m *dbtest.Maria, db, user, password string) engine.Params {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(m.CAPEM) {
		t.Fatal("CA PEM")
	}
	return engine.Params{Host: m.Host, Port: m.Port, Database: db, User: user, Password: password,
		TLS: engine.TLS{Mode: events.TLSVerifyFull, RootCAs: pool}}
}

func connect(t *testing.T, p engine.Params) *mariadb.Session {
	t.Helper()
	s, err := mariadb.Connect(context.Background(), p)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

func mustExec(t *testing.T, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := db.ExecContext(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func TestNativePasswordHash(t *testing.T) {
	t.Parallel()
	// The server's PASSWORD() is the reference; the input is not a secret.
	m := dbtest.MariaDB(t)
	server := map[string]string{}
	for _, pw := range []string{"password", hardPassword, "pässwörd Ω", "ﬁx", "fix"} {
		var want string
		if err := m.Admin(t).QueryRowContext(context.Background(), "SELECT PASSWORD(?)", pw).Scan(&want); err != nil {
			t.Fatal(err)
		}
		if got := mariadb.NativePasswordHash(pw); got != want {
			t.Fatalf("NativePasswordHash(%q) = %s, server says %s", pw, got, want)
		}
		server[pw] = want
	}
	// MariaDB prepares nothing (no SASLprep, unlike PostgreSQL): the hash
	// is of the password's bytes, so a ligature and its NFKC form are two
	// passwords.
	if server["ﬁx"] == server["fix"] {
		t.Fatal(`the server hashes "ﬁx" as "fix": MariaDB normalises passwords after all`)
	}
}

func TestServerCheck(t *testing.T) {
	t.Parallel()
	cases := map[string]bool{
		"10.11.6-MariaDB-0+deb12u1":   true,
		"10.6.16-MariaDB-log":         true,
		"5.5.5-10.11.6-MariaDB":       true,
		"8.0.36":                      false,
		"8.0.mysql_aurora.3.05.2":     false,
		"5.7.44-log":                  false,
		"8.0.35-27 Percona Server...": false,
	}
	for v, ok := range cases {
		err := mariadb.CheckServer(v)
		if ok != (err == nil) || (err != nil && (!errors.Is(err, mariadb.ErrNotMariaDB) || !strings.Contains(err.Error(), "MySQL"))) {
			t.Errorf("CheckServer(%q) = %v, want ok=%v", v, err, ok)
		}
	}
	// The real server passes.
	m := dbtest.MariaDB(t)
	s := connect(t, params(t, m, "", m.SuperUser, m.SuperPassword))
	if !strings.Contains(s.Version, "MariaDB") {
		t.Fatalf("version %q", s.Version)
	}
}

// TestQuoteStringRoundTrips has the server read back every quoted literal,
// in the default sql_mode and with NO_BACKSLASH_ESCAPES.
func TestQuoteStringRoundTrips(t *testing.T) {
	t.Parallel()
	m := dbtest.MariaDB(t)
	ctx := context.Background()
	values := []string{"plain", `o'brien`, `back\slash`, `\'`, `'\`, `\\''`, "x'; DROP USER root; --", "my app", "приложение", "emoji 🙂", `%_`, "nul\x00byte", "tab\tnl\n", "\x1a"}
	for _, nbe := range []bool{false, true} {
		c, err := m.Admin(t).Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		mode := "STRICT_TRANS_TABLES"
		if nbe {
			mode += ",NO_BACKSLASH_ESCAPES"
		}
		if _, err := c.ExecContext(ctx, "SET SESSION sql_mode = '"+mode+"'"); err != nil {
			t.Fatal(err)
		}
		for _, v := range values {
			lit, err := mariadb.QuoteString(v, nbe)
			if nbe && strings.ContainsRune(v, 0) {
				if err == nil {
					t.Errorf("NUL accepted with NO_BACKSLASH_ESCAPES: %s", lit)
				}
				continue
			}
			if err != nil {
				t.Fatalf("quote %q: %v", v, err)
			}
			var got string
			if err := c.QueryRowContext(ctx, "SELECT "+lit).Scan(&got); err != nil || got != v {
				t.Errorf("nbe=%v: SELECT %s = %q, %v; want %q", nbe, lit, got, err, v)
			}
		}
		c.Close()
	}
}

func TestWrongPasswordIsAnAuthError(t *testing.T) {
	t.Parallel()
	m := dbtest.MariaDB(t)
	user := dbtest.UniqueName("auth")
	m.CreateUser(t, user, "right-password")
	_, err := mariadb.Connect(context.Background(), params(t, m, "", user, "wrong-password-xyz"))
	if !errors.Is(err, engine.ErrAuth) {
		t.Fatalf("err %v, want engine.ErrAuth", err)
	}
	var le *engine.LoginError
	if !errors.As(err, &le) || le.User != user {
		t.Fatalf("err %T %v, want a *engine.LoginError for %q", err, err, user)
	}
	if strings.Contains(err.Error(), "wrong-password-xyz") {
		t.Fatalf("error quotes the password: %v", err)
	}
	// An unknown user is refused the same way.
	if _, err := mariadb.Connect(context.Background(), params(t, m, "", user+"_nobody", "x")); !errors.Is(err, engine.ErrAuth) {
		t.Fatalf("unknown user: err %v, want engine.ErrAuth", err)
	}
}

func TestTLSModesNeverFallBack(t *testing.T) {
	t.Parallel()
	m := dbtest.MariaDB(t)
	ctx := context.Background()
	user := dbtest.UniqueName("tls")
	m.CreateUser(t, user, "tls-password")

	// verify-full against the system roots: the per-run CA is unknown, so
	// the login fails on the certificate and is not retried in plaintext.
	p := params(t, m, "", user, "tls-password")
	p.TLS.RootCAs = nil
	off := m.LogOffset(t)
	_, err := mariadb.Connect(ctx, p)
	if err == nil || errors.Is(err, engine.ErrAuth) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("verify-full with an unknown CA: err %v, want a certificate error", err)
	}
	if log := m.LogFrom(t, off); strings.Contains(log, user) {
		t.Fatalf("the server saw a login by %s after the TLS failure:\n%s", user, log)
	}
	// An unknown mode is an error, never a weaker default.
	p = params(t, m, "", user, "tls-password")
	p.TLS.Mode = "prefer"
	if _, err := mariadb.Connect(ctx, p); err == nil || !strings.Contains(err.Error(), "unknown TLS mode") {
		t.Fatalf("mode prefer: err %v", err)
	}

	for _, mode := range []string{events.TLSVerifyFull, events.TLSRequire, events.TLSDisable} {
		p := params(t, m, "", user, "tls-password")
		p.TLS.Mode = mode
		if mode != events.TLSVerifyFull {
			p.TLS.RootCAs = nil // require and disable verify nothing
		}
		s := connect(t, p)
		if err := s.Ping(ctx); err != nil {
			t.Fatalf("%s: ping: %v", mode, err)
		}
		cipher, err := s.QueryString(ctx, "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_cipher'")
		if err != nil {
			t.Fatal(err)
		}
		if want := mode != events.TLSDisable; (cipher != "") != want {
			t.Fatalf("%s: session cipher %q, want encrypted=%v", mode, cipher, want)
		}
		s.Close(ctx)
	}
}

func TestSetOwnPasswordSendsOnlyAHash(t *testing.T) {
	t.Parallel()
	m := dbtest.MariaDB(t)
	ctx := context.Background()
	user := dbtest.UniqueName("own")
	m.CreateUser(t, user, "first-password-1")
	off := m.LogOffset(t)

	s := connect(t, params(t, m, "", user, "first-password-1"))
	if err := s.SetPassword(ctx, user, hardPassword); err != nil {
		t.Fatalf("set password: %v", err)
	}
	if err := m.CanLogin(t, user, hardPassword, ""); err != nil {
		t.Fatalf("new password refused: %v", err)
	}
	if err := m.CanLogin(t, user, "first-password-1", ""); err == nil {
		t.Fatal("old password still logs in")
	}
	// Repeating is harmless.
	if err := s.SetPassword(ctx, user, hardPassword); err != nil {
		t.Fatalf("repeat: %v", err)
	}
	log := m.LogFrom(t, off)
	if !strings.Contains(log, "SET PASSWORD = '"+mariadb.NativePasswordHash(hardPassword)+"'") {
		t.Fatalf("general log does not show the hash statement:\n%s", log)
	}
	if strings.Contains(log, hardPassword) || strings.Contains(log, "!\"#$%&'()*+") {
		t.Fatalf("general log contains the password:\n%s", log)
	}
}

// awkward names, all valid MariaDB user names.
var awkwardNames = map[string]string{
	"quote":     `o'brien"x`,
	"backslash": `back\slash\`,
	"both":      `\'`,
	"spaces":    "app user",
	"unicode":   "приложение",
	"injection": `x'; DROP USER 'root'@'127.0.0.1'; --`,
	"backtick":  "tick`tock",
	"percent":   "app%_",
}

// createUser makes user@'%' as root with a hash, quoting the name with the
// engine's literal quoting, and drops it when the test ends.
func createUser(t *testing.T, m *dbtest.Maria, user, password string) {
	t.Helper()
	lit, err := mariadb.QuoteString(user, false)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, m.Admin(t), "CREATE USER "+lit+"@'%' IDENTIFIED BY PASSWORD '"+mariadb.NativePasswordHash(password)+"'")
	t.Cleanup(func() {
		if _, err := m.Admin(t).ExecContext(context.Background(), "DROP USER IF EXISTS "+lit+"@'%'"); err != nil {
			t.Errorf("drop %q: %v", user, err)
		}
	})
}

func TestAwkwardUserNames(t *testing.T) {
	t.Parallel()
	m := dbtest.MariaDB(t)
	ctx := context.Background()
	names := map[string]string{}
	for k, v := range awkwardNames {
		names[k] = v + dbtest.UniqueName("")[:6]
	}
	long := dbtest.UniqueName("l")
	long += strings.Repeat("n", mariadb.MaxUsernameChars-len(long))
	names["80 characters"] = long
	admin := dbtest.UniqueName("admin")
	m.CreateUser(t, admin, "admin-pass-1")
	mustExec(t, m.Admin(t), "GRANT CREATE USER, SELECT ON *.* TO "+dbtest.UserAccount(admin))
	adminSess := connect(t, params(t, m, "", admin, "admin-pass-1"))
	for label, name := range names {
		t.Run(label, func(t *testing.T) {
			createUser(t, m, name, "initial-pass-1")
			s := connect(t, params(t, m, "", name, "initial-pass-1"))
			if err := s.SetPassword(ctx, name, hardPassword); err != nil {
				t.Fatalf("set own password: %v", err)
			}
			if err := m.CanLogin(t, name, hardPassword, ""); err != nil {
				t.Fatalf("login with new password: %v", err)
			}
			n, err := s.CountSessions(ctx, name)
			if err != nil || n < 1 {
				t.Fatalf("sessions %d, %v", n, err)
			}
			// The admin path: ALTER USER on the looked-up account.
			if err := adminSess.SetPassword(ctx, name, "admin-set-pass-2"); err != nil {
				t.Fatalf("admin sets password: %v", err)
			}
			if err := m.CanLogin(t, name, "admin-set-pass-2", ""); err != nil {
				t.Fatalf("login after admin change: %v", err)
			}
		})
	}
	// The injection-shaped name was data: root's accounts still exist.
	var n int
	if err := m.Admin(t).QueryRowContext(ctx, "SELECT COUNT(*) FROM mysql.user WHERE User = 'root'").Scan(&n); err != nil || n != 3 {
		t.Fatalf("root accounts %d, %v", n, err)
	}
}

func TestSeveralHostsAreRefused(t *testing.T) {
	t.Parallel()
	m := dbtest.MariaDB(t)
	ctx := context.Background()
	user := dbtest.UniqueName("multi")
	m.CreateUser(t, user, "pass-1")
	lit, _ := mariadb.QuoteString(user, false)
	mustExec(t, m.Admin(t), "CREATE USER "+lit+"@'10.%' IDENTIFIED BY PASSWORD '"+mariadb.NativePasswordHash("pass-1")+"'")
	t.Cleanup(func() { m.Admin(t).ExecContext(ctx, "DROP USER IF EXISTS "+lit+"@'10.%'") })
	s := connect(t, params(t, m, "", m.SuperUser, m.SuperPassword))
	err := s.SetPassword(ctx, user, "pass-2")
	if err == nil || !strings.Contains(err.Error(), "accounts for 2 hosts") || !strings.Contains(err.Error(), `"10.%"`) {
		t.Fatalf("err %v, want a refusal listing the hosts", err)
	}
	if err := m.CanLogin(t, user, "pass-1", ""); err != nil {
		t.Fatalf("password changed by a refused call: %v", err)
	}
	_, err = s.SyncAlternate(ctx, engine.AlternateRequest{Base: user, Clone: user + "_clone", Pending: user + "_clone", Password: "pass-3"})
	if err == nil || !strings.Contains(err.Error(), "accounts for 2 hosts") {
		t.Fatalf("sync: err %v, want a refusal", err)
	}
}
