package main

import (
	"bytes"
	"encoding/json"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/lease/leasetest"
	"github.com/rotorhq/rotor/internal/local/rietest"
)

// TestLeaseUsageErrors: each mistake is exit 2 with a line naming the flag
// or the input, before any call to AWS.
func TestLeaseUsageErrors(t *testing.T) {
	cases := map[string]struct {
		args  []string
		stdin string
		want  string
	}{
		"no role":             {[]string{"lease"}, "", "--role: missing"},
		"bad role":            {[]string{"lease", "--role", "App-RO"}, "", "--role: \"App-RO\" is not a role definition name"},
		"fractional ttl":      {[]string{"lease", "--role", "app", "--ttl", "1.5s"}, "", "--ttl 1.5s: want a whole number of seconds"},
		"ttl over 7 days":     {[]string{"lease", "--role", "app", "--ttl", "169h"}, "", "--ttl: 608400 is outside"},
		"bad format":          {[]string{"lease", "--role", "app", "--format", "yaml"}, "", `--format "yaml": want env, json or psql`},
		"positional argument": {[]string{"lease", "--role", "app", "extra"}, "", `unknown command "extra" for "rotor lease"`},
		"renew without lease": {[]string{"lease", "renew"}, "", "no lease on stdin"},
		"renew bad JSON":      {[]string{"lease", "renew"}, `{"role": "app", "credentials": {"password": "pw-on-stdin-1"`, "the lease on stdin"},
		"revoke no password":  {[]string{"lease", "revoke"}, `{"role":"app","credentials":{"username":"v_app_1"}}`, "has no username or password"},
		"revoke takes no ttl": {[]string{"lease", "revoke", "--ttl", "1h"}, "", "unknown flag: --ttl"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			old := leaseStdin
			leaseStdin = strings.NewReader(c.stdin)
			t.Cleanup(func() { leaseStdin = old })
			code, stdout, stderr := cli(t, c.args...)
			if code != exitUsage || !strings.Contains(stderr, c.want) || stdout != "" {
				t.Fatalf("exit %d, stdout %q, stderr:\n%s\nwant exit %d and %q", code, stdout, stderr, exitUsage, c.want)
			}
			if strings.Contains(stderr, "pw-on-stdin-1") {
				t.Fatalf("a password from stdin reached stderr:\n%s", stderr)
			}
		})
	}
}

// TestLeaseWithoutCredentialsIsAWSAccess: no AWS credentials is exit 4 with
// the CLI's one line, as for the other commands.
func TestLeaseWithoutCredentialsIsAWSAccess(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("AWS_REGION", "us-east-1")
	code, stdout, stderr := cli(t, "lease", "--role", "app", "--endpoint-url", "http://127.0.0.1:1")
	if code != exitAWSAccess || !strings.Contains(stderr, "no AWS credentials found") || stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d naming the missing credentials", code, stdout, stderr, exitAWSAccess)
	}
}

func testLease(engine string) events.Lease {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	return events.Lease{Role: "app_ro", IssuedAt: now, ExpiresAt: now.Add(time.Hour), MaxExpiresAt: now.Add(24 * time.Hour),
		Credentials: &events.SecretDocument{Engine: engine, Host: "db.example.internal", Port: 5432, DBName: "orders",
			Username: "v_app_ro_ab12", Password: `p'w$"x y`}}
}

// TestLeaseFormats: env is eval-safe (the shell gives back the password
// byte for byte), psql is a URI psql accepts, json is the lease renew and
// revoke read back.
func TestLeaseFormats(t *testing.T) {
	t.Parallel()
	pg := testLease("postgres")
	env, err := formatLease(pg, leaseFormatEnv)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("sh", "-c", env+`printf '%s|%s|%s|%s|%s|%s' "$PGHOST" "$PGPORT" "$PGDATABASE" "$PGUSER" "$PGPASSWORD" "$PGSSLMODE"`).Output()
	if err != nil {
		t.Fatalf("sh: %v\n%s", err, env)
	}
	if want := `db.example.internal|5432|orders|v_app_ro_ab12|p'w$"x y|verify-full`; string(out) != want {
		t.Fatalf("after eval: %q, want %q\n%s", out, want, env)
	}

	uri, err := formatLease(pg, leaseFormatPsql)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(strings.TrimSpace(uri))
	if err != nil {
		t.Fatal(err)
	}
	if pw, _ := u.User.Password(); u.Scheme != "postgresql" || u.User.Username() != "v_app_ro_ab12" || pw != `p'w$"x y` || u.Host != "db.example.internal:5432" || u.Path != "/orders" || u.Query().Get("sslmode") != "verify-full" {
		t.Fatalf("psql URI %q", uri)
	}

	js, err := formatLease(pg, leaseFormatJSON)
	if err != nil {
		t.Fatal(err)
	}
	back, err := readLease(strings.NewReader(js))
	if err != nil || back.Credentials.Password != pg.Credentials.Password || back.Credentials.Username != pg.Credentials.Username || back.Role != "app_ro" {
		t.Fatalf("json does not read back: %v\n%s", err, js)
	}

	my := testLease("mariadb")
	env, err = formatLease(my, leaseFormatEnv)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"export MYSQL_HOST='db.example.internal'", "export ROTOR_LEASE_USER='v_app_ro_ab12'", `export MYSQL_PWD='p'\''w$"x y'`, "export ROTOR_LEASE_EXPIRES_AT='2026-12-02T11:00:00Z'"} {
		if !strings.Contains(env, want) {
			t.Fatalf("MariaDB env lacks %q:\n%s", want, env)
		}
	}
	if strings.Contains(leaseSummary(pg), pg.Credentials.Password) || !strings.Contains(leaseSummary(pg), "expires 2026-12-02T11:00:00Z") {
		t.Fatalf("summary %q", leaseSummary(pg))
	}
	var m map[string]any
	if err := json.NewDecoder(bytes.NewReader([]byte(js))).Decode(&m); err != nil || m["expiresAt"] == nil {
		t.Fatalf("json lease %v: %v", m, err)
	}
}

// TestLeaseThroughTheBuiltIssuer runs rotor lease against the built issuer
// function under the Lambda Runtime Interface Emulator (the SDK's Lambda
// client with --endpoint-url at the emulator, which serves Invoke's path),
// on the harness's PostgreSQL: a lease that logs in, renewed and revoked
// through stdin; refusals for an unknown role definition and a TTL over the
// maximum (exit 1, the issuer's reason); the password on stdout only.
func TestLeaseThroughTheBuiltIssuer(t *testing.T) {
	w := leasetest.New(t, "postgres")
	emu := rietest.Start(t, rietest.Build(t, "./functions/issuer"),
		"AWS_ENDPOINT_URL="+w.Srv.URL(), "AWS_REGION="+w.SM.Options().Region,
		"AWS_ACCESS_KEY_ID=AKIDAWSLOCAL", "AWS_SECRET_ACCESS_KEY=awslocal-secret-key", "AWS_SESSION_TOKEN=",
		"LEASE_ROLES="+w.Roles(leasetest.Role{Name: "app_ro", DefaultTTL: 60, MaxTTL: 300}),
		"ADMIN_SECRET_ARNS="+w.AdminARN, "DB_TLS=verify-full", "DB_CA_BUNDLE="+w.CAFile,
		"AWS_LAMBDA_FUNCTION_NAME=rotor-issuer", "LOG_LEVEL=debug")
	base := strings.TrimSuffix(emu.URL, "/2015-03-31/functions/function/invocations")
	lease := func(t *testing.T, stdin string, args ...string) (int, string, string) {
		t.Helper()
		old := leaseStdin
		leaseStdin = strings.NewReader(stdin)
		defer func() { leaseStdin = old }()
		code, stdout, stderr := cli(t, append(args, "--endpoint-url", base, "--function", "function", "--region", w.SM.Options().Region)...)
		w.AddLeakOutput("rotor "+strings.Join(args, " ")+" stderr", stderr)
		return code, stdout, stderr
	}

	code, stdout, stderr := lease(t, "", "lease", "--role", "app_ro", "--ttl", "2m", "--format", "json")
	if code != exitOK {
		t.Fatalf("rotor lease: exit %d\n%s", code, stderr)
	}
	held, err := readLease(strings.NewReader(stdout))
	if err != nil {
		t.Fatalf("rotor lease --format json: %v", err)
	}
	c := held.Credentials
	w.Remember(c.Password)
	if err := w.Use(c.Username, c.Password); err != nil {
		t.Fatalf("the lease does not log in: %v", err)
	}
	if got := held.ExpiresAt.Sub(held.IssuedAt); got != 2*time.Minute {
		t.Fatalf("lease of %s, want the 2m asked for", got)
	}
	if !strings.Contains(stderr, "user "+c.Username) || !strings.Contains(stderr, "expires "+held.ExpiresAt.UTC().Format(time.RFC3339)) || !strings.Contains(stderr, "password is on stdout only") {
		t.Fatalf("stderr does not say who, until when and where the password went:\n%s", stderr)
	}

	code, stdout, stderr = lease(t, stdout, "lease", "renew", "--ttl", "4m", "--format", "json")
	if code != exitOK {
		t.Fatalf("rotor lease renew: exit %d\n%s", code, stderr)
	}
	renewed, err := readLease(strings.NewReader(stdout))
	if err != nil || renewed.Credentials.Username != c.Username || !renewed.ExpiresAt.After(held.ExpiresAt) {
		t.Fatalf("renewed lease %v (%v), want %s later than %s", renewed, err, c.Username, held.ExpiresAt)
	}

	code, envOut, stderr := lease(t, "", "lease", "--role", "app_ro")
	if code != exitOK || !strings.Contains(envOut, "export PGUSER='v_app_ro_") || !strings.Contains(envOut, "export PGSSLMODE='verify-full'") {
		t.Fatalf("rotor lease --format env: exit %d\n%s\n%s", code, envOut, stderr)
	}
	for _, line := range strings.Split(envOut, "\n") {
		if pw, ok := strings.CutPrefix(line, "export PGPASSWORD="); ok {
			w.Remember(strings.Trim(pw, "'"))
		}
	}

	for name, c := range map[string]struct {
		args []string
		want string
	}{
		"unknown role": {[]string{"lease", "--role", "nope"}, `"nope"`},
		"over max TTL": {[]string{"lease", "--role", "app_ro", "--ttl", "10m"}, "600"},
	} {
		code, stdout, stderr := lease(t, "", c.args...)
		if code != exitFail || stdout != "" || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit %d naming %s", name, code, stdout, stderr, exitFail, c.want)
		}
	}

	code, _, stderr = lease(t, stdout, "lease", "revoke")
	if code != exitOK || !strings.Contains(stderr, c.Username+" of role app_ro dropped") {
		t.Fatalf("rotor lease revoke: exit %d\n%s", code, stderr)
	}
	if err := w.Use(c.Username, c.Password); err == nil {
		t.Fatal("the revoked lease still logs in")
	}
	w.AddLeakOutput("the issuer's output", emu.Output())
}
