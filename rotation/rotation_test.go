package rotation_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/jackc/pgx/v5"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/local/awslocal"
	"github.com/rotorhq/rotor/internal/local/dbtest"
	"github.com/rotorhq/rotor/rotation"
	"github.com/rotorhq/rotor/strategies"
)

func TestSingleUserRotation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	user := dbtest.UniqueName("app")
	e.pg.CreateRole(t, user, "initial-password-1")
	arn := e.createSecret(dbtest.UniqueName("s"), e.doc(user, "initial-password-1", map[string]any{"ssl": true, "team": "payments"}), nil)

	for round := 1; round <= 2; round++ {
		before := e.value(arn, rotation.LabelCurrent)
		oldID := currentID(t, e, arn)
		e.srv.ResetStats()
		off := e.pg.LogOffset(t)

		res := e.mustRotate(arn)

		calls, byOp := e.rotorCalls()
		if calls > 8 {
			t.Errorf("round %d: %d Secrets Manager calls (%v), want at most 8", round, calls, byOp)
		}
		if byOp["GetRandomPassword"] != 0 {
			t.Errorf("GetRandomPassword called; passwords are generated locally")
		}
		logins := e.logins(off, user)
		if logins > 2 {
			t.Errorf("round %d: %d logins as %s, want at most 2", round, logins, user)
		}
		t.Logf("single-user round %d: %d Secrets Manager calls %v, %d database logins", round, calls, byOp, logins)
		// Labels: the new version carries AWSCURRENT only, the old one
		// AWSPREVIOUS.
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
		if after.Extra["team"] == nil || after.TLSMode() != events.TLSVerifyFull {
			t.Fatal("unknown keys or ssl were not carried over")
		}
		must(t, e.canLogin(user, after.Password), "new password logs in")
		if err := e.canLogin(user, before.Password); err == nil {
			t.Fatal("old password still logs in after a single-user rotation")
		}
		// RotationToken from the event reached PutSecretValue.
		tok := e.srv.LastRotationToken(arn)
		for _, v := range e.srv.Versions(arn) {
			if v.VersionID == res.VersionID && (tok == "" || v.RotationToken != tok) {
				t.Fatalf("pending version's RotationToken %q, event's %q", v.RotationToken, tok)
			}
		}
		tags := e.tags(arn)
		if tags[rotation.TagLastRotation] != rotation.OutcomeSucceeded || tags[rotation.TagLastVersion] != res.VersionID || tags[rotation.TagLastErrorStep] != "" {
			t.Fatalf("outcome tags %v", tags)
		}
	}
	// Every step logged its end with the secret, the token and a duration.
	finished := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(e.logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if rec["msg"] == "step finished" && rec["secret_id"] == arn && rec["token"] != "" && rec["duration_ms"] != nil {
			finished[rec["step"].(string)] = true
		}
	}
	for _, s := range events.Steps {
		if !finished[string(s)] {
			t.Errorf("no 'step finished' log line for %s", s)
		}
	}
}

func currentID(t testing.TB, e *env, arn string) string {
	t.Helper()
	for id, l := range e.labels(arn) {
		for _, s := range l {
			if s == rotation.LabelCurrent {
				return id
			}
		}
	}
	t.Fatal("no AWSCURRENT version")
	return ""
}

// alternating sets up a base user, an admin with CREATEROLE and the two
// secrets. It returns the app secret's ARN and the base user's name.
func alternating(t testing.TB, e *env, adminPassword string) (arn, base string) {
	t.Helper()
	base = dbtest.UniqueName("app")
	admin := dbtest.UniqueName("admin")
	e.pg.CreateRole(t, admin, "admin-password-1", "CREATEROLE")
	e.pg.CreateRole(t, base, "base-password-1")
	dropClone(t, e, base+"_clone")
	masterARN := e.createAdmin(dbtest.UniqueName("master"), e.doc(admin, adminPassword, nil), nil)
	arn = e.createSecret(dbtest.UniqueName("s"), e.doc(base, "base-password-1", map[string]any{"masterarn": masterARN}), nil)
	return arn, base
}

// dropClone removes the clone the rotation creates when the test ends.
func dropClone(t testing.TB, e *env, clone string) {
	t.Cleanup(func() {
		ctx := context.Background()
		a := e.pg.AdminDB(t, e.db)
		id := pgx.Identifier{clone}.Sanitize()
		a.Exec(ctx, "DROP OWNED BY "+id)
		a.Exec(ctx, "DROP ROLE IF EXISTS "+id)
	})
}

func TestAlternatingUsersRotation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{strategy: strategies.NameAlternatingUsers})
	arn, base := alternating(t, e, "admin-password-1")
	clone := base + "_clone"

	wantUser := []string{clone, base, clone}
	for round, want := range wantUser {
		prev := e.value(arn, rotation.LabelCurrent)
		e.srv.ResetStats()
		off := e.pg.LogOffset(t)
		e.mustRotate(arn)
		calls, byOp := e.rotorCalls()
		// Nine for the protocol, one GetSecretValue at createSecret
		// checking the admin secret before anything is written, one
		// ListSecrets for the base-user pin's uniqueness and, at the first
		// rotation only, the TagResource that writes the pin.
		if want := 11 + b2i(round == 0); calls > want || byOp["ListSecrets"] != 1 {
			t.Errorf("round %d: %d Secrets Manager calls (%v), want at most %d with one ListSecrets", round+1, calls, byOp, want)
		}
		t.Logf("alternating-users round %d: %d Secrets Manager calls %v", round+1, calls, byOp)
		cur := e.value(arn, rotation.LabelCurrent)
		if cur.Username != want {
			t.Fatalf("round %d: current user %q, want %q", round+1, cur.Username, want)
		}
		if n := e.logins(off, base, clone, cur.Username); n > 2 {
			t.Errorf("round %d: %d logins by the rotated users, want at most 2 (one admin login is not counted here)", round+1, n)
		}
		// Both the current and the previous credentials log in.
		must(t, e.canLogin(cur.Username, cur.Password), "AWSCURRENT logs in")
		p := e.value(arn, rotation.LabelPrevious)
		if p.Username != prev.Username || p.Password != prev.Password {
			t.Fatal("AWSPREVIOUS is not the former AWSCURRENT")
		}
		must(t, e.canLogin(p.Username, p.Password), "AWSPREVIOUS still logs in")
	}

	// Ownership: tables created by either user are usable by both.
	cur := e.value(arn, rotation.LabelCurrent)
	prev := e.value(arn, rotation.LabelPrevious)
	c1 := e.pg.ConnectAs(t, cur.Username, cur.Password, e.db)
	c2 := e.pg.ConnectAs(t, prev.Username, prev.Password, e.db)
	admin := e.pg.AdminDB(t, e.db)
	_, err := admin.Exec(context.Background(), "GRANT CREATE, USAGE ON SCHEMA public TO "+pgx.Identifier{base}.Sanitize())
	must(t, err, "grant schema")
	t1, t2 := dbtest.UniqueName("t"), dbtest.UniqueName("t")
	_, err = c1.Exec(context.Background(), "CREATE TABLE "+pgx.Identifier{t1}.Sanitize()+" (v int)")
	must(t, err, "create table as "+cur.Username)
	_, err = c2.Exec(context.Background(), "CREATE TABLE "+pgx.Identifier{t2}.Sanitize()+" (v int)")
	must(t, err, "create table as "+prev.Username)
	for _, c := range []*pgx.Conn{c1, c2} {
		for _, tbl := range []string{t1, t2} {
			_, err := c.Exec(context.Background(), "INSERT INTO "+pgx.Identifier{tbl}.Sanitize()+" VALUES (1)")
			must(t, err, "write "+tbl)
		}
	}
}

func TestRDSManagedMasterSecret(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{strategy: strategies.NameAlternatingUsers})
	base := dbtest.UniqueName("app")
	admin := dbtest.UniqueName("rdsadmin")
	e.pg.CreateRole(t, admin, "rds-master-password", "CREATEROLE")
	e.pg.CreateRole(t, base, "base-password-1")
	dropClone(t, e, base+"_clone")
	dbARN := e.srv.AddDBInstance(awslocal.DBInstance{Identifier: dbtest.UniqueName("db"), Engine: "postgres", Address: e.pg.Host, Port: e.pg.Port, MasterUsername: admin})
	e.secrets = append(e.secrets, "rds-master-password")
	// As RDS creates it: OwningService rds, the mixed-case aws:rds tag.
	masterARN, err := e.srv.AddRDSManagedSecret(dbARN, admin, "rds-master-password")
	must(t, err, "add RDS-managed secret")
	e.rotOpts.AdminSecretARNs = append(e.rotOpts.AdminSecretARNs, masterARN)
	e.newRotator()
	// The app secret points at the same server under another name, so a
	// login through RDS's answer is what makes the admin step work.
	arn := e.createSecret(dbtest.UniqueName("s"), e.doc(base, "base-password-1", map[string]any{"masterarn": masterARN}), nil)
	e.srv.ResetStats()
	e.mustRotate(arn)
	if e.srv.Stats()["DescribeDBInstances"] != 1 {
		t.Fatalf("DescribeDBInstances calls: %d, want 1", e.srv.Stats()["DescribeDBInstances"])
	}
	cur := e.value(arn, rotation.LabelCurrent)
	must(t, e.canLogin(cur.Username, cur.Password), "clone logs in")
}

// TestStepsRepeated invokes every step twice, as Secrets Manager may after a
// timeout: the rotation must end as if each ran once.
func TestStepsRepeated(t *testing.T) {
	t.Parallel()
	for _, strategy := range []string{strategies.NameSingleUser, strategies.NameAlternatingUsers} {
		t.Run(strategy, func(t *testing.T) {
			e := newEnv(t, envOptions{strategy: strategy})
			var arn, user string
			if strategy == strategies.NameAlternatingUsers {
				arn, user = alternating(t, e, "admin-password-1")
			} else {
				user = dbtest.UniqueName("app")
				e.pg.CreateRole(t, user, "initial-password-1")
				arn = e.createSecret(dbtest.UniqueName("s"), e.doc(user, "initial-password-1", nil), nil)
			}
			e.hook = func(ctx context.Context, ev events.RotationEvent, next func() error) error {
				if err := next(); err != nil {
					return err
				}
				return next()
			}
			e.mustRotate(arn)
			cur := e.value(arn, rotation.LabelCurrent)
			must(t, e.canLogin(cur.Username, cur.Password), "current logs in after repeated steps")
			if strategy == strategies.NameSingleUser && cur.Username != user {
				t.Fatalf("user changed to %q", cur.Username)
			}
		})
	}
}

// TestCrashAfterEachStep makes the invocation of one step report a failure
// after the step's work is done (a crash or timeout before Lambda returns).
// Secrets Manager retries the whole rotation; it must complete, and until it
// does AWSCURRENT must keep logging in.
func TestCrashAfterEachStep(t *testing.T) {
	t.Parallel()
	for _, strategy := range []string{strategies.NameSingleUser, strategies.NameAlternatingUsers} {
		for _, crashAt := range events.Steps {
			t.Run(strategy+"/"+string(crashAt), func(t *testing.T) {
				t.Parallel()
				e := newEnv(t, envOptions{strategy: strategy, attempts: 2})
				var arn string
				if strategy == strategies.NameAlternatingUsers {
					arn, _ = alternating(t, e, "admin-password-1")
				} else {
					user := dbtest.UniqueName("app")
					e.pg.CreateRole(t, user, "initial-password-1")
					arn = e.createSecret(dbtest.UniqueName("s"), e.doc(user, "initial-password-1", nil), nil)
				}
				crashed := false
				e.hook = func(ctx context.Context, ev events.RotationEvent, next func() error) error {
					err := next()
					if err == nil && !crashed && events.Step(ev.Step) == crashAt {
						crashed = true
						// Alternating-users: AWSCURRENT works throughout.
						// Single-user: between setSecret and finishSecret
						// the database already has the pending password
						// (the strategy's documented window); the retry
						// must close it.
						label := rotation.LabelCurrent
						if strategy == strategies.NameSingleUser && (crashAt == events.StepSetSecret || crashAt == events.StepTestSecret) {
							label = rotation.LabelPending
						}
						cur := e.value(arn, label)
						if lerr := e.canLogin(cur.Username, cur.Password); lerr != nil {
							t.Errorf("%s does not log in after %s: %v", label, crashAt, lerr)
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
				if got := e.labels(arn)[res.VersionID]; len(got) != 1 {
					t.Fatalf("new version labels %v", got)
				}
			})
		}
	}
}

func TestAlreadyCurrentTokenReturnsAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	user := dbtest.UniqueName("app")
	e.pg.CreateRole(t, user, "initial-password-1")
	arn := e.createSecret(dbtest.UniqueName("s"), e.doc(user, "initial-password-1", nil), nil)
	res := e.mustRotate(arn)
	before := e.labels(arn)
	e.srv.ResetStats()
	for _, step := range events.Steps {
		err := e.rot.Handle(context.Background(), events.RotationEvent{Step: string(step), SecretID: arn, ClientRequestToken: res.VersionID})
		must(t, err, string(step)+" on the current version")
	}
	if after := e.labels(arn); fmtLabels(after) != fmtLabels(before) {
		t.Fatalf("labels changed: %s -> %s", fmtLabels(before), fmtLabels(after))
	}
	if calls, byOp := e.rotorCalls(); calls != 4 || byOp["DescribeSecret"] != 4 {
		t.Fatalf("calls %v, want one DescribeSecret per step and nothing else", byOp)
	}
}

// TestAwkwardUserNames rotates users whose names are shaped like SQL
// injection, hold spaces, unicode or reserved words, or use PostgreSQL's
// whole 63 bytes; and passwords drawn from every punctuation character.
func TestAwkwardUserNames(t *testing.T) {
	t.Parallel()
	every := rotation.DefaultPasswordPolicy()
	none := ""
	every.ExcludeCharacters = &none
	every.Length = 64
	names := map[string]string{
		"quotes":    `o'brien"`,
		"injection": `x'; DROP ROLE postgres; --`,
		"spaces":    "my app",
		"unicode":   "приложение",
		"reserved":  "select",
	}
	for label, prefix := range names {
		for _, strategy := range []string{strategies.NameSingleUser, strategies.NameAlternatingUsers} {
			t.Run(label+"/"+strategy, func(t *testing.T) {
				t.Parallel()
				e := newEnv(t, envOptions{strategy: strategy, password: &every})
				user := prefix + dbtest.UniqueName("")[:8]
				initial := `p!"#$%&'()*+,-./:;<=>?@[\]^_` + "`{|}~1Aa"
				e.pg.CreateRole(t, user, initial)
				var arn string
				if strategy == strategies.NameAlternatingUsers {
					admin := dbtest.UniqueName("admin")
					e.pg.CreateRole(t, admin, "admin-password-1", "CREATEROLE")
					dropClone(t, e, user+"_clone")
					master := e.createAdmin(dbtest.UniqueName("m"), e.doc(admin, "admin-password-1", nil), nil)
					arn = e.createSecret(dbtest.UniqueName("s"), e.doc(user, initial, map[string]any{"masterarn": master}), nil)
				} else {
					arn = e.createSecret(dbtest.UniqueName("s"), e.doc(user, initial, nil), nil)
				}
				e.mustRotate(arn)
				cur := e.value(arn, rotation.LabelCurrent)
				must(t, e.canLogin(cur.Username, cur.Password), "rotated credential logs in")
			})
		}
	}
	t.Run("63 bytes", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, envOptions{attempts: 1})
		user := dbtest.UniqueName("long")
		user += strings.Repeat("x", 63-len(user))
		e.pg.CreateRole(t, user, "initial-password-1")
		arn := e.createSecret(dbtest.UniqueName("s"), e.doc(user, "initial-password-1", nil), nil)
		e.mustRotate(arn)
		cur := e.value(arn, rotation.LabelCurrent)
		must(t, e.canLogin(user, cur.Password), "63-byte user rotates single-user")

		// Alternating-users cannot add "_clone": a clear error, nothing written.
		_, err := e.sm.TagResource(context.Background(), &secretsmanager.TagResourceInput{SecretId: aws.String(arn), Tags: tagList(rotation.TagStrategy, strategies.NameAlternatingUsers)})
		must(t, err, "tag strategy")
		doc := e.doc(user, cur.Password, map[string]any{"masterarn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:m-abcdef"})
		_, err = e.sm.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{SecretId: aws.String(arn), SecretString: aws.String(doc)})
		must(t, err, "put masterarn")
		res := e.rotate(arn)
		if res.Succeeded || res.Step != events.StepCreateSecret || !strings.Contains(res.Err.Error(), "at most 63") {
			t.Fatalf("rotation: succeeded=%v step=%s err=%v; want a createSecret failure naming the 63-byte limit", res.Succeeded, res.Step, res.Err)
		}
	})
}

func TestFailedStepIsRecordedAndCurrentKeepsWorking(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{strategy: strategies.NameAlternatingUsers, attempts: 1})
	arn, base := alternating(t, e, "wrong-admin-password")
	res := e.rotate(arn)
	if res.Succeeded || res.Step != events.StepSetSecret {
		t.Fatalf("rotation: succeeded=%v step=%s, want a setSecret failure", res.Succeeded, res.Step)
	}
	// In process the stand-in sees the Go error; the built function reports
	// ErrorType() as Lambda's errorType (checked under the emulator).
	var fe *awslocal.FunctionError
	if !errors.As(res.Err, &fe) || !strings.HasPrefix(fe.Message, "setSecret: ") {
		t.Fatalf("function error %#v, want one starting with the step", res.Err)
	}
	tags := e.tags(arn)
	if tags[rotation.TagLastRotation] != rotation.OutcomeFailed || tags[rotation.TagLastErrorStep] != "setSecret" ||
		!strings.Contains(tags[rotation.TagLastError], "admin login") || tags[rotation.TagLastVersion] != res.VersionID {
		t.Fatalf("outcome tags %v", tags)
	}
	if strings.Contains(res.Err.Error(), "wrong-admin-password") || strings.Contains(tags[rotation.TagLastError], "wrong-admin-password") {
		t.Fatal("the admin password leaked into the error or the tag")
	}
	cur := e.value(arn, rotation.LabelCurrent)
	if cur.Username != base {
		t.Fatalf("AWSCURRENT moved to %q", cur.Username)
	}
	must(t, e.canLogin(base, "base-password-1"), "AWSCURRENT still logs in")

	// A later successful rotation clears the failure. AWSPENDING from the
	// failed one blocks RotateSecret until removed, as on AWS.
	_, err := e.sm.UpdateSecretVersionStage(context.Background(), &secretsmanager.UpdateSecretVersionStageInput{
		SecretId: aws.String(arn), VersionStage: aws.String(rotation.LabelPending), RemoveFromVersionId: aws.String(res.VersionID)})
	must(t, err, "clear AWSPENDING")
	master := cur.MasterARN
	admin := strings.Split(e.value(master, rotation.LabelCurrent).Username, "\x00")[0]
	_, err = e.sm.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{SecretId: aws.String(master), SecretString: aws.String(e.doc(admin, "admin-password-1", nil))})
	must(t, err, "fix admin secret")
	ok := e.mustRotate(arn)
	if tags := e.tags(arn); tags[rotation.TagLastRotation] != rotation.OutcomeSucceeded || tags[rotation.TagLastErrorStep] != "" || tags[rotation.TagLastError] != "" || tags[rotation.TagLastVersion] != ok.VersionID {
		t.Fatalf("outcome tags after success %v", tags)
	}
}

func TestPreviousUserSessions(t *testing.T) {
	t.Parallel()
	for _, policy := range []string{strategies.SessionsWarn, strategies.SessionsFail} {
		t.Run(policy, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{strategy: strategies.NameAlternatingUsers, sessions: policy, attempts: 1})
			arn, base := alternating(t, e, "admin-password-1")
			e.mustRotate(arn) // base -> clone; base is now AWSPREVIOUS
			// A client still holding AWSPREVIOUS keeps a session open.
			e.pg.ConnectAs(t, base, "base-password-1", e.db)
			res := e.rotate(arn) // would change base's password
			switch policy {
			case strategies.SessionsWarn:
				if !res.Succeeded {
					t.Fatalf("warn policy refused the rotation: %v", res.Err)
				}
				if !strings.Contains(e.logs.String(), `"sessions":1`) {
					t.Fatalf("session count not logged:\n%s", e.logs.String())
				}
			case strategies.SessionsFail:
				if res.Succeeded || res.Step != events.StepSetSecret || !strings.Contains(res.Err.Error(), "open session") {
					t.Fatalf("fail policy: succeeded=%v step=%s err=%v", res.Succeeded, res.Step, res.Err)
				}
				must(t, e.canLogin(base, "base-password-1"), "the previous user's password is untouched")
			}
		})
	}
}

// TestFinishRefusesValuelessPending: a finishSecret that arrives for the
// value-less placeholder (createSecret never stored a value) must not make
// it AWSCURRENT, or the secret would have no readable current value.
func TestFinishRefusesValuelessPending(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{attempts: 1})
	user := dbtest.UniqueName("app")
	e.pg.CreateRole(t, user, "initial-password-1")
	arn := e.createSecret(dbtest.UniqueName("s"), e.doc(user, "initial-password-1", nil), nil)
	e.hook = func(ctx context.Context, ev events.RotationEvent, next func() error) error {
		return errors.New("function not deployed yet")
	}
	res := e.rotate(arn)
	if res.Succeeded {
		t.Fatal("rotation succeeded without a function")
	}
	before := e.labels(arn)
	err := e.rot.Handle(context.Background(), events.RotationEvent{Step: "finishSecret", SecretID: arn, ClientRequestToken: res.VersionID})
	if err == nil || !strings.Contains(err.Error(), "no value yet") {
		t.Fatalf("finishSecret on the placeholder: err %v, want a refusal", err)
	}
	if after := e.labels(arn); fmtLabels(after) != fmtLabels(before) {
		t.Fatalf("labels changed: %s -> %s", fmtLabels(before), fmtLabels(after))
	}
	must(t, e.canLogin(user, e.value(arn, rotation.LabelCurrent).Password), "AWSCURRENT still readable and working")
}

// TestAdminCredentialNeverFollowsTheRotatedSecretsHost: an admin secret with
// neither a host nor an aws:rds tag is refused at createSecret, before
// anything is written (it was at setSecret). Logging in as
// the admin at the rotated secret's host would hand the admin password to
// whoever can write that secret's host.
func TestAdminCredentialNeverFollowsTheRotatedSecretsHost(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{strategy: strategies.NameAlternatingUsers, attempts: 1})
	base, admin := dbtest.UniqueName("app"), dbtest.UniqueName("admin")
	e.pg.CreateRole(t, base, "base-password-1")
	e.pg.CreateRole(t, admin, "admin-password-1", "CREATEROLE")
	dropClone(t, e, base+"_clone")
	e.secrets = append(e.secrets, "admin-password-1")
	master := e.createAdmin(dbtest.UniqueName("m"), `{"username":"`+admin+`","password":"admin-password-1"}`, nil)
	arn := e.createSecret(dbtest.UniqueName("s"), e.doc(base, "base-password-1", map[string]any{"masterarn": master}), nil)
	off := e.pg.LogOffset(t)
	res := e.rotate(arn)
	if res.Succeeded || res.Step != events.StepCreateSecret || !strings.Contains(res.Err.Error(), `field "host"`) {
		t.Fatalf("rotation: succeeded=%v step=%s err=%v; want createSecret refusing the hostless admin secret", res.Succeeded, res.Step, res.Err)
	}
	if n := e.logins(off, admin); n != 0 {
		t.Fatalf("the admin logged in %d time(s) at the rotated secret's host", n)
	}
}
