package client_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rotorhq/rotor/client"
	"github.com/rotorhq/rotor/client/internal/clienttest"
	"github.com/rotorhq/rotor/client/pgxclient"
	"github.com/rotorhq/rotor/internal/local/dbtest"
	"github.com/rotorhq/rotor/internal/saslprep"
	"github.com/rotorhq/rotor/internal/saslprep/saslpreptest"
)

// TestPoolFollowsASingleUserRotation changes the password in PostgreSQL the
// way a single-user rotation does (pending version, setSecret, then
// finishSecret) and checks that new connections keep logging in: the
// refused login finds the pending value and is retried once.
func TestPoolFollowsASingleUserRotation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg := dbtest.Postgres(t)
	db := pg.NewDatabase(t)
	user := dbtest.UniqueName("app")
	pg.CreateRole(t, user, "password-one")
	sec := clienttest.New(t, map[string]any{"engine": "postgres", "host": pg.Host, "port": pg.Port, "dbname": db, "username": user, "password": "password-one"})

	cache, err := client.New(sec.SM, client.Options{SecretID: sec.ID, TTL: -1})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := pgxpool.ParseConfig(pg.ConnString("", db))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 4
	pool, err := pgxclient.NewPool(ctx, cache, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	who := func() string {
		t.Helper()
		var u string
		if err := pool.QueryRow(ctx, "SELECT current_user").Scan(&u); err != nil {
			t.Fatalf("query: %v", err)
		}
		return u
	}
	if got := who(); got != user {
		t.Fatalf("logged in as %q, want %q", got, user)
	}

	// setSecret: the database holds the pending password; AWSCURRENT does
	// not yet. A new connection is refused with AWSCURRENT, finds
	// AWSPENDING and logs in with it.
	sec.PutPending(t, "password-two")
	pg.SetPassword(t, user, "password-two")
	pool.Reset()
	sec.Calls()
	if got := who(); got != user {
		t.Fatalf("after setSecret: logged in as %q", got)
	}
	if g, d := sec.Calls(); g != 1 || d != 3 {
		t.Fatalf("after setSecret: %d GetSecretValue, %d DescribeSecret; want 1 (the pending value) and 3 (a check before each of the two logins with TTL<0, the refusal)", g, d)
	}

	// finishSecret: AWSCURRENT moves; every call path logs in.
	sec.Finish(t)
	pool.Reset()
	if _, err := pool.Exec(ctx, "SELECT 1"); err != nil {
		t.Fatalf("Exec after finishSecret: %v", err)
	}

	// The next rotation, seen by each call path after its setSecret.
	steps := map[string]func() error{
		"Query": func() error {
			rows, err := pool.Query(ctx, "SELECT 1")
			if err != nil {
				return err
			}
			rows.Close()
			return rows.Err()
		},
		"Exec": func() error { _, err := pool.Exec(ctx, "SELECT 1"); return err },
		"Ping": func() error { return pool.Ping(ctx) },
		"Begin": func() error {
			tx, err := pool.Begin(ctx)
			if err != nil {
				return err
			}
			return tx.Rollback(ctx)
		},
		"SendBatch": func() error {
			b := &pgx.Batch{}
			b.Queue("SELECT 1")
			return pool.SendBatch(ctx, b).Close()
		},
		"AcquireFunc": func() error { return pool.AcquireFunc(ctx, func(*pgxpool.Conn) error { return nil }) },
	}
	n := 3
	for name, step := range steps {
		n++
		pw := "password-" + strings.Repeat("x", n)
		sec.PutPending(t, pw)
		pg.SetPassword(t, user, pw)
		pool.Reset()
		if err := step(); err != nil {
			t.Fatalf("%s after setSecret: %v", name, err)
		}
		sec.Finish(t)
	}

	// A password Secrets Manager does not hold: the login error comes
	// through, recognisable and without any password.
	pg.SetPassword(t, user, "password-nobody-knows")
	pool.Reset()
	_, err = pool.Exec(ctx, "SELECT 1")
	if !pgxclient.IsLoginRefused(err) {
		t.Fatalf("unknown password: %v, want a refused login", err)
	}
	if strings.Contains(err.Error(), "password-") {
		t.Fatalf("the error carries a password: %v", err)
	}
}

func TestNewPoolRefusesNilCache(t *testing.T) {
	cfg, err := pgxpool.ParseConfig("host=127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pgxclient.NewPool(context.Background(), nil, cfg); err == nil {
		t.Fatal("nil cache accepted")
	}
}

// TestPoolLogsInWithNonASCIIPasswords: a password a person set with psql
// (the server builds the verifier with its SASLprep) logs in through the
// pool; one pgx cannot send fails saying so, not as a refused password.
// internal/ops's TestNonASCIIPasswords runs the whole table through rotor's
// own logins; this is the application's side, on a few of its cases.
func TestPoolLogsInWithNonASCIIPasswords(t *testing.T) {
	t.Parallel()
	dbtest.RequirePsql(t)
	ctx := context.Background()
	pg := dbtest.Postgres(t)
	db := pg.NewDatabase(t)
	for _, name := range []string{"ligature", "emoji and NFD accent", "bidi on the mapped string", "prohibited before NFKC"} {
		c := saslpreptest.CaseNamed(name)
		user := dbtest.UniqueName("uni")
		pg.CreateRole(t, user, "ascii-start-1")
		if err := pg.SetPasswordWithPsql(user, c.Password); err != nil {
			t.Fatal(err)
		}
		sec := clienttest.New(t, map[string]any{"engine": "postgres", "host": pg.Host, "port": pg.Port, "dbname": db, "username": user, "password": c.Password})
		cache, err := client.New(sec.SM, client.Options{SecretID: sec.ID, TTL: -1})
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := pgxpool.ParseConfig(pg.ConnString("", db))
		if err != nil {
			t.Fatal(err)
		}
		pool, err := pgxclient.NewPool(ctx, cache, cfg)
		if err != nil {
			t.Fatal(err)
		}
		var u string
		err = pool.QueryRow(ctx, "SELECT current_user").Scan(&u)
		pool.Close()
		switch {
		case c.PgxCannot && (err == nil || !errors.Is(err, saslprep.ErrPgxCannotSend)):
			t.Errorf("%s: query: %v, want ErrPgxCannotSend", name, err)
		case !c.PgxCannot && (err != nil || u != user):
			t.Errorf("%s: logged in as %q: %v", name, u, err)
		}
		if err != nil && strings.Contains(err.Error(), c.Password) {
			t.Errorf("%s: the error carries the password", name)
		}
	}
}
