package ops_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/local/dbserver"
	"github.com/rotorhq/rotor/internal/local/dbtest"
	"github.com/rotorhq/rotor/internal/ops"
	"github.com/rotorhq/rotor/internal/ops/opstest"
	"github.com/rotorhq/rotor/rotation"
	"github.com/rotorhq/rotor/strategies"
	"github.com/rotorhq/rotor/strategies/builtin"
)

func TestStatusAfterAFailedRotation(t *testing.T) {
	t.Parallel()
	e := opstest.New(t)
	arn, _ := alternating(t, e, "wrong-admin-password")
	res := ops.RotateNow(context.Background(), fast(e, true), []string{arn})
	e.Wait(arn) // let the service's retries end
	st, err := ops.GetStatus(context.Background(), e.SM, arn)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Rotation.Enabled || st.Rotation.FunctionARN != e.FunctionARN || st.Rotation.AutomaticallyAfterDays != 30 || st.Strategy != strategies.NameAlternatingUsers {
		t.Fatalf("rotation settings %+v, strategy %q", st.Rotation, st.Strategy)
	}
	o := st.LastOutcome
	if o == nil || o.Result != rotation.OutcomeFailed || o.Step != string(events.StepSetSecret) || o.VersionID != res[0].VersionID || !strings.Contains(o.Reason, "admin login") {
		t.Fatalf("last outcome %+v", o)
	}
	if len(st.LeftBehind) != 1 || st.LeftBehind[0].VersionID != res[0].VersionID || !strings.Contains(st.LeftBehind[0].Advice, "--remove-from-version-id "+res[0].VersionID) || st.LeftBehind[0].Verdict != ops.PendingUnchecked {
		t.Fatalf("left behind %+v", st.LeftBehind)
	}
	if len(st.Versions) != 2 {
		t.Fatalf("versions %+v, want the current one and the stranded pending one", st.Versions)
	}
	if _, err := ops.GetStatus(context.Background(), e.SM, "no-such-secret"); !isRefused(err) {
		t.Fatalf("unknown secret: %v", err)
	}
}

func isRefused(err error) bool {
	var re *ops.RefusedError
	return errors.As(err, &re)
}

func TestRollbackSingleUser(t *testing.T) {
	t.Parallel()
	e := opstest.New(t)
	arn, first := singleUser(t, e)
	e.Rotate(arn)
	rotated := e.Value(arn, rotation.LabelCurrent)
	before := e.Stages(arn)

	res, err := ops.Rollback(context.Background(), ops.RollbackOptions{Secrets: e.SM, DB: e.DBOptions}, arn)
	if err != nil {
		t.Fatalf("rollback: %v", err)
	}
	if !res.PasswordRestored || res.Strategy != strategies.NameSingleUser || res.StrategySource != ops.FromDefault {
		t.Fatalf("result %+v", res)
	}
	after := e.Stages(arn)
	if !slices.Contains(after[res.ToVersion], rotation.LabelCurrent) || !slices.Contains(after[res.FromVersion], rotation.LabelPrevious) ||
		!slices.Contains(before[res.ToVersion], rotation.LabelPrevious) {
		t.Fatalf("labels before %v, after %v", before, after)
	}
	if fmt.Sprint(e.Value(arn, rotation.LabelCurrent)["password"]) != first["password"] {
		t.Fatal("AWSCURRENT does not hold the first password again")
	}
	if err := e.CanLogin(first); err != nil {
		t.Fatalf("restored password does not log in: %v", err)
	}
	if err := e.CanLogin(rotated); err == nil {
		t.Fatal("the rolled-back password still logs in")
	}
}

func TestRollbackAlternatingMovesOnlyLabels(t *testing.T) {
	t.Parallel()
	e := opstest.New(t)
	arn, first := alternating(t, e, "admin-password-1")
	e.Rotate(arn)
	clone := e.Value(arn, rotation.LabelCurrent)
	res, err := ops.Rollback(context.Background(), ops.RollbackOptions{Secrets: e.SM, DB: e.DBOptions}, arn)
	if err != nil {
		t.Fatalf("rollback: %v", err)
	}
	if res.PasswordRestored || res.Strategy != strategies.NameAlternatingUsers || res.StrategySource != ops.FromTag {
		t.Fatalf("result %+v", res)
	}
	if e.Value(arn, rotation.LabelCurrent)["username"] != first["username"] {
		t.Fatal("AWSCURRENT is not the base user again")
	}
	for _, doc := range []map[string]any{first, clone} {
		if err := e.CanLogin(doc); err != nil {
			t.Fatalf("%v no longer logs in: %v", doc["username"], err)
		}
	}
}

func TestRollbackRefusals(t *testing.T) {
	t.Parallel()
	e := opstest.New(t)
	never, doc := singleUser(t, e)
	stranded, sdoc := singleUser(t, e)
	e.Rotate(stranded)
	e.StrandPending(stranded, sdoc)
	cases := map[string]struct {
		arn  string
		want string
	}{
		"no AWSPREVIOUS":   {never, "no version"},
		"unfinished":       {stranded, "AWSPENDING"},
		"unknown secret":   {"no-such-secret", "not found"},
		"previous refused": {"", "does not log in"},
	}
	// A rotated secret whose previous password the database no longer
	// knows and whose current one it refuses too.
	broken, bdoc := singleUser(t, e)
	e.Rotate(broken)
	admin := e.PG.Admin(t)
	if _, err := admin.Exec(context.Background(), fmt.Sprintf(`ALTER ROLE %q PASSWORD NULL`, bdoc["username"])); err != nil {
		t.Fatal(err)
	}
	c := cases["previous refused"]
	c.arn = broken
	cases["previous refused"] = c

	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			before := ""
			if tc.arn != "no-such-secret" {
				before = fmt.Sprint(e.Stages(tc.arn))
			}
			e.Srv.ResetStats()
			_, err := ops.Rollback(context.Background(), ops.RollbackOptions{Secrets: e.SM, DB: e.DBOptions}, tc.arn)
			if !isRefused(err) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want a refusal mentioning %q", err, tc.want)
			}
			if n := e.Srv.Stats()["UpdateSecretVersionStage"]; n != 0 {
				t.Fatalf("%d label moves after a refusal", n)
			}
			if before != "" && fmt.Sprint(e.Stages(tc.arn)) != before {
				t.Fatalf("labels changed: %s -> %v", before, e.Stages(tc.arn))
			}
		})
	}
	if err := e.CanLogin(doc); err != nil {
		t.Fatalf("a refused rollback changed the password: %v", err)
	}
}

// checks runs Preflight and indexes the verdicts by name.
func checks(t *testing.T, e *opstest.Env, db ops.CheckOptions, arn string) map[string]ops.Check {
	t.Helper()
	db.Secrets = e.SM
	if db.AdminSecretARNs == nil {
		db.AdminSecretARNs = e.AdminARNs
	}
	if db.DB.RootCAs == nil && db.DB.TLSMode == "" {
		db.DB = e.DBOptions
	}
	out := map[string]ops.Check{}
	for _, c := range ops.Preflight(context.Background(), db, arn) {
		out[c.Name] = c
	}
	return out
}

func wantChecks(t *testing.T, got map[string]ops.Check, want map[string]ops.CheckStatus) {
	t.Helper()
	for name, st := range want {
		c, ok := got[name]
		if !ok || c.Status != st {
			t.Errorf("check %s = %+v, want %s", name, c, st)
		}
		if st == ops.CheckFail && c.Hint == "" {
			t.Errorf("check %s failed without a hint", name)
		}
	}
}

func TestPreflightHealthy(t *testing.T) {
	t.Parallel()
	e := opstest.New(t)
	su, _ := singleUser(t, e)
	alt, _ := alternating(t, e, "admin-password-1")
	got := checks(t, e, ops.CheckOptions{}, su)
	wantChecks(t, got, map[string]ops.CheckStatus{ops.CheckSecret: ops.CheckPass, ops.CheckRotationConfig: ops.CheckPass, ops.CheckUnfinished: ops.CheckPass, ops.CheckDocument: ops.CheckPass, ops.CheckConnection: ops.CheckPass, ops.CheckCurrentLogin: ops.CheckPass})
	if _, ok := got[ops.CheckAdminLogin]; ok {
		t.Error("single-user ran admin checks")
	}
	got = checks(t, e, ops.CheckOptions{}, alt)
	wantChecks(t, got, map[string]ops.CheckStatus{ops.CheckCloneName: ops.CheckPass, ops.CheckConnection: ops.CheckPass, ops.CheckCurrentLogin: ops.CheckPass, ops.CheckAdminSecret: ops.CheckPass, ops.CheckAdminLogin: ops.CheckPass, ops.CheckAdminPrivileges: ops.CheckPass, ops.CheckPreviousUser: ops.CheckInfo})
	for _, c := range got {
		if c.Status == ops.CheckFail {
			t.Errorf("healthy secret failed %+v", c)
		}
	}
}

func TestPreflightFindsPlantedProblems(t *testing.T) {
	t.Parallel()
	e := opstest.New(t)

	t.Run("wrong password", func(t *testing.T) {
		user := e.Role("wp", "right-password-1")
		arn := e.Secret(e.Doc(user, "wrong-password-1"), nil)
		wantChecks(t, checks(t, e, ops.CheckOptions{}, arn), map[string]ops.CheckStatus{ops.CheckConnection: ops.CheckPass, ops.CheckCurrentLogin: ops.CheckFail, ops.CheckRotationConfig: ops.CheckFail})
	})
	t.Run("admin without CREATEROLE", func(t *testing.T) {
		arn := altSecret(t, e, "admin-password-1", "CREATEDB")
		got := checks(t, e, ops.CheckOptions{}, arn)
		wantChecks(t, got, map[string]ops.CheckStatus{ops.CheckAdminLogin: ops.CheckPass, ops.CheckAdminPrivileges: ops.CheckFail})
		if h := got[ops.CheckAdminPrivileges].Hint; !strings.Contains(h, "PostgreSQL") || !strings.Contains(h, "CREATEROLE") || !strings.Contains(h, "ADMIN OPTION") || strings.Contains(h, "CREATE USER") {
			t.Errorf("admin-privileges hint %q is not PostgreSQL's", h)
		}
	})
	t.Run("wrong admin password", func(t *testing.T) {
		arn := altSecret(t, e, "wrong-admin-password", "CREATEROLE")
		wantChecks(t, checks(t, e, ops.CheckOptions{}, arn), map[string]ops.CheckStatus{ops.CheckAdminLogin: ops.CheckFail, ops.CheckAdminPrivileges: ops.CheckSkip})
	})
	t.Run("clone name too long", func(t *testing.T) {
		name := dbtest.UniqueName("long")
		name += strings.Repeat("x", 60-len(name))
		e.PG.CreateRole(t, name, "pw-long-name-1")
		admin := e.Role("adm", "admin-password-1", "CREATEROLE")
		doc := e.Doc(name, "pw-long-name-1")
		doc["masterarn"] = e.AdminSecret(e.Doc(admin, "admin-password-1"))
		arn := e.Secret(doc, map[string]string{rotation.TagStrategy: strategies.NameAlternatingUsers})
		got := checks(t, e, ops.CheckOptions{}, arn)
		wantChecks(t, got, map[string]ops.CheckStatus{ops.CheckCloneName: ops.CheckFail, ops.CheckCurrentLogin: ops.CheckPass})
		if !strings.Contains(got[ops.CheckCloneName].Detail, "63") {
			t.Errorf("clone-name detail %q does not give the limit", got[ops.CheckCloneName].Detail)
		}
	})
	t.Run("alternating without masterarn", func(t *testing.T) {
		user := e.Role("nm", "pw-nomaster-1")
		arn := e.Secret(e.Doc(user, "pw-nomaster-1"), nil)
		got := checks(t, e, ops.CheckOptions{Strategy: strategies.NameAlternatingUsers}, arn)
		wantChecks(t, got, map[string]ops.CheckStatus{ops.CheckDocument: ops.CheckFail})
		if !strings.Contains(got[ops.CheckDocument].Detail, "masterarn") {
			t.Errorf("document detail %q", got[ops.CheckDocument].Detail)
		}
	})
	t.Run("unfinished rotation", func(t *testing.T) {
		arn, doc := singleUser(t, e)
		v := e.StrandPending(arn, doc)
		got := checks(t, e, ops.CheckOptions{}, arn)
		wantChecks(t, got, map[string]ops.CheckStatus{ops.CheckUnfinished: ops.CheckFail})
		if !strings.Contains(got[ops.CheckUnfinished].Hint, v) {
			t.Errorf("hint %q does not name %s", got[ops.CheckUnfinished].Hint, v)
		}
	})
	t.Run("base user pinned elsewhere or shared", func(t *testing.T) {
		arn := altSecret(t, e, "admin-password-1", "CREATEROLE")
		got := checks(t, e, ops.CheckOptions{}, arn)
		wantChecks(t, got, map[string]ops.CheckStatus{ops.CheckBaseUser: ops.CheckInfo, ops.CheckAdminLogin: ops.CheckPass})
		// Pinned (as the rotator or Terraform would) to what the document
		// leads to: PASS. A second secret on the same base user: FAIL,
		// naming the first. A pin the document no longer matches: FAIL.
		cur := e.Value(arn, rotation.LabelCurrent)
		pin := events.BaseUserPin(cur["username"].(string), e.PG.Host, e.PG.Port)
		tag := func(arn, v string) {
			_, err := e.SM.TagResource(context.Background(), &secretsmanager.TagResourceInput{SecretId: aws.String(arn), Tags: []types.Tag{{Key: aws.String(rotation.TagBaseUser), Value: aws.String(v)}}})
			if err != nil {
				t.Fatal(err)
			}
		}
		tag(arn, pin)
		wantChecks(t, checks(t, e, ops.CheckOptions{}, arn), map[string]ops.CheckStatus{ops.CheckBaseUser: ops.CheckPass})
		second := e.Secret(cur, map[string]string{rotation.TagStrategy: strategies.NameAlternatingUsers})
		got = checks(t, e, ops.CheckOptions{}, second)
		wantChecks(t, got, map[string]ops.CheckStatus{ops.CheckBaseUser: ops.CheckFail})
		if !strings.Contains(got[ops.CheckBaseUser].Detail, arn) {
			t.Errorf("base-user detail %q does not name the other secret", got[ops.CheckBaseUser].Detail)
		}
		tag(arn, "someone-else@"+e.PG.Host+":1")
		got = checks(t, e, ops.CheckOptions{}, arn)
		wantChecks(t, got, map[string]ops.CheckStatus{ops.CheckBaseUser: ops.CheckFail})
		if !strings.Contains(got[ops.CheckBaseUser].Detail, "pinned") {
			t.Errorf("base-user detail %q", got[ops.CheckBaseUser].Detail)
		}
	})
	t.Run("masterarn outside the allow-list", func(t *testing.T) {
		arn := altSecret(t, e, "admin-password-1", "CREATEROLE")
		got := checks(t, e, ops.CheckOptions{AdminSecretARNs: []string{"arn:aws:secretsmanager:us-east-1:123456789012:secret:other-abcdef"}}, arn)
		wantChecks(t, got, map[string]ops.CheckStatus{ops.CheckAdminSecret: ops.CheckFail, ops.CheckAdminLogin: ops.CheckSkip})
		if !strings.Contains(got[ops.CheckAdminSecret].Detail, "ADMIN_SECRET_ARNS") {
			t.Errorf("admin-secret detail %q", got[ops.CheckAdminSecret].Detail)
		}
	})
	t.Run("unknown secret", func(t *testing.T) {
		wantChecks(t, checks(t, e, ops.CheckOptions{}, "no-such-secret"), map[string]ops.CheckStatus{ops.CheckSecret: ops.CheckFail})
	})
}

// altSecret is an alternating-users secret (rotation not configured) whose
// admin has attrs and whose admin secret holds adminPassword.
func altSecret(t *testing.T, e *opstest.Env, adminPassword string, attrs ...string) string {
	t.Helper()
	admin := e.Role("adm", "admin-password-1", attrs...)
	user := e.Role("au", "app-password-1")
	doc := e.Doc(user, "app-password-1")
	doc["masterarn"] = e.AdminSecret(e.Doc(admin, adminPassword))
	return e.Secret(doc, map[string]string{rotation.TagStrategy: strategies.NameAlternatingUsers})
}

func TestPreflightRefusesAServerWithoutTLS(t *testing.T) {
	t.Parallel()
	e := opstest.New(t)
	plain, err := dbserver.StartPostgres(context.Background(), dbserver.PostgresOptions{DisableTLS: true})
	if err != nil {
		t.Fatalf("start a PostgreSQL without TLS: %v", err)
	}
	t.Cleanup(func() { plain.Stop() })
	doc := map[string]any{"engine": "postgres", "host": plain.Host, "port": plain.Port, "username": plain.SuperUser, "password": plain.SuperPassword}
	arn := e.Secret(doc, nil)
	got := checks(t, e, ops.CheckOptions{}, arn)
	wantChecks(t, got, map[string]ops.CheckStatus{ops.CheckConnection: ops.CheckFail, ops.CheckCurrentLogin: ops.CheckSkip})
	if h := got[ops.CheckConnection].Hint; !strings.Contains(h, "does not accept TLS") {
		t.Errorf("hint %q, detail %q", h, got[ops.CheckConnection].Detail)
	}
	if !ops.Failed(ops.Preflight(context.Background(), ops.CheckOptions{Secrets: e.SM, DB: e.DBOptions}, arn)) {
		t.Error("Failed() is false")
	}

	// Plaintext chosen on purpose works, and is a WARN naming who chose it:
	// the secret's "ssl": false, or DB_TLS=disable.
	doc["ssl"] = false
	got = checks(t, e, ops.CheckOptions{}, e.Secret(doc, nil))
	wantChecks(t, got, map[string]ops.CheckStatus{ops.CheckConnection: ops.CheckWarn, ops.CheckCurrentLogin: ops.CheckPass})
	if c := got[ops.CheckConnection]; !strings.Contains(c.Detail, "plaintext") || !strings.Contains(c.Detail, `"ssl": false`) || c.Hint == "" {
		t.Errorf("ssl:false: connection %+v", c)
	}
	delete(doc, "ssl")
	got = checks(t, e, ops.CheckOptions{DB: strategies.Options{Engines: builtin.Engines(), TLSMode: events.TLSDisable}}, e.Secret(doc, nil))
	wantChecks(t, got, map[string]ops.CheckStatus{ops.CheckConnection: ops.CheckWarn, ops.CheckCurrentLogin: ops.CheckPass})
	if c := got[ops.CheckConnection]; !strings.Contains(c.Detail, "plaintext") || !strings.Contains(c.Detail, "DB_TLS=disable") {
		t.Errorf("DB_TLS=disable: connection %+v", c)
	}
	// TLS as the default: a PASS, no warning.
	healthy, _ := singleUser(t, e)
	wantChecks(t, checks(t, e, ops.CheckOptions{}, healthy), map[string]ops.CheckStatus{ops.CheckConnection: ops.CheckPass})
}

// The sessions check follows the rotator's PREVIOUS_USER_SESSIONS policy:
// with fail, open sessions of the user the next rotation changes are a
// FAIL, as the rotation would be refused.
func TestPreflightPreviousUserSessionsPolicy(t *testing.T) {
	t.Parallel()
	e := opstest.New(t)
	arn, base := alternating(t, e, "admin-password-1")
	e.Rotate(arn) // AWSCURRENT is the clone: the next rotation changes the base user
	held := e.PG.ConnectAs(t, fmt.Sprint(base["username"]), fmt.Sprint(base["password"]), e.DB)
	defer held.Close(context.Background())

	for policy, want := range map[string]ops.CheckStatus{strategies.SessionsWarn: ops.CheckWarn, strategies.SessionsFail: ops.CheckFail} {
		dbOpts := e.DBOptions
		dbOpts.PreviousUserSessions = policy
		got := checks(t, e, ops.CheckOptions{DB: dbOpts}, arn)
		wantChecks(t, got, map[string]ops.CheckStatus{ops.CheckAdminPrivileges: ops.CheckPass, ops.CheckPreviousUser: want})
		if c := got[ops.CheckPreviousUser]; !strings.Contains(c.Detail, fmt.Sprint(base["username"])) || !strings.Contains(c.Detail, "open session") {
			t.Errorf("%s: %+v", policy, c)
		}
	}
}

// The admin-privileges hint is the engine's: MariaDB's names CREATE USER,
// GRANT OPTION, ADMIN OPTION and the privilege tables, not CREATEROLE.
func TestPreflightMariaDBAdminHint(t *testing.T) {
	t.Parallel()
	e := opstest.New(t)
	m := dbtest.MariaDB(t)
	admin, user := dbtest.UniqueName("madm"), dbtest.UniqueName("mapp")
	m.CreateUser(t, admin, "admin-password-1")
	m.CreateUser(t, user, "app-password-1")
	doc := func(name, password string) map[string]any {
		return map[string]any{"engine": "mariadb", "host": m.Host, "port": m.Port, "username": name, "password": password}
	}
	d := doc(user, "app-password-1")
	d["masterarn"] = e.AdminSecret(doc(admin, "admin-password-1"))
	arn := e.Secret(d, map[string]string{rotation.TagStrategy: strategies.NameAlternatingUsers})

	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(m.CAPEM) {
		t.Fatal("MariaDB CA does not parse")
	}
	got := checks(t, e, ops.CheckOptions{DB: strategies.Options{Engines: builtin.Engines(), TLSMode: events.TLSVerifyFull, RootCAs: pool}}, arn)
	wantChecks(t, got, map[string]ops.CheckStatus{ops.CheckConnection: ops.CheckPass, ops.CheckCurrentLogin: ops.CheckPass, ops.CheckAdminLogin: ops.CheckPass, ops.CheckAdminPrivileges: ops.CheckFail})
	h := got[ops.CheckAdminPrivileges].Hint
	for _, want := range []string{"MariaDB", "GRANT CREATE USER ON *.* TO " + admin + " WITH GRANT OPTION", "SELECT ON mysql.*", "ADMIN OPTION"} {
		if !strings.Contains(h, want) {
			t.Errorf("hint %q lacks %q", h, want)
		}
	}
	if strings.Contains(h, "CREATEROLE") {
		t.Errorf("hint %q gives PostgreSQL's privilege", h)
	}
}

// When the previous password is set but its credential still does not log
// in (here: its dbname is a database the user may not connect to, which the
// database only says once the password is right), rollback puts the current
// password back and changes no label.
func TestRollbackPutsTheCurrentPasswordBack(t *testing.T) {
	t.Parallel()
	e := opstest.New(t)
	user := e.Role("rb", "current-password-1")
	locked := e.PG.NewDatabase(t)
	if _, err := e.PG.Admin(t).Exec(context.Background(), fmt.Sprintf(`REVOKE CONNECT ON DATABASE %q FROM PUBLIC`, locked)); err != nil {
		t.Fatal(err)
	}
	prev := e.Doc(user, "previous-password-1")
	prev["dbname"] = locked
	arn := e.Secret(prev, nil)
	cur := e.Doc(user, "current-password-1")
	body, _ := json.Marshal(cur)
	if _, err := e.SM.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(arn), SecretString: aws.String(string(body)), ClientRequestToken: aws.String(ops.NewToken()),
	}); err != nil {
		t.Fatal(err)
	}
	before := fmt.Sprint(e.Stages(arn))
	e.Srv.ResetStats()

	res, err := ops.Rollback(context.Background(), ops.RollbackOptions{Secrets: e.SM, DB: e.DBOptions}, arn)
	if !isRefused(err) || !strings.Contains(err.Error(), "put back") || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("err %v, want a refusal saying the current password was put back", err)
	}
	if res.PasswordRestored || res.AlreadyRestored {
		t.Fatalf("result %+v claims a restored password", res)
	}
	if strings.Contains(err.Error(), "current-password-1") || strings.Contains(err.Error(), "previous-password-1") {
		t.Fatal("the error quotes a password")
	}
	if n := e.Srv.Stats()["UpdateSecretVersionStage"]; n != 0 {
		t.Fatalf("%d label moves", n)
	}
	if after := fmt.Sprint(e.Stages(arn)); after != before {
		t.Fatalf("labels changed: %s -> %s", before, after)
	}
	if err := e.CanLogin(e.Value(arn, rotation.LabelCurrent)); err != nil {
		t.Fatalf("AWSCURRENT no longer logs in: %v", err)
	}
	if err := e.CanLogin(e.Doc(user, "previous-password-1")); err == nil {
		t.Fatal("the previous password still logs in: it was not reverted")
	}
}
