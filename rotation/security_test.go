package rotation_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/jackc/pgx/v5"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/local/dbtest"
	"github.com/rotorhq/rotor/rotation"
	"github.com/rotorhq/rotor/strategies"
)

// adminDoc is an admin secret document for the shared PostgreSQL; extra
// keys are added or, with a nil value, removed.
func (e *env) adminDoc(user, password string, extra map[string]any) string {
	m := map[string]any{"engine": "postgres", "host": e.pg.Host, "port": e.pg.Port, "username": user, "password": password}
	for k, v := range extra {
		if v == nil {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	b, _ := json.Marshal(m)
	e.secrets = append(e.secrets, password)
	return string(b)
}

// TestAdminSessionRunsNoApplicationCode: an application role that owns its
// database points the database's search_path at its own schema, where
// count(*) is its aggregate. Whether the admin secret names a database or
// not, no rotor session runs that code (on the old code it ran inside the
// admin session, as the admin).
func TestAdminSessionRunsNoApplicationCode(t *testing.T) {
	t.Parallel()
	for name, adminDB := range map[string]any{
		"admin secret without dbname":            nil,
		"admin secret naming the app's database": "app",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{strategy: strategies.NameAlternatingUsers})
			base, admin := dbtest.UniqueName("app"), dbtest.UniqueName("admin")
			e.pg.CreateRole(t, admin, "admin-password-1", "CREATEROLE")
			e.pg.CreateRole(t, base, "base-password-1")
			dropClone(t, e, base+"_clone")
			ctx := context.Background()
			su := e.pg.AdminDB(t, e.db)
			db, b := pgx.Identifier{e.db}.Sanitize(), pgx.Identifier{base}.Sanitize()
			execAll(t, su, "ALTER DATABASE "+db+" OWNER TO "+b, "GRANT CREATE ON DATABASE "+db+" TO "+b)
			t.Cleanup(func() { su.Exec(ctx, "ALTER DATABASE "+db+" OWNER TO CURRENT_USER") })

			app := e.pg.ConnectAs(t, base, "base-password-1", e.db)
			execAll(t, app,
				"CREATE SCHEMA evil",
				"CREATE TABLE evil.hits (who text)",
				"GRANT USAGE ON SCHEMA evil TO PUBLIC",
				"GRANT INSERT ON evil.hits TO PUBLIC",
				// The final function runs even over no rows.
				`CREATE FUNCTION evil.fin(bigint) RETURNS bigint LANGUAGE plpgsql AS
				 $$BEGIN INSERT INTO evil.hits VALUES (current_user); RETURN $1; END$$`,
				"GRANT EXECUTE ON FUNCTION evil.fin(bigint) TO PUBLIC",
				"CREATE AGGREGATE evil.count(*) (sfunc = pg_catalog.int8inc, stype = bigint, initcond = '0', finalfunc = evil.fin)",
				"ALTER DATABASE "+db+" SET search_path = evil, pg_catalog",
			)
			extra := map[string]any{}
			if adminDB != nil {
				extra["dbname"] = e.db
			}
			masterARN := e.createAdmin(dbtest.UniqueName("master"), e.adminDoc(admin, "admin-password-1", extra), nil)
			arn := e.createSecret(dbtest.UniqueName("s"), e.doc(base, "base-password-1", map[string]any{"masterarn": masterARN}), nil)
			e.mustRotate(arn)

			var hits int
			if err := su.QueryRow(ctx, "SELECT pg_catalog.count(*) FROM evil.hits").Scan(&hits); err != nil {
				t.Fatal(err)
			}
			if hits != 0 {
				t.Fatalf("the application's aggregate ran %d time(s) inside a rotor session", hits)
			}
		})
	}
}

// TestAdminTLSIgnoresTheRotatedSecret: "ssl": false in the application's
// secret turns TLS off for the application's own logins, never for the
// admin's (on the old code the admin's password crossed in plaintext).
// The admin logs in to its own default database, not the application's.
func TestAdminTLSIgnoresTheRotatedSecret(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{strategy: strategies.NameAlternatingUsers})
	base, admin := dbtest.UniqueName("app"), dbtest.UniqueName("admin")
	e.pg.CreateRole(t, admin, "admin-password-1", "CREATEROLE")
	e.pg.CreateRole(t, base, "base-password-1")
	dropClone(t, e, base+"_clone")
	masterARN := e.createAdmin(dbtest.UniqueName("master"), e.adminDoc(admin, "admin-password-1", nil), nil)
	arn := e.createSecret(dbtest.UniqueName("s"), e.doc(base, "base-password-1", map[string]any{"masterarn": masterARN, "ssl": false}), nil)
	off := e.pg.LogOffset(t)
	e.mustRotate(arn)

	line := regexp.MustCompile(`connection authorized: user=` + regexp.QuoteMeta(admin) + ` .*`)
	logins := line.FindAllString(e.pg.LogFrom(t, off), -1)
	if len(logins) == 0 {
		t.Fatal("the admin never logged in")
	}
	for _, l := range logins {
		if !strings.Contains(l, "SSL enabled") {
			t.Errorf("admin login without TLS: %s", l)
		}
		if !strings.Contains(l, "database=postgres") {
			t.Errorf("admin logged in to another database than its own default: %s", l)
		}
	}
	// The application's own logins do what its secret asks.
	app := regexp.MustCompile(`connection authorized: user=` + regexp.QuoteMeta(base) + `(_clone)? .*`)
	for _, l := range app.FindAllString(e.pg.LogFrom(t, off), -1) {
		if strings.Contains(l, "SSL enabled") {
			t.Errorf("application login used TLS although its secret says \"ssl\": false: %s", l)
		}
	}

	// Every login is logged with its TLS mode and the name the
	// certificate was checked against; the plaintext one is a warning.
	// (On the old code no log line carried either.)
	admins := e.loginLines(admin)
	if len(admins) == 0 {
		t.Fatalf("no login line for the admin in the rotator's log:\n%s", e.logs.String())
	}
	for _, rec := range admins {
		if rec["level"] != "INFO" || rec["tls"] != "verify-full" || rec["server_name"] != e.pg.Host || rec["host"] != e.pg.Host {
			t.Errorf("admin login line %v, want INFO with tls verify-full and server_name %s", rec, e.pg.Host)
		}
	}
	plain := e.loginLines(base + "_clone")
	if len(plain) == 0 {
		t.Fatalf("no login line for %s_clone in the rotator's log", base)
	}
	for _, rec := range plain {
		if rec["level"] != "WARN" || rec["tls"] != "disable" || !strings.Contains(rec["msg"].(string), "without TLS") {
			t.Errorf("plaintext login line %v, want a WARN saying it is without TLS", rec)
		}
	}
}

func execAll(t *testing.T, c *pgx.Conn, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := c.Exec(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// putCurrent writes doc as a new AWSCURRENT, as whoever may write the
// rotated secret (an application team, a CI job with PutSecretValue) can.
func (e *env) putCurrent(arn, doc string) {
	e.t.Helper()
	_, err := e.sm.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{SecretId: aws.String(arn), SecretString: aws.String(doc)})
	must(e.t, err, "PutSecretValue")
}

// wantRefused rotates arn and requires a setSecret failure whose message
// holds every one of want, with AWSCURRENT left where it was.
func (e *env) wantRefused(arn string, want ...string) {
	e.t.Helper()
	e.wantRefusedAt(arn, events.StepSetSecret, want...)
}

// wantRefusedAt is wantRefused for a failure at step.
func (e *env) wantRefusedAt(arn string, step events.Step, want ...string) {
	e.t.Helper()
	before := e.value(arn, rotation.LabelCurrent)
	res := e.rotate(arn)
	if res.Succeeded || res.Step != step {
		e.t.Fatalf("rotation: succeeded=%v step=%s err=%v; want a %s refusal", res.Succeeded, res.Step, res.Err, step)
	}
	for _, w := range want {
		if !strings.Contains(res.Err.Error(), w) {
			e.t.Fatalf("refusal %q does not say %q", res.Err, w)
		}
	}
	if after := e.value(arn, rotation.LabelCurrent); after.Username != before.Username || after.Password != before.Password {
		e.t.Fatal("AWSCURRENT moved although the rotation was refused")
	}
}

// roleExists reports whether the shared PostgreSQL has the role.
func (e *env) roleExists(role string) bool {
	e.t.Helper()
	var n int
	err := e.pg.AdminDB(e.t, e.db).QueryRow(context.Background(), "SELECT pg_catalog.count(*) FROM pg_catalog.pg_roles WHERE rolname = $1", role).Scan(&n)
	must(e.t, err, "read pg_roles")
	return n > 0
}

// TestRotatedSecretCannotChooseWhatTheAdminActsOn: whoever may write a
// rotated secret chooses neither the admin secret (masterarn must be one the
// function is given: the "masterarn: not allowed" case of
// TestBadInputChangesNothing) nor, once the secret is pinned, the role the
// admin acts on; and two secrets rotating one base user are refused instead of
// breaking each other. On the old code each of these rotations succeeded:
// a non-allowed admin was used, another application's role got a clone and
// a new password, and the second secret reset the first one's AWSCURRENT.
func TestRotatedSecretCannotChooseWhatTheAdminActsOn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{strategy: strategies.NameAlternatingUsers, attempts: 1})
	base, victim, admin := dbtest.UniqueName("app"), dbtest.UniqueName("other"), dbtest.UniqueName("admin")
	e.pg.CreateRole(t, admin, "admin-password-1", "CREATEROLE")
	e.pg.CreateRole(t, base, "base-password-1")
	e.pg.CreateRole(t, victim, "victim-password-1")
	dropClone(t, e, base+"_clone")
	dropClone(t, e, victim+"_clone")
	masterARN := e.createAdmin(dbtest.UniqueName("master"), e.adminDoc(admin, "admin-password-1", nil), nil)

	arn := e.createSecret(dbtest.UniqueName("s"), e.doc(base, "base-password-1", map[string]any{"masterarn": masterARN}), nil)
	e.mustRotate(arn)
	pin := events.BaseUserPin(base, e.pg.Host, e.pg.Port)
	if got := e.tags(arn)[rotation.TagBaseUser]; got != pin {
		t.Fatalf("after the first rotation the pin is %q, want %q", got, pin)
	}

	t.Run("document names another role", func(t *testing.T) {
		cur := e.value(arn, rotation.LabelCurrent)
		e.putCurrent(arn, e.doc(victim, cur.Password, map[string]any{"masterarn": masterARN}))
		e.wantRefused(arn, "pinned", pin)
		if e.roleExists(victim + "_clone") {
			t.Fatal("the admin cloned a role the secret is not pinned to")
		}
		must(t, e.canLogin(victim, "victim-password-1"), "the other role's password is unchanged")
		// Undo: the writer restores the document and the stranded
		// AWSPENDING is cleared, as an operator would.
		e.putCurrent(arn, e.doc(cur.Username, cur.Password, map[string]any{"masterarn": masterARN}))
		e.clearPending(arn)
	})

	t.Run("second secret on the same base user", func(t *testing.T) {
		first := e.value(arn, rotation.LabelCurrent)
		second := e.createSecret(dbtest.UniqueName("s"), e.doc(base, "base-password-1", map[string]any{"masterarn": masterARN}), nil)
		e.wantRefused(second, "also rotated by", arn)
		must(t, e.canLogin(first.Username, first.Password), "the first secret's AWSCURRENT still logs in")
		if _, ok := e.tags(second)[rotation.TagBaseUser]; ok {
			t.Fatal("the refused secret was pinned")
		}
	})

	// The pinned secret itself keeps rotating, also when its masterarn is
	// a partial ARN (no random suffix) of the allowed admin secret.
	e.mustRotate(arn)
	cur := e.value(arn, rotation.LabelCurrent)
	must(t, e.canLogin(cur.Username, cur.Password), "AWSCURRENT logs in after the refusals")
	partial := masterARN[:strings.LastIndex(masterARN, "-")]
	e.putCurrent(arn, e.doc(cur.Username, cur.Password, map[string]any{"masterarn": partial}))
	e.mustRotate(arn)
}

// loginLines returns the rotator's "database login" log records (info and
// the plaintext warning) for user.
func (e *env) loginLines(user string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(e.logs.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil || rec["user"] != user {
			continue
		}
		if msg, _ := rec["msg"].(string); strings.HasPrefix(msg, "database login") {
			out = append(out, rec)
		}
	}
	return out
}
