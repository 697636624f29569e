package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/jackc/pgx/v5"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/local/awslocal"
	"github.com/rotorhq/rotor/internal/local/awslocal/awslocaltest"
	"github.com/rotorhq/rotor/internal/local/dbtest"
	"github.com/rotorhq/rotor/internal/local/rietest"
	"github.com/rotorhq/rotor/rotation"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// TestBuiltFunctionUnderTheEmulator builds the rotator's bootstrap, runs it
// under the AWS Lambda Runtime Interface Emulator, and lets the local
// Secrets Manager's RotateSecret drive it, as AWS would: single-user,
// alternating-users (chosen per secret by tag), and a failing setSecret whose
// errorType names the step.
func TestBuiltFunctionUnderTheEmulator(t *testing.T) {
	pg := dbtest.Postgres(t)
	db := pg.NewDatabase(t)
	pgStart := pg.LogOffset(t)
	srv, cfg := awslocaltest.NewWith(t, awslocal.Options{RotationAttempts: 1})
	sm := secretsmanager.NewFromConfig(cfg)

	fn := srv.FunctionARN("rotor-rotator")
	var passwords []string
	doc := func(user, password string, extra map[string]any) string {
		m := map[string]any{"engine": "postgres", "host": pg.Host, "port": pg.Port, "username": user, "password": password, "dbname": db}
		for k, v := range extra {
			m[k] = v
		}
		b, _ := json.Marshal(m)
		passwords = append(passwords, password)
		return string(b)
	}
	create := func(value string, tags ...types.Tag) string {
		out, err := sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String(dbtest.UniqueName("s")), SecretString: aws.String(value), Tags: tags})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.ARN)
	}
	rotate := func(arn string) awslocal.RotationResult {
		t.Helper()
		if _, err := sm.RotateSecret(context.Background(), &secretsmanager.RotateSecretInput{SecretId: aws.String(arn), RotationLambdaARN: aws.String(fn)}); err != nil {
			t.Fatalf("RotateSecret: %v", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		res, err := srv.WaitRotation(ctx, arn)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	current := func(arn string) *events.SecretDocument {
		out, err := sm.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		d, err := events.ParseSecretDocument(aws.ToString(out.SecretString))
		if err != nil {
			t.Fatal(err)
		}
		passwords = append(passwords, d.Password)
		return d
	}

	// The admin secrets the function is given (Terraform's
	// master_secret_arns), created before it starts; one of them holds a
	// wrong password.
	admin := dbtest.UniqueName("admin")
	master := create(doc(admin, "admin-password-1", nil))
	badMaster := create(doc(admin, "not-the-admin-password", nil))
	// The function trusts both harness servers' CAs.
	m := dbtest.MariaDB(t)
	mStart := m.LogOffset(t)
	bundle := filepath.Join(t.TempDir(), "ca-bundle.pem")
	if err := os.WriteFile(bundle, append(append([]byte{}, pg.CAPEM...), m.CAPEM...), 0o600); err != nil {
		t.Fatal(err)
	}
	emu := rietest.Start(t, rietest.Build(t, "./functions/rotator"),
		"AWS_ENDPOINT_URL="+srv.URL(), "AWS_REGION="+cfg.Region,
		"AWS_ACCESS_KEY_ID=AKIDAWSLOCAL", "AWS_SECRET_ACCESS_KEY=awslocal-secret-key", "AWS_SESSION_TOKEN=",
		"DB_CA_BUNDLE="+bundle, "ROTATION_STRATEGY=single-user", "LOG_LEVEL=debug",
		"ADMIN_SECRET_ARNS="+master+","+badMaster)
	srv.SetFunction(fn, &awslocal.HTTPInvoker{URL: emu.URL})

	// single-user
	user := dbtest.UniqueName("app")
	pg.CreateRole(t, user, "initial-password-1")
	single := create(doc(user, "initial-password-1", nil))
	if res := rotate(single); !res.Succeeded {
		t.Fatalf("single-user rotation failed at %s: %v\n%s", res.Step, res.Err, emu.Output())
	}
	cur := current(single)
	if err := pg.CanLogin(t, user, cur.Password, db); err != nil {
		t.Fatalf("new password: %v", err)
	}
	if err := pg.CanLogin(t, user, "initial-password-1", db); err == nil {
		t.Fatal("old password still logs in")
	}

	// alternating-users, chosen by the secret's tag
	base := dbtest.UniqueName("app")
	pg.CreateRole(t, base, "base-password-1")
	pg.CreateRole(t, admin, "admin-password-1", "CREATEROLE")
	t.Cleanup(func() {
		a := pg.AdminDB(t, db)
		id := pgx.Identifier{base + "_clone"}.Sanitize()
		a.Exec(context.Background(), "DROP OWNED BY "+id)
		a.Exec(context.Background(), "DROP ROLE IF EXISTS "+id)
	})
	tag := types.Tag{Key: aws.String(rotation.TagStrategy), Value: aws.String("alternating-users")}
	alt := create(doc(base, "base-password-1", map[string]any{"masterarn": master}), tag)
	for i, want := range []string{base + "_clone", base} {
		if res := rotate(alt); !res.Succeeded {
			t.Fatalf("alternating rotation %d failed at %s: %v\n%s", i+1, res.Step, res.Err, emu.Output())
		}
		cur := current(alt)
		if cur.Username != want {
			t.Fatalf("rotation %d: user %q, want %q", i+1, cur.Username, want)
		}
		if err := pg.CanLogin(t, cur.Username, cur.Password, db); err != nil {
			t.Fatalf("rotation %d: %v", i+1, err)
		}
	}

	// rds-master: the PostgreSQL admin (found by its endpoint) and a
	// MariaDB master (named by dbInstanceIdentifier) rotate through the
	// stand-in's RDS API; the server logs show one login as each master per
	// rotation (testSecret's), none in setSecret. The alternating-users
	// secret then rotates with the new admin password.
	srv.AddDBInstance(awslocal.DBInstance{Identifier: dbtest.UniqueName("pg"), Engine: "postgres", Address: pg.Host, Port: pg.Port, MasterUsername: admin,
		MasterPassword: awslocal.MasterPasswordOptions{Delay: 50 * time.Millisecond, Apply: pg.AlterPassword}})
	if _, err := sm.TagResource(context.Background(), &secretsmanager.TagResourceInput{SecretId: aws.String(master),
		Tags: []types.Tag{{Key: aws.String(rotation.TagStrategy), Value: aws.String("rds-master")}}}); err != nil {
		t.Fatal(err)
	}
	off := pg.LogOffset(t)
	if res := rotate(master); !res.Succeeded {
		t.Fatalf("rds-master rotation (PostgreSQL) failed at %s: %v\n%s", res.Step, res.Err, emu.Output())
	}
	pgLog := pg.LogFrom(t, off)
	if n, refused := strings.Count(pgLog, "user="+admin+" "), strings.Count(pgLog, `for user "`+admin+`"`); n != 1 || refused != 0 {
		t.Fatalf("%d logins and %d refused logins as the PostgreSQL master during its rotation, want 1 (testSecret) and none", n, refused)
	}
	if err := pg.CanLogin(t, admin, current(master).Password, db); err != nil {
		t.Fatalf("new master password: %v", err)
	}
	if res := rotate(alt); !res.Succeeded {
		t.Fatalf("alternating rotation with the rotated admin failed at %s: %v\n%s", res.Step, res.Err, emu.Output())
	}
	mMaster := dbtest.UniqueName("mmaster")
	m.CreateUser(t, mMaster, "maria-master-1")
	mID := dbtest.UniqueName("maria")
	srv.AddDBInstance(awslocal.DBInstance{Identifier: mID, Engine: "mariadb", Address: "mariadb-instance.invalid", Port: m.Port, MasterUsername: mMaster,
		MasterPassword: awslocal.MasterPasswordOptions{Delay: 50 * time.Millisecond, Apply: m.AlterPassword}})
	passwords = append(passwords, "maria-master-1")
	mSecret := create(`{"engine":"mariadb","host":"`+m.Host+`","port":`+strconv.Itoa(m.Port)+`,"username":"`+mMaster+`","password":"maria-master-1","dbInstanceIdentifier":"`+mID+`"}`,
		types.Tag{Key: aws.String(rotation.TagStrategy), Value: aws.String("rds-master")})
	moff := m.LogOffset(t)
	if res := rotate(mSecret); !res.Succeeded {
		t.Fatalf("rds-master rotation (MariaDB) failed at %s: %v\n%s", res.Step, res.Err, emu.Output())
	}
	if n := strings.Count(m.LogFrom(t, moff), "Connect\t"+mMaster+"@"); n != 1 {
		t.Fatalf("%d logins as the MariaDB master during its rotation, want 1 (testSecret)", n)
	}
	if err := m.CanLogin(t, mMaster, current(mSecret).Password, ""); err != nil {
		t.Fatalf("new MariaDB master password: %v", err)
	}
	if n := srv.Stats()["ModifyDBInstance"]; n != 2 {
		t.Fatalf("ModifyDBInstance calls: %d, want 2", n)
	}

	// A failing setSecret reports errorType SetSecretFailed.
	other := dbtest.UniqueName("app")
	pg.CreateRole(t, other, "other-password-1")
	bad := create(doc(other, "other-password-1", map[string]any{"masterarn": badMaster}), tag)
	res := rotate(bad)
	var fe *awslocal.FunctionError
	if res.Succeeded || res.Step != events.StepSetSecret || !errors.As(res.Err, &fe) || fe.Type != "SetSecretFailed" {
		t.Fatalf("failing rotation: succeeded=%v step=%s err=%#v; want errorType SetSecretFailed", res.Succeeded, res.Step, res.Err)
	}

	// The function's output: JSON log lines and EMF metrics, no password.
	// The last invocation's lines may still be on their way.
	out := emu.WaitOutput(t, func(o string) bool { return strings.Contains(o, `"StepFailures":1`) })
	var steps, emf, logins, plaintext, loginLines int
	for _, line := range strings.Split(out, "\n") {
		for _, p := range passwords {
			if len(p) > 5 && strings.Contains(line, p) {
				t.Fatalf("a password appears in the function's output: %q", line)
			}
		}
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue // the emulator's own lines
		}
		if rec["msg"] == "step finished" {
			steps++
		}
		if _, ok := rec["_aws"]; ok {
			emf++
		}
		if n, ok := rec["Logins"].(float64); ok {
			logins += int(n)
			plaintext += int(rec["PlaintextLogins"].(float64))
		}
		if rec["msg"] == "database login" && rec["tls"] == "verify-full" && (rec["server_name"] == pg.Host || rec["server_name"] == m.Host) {
			loginLines++
		}
	}
	if steps < 24 || emf < 24 {
		t.Fatalf("function output has %d 'step finished' lines and %d EMF lines, want at least 24 of each:\n%s", steps, emf, out)
	}
	// Single-user 2 logins, alternating 3 x 2, rds-master 2 x 1, the
	// failing admin 1; all over verified TLS, each logged with its mode and
	// server name.
	if logins < 11 || plaintext != 0 || loginLines != logins {
		t.Fatalf("Logins metric %d (PlaintextLogins %d), %d verify-full login lines; want at least 11, none plaintext, one line per login", logins, plaintext, loginLines)
	}
	// The leak sweep with every password the stand-in holds, the rotated
	// ones the test never read too: the function's output, both servers'
	// logs, and the stand-in's tags, events (the errors the function
	// returned) and messages.
	awslocaltest.CheckNoLeaks(t, srv, passwords, map[string]string{
		"the function's output (logs and EMF metrics)": out,
		"the PostgreSQL server log":                    pg.LogFrom(t, pgStart),
		"MariaDB's general query log":                  m.LogFrom(t, mStart),
	})

	// The function decodes its payload itself: an event with a key given
	// twice is refused naming the key, with errorType InvalidRotationEvent
	// (the Lambda runtime's decoder would have taken the last Step).
	_, err := (&awslocal.HTTPInvoker{URL: emu.URL}).Invoke(context.Background(), []byte(`{"Step":"createSecret","SecretId":"x","Step":"finishSecret"}`))
	if !errors.As(err, &fe) || fe.Type != "InvalidRotationEvent" || !strings.Contains(fe.Message, `field "Step"`) || !strings.Contains(fe.Message, "more than once") {
		t.Fatalf("duplicate-key event: %v; want errorType InvalidRotationEvent naming field \"Step\"", err)
	}
}
