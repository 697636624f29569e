package client_test

import (
	"context"
	"strings"
	"testing"

	"github.com/rotorhq/rotor/client"
	"github.com/rotorhq/rotor/client/internal/clienttest"
	"github.com/rotorhq/rotor/client/mysqlclient"
	"github.com/rotorhq/rotor/internal/local/dbtest"
)

// TestConnectorFollowsASingleUserRotation changes the password in MariaDB
// the way a single-user rotation does and checks that new connections keep
// logging in: the refused login (1045) finds the pending value and is
// retried once.
func TestConnectorFollowsASingleUserRotation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := dbtest.MariaDB(t)
	user := dbtest.UniqueName("app")
	m.CreateUser(t, user, "password-one")
	sec := clienttest.New(t, map[string]any{"engine": "mariadb", "host": m.Host, "port": m.Port, "username": user, "password": "password-one"})

	cache, err := client.New(sec.SM, client.Options{SecretID: sec.ID, TTL: -1})
	if err != nil {
		t.Fatal(err)
	}
	db, err := mysqlclient.Open(cache, m.Config("ignored", "ignored", ""))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxIdleConns(0) // every query logs in
	who := func() string {
		t.Helper()
		var u string
		if err := db.QueryRowContext(ctx, "SELECT CURRENT_USER()").Scan(&u); err != nil {
			t.Fatalf("query: %v", err)
		}
		return u
	}
	if got := who(); !strings.HasPrefix(got, user+"@") {
		t.Fatalf("logged in as %q, want %q", got, user)
	}

	for i, pw := range []string{"password-two", "password-three"} {
		// setSecret: the server holds the pending password, AWSCURRENT does not yet.
		sec.PutPending(t, pw)
		m.SetPassword(t, user, pw)
		sec.Calls()
		if got := who(); !strings.HasPrefix(got, user+"@") {
			t.Fatalf("rotation %d after setSecret: logged in as %q", i+1, got)
		}
		if g, d := sec.Calls(); g != 1 || d != 3 {
			t.Fatalf("rotation %d after setSecret: %d GetSecretValue, %d DescribeSecret; want 1 (the pending value) and 3 (a check before each login with TTL<0, the refusal)", i+1, g, d)
		}
		// finishSecret.
		sec.Finish(t)
		who()
		if g, _ := sec.Calls(); g != 0 {
			t.Fatalf("rotation %d after finishSecret: %d GetSecretValue; the value was already read", i+1, g)
		}
	}

	// A password Secrets Manager does not hold: the login error comes
	// through, recognisable and without any password.
	m.SetPassword(t, user, "password-nobody-knows")
	var one int
	err = db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
	if !mysqlclient.IsLoginRefused(err) {
		t.Fatalf("unknown password: %v, want a refused login", err)
	}
	if strings.Contains(err.Error(), "password-") {
		t.Fatalf("the error carries a password: %v", err)
	}
}

func TestNewConnectorRefusesNil(t *testing.T) {
	if _, err := mysqlclient.NewConnector(nil, nil); err == nil {
		t.Fatal("nil cache accepted")
	}
}
