package rotation_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/local/dbtest"
	"github.com/rotorhq/rotor/rotation"
	"github.com/rotorhq/rotor/strategies"
	"github.com/rotorhq/rotor/strategies/mariadb"
)

// mariaEnv is env's world on the shared MariaDB: the same local Secrets
// Manager and real rotator, with documents, logins and leak checks for
// MariaDB. env's PostgreSQL-bound fields (pg, db) stay unset and unused.
type mariaEnv struct {
	*env
	m      *dbtest.Maria
	logOff int64
	root   *sql.DB // admin's pool, opened on first use
}

// admin returns one root pool for the whole test: tests that set up many
// secrets (the fault tests set up hundreds) must not hold a connection
// open for each.
func (e *mariaEnv) admin() *sql.DB {
	if e.root == nil {
		e.root = e.m.Admin(e.t)
	}
	return e.root
}

func newMariaEnv(t *testing.T, o envOptions) *mariaEnv {
	t.Helper()
	m := o.maria
	if m == nil {
		m = dbtest.MariaDB(t)
	}
	e := &mariaEnv{env: &env{t: t, logs: &syncBuffer{}}, m: m}
	e.logOff = m.LogOffset(t)
	e.startRotor(o, m.CAPEM)
	t.Cleanup(func() {
		if !t.Failed() {
			e.checkNoMariaLeaks()
		}
	})
	return e
}

// mdoc is a secret document for the shared MariaDB with engine name engine.
func (e *mariaEnv) mdoc(engine, user, password string, extra map[string]any) string {
	port := e.m.Port
	if e.docPort != 0 {
		port = e.docPort
	}
	m := map[string]any{"engine": engine, "host": e.m.Host, "port": port, "username": user, "password": password}
	for k, v := range extra {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	e.secrets = append(e.secrets, password)
	return string(b)
}

func (e *mariaEnv) canLogin(user, password string) error {
	return e.m.CanLogin(e.t, user, password, "")
}

// mariaConnect matches the general log's line for a login attempt,
// "Connect	user@127.0.0.1 on db using SSL/TLS", written for accepted and
// refused logins alike (a refusal adds an "Access denied" line).
var mariaConnect = regexp.MustCompile(` Connect\t(.*)@[^@\s]+ on `)

// logins counts login attempts by users in the general log since off.
func (e *mariaEnv) logins(off int64, users ...string) int {
	e.t.Helper()
	n := 0
	for _, m := range mariaConnect.FindAllStringSubmatch(e.m.LogFrom(e.t, off), -1) {
		if slices.Contains(users, m[1]) {
			n++
		}
	}
	return n
}

// checkNoMariaLeaks is checkNoLeaks with MariaDB's general query log.
func (e *mariaEnv) checkNoMariaLeaks() {
	e.checkNoLeaksIn(map[string]string{"MariaDB's general query log": e.m.LogFrom(e.t, e.logOff)})
}

func TestMariaDBSingleUserRotation(t *testing.T) {
	t.Parallel()
	// AWS's documents name mariadb, or mysql/aurora-mysql for a MariaDB
	// server behind a MySQL-family engine name.
	for _, engine := range []string{mariadb.EngineMariaDB, mariadb.EngineMySQL} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			e := newMariaEnv(t, envOptions{})
			user := dbtest.UniqueName("app")
			e.m.CreateUser(t, user, "initial-password-1")
			arn := e.createSecret(dbtest.UniqueName("s"), e.mdoc(engine, user, "initial-password-1", map[string]any{"ssl": true, "team": "payments"}), nil)
			for round := 1; round <= 2; round++ {
				before := e.value(arn, rotation.LabelCurrent)
				oldID := currentID(t, e.env, arn)
				e.srv.ResetStats()
				off := e.m.LogOffset(t)

				res := e.mustRotate(arn)

				calls, byOp := e.rotorCalls()
				if calls > 8 {
					t.Errorf("round %d: %d Secrets Manager calls (%v), want at most 8", round, calls, byOp)
				}
				if n := e.logins(off, user); n != 2 {
					t.Errorf("round %d: %d logins as %s in the general log, want 2 (setSecret as current, testSecret as pending)", round, n, user)
				}
				labels := e.labels(arn)
				if got := labels[res.VersionID]; len(got) != 1 || got[0] != rotation.LabelCurrent {
					t.Fatalf("new version labels %v (all: %s)", got, fmtLabels(labels))
				}
				if got := labels[oldID]; len(got) != 1 || got[0] != rotation.LabelPrevious {
					t.Fatalf("old version labels %v (all: %s)", got, fmtLabels(labels))
				}
				after := e.value(arn, rotation.LabelCurrent)
				if after.Username != user || after.Password == before.Password || len(after.Password) != 32 {
					t.Fatalf("new document: user %q, password changed %v, length %d", after.Username, after.Password != before.Password, len(after.Password))
				}
				if strings.ContainsAny(after.Password, `/@"'\`) {
					t.Fatal("the password holds a character AWS's MySQL templates exclude")
				}
				if after.Extra["team"] == nil || after.TLSMode() != events.TLSVerifyFull || after.Engine != engine {
					t.Fatal("engine, unknown keys or ssl were not carried over")
				}
				must(t, e.canLogin(user, after.Password), "new password logs in")
				if err := e.canLogin(user, before.Password); err == nil {
					t.Fatal("old password still logs in after a single-user rotation")
				}
				if log := e.m.LogFrom(t, off); !strings.Contains(log, "SET PASSWORD = '*") {
					t.Fatalf("no hash statement in the general log:\n%s", log)
				}
			}
		})
	}
}

// mariaAlternating sets up a base user with schema privileges, an admin
// like RDS's master user and the two secrets.
func mariaAlternating(t *testing.T, e *mariaEnv, base string) (arn, db string) {
	t.Helper()
	db = e.m.NewDatabase(t)
	admin := dbtest.UniqueName("admin")
	e.m.CreateUser(t, admin, "admin-password-1")
	e.m.CreateUser(t, base, "base-password-1")
	a := e.admin()
	for _, s := range []string{
		"GRANT ALL PRIVILEGES ON *.* TO " + dbtest.UserAccount(admin) + " WITH GRANT OPTION",
		"GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP ON `" + db + "`.* TO " + dbtest.UserAccount(base),
	} {
		if _, err := a.ExecContext(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	t.Cleanup(func() {
		if _, err := a.ExecContext(context.Background(), "DROP USER IF EXISTS "+dbtest.UserAccount(base+"_clone")); err != nil {
			t.Errorf("drop clone: %v", err)
		}
	})
	masterARN := e.createAdmin(dbtest.UniqueName("master"), e.mdoc(mariadb.EngineMariaDB, admin, "admin-password-1", nil), nil)
	arn = e.createSecret(dbtest.UniqueName("s"), e.mdoc(mariadb.EngineMariaDB, base, "base-password-1", map[string]any{"masterarn": masterARN}), nil)
	return arn, db
}

func TestMariaDBAlternatingUsersRotation(t *testing.T) {
	t.Parallel()
	e := newMariaEnv(t, envOptions{strategy: strategies.NameAlternatingUsers})
	base := dbtest.UniqueName("app")
	clone := base + "_clone"
	arn, db := mariaAlternating(t, e, base)

	for round, want := range []string{clone, base, clone} {
		prev := e.value(arn, rotation.LabelCurrent)
		e.srv.ResetStats()
		off := e.m.LogOffset(t)
		e.mustRotate(arn)
		calls, byOp := e.rotorCalls()
		// Nine for the protocol, one GetSecretValue at createSecret
		// checking the admin secret before anything is written, one
		// ListSecrets for the base-user pin's uniqueness and, at the first
		// rotation only, the TagResource that writes the pin.
		if want := 11 + b2i(round == 0); calls > want || byOp["ListSecrets"] != 1 {
			t.Errorf("round %d: %d Secrets Manager calls (%v), want at most %d with one ListSecrets", round+1, calls, byOp, want)
		}
		cur := e.value(arn, rotation.LabelCurrent)
		if cur.Username != want {
			t.Fatalf("round %d: current user %q, want %q", round+1, cur.Username, want)
		}
		if n := e.logins(off, base, clone); n != 1 {
			t.Errorf("round %d: %d logins by the rotated users, want 1 (testSecret; the admin's is not counted)", round+1, n)
		}
		must(t, e.canLogin(cur.Username, cur.Password), "AWSCURRENT logs in")
		p := e.value(arn, rotation.LabelPrevious)
		if p.Username != prev.Username || p.Password != prev.Password {
			t.Fatal("AWSPREVIOUS is not the former AWSCURRENT")
		}
		must(t, e.canLogin(p.Username, p.Password), "AWSPREVIOUS still logs in")
	}

	// Tables created by either user are usable by both.
	cur := e.value(arn, rotation.LabelCurrent)
	prev := e.value(arn, rotation.LabelPrevious)
	c1 := e.m.ConnectAs(t, cur.Username, cur.Password, db)
	c2 := e.m.ConnectAs(t, prev.Username, prev.Password, db)
	for i, c := range []*sql.DB{c1, c2} {
		if _, err := c.ExecContext(context.Background(), "CREATE TABLE t"+string(rune('1'+i))+" (v int)"); err != nil {
			t.Fatalf("create table: %v", err)
		}
	}
	for _, c := range []*sql.DB{c1, c2} {
		for _, tbl := range []string{"t1", "t2"} {
			if _, err := c.ExecContext(context.Background(), "INSERT INTO "+tbl+" VALUES (1)"); err != nil {
				t.Fatalf("write %s: %v", tbl, err)
			}
		}
	}
}

// TestMariaDBAwkwardUserNames rotates users whose names are shaped like SQL
// injection or hold quotes, backslashes, spaces and unicode, with passwords
// drawn from every punctuation character.
func TestMariaDBAwkwardUserNames(t *testing.T) {
	t.Parallel()
	every := rotation.DefaultPasswordPolicy()
	none := ""
	every.ExcludeCharacters = &none
	every.Length = 64
	for label, prefix := range map[string]string{
		"injection": `x'; DROP USER root; --`,
		"backslash": `a\b'`,
		"unicode":   "приложение app",
	} {
		for _, strategy := range []string{strategies.NameSingleUser, strategies.NameAlternatingUsers} {
			t.Run(label+"/"+strategy, func(t *testing.T) {
				t.Parallel()
				e := newMariaEnv(t, envOptions{strategy: strategy, password: &every})
				user := prefix + dbtest.UniqueName("")[:8]
				var arn string
				if strategy == strategies.NameAlternatingUsers {
					arn, _ = mariaAlternating(t, e, user)
				} else {
					e.m.CreateUser(t, user, "base-password-1")
					arn = e.createSecret(dbtest.UniqueName("s"), e.mdoc(mariadb.EngineMariaDB, user, "base-password-1", nil), nil)
				}
				e.mustRotate(arn)
				cur := e.value(arn, rotation.LabelCurrent)
				must(t, e.canLogin(cur.Username, cur.Password), "rotated credential logs in")
			})
		}
	}
}

// TestMariaDBCrashAfterEachStep is TestCrashAfterEachStep on MariaDB, where
// account changes are not transactional: each step reports a failure after
// its work is done, Secrets Manager retries the whole rotation, and the
// rotation must complete with a credential that logs in; alternating-users
// keeps AWSCURRENT working throughout.
func TestMariaDBCrashAfterEachStep(t *testing.T) {
	t.Parallel()
	for _, strategy := range []string{strategies.NameSingleUser, strategies.NameAlternatingUsers} {
		for _, crashAt := range events.Steps {
			t.Run(strategy+"/"+string(crashAt), func(t *testing.T) {
				t.Parallel()
				e := newMariaEnv(t, envOptions{strategy: strategy, attempts: 2})
				var arn string
				if strategy == strategies.NameAlternatingUsers {
					arn, _ = mariaAlternating(t, e, dbtest.UniqueName("app"))
				} else {
					user := dbtest.UniqueName("app")
					e.m.CreateUser(t, user, "initial-password-1")
					arn = e.createSecret(dbtest.UniqueName("s"), e.mdoc(mariadb.EngineMariaDB, user, "initial-password-1", nil), nil)
				}
				crashed := false
				e.hook = func(ctx context.Context, ev events.RotationEvent, next func() error) error {
					err := next()
					if err == nil && !crashed && events.Step(ev.Step) == crashAt {
						crashed = true
						if strategy == strategies.NameAlternatingUsers {
							cur := e.value(arn, rotation.LabelCurrent)
							if lerr := e.canLogin(cur.Username, cur.Password); lerr != nil {
								t.Errorf("AWSCURRENT does not log in after %s: %v", crashAt, lerr)
							}
						}
						return errors.New("simulated crash after " + ev.Step)
					}
					return err
				}
				res := e.mustRotate(arn)
				if !crashed || res.Attempts != 2 {
					t.Fatalf("crashed=%v attempts=%d, want a crash and 2 passes", crashed, res.Attempts)
				}
				cur := e.value(arn, rotation.LabelCurrent)
				must(t, e.canLogin(cur.Username, cur.Password), "AWSCURRENT logs in after the retry")
			})
		}
	}
}

// TestMariaDBRotatedSecretCannotRetarget: on MariaDB too, once a secret is
// pinned to its base account, a document naming another account (here
// another application's) is refused and that account keeps its password
// and gets no clone; a masterarn outside ADMIN_SECRET_ARNS is refused. On
// the old code both rotations succeeded.
func TestMariaDBRotatedSecretCannotRetarget(t *testing.T) {
	t.Parallel()
	e := newMariaEnv(t, envOptions{strategy: strategies.NameAlternatingUsers, attempts: 1})
	base, victim := dbtest.UniqueName("app"), dbtest.UniqueName("other")
	arn, _ := mariaAlternating(t, e, base)
	e.m.CreateUser(t, victim, "victim-password-1")
	t.Cleanup(func() {
		e.m.Admin(t).ExecContext(context.Background(), "DROP USER IF EXISTS "+dbtest.UserAccount(victim+"_clone"))
	})
	e.mustRotate(arn)
	pin := events.BaseUserPin(base, e.m.Host, e.m.Port)
	if got := e.tags(arn)[rotation.TagBaseUser]; got != pin {
		t.Fatalf("pin %q, want %q", got, pin)
	}
	cur := e.value(arn, rotation.LabelCurrent)
	// Every login is logged with its TLS mode and checked server name.
	if recs := e.loginLines(cur.Username); len(recs) == 0 || recs[0]["tls"] != "verify-full" || recs[0]["server_name"] != e.m.Host || recs[0]["engine"] != mariadb.EngineMariaDB {
		t.Fatalf("login lines for %s: %v", cur.Username, recs)
	}
	e.putCurrent(arn, e.mdoc(mariadb.EngineMariaDB, victim, cur.Password, map[string]any{"masterarn": cur.MasterARN}))
	e.wantRefused(arn, "pinned", pin)
	must(t, e.canLogin(victim, "victim-password-1"), "the other account's password is unchanged")
	if err := e.canLogin(victim+"_clone", "x"); err == nil || !strings.Contains(err.Error(), "denied") {
		t.Fatalf("login as %s_clone: %v; want access denied (no such account)", victim, err)
	}

	admin := e.value(cur.MasterARN, rotation.LabelCurrent)
	other := e.createSecret(dbtest.UniqueName("other-admin"), e.mdoc(mariadb.EngineMariaDB, admin.Username, admin.Password, nil), nil)
	fresh := e.createSecret(dbtest.UniqueName("s"), e.mdoc(mariadb.EngineMariaDB, victim, "victim-password-1", map[string]any{"masterarn": other}), nil)
	e.wantRefusedAt(fresh, events.StepCreateSecret, "masterarn", "ADMIN_SECRET_ARNS")
	must(t, e.canLogin(victim, "victim-password-1"), "the other account's password is unchanged")
}

// TestMariaDBAdminTLSIgnoresTheRotatedSecret: "ssl": false in the
// application's secret turns TLS off for the application's own logins,
// never for the admin's (on the old code the admin's password crossed in
// plaintext); the general log shows how each login connected.
func TestMariaDBAdminTLSIgnoresTheRotatedSecret(t *testing.T) {
	t.Parallel()
	e := newMariaEnv(t, envOptions{strategy: strategies.NameAlternatingUsers})
	base := dbtest.UniqueName("app")
	arn, _ := mariaAlternating(t, e, base)
	cur := e.value(arn, rotation.LabelCurrent)
	e.putCurrent(arn, e.mdoc(mariadb.EngineMariaDB, base, cur.Password, map[string]any{"masterarn": cur.MasterARN, "ssl": false}))
	admin := e.value(cur.MasterARN, rotation.LabelCurrent).Username
	off := e.m.LogOffset(t)
	e.mustRotate(arn)
	connects := regexp.MustCompile(` Connect\t(\S+)@\S+ on \S*( using SSL/TLS)?`).FindAllStringSubmatch(e.m.LogFrom(t, off), -1)
	var adminLogins, appLogins int
	for _, m := range connects {
		switch m[1] {
		case admin:
			adminLogins++
			if m[2] == "" {
				t.Errorf("admin login without TLS: %q", m[0])
			}
		case base, base + "_clone":
			appLogins++
			if m[2] != "" {
				t.Errorf("application login used TLS although its secret says \"ssl\": false: %q", m[0])
			}
		}
	}
	if adminLogins == 0 || appLogins == 0 {
		t.Fatalf("%d admin and %d application logins in the general log, want both", adminLogins, appLogins)
	}
}
