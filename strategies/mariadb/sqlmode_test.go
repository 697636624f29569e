package mariadb_test

import (
	"context"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/local/dbserver"
	"github.com/rotorhq/rotor/strategies/engine"
	"github.com/rotorhq/rotor/strategies/mariadb"
)

// nbeLiteral quotes s for a session in NO_BACKSLASH_ESCAPES mode, written
// here independently of the engine's quoting: only a quote is special.
func nbeLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// TestNoBackslashEscapesServerDefault runs the engine against a server whose
// default sql_mode has NO_BACKSLASH_ESCAPES, nothing forcing the engine's
// quoting: Connect must read the mode from the session. Names with a
// backslash before a quote are the ones a misread mode turns into another
// account or an open literal. The server is dedicated to this test, so the
// mode touches no other test.
func TestNoBackslashEscapesServerDefault(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := dbserver.StartMariaDB(ctx, dbserver.MariaDBOptions{Args: []string{"--sql-mode=NO_BACKSLASH_ESCAPES,STRICT_TRANS_TABLES"}})
	if err != nil {
		t.Fatalf("start MariaDB: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Errorf("stop MariaDB: %v", err)
		}
	})
	root, err := srv.Connect(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(srv.CAPEM) {
		t.Fatal("CA PEM")
	}
	paramsFor := func(user, password string) engine.Params {
		return engine.Params{Host: srv.Host, Port: srv.Port, User: user, Password: password,
			TLS: engine.TLS{Mode: events.TLSVerifyFull, RootCAs: pool}}
	}
	canLogin := func(user, password string) error {
		db, err := srv.Open(user, password, "")
		if err != nil {
			return err
		}
		defer db.Close()
		return db.PingContext(ctx)
	}
	var rootAccounts int
	if err := root.QueryRowContext(ctx, "SELECT COUNT(*) FROM mysql.user WHERE User = 'root'").Scan(&rootAccounts); err != nil || rootAccounts == 0 {
		t.Fatalf("root accounts %d, %v", rootAccounts, err)
	}

	admin, err := mariadb.Connect(ctx, paramsFor(srv.SuperUser, srv.SuperPassword))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	// The premise: the engine's session has the mode without being told.
	if mode, err := admin.QueryString(ctx, "SELECT @@SESSION.sql_mode"); err != nil || !strings.Contains(mode, "NO_BACKSLASH_ESCAPES") {
		t.Fatalf("session sql_mode %q, %v", mode, err)
	}

	names := []string{`a\'`, `a\\'b`, `x'; DROP USER root; --`, `y\'; DROP USER root; --`, `z\`}
	for _, name := range names {
		if _, err := root.ExecContext(ctx, "CREATE USER "+nbeLiteral(name)+"@'%' IDENTIFIED BY PASSWORD '"+mariadb.NativePasswordHash("first-pass-1")+"'"); err != nil {
			t.Fatalf("create %q: %v", name, err)
		}
		// The user logs in and sets its own password.
		s, err := mariadb.Connect(ctx, paramsFor(name, "first-pass-1"))
		if err != nil {
			t.Fatalf("%q: connect: %v", name, err)
		}
		if err := s.SetPassword(ctx, name, hardPassword); err != nil {
			t.Fatalf("%q: set own password: %v", name, err)
		}
		s.Close(ctx)
		if err := canLogin(name, hardPassword); err != nil {
			t.Fatalf("%q: new own password: %v", name, err)
		}
		// The admin path quotes the name into ALTER USER.
		if err := admin.SetPassword(ctx, name, "admin-set-pass-2"); err != nil {
			t.Fatalf("%q: admin sets password: %v", name, err)
		}
		if err := canLogin(name, "admin-set-pass-2"); err != nil {
			t.Fatalf("%q: password set by the admin: %v", name, err)
		}
		// The alternate-users path quotes the name into CREATE USER, GRANT
		// and ALTER USER for the clone.
		if _, err := root.ExecContext(ctx, "GRANT SELECT ON mysql.* TO "+nbeLiteral(name)+"@'%'"); err != nil {
			t.Fatal(err)
		}
		clone := name + "_clone"
		resp, err := admin.SyncAlternate(ctx, engine.AlternateRequest{Base: name, Clone: clone, Pending: clone, Password: "clone-pass-3"})
		if err != nil || !resp.CreatedClone {
			t.Fatalf("%q: sync: %+v, %v", name, resp, err)
		}
		if err := canLogin(clone, "clone-pass-3"); err != nil {
			t.Fatalf("%q: clone's password: %v", clone, err)
		}
		var grants int
		if err := root.QueryRowContext(ctx, "SELECT COUNT(*) FROM mysql.db WHERE User = ? AND Db = 'mysql' AND Select_priv = 'Y'", clone).Scan(&grants); err != nil || grants != 1 {
			t.Fatalf("%q: clone's grant on mysql.*: %d, %v", clone, grants, err)
		}
	}
	var n int
	if err := root.QueryRowContext(ctx, "SELECT COUNT(*) FROM mysql.user WHERE User = 'root'").Scan(&n); err != nil || n != rootAccounts {
		t.Fatalf("root accounts %d, want %d (%v)", n, rootAccounts, err)
	}
	if err := canLogin(srv.SuperUser, srv.SuperPassword); err != nil {
		t.Fatalf("root login: %v", err)
	}
	// Each name is exactly one account: nothing was created under a
	// misquoted name.
	for _, name := range names {
		for _, u := range []string{name, name + "_clone"} {
			if err := root.QueryRowContext(ctx, "SELECT COUNT(*) FROM mysql.user WHERE User = ?", u).Scan(&n); err != nil || n != 1 {
				t.Fatalf("accounts named %q: %d, %v", u, n, err)
			}
		}
	}
	var me *mysql.MySQLError
	if err := canLogin(names[0], "first-pass-1"); !errors.As(err, &me) || me.Number != 1045 {
		t.Fatalf("old password: %v, want error 1045", err)
	}
}
