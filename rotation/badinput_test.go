package rotation_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
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

// badInput is one case of TestBadInputChangesNothing. Exactly one of
// payload (a rotation event, handed to the rotator as the Lambda runtime
// hands it over) and doc/binary (the AWSCURRENT value of a fresh secret,
// rotated through the stand-in's RotateSecret) is set.
type badInput struct {
	name    string
	payload func(f *badFixture) string
	doc     func(f *badFixture) string
	binary  []byte
	// alternating tags the secret rotor:strategy=alternating-users.
	alternating bool
	// self rewrites the document so that masterarn names the secret itself.
	self bool
	// deny makes the stand-in refuse the rotator's reads of this secret
	// (AccessDeniedException) for the case's rotation.
	deny func(f *badFixture) string
	// want are the phrases the error must hold: the field's name, as
	// `field "x"` for a field error, and what is wrong with it.
	want []string
	// hidden is a value the error must not hold (a password).
	hidden string
}

// badFixture is the world the cases share.
type badFixture struct {
	e         *env
	user      string // the application role every document names
	admin     string // the admin role
	adminARN  string // an allowed admin secret that works
	noHostARN string // an allowed admin secret without host or RDS tag
	sameARN   string // an allowed admin secret whose user is the rotated one
	deniedARN string // an allowed admin secret the stand-in refuses to read
	missing   string // an allowed ARN of no secret
	outside   string // a working admin secret that is not allowed
	eventARN  string // a rotated secret the event cases aim at
	disabled  string // a secret without rotation
	prevID    string // eventARN's AWSPREVIOUS version
	hook      sync.Map
	dbMu      sync.Mutex
	db        *pgx.Conn
}

const (
	badPassword  = "initial-password-1"
	unknownToken = "00000000-0000-4000-8000-000000000000"
)

// docOf is a PostgreSQL document for the fixture's user, with keys set or,
// with a nil value, removed.
func (f *badFixture) docOf(set map[string]any) string {
	m := map[string]any{"engine": "postgres", "host": f.e.pg.Host, "port": f.e.pg.Port, "username": f.user, "password": badPassword, "dbname": f.e.db}
	for k, v := range set {
		if v == nil {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// raw returns a function yielding s with USER replaced by the user name.
func raw(s string) func(*badFixture) string {
	return func(f *badFixture) string { return strings.ReplaceAll(s, "USER", f.user) }
}

func set(kv ...any) func(*badFixture) string {
	return func(f *badFixture) string {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return f.docOf(m)
	}
}

func event(step, secret, token string) func(*badFixture) string {
	return func(f *badFixture) string {
		m := map[string]string{"Step": step, "SecretId": secret, "ClientRequestToken": token}
		switch secret {
		case "EVENT":
			m["SecretId"] = f.eventARN
		case "DISABLED":
			m["SecretId"] = f.disabled
		}
		if token == "PREVIOUS" {
			m["ClientRequestToken"] = f.prevID
		}
		for k, v := range m {
			if v == "" {
				delete(m, k)
			}
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
}

func masterarn(pick func(f *badFixture) string) func(*badFixture) string {
	return func(f *badFixture) string { return f.docOf(map[string]any{"masterarn": pick(f)}) }
}

var huge = strings.Repeat("x", 65<<10)

// badInputs is the table: every kind of bad input a rotation can meet.
var badInputs = []badInput{
	// The rotation event, as the Lambda runtime hands it to the rotator.
	{name: "event: malformed JSON", payload: raw(`{"Step":"createSecret",`), want: []string{`field "event"`, "not a JSON object"}},
	{name: "event: not an object", payload: raw(`["createSecret"]`), want: []string{`field "event"`, "not a JSON object"}},
	{name: "event: trailing data", payload: raw(`{"Step":"createSecret"} {}`), want: []string{`field "event"`, "trailing data"}},
	{name: "event: duplicate Step", payload: raw(`{"Step":"createSecret","SecretId":"s","ClientRequestToken":"` + unknownToken + `","Step":"finishSecret"}`), want: []string{`field "Step"`, "more than once"}},
	{name: "event: duplicate key in another case", payload: raw(`{"SecretId":"a","secretid":"b","Step":"createSecret","ClientRequestToken":"` + unknownToken + `"}`), want: []string{`field "secretid"`, "more than once"}},
	{name: "event: Step a number", payload: raw(`{"Step":1,"SecretId":"s","ClientRequestToken":"` + unknownToken + `"}`), want: []string{`field "Step"`, "must be a string"}},
	{name: "event: missing step", payload: event("", "EVENT", unknownToken), want: []string{`field "Step"`, "missing"}},
	{name: "event: unknown step", payload: event("dropSecret", "EVENT", unknownToken), want: []string{`field "Step"`, "unknown step"}},
	{name: "event: NUL in step", payload: event("createSecret\x00", "EVENT", unknownToken), want: []string{`field "Step"`, "unknown step"}},
	{name: "event: missing SecretId", payload: event("createSecret", "", unknownToken), want: []string{`field "SecretId"`, "missing"}},
	{name: "event: huge SecretId", payload: event("createSecret", huge, unknownToken), want: []string{`field "SecretId"`, "longer than 2048"}},
	{name: "event: NUL in SecretId", payload: event("createSecret", "app\x00db", unknownToken), want: []string{`field "SecretId"`, "NUL"}},
	{name: "event: short token", payload: event("createSecret", "EVENT", "x"), want: []string{`field "ClientRequestToken"`, "length 1"}},
	{name: "event: huge token", payload: event("createSecret", "EVENT", huge), want: []string{`field "ClientRequestToken"`, "want 32 to 64"}},
	{name: "event: unknown token", payload: event("createSecret", "EVENT", unknownToken), want: []string{unknownToken, "not part of a rotation"}},
	{name: "event: token not AWSPENDING", payload: event("setSecret", "EVENT", "PREVIOUS"), want: []string{"is not AWSPENDING"}},
	{name: "event: unknown secret", payload: event("createSecret", "no-such-secret", unknownToken), want: []string{"describe secret", "ResourceNotFoundException"}},
	{name: "event: rotation not enabled", payload: event("createSecret", "DISABLED", unknownToken), want: []string{"rotation is not enabled"}},

	// The secret's document (AWSCURRENT).
	{name: "doc: malformed JSON", doc: raw(`{"engine":"postgres",`), want: []string{`field "SecretString"`, "not a JSON object"}},
	{name: "doc: top level array", doc: raw(`[{"engine":"postgres"}]`), want: []string{`field "SecretString"`, "not a JSON object"}},
	{name: "doc: top level null", doc: raw(`null`), want: []string{`field "SecretString"`, "not a JSON object"}},
	{name: "doc: trailing data", doc: raw(`{"engine":"postgres","host":"h","username":"USER","password":"` + badPassword + `"} x`), want: []string{`field "SecretString"`, "trailing data"}},
	{name: "doc: empty object", doc: raw(`{}`), want: []string{`field "username"`, "missing"}},
	{name: "doc: duplicate username", doc: raw(`{"engine":"postgres","host":"h","username":"USER","username":"postgres","password":"` + badPassword + `"}`), want: []string{`field "username"`, "more than once"}},
	{name: "doc: duplicate password", doc: raw(`{"engine":"postgres","host":"h","username":"USER","password":"` + badPassword + `","password":"other-password-2"}`), want: []string{`field "password"`, "more than once"}, hidden: "other-password-2"},
	{name: "doc: binary secret", binary: []byte(`{"engine":"postgres","username":"u","password":"p"}`), want: []string{"SecretBinary", "JSON SecretString"}},
	{name: "doc: no host", doc: set("host", nil), want: []string{`field "host"`, "missing"}},
	{name: "doc: empty host", doc: set("host", ""), want: []string{`field "host"`, "missing or empty"}},
	{name: "doc: host a list", doc: set("host", []string{"127.0.0.1"}), want: []string{`field "host"`, "must be a string"}},
	{name: "doc: NUL in host", doc: set("host", "127.0.0.1\x00evil"), want: []string{`field "host"`, "NUL"}},
	{name: "doc: huge host", doc: set("host", huge), want: []string{`field "host"`, "longer than"}},
	{name: "doc: no password", doc: set("password", nil), want: []string{`field "password"`, "missing"}},
	{name: "doc: empty password", doc: set("password", ""), want: []string{`field "password"`, "missing or empty"}},
	{name: "doc: password a number", doc: set("password", 12345678), want: []string{`field "password"`, "must be a string"}},
	{name: "doc: NUL in password", doc: set("password", "secret\x00password"), want: []string{`field "password"`, "NUL"}, hidden: "secret\x00password"},
	{name: "doc: huge password", doc: set("password", "P"+huge), want: []string{`field "password"`, "longer than"}, hidden: "P" + huge},
	{name: "doc: empty username", doc: set("username", ""), want: []string{`field "username"`, "missing or empty"}},
	{name: "doc: username a number", doc: set("username", 42), want: []string{`field "username"`, "must be a string"}},
	{name: "doc: NUL in username", doc: set("username", "a\x00b"), want: []string{`field "username"`, "NUL"}},
	{name: "doc: username too long", doc: set("username", strings.Repeat("u", 64)), want: []string{`field "username"`, "63"}},
	{name: "doc: huge username", doc: set("username", huge), want: []string{`field "username"`, "longer than"}},
	{name: "doc: engine missing", doc: set("engine", nil), want: []string{`field "engine"`, "missing"}},
	{name: "doc: unknown engine", doc: set("engine", "oracle"), want: []string{`field "engine"`, "oracle"}},
	{name: "doc: engine of another family", doc: set("engine", "sqlserver"), want: []string{`field "engine"`, "sqlserver"}},
	{name: "doc: engine a number", doc: set("engine", 5), want: []string{`field "engine"`, "must be a string"}},
	{name: "doc: port zero", doc: set("port", 0), want: []string{`field "port"`, "out of range"}},
	{name: "doc: port 65536", doc: set("port", 65536), want: []string{`field "port"`, "65536 is out of range"}},
	{name: "doc: port string 65536", doc: set("port", "65536"), want: []string{`field "port"`, "65536 is out of range"}},
	{name: "doc: negative port", doc: set("port", -5432), want: []string{`field "port"`, "out of range"}},
	{name: "doc: fractional port", doc: raw(`{"engine":"postgres","host":"h","port":5432.5,"username":"USER","password":"` + badPassword + `"}`), want: []string{`field "port"`, "whole number"}},
	{name: "doc: huge port", doc: raw(`{"engine":"postgres","host":"h","port":1` + strings.Repeat("0", 400) + `,"username":"USER","password":"` + badPassword + `"}`), want: []string{`field "port"`, "whole number"}},
	{name: "doc: port not numeric", doc: set("port", "x"), want: []string{`field "port"`, "whole number"}},
	{name: "doc: port a bool", doc: set("port", true), want: []string{`field "port"`, "number or a numeric string"}},
	{name: "doc: dbname a number", doc: set("dbname", 5), want: []string{`field "dbname"`, "must be a string"}},
	{name: "doc: NUL in dbname", doc: set("dbname", "app\x00db"), want: []string{`field "dbname"`, "NUL"}},
	{name: "doc: unknown ssl", doc: set("ssl", "sometimes"), want: []string{`field "ssl"`, "unknown value"}},
	{name: "doc: ssl a number", doc: set("ssl", 2), want: []string{`field "ssl"`, "bool or a string"}},

	// masterarn, for alternating-users: every problem fails createSecret,
	// before the pending version is written.
	{name: "masterarn: missing", alternating: true, doc: set(), want: []string{`field "masterarn"`, "alternating-users"}},
	{name: "masterarn: a number", alternating: true, doc: set("masterarn", 7), want: []string{`field "masterarn"`, "must be a string"}},
	{name: "masterarn: the secret itself", alternating: true, self: true, doc: set(), want: []string{`field "masterarn"`, "names this secret itself"}},
	{name: "masterarn: not a Secrets Manager ARN", alternating: true, doc: masterarn(func(*badFixture) string { return "arn:aws:ssm:us-east-1:123456789012:parameter/admin" }), want: []string{`field "masterarn"`, "not a Secrets Manager secret"}},
	{name: "masterarn: not allowed", alternating: true, doc: masterarn(func(f *badFixture) string { return f.outside }), want: []string{`field "masterarn"`, "ADMIN_SECRET_ARNS"}},
	{name: "masterarn: missing secret", alternating: true, doc: masterarn(func(f *badFixture) string { return f.missing }), want: []string{"admin secret (masterarn)", "ResourceNotFoundException"}},
	{name: "masterarn: unreadable secret", alternating: true, doc: masterarn(func(f *badFixture) string { return f.deniedARN }), deny: func(f *badFixture) string { return f.deniedARN }, want: []string{"admin secret (masterarn)", "AccessDeniedException"}},
	{name: "masterarn: admin without host", alternating: true, doc: masterarn(func(f *badFixture) string { return f.noHostARN }), want: []string{`field "host"`, "masterarn"}},
	{name: "masterarn: admin is the rotated user", alternating: true, doc: masterarn(func(f *badFixture) string { return f.sameARN }), want: []string{"admin secret's user", "one of the rotated users"}},
}

// TestBadInputChangesNothing feeds the rotator every kind of bad input in
// one table: malformed rotation events, through the entry the Lambda
// function uses (Rotator.HandleEvent), and malformed secret documents and
// masterarn values, through a rotation the stand-in's RotateSecret runs.
// Each fails with an error naming the field and the problem, holding no
// secret value; and nothing changes: the secrets' versions, labels, values
// and tags (the failure's outcome tags aside, which are checked to record
// it), the role's password verifier and expiry, and the set of roles.
func TestBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	f := newBadFixture(t)
	if len(badInputs) < 40 {
		t.Fatalf("%d cases, the table keeps at least 40", len(badInputs))
	}
	for _, tc := range badInputs {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.payload != nil {
				f.runEvent(t, tc)
			} else {
				f.runDoc(t, tc)
			}
		})
	}
}

func newBadFixture(t *testing.T) *badFixture {
	e := newEnv(t, envOptions{strategy: strategies.NameSingleUser, attempts: 1})
	f := &badFixture{e: e, user: dbtest.UniqueName("app"), admin: dbtest.UniqueName("admin")}
	e.pg.CreateRole(t, f.user, badPassword)
	e.pg.CreateRole(t, f.admin, "admin-password-1", "CREATEROLE")
	dropClone(t, e, f.user+"_clone")
	e.secrets = append(e.secrets, badPassword, "admin-password-1", "other-password-2", "secret\x00password", "P"+huge)
	f.db = e.pg.AdminDB(t, e.db)

	adminDoc := e.adminDoc(f.admin, "admin-password-1", nil)
	f.adminARN = e.createAdmin(dbtest.UniqueName("admin"), adminDoc, nil)
	f.noHostARN = e.createAdmin(dbtest.UniqueName("nohost"), e.adminDoc(f.admin, "admin-password-1", map[string]any{"host": nil}), nil)
	f.sameARN = e.createAdmin(dbtest.UniqueName("same"), e.adminDoc(f.user, badPassword, nil), nil)
	f.deniedARN = e.createAdmin(dbtest.UniqueName("denied"), adminDoc, nil)
	f.missing = "arn:aws:secretsmanager:us-east-1:123456789012:secret:gone-AbCdEf"
	e.rotOpts.AdminSecretARNs = append(e.rotOpts.AdminSecretARNs, f.missing)
	e.newRotator()
	f.outside = e.createSecret(dbtest.UniqueName("outside"), adminDoc, nil)

	// The event cases aim at a secret rotated once, so that it has an
	// AWSPREVIOUS version, and at one never rotated. Their own role
	// keeps the document cases' role untouched.
	evUser := dbtest.UniqueName("ev")
	e.pg.CreateRole(t, evUser, badPassword)
	f.eventARN = e.createSecret(dbtest.UniqueName("ev"), e.doc(evUser, badPassword, nil), nil)
	e.mustRotate(f.eventARN)
	for id, l := range e.labels(f.eventARN) {
		if slices.Contains(l, rotation.LabelPrevious) {
			f.prevID = id
		}
	}
	f.disabled = e.createSecret(dbtest.UniqueName("off"), e.doc(evUser, badPassword, nil), nil)

	// The "before" snapshot of a document case is taken as the rotator
	// is first invoked: after RotateSecret made its value-less AWSPENDING
	// placeholder (the service's doing), before rotor did anything.
	e.hook = func(ctx context.Context, ev events.RotationEvent, next func() error) error {
		if v, ok := f.hook.Load(ev.SecretID); ok {
			v.(func())()
		}
		return next()
	}
	return f
}

// runEvent hands the rotator an event payload; the event's secrets, the
// admin secret and the database must be as they were.
func (f *badFixture) runEvent(t *testing.T, tc badInput) {
	watch := []string{f.eventARN, f.disabled, f.adminARN}
	before, dbBefore := f.smState(t, watch), f.dbState(t)
	err := f.e.rot.HandleEvent(context.Background(), []byte(tc.payload(f)))
	if err == nil {
		t.Fatal("the bad event was accepted")
	}
	var se *rotation.StepError
	if !errors.As(err, &se) {
		t.Fatalf("error is %T, want *rotation.StepError", err)
	}
	f.checkError(t, tc, err.Error())
	f.same(t, "Secrets Manager", before, f.smState(t, watch))
	f.same(t, "the database", dbBefore, f.dbState(t))
}

// runDoc stores the case's document as a fresh secret's AWSCURRENT and
// rotates it once.
func (f *badFixture) runDoc(t *testing.T, tc badInput) {
	e := f.e
	ctx := context.Background()
	in := &secretsmanager.CreateSecretInput{Name: aws.String(dbtest.UniqueName("bad"))}
	if tc.binary != nil {
		in.SecretBinary = tc.binary
	} else {
		in.SecretString = aws.String(tc.doc(f))
	}
	out, err := e.sm.CreateSecret(ctx, in)
	must(t, err, "create the secret")
	arn := aws.ToString(out.ARN)
	if tc.alternating {
		_, err := e.sm.TagResource(ctx, &secretsmanager.TagResourceInput{SecretId: aws.String(arn), Tags: tagList(rotation.TagStrategy, strategies.NameAlternatingUsers)})
		must(t, err, "tag the strategy")
	}
	if tc.self {
		e.putCurrent(arn, f.docOf(map[string]any{"masterarn": arn}))
	}
	if tc.deny != nil {
		id, err := e.srv.AddFault(awslocal.Fault{Operation: "GetSecretValue", SecretID: tc.deny(f), Answer: awslocal.FaultDeny})
		must(t, err, "deny reads")
		defer e.srv.RemoveFault(id)
	}
	watch := []string{arn, f.adminARN, f.noHostARN, f.sameARN}
	var before map[string]string
	var dbBefore map[string]string
	f.hook.Store(arn, func() {
		if before == nil {
			before, dbBefore = f.smState(t, watch), f.dbState(t)
		}
	})
	res := e.rotate(arn)
	if before == nil {
		t.Fatal("the rotator was never invoked")
	}
	if res.Succeeded || res.Step != events.StepCreateSecret {
		t.Fatalf("rotation: succeeded=%v step=%s err=%v; want a createSecret failure", res.Succeeded, res.Step, res.Err)
	}
	var fe *awslocal.FunctionError
	if !errors.As(res.Err, &fe) || fe.Type != "StepError" {
		t.Fatalf("error %v (%T), want the rotator's own StepError", res.Err, res.Err)
	}
	f.checkError(t, tc, fe.Message)

	after := f.smState(t, watch)
	// The failure is recorded on the secret, as every failed step is
	// (alerting reads it); that is the one change allowed.
	tags := e.tags(arn)
	if tags[rotation.TagLastRotation] != rotation.OutcomeFailed || tags[rotation.TagLastErrorStep] != string(events.StepCreateSecret) || tags[rotation.TagLastVersion] != res.VersionID {
		t.Fatalf("outcome tags %v, want the createSecret failure of %s", tags, res.VersionID)
	}
	f.checkTag(t, tc, tags[rotation.TagLastError])
	f.same(t, "Secrets Manager", before, after)
	f.same(t, "the database", dbBefore, f.dbState(t))
}

// checkError requires every phrase of tc.want in msg, and no password.
func (f *badFixture) checkError(t *testing.T, tc badInput, msg string) {
	t.Helper()
	for _, w := range tc.want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %.300q does not say %q", msg, w)
		}
	}
	for _, s := range []string{badPassword, "admin-password-1", tc.hidden} {
		if s != "" && strings.Contains(msg, s) {
			t.Errorf("error %.300q holds a password", msg)
		}
	}
	if len(msg) > 2048 {
		t.Errorf("error is %d bytes long; a bad value must not be echoed whole", len(msg))
	}
}

// checkTag requires the outcome tag to name the problem as the error
// does, as far as the tag's 256 characters go, and no password.
func (f *badFixture) checkTag(t *testing.T, tc badInput, tag string) {
	t.Helper()
	for _, w := range tc.want {
		if !strings.Contains(tag, events.TagValue(w)) && !strings.HasSuffix(tag, "...") {
			t.Errorf("outcome tag %q does not say %q", tag, w)
		}
	}
	for _, s := range []string{badPassword, "admin-password-1", tc.hidden} {
		if s != "" && strings.Contains(tag, events.TagValue(s)) {
			t.Errorf("outcome tag %q holds a password", tag)
		}
	}
}

// smState describes the secrets: each version's labels and value, the
// tags (rotor's outcome tags left out: a failed step records itself), and
// whether rotation is on.
func (f *badFixture) smState(t *testing.T, arns []string) map[string]string {
	t.Helper()
	ctx := context.Background()
	st := map[string]string{}
	for _, arn := range arns {
		d, err := f.e.sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(arn)})
		must(t, err, "describe "+arn)
		st[arn+" rotation"] = fmt.Sprint(aws.ToBool(d.RotationEnabled), aws.ToString(d.RotationLambdaARN))
		for _, tag := range d.Tags {
			if k := aws.ToString(tag.Key); !slices.Contains(rotation.OutcomeTagKeys, k) {
				st[arn+" tag "+k] = aws.ToString(tag.Value)
			}
		}
		for _, v := range f.e.srv.Versions(arn) {
			labels := slices.Clone(v.Stages)
			slices.Sort(labels)
			st[arn+" version "+v.VersionID] = fmt.Sprint(labels, v.HasValue)
			if !v.HasValue {
				continue
			}
			out, err := f.e.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn), VersionId: aws.String(v.VersionID)})
			must(t, err, "read version "+v.VersionID)
			st[arn+" value "+v.VersionID] = aws.ToString(out.SecretString) + string(out.SecretBinary)
		}
	}
	return st
}

// dbState describes the roles rotor could touch: the fixture's users and
// admin (password verifier, expiry, attributes) and how many roles share
// their names' prefixes (a clone would be one more).
func (f *badFixture) dbState(t *testing.T) map[string]string {
	t.Helper()
	f.dbMu.Lock()
	defer f.dbMu.Unlock()
	ctx := context.Background()
	st := map[string]string{}
	rows, err := f.db.Query(ctx, `SELECT rolname, coalesce(rolpassword, ''), coalesce(rolvaliduntil::text, ''), rolcanlogin, rolcreaterole
		FROM pg_catalog.pg_authid WHERE rolname LIKE $1 || '%' OR rolname LIKE $2 || '%' ORDER BY rolname`, f.user, f.admin)
	must(t, err, "read pg_authid")
	n := 0
	for rows.Next() {
		var name, verifier, until string
		var login, createrole bool
		must(t, rows.Scan(&name, &verifier, &until, &login, &createrole), "scan pg_authid")
		st["role "+name] = fmt.Sprint(verifier, until, login, createrole)
		n++
	}
	must(t, rows.Err(), "read pg_authid")
	st["roles"] = fmt.Sprint(n)
	return st
}

// same fails the test when a state changed, naming what changed but not
// the values (they hold passwords).
func (f *badFixture) same(t *testing.T, what string, before, after map[string]string) {
	t.Helper()
	for k, v := range before {
		if w, ok := after[k]; !ok {
			t.Errorf("%s: %s is gone", what, k)
		} else if w != v {
			t.Errorf("%s: %s changed", what, k)
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			t.Errorf("%s: %s is new", what, k)
		}
	}
}

// TestExtraKeysSurviveRotation: keys rotor does not know are kept, as
// AWS's templates keep them, and a string port stays a string; they are
// not bad input.
func TestExtraKeysSurviveRotation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	user := dbtest.UniqueName("app")
	e.pg.CreateRole(t, user, "initial-password-1")
	extra := map[string]any{"port": fmt.Sprint(e.pg.Port), "team": "payments", "limits": map[string]any{"pool": 5, "tags": []any{"a", nil, 1.5}}, "ünïcode": "✓"}
	arn := e.createSecret(dbtest.UniqueName("s"), e.doc(user, "initial-password-1", extra), nil)
	res := e.mustRotate(arn)
	cur := e.value(arn, rotation.LabelCurrent)
	out, err := e.sm.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn), VersionId: aws.String(res.VersionID)})
	must(t, err, "read the new version")
	var got map[string]json.RawMessage
	must(t, json.Unmarshal([]byte(aws.ToString(out.SecretString)), &got), "decode the new version")
	for k, v := range extra {
		want, _ := json.Marshal(v)
		var a, b any
		_ = json.Unmarshal(want, &a)
		_ = json.Unmarshal(got[k], &b)
		if !bytes.Equal(mustJSON(a), mustJSON(b)) {
			t.Errorf("key %q is %s after rotation, want %s", k, got[k], want)
		}
	}
	if cur.Password == "initial-password-1" {
		t.Fatal("the password did not change")
	}
	must(t, e.canLogin(user, cur.Password), "the new password logs in")
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
