package main

import (
	"context"
	"encoding/json"
	"errors"
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
	emu := rietest.Start(t, rietest.Build(t, "./functions/rotator"),
		"AWS_ENDPOINT_URL="+srv.URL(), "AWS_REGION="+cfg.Region,
		"AWS_ACCESS_KEY_ID=AKIDAWSLOCAL", "AWS_SECRET_ACCESS_KEY=awslocal-secret-key", "AWS_SESSION_TOKEN=",
		"DB_CA_BUNDLE="+pg.CAFile, "ROTATION_STRATEGY=single-user", "LOG_LEVEL=debug",
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
		if rec["msg"] == "database login" && rec["tls"] == "verify-full" && rec["server_name"] == pg.Host {
			loginLines++
		}
	}
	if steps < 12 || emf < 12 {
		t.Fatalf("function output has %d 'step finished' lines and %d EMF lines, want at least 12 of each:\n%s", steps, emf, out)
	}
	// Single-user 2 logins, alternating 2 x 2, the failing admin 1; all
	// over verified TLS, each logged with its mode and server name.
	if logins < 7 || plaintext != 0 || loginLines != logins {
		t.Fatalf("Logins metric %d (PlaintextLogins %d), %d verify-full login lines; want at least 7, none plaintext, one line per login", logins, plaintext, loginLines)
	}
}
