package events

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	return b
}

// jsonEqual compares two JSON texts as values.
func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	ja, _ := json.Marshal(va)
	jb, _ := json.Marshal(vb)
	return string(ja) == string(jb)
}

func TestRotationEventRoundTrip(t *testing.T) {
	raw := readFixture(t, "rotation_event.json")
	ev, err := ParseRotationEvent(raw)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if Step(ev.Step) != StepCreateSecret || ev.RotationToken == "" {
		t.Fatalf("decoded %+v", ev)
	}
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	if !jsonEqual(t, raw, out) {
		t.Fatalf("round trip changed the event:\n%s\n%s", raw, out)
	}
}

func TestStepWireNames(t *testing.T) {
	want := []string{"createSecret", "setSecret", "testSecret", "finishSecret"}
	for i, s := range Steps {
		if string(s) != want[i] || !s.Valid() {
			t.Errorf("step %d = %q, want %q", i, s, want[i])
		}
	}
	if Step("CreateSecret").Valid() {
		t.Error("step names are case-sensitive on the wire")
	}
}

func TestRotationEventValidation(t *testing.T) {
	valid := RotationEvent{Step: "setSecret", SecretID: "s", ClientRequestToken: strings.Repeat("a", 36)}
	cases := map[string]struct {
		tweak func(*RotationEvent)
		field string
	}{
		"valid":         {func(*RotationEvent) {}, ""},
		"no step":       {func(e *RotationEvent) { e.Step = "" }, "Step"},
		"unknown step":  {func(e *RotationEvent) { e.Step = "dropTable" }, "Step"},
		"no secret":     {func(e *RotationEvent) { e.SecretID = "" }, "SecretId"},
		"no token":      {func(e *RotationEvent) { e.ClientRequestToken = "" }, "ClientRequestToken"},
		"short token":   {func(e *RotationEvent) { e.ClientRequestToken = "abc" }, "ClientRequestToken"},
		"long token":    {func(e *RotationEvent) { e.ClientRequestToken = strings.Repeat("x", 65) }, "ClientRequestToken"},
		"no rot. token": {func(e *RotationEvent) { e.RotationToken = "" }, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := valid
			tc.tweak(&e)
			err := ValidateRotationEvent(e)
			checkField(t, err, tc.field)
		})
	}
}

func checkField(t *testing.T, err error, field string) {
	t.Helper()
	if field == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != field {
		t.Fatalf("error %v, want one naming field %q", err, field)
	}
}

func TestSecretDocumentRoundTripKeepsUnknownKeys(t *testing.T) {
	raw := readFixture(t, "secret_postgres.json")
	d, err := ParseSecretDocument(string(raw))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if err := d.Validate(NeedConnection); err != nil {
		t.Fatalf("validate: %v", err)
	}
	out, err := d.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if !jsonEqual(t, raw, out) {
		t.Fatalf("round trip changed the document:\n%s\n%s", raw, out)
	}
	if d.TLSMode() != TLSVerifyFull || d.DBName != "orders" {
		t.Fatalf("accessors: tls=%s db=%s", d.TLSMode(), d.DBName)
	}
}

func TestSecretDocumentPortKeepsItsJSONType(t *testing.T) {
	d, err := ParseSecretDocument(`{"engine":"postgres","host":"h","port":"6432","username":"u","password":"p"}`)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := d.MarshalJSON()
	if !strings.Contains(string(out), `"port":"6432"`) {
		t.Fatalf("port written as %s", out)
	}
}

func TestRDSManagedMasterDocument(t *testing.T) {
	d, err := ParseSecretDocument(string(readFixture(t, "secret_rds_master.json")))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Validate(NeedCredentials); err != nil {
		t.Fatalf("credentials-only document refused: %v", err)
	}
	checkField(t, d.Validate(NeedConnection), "engine")
}

func TestSecretDocumentValidation(t *testing.T) {
	const valid = `{"engine":"postgres","host":"db","port":5432,"username":"app","password":"pw-secret-value","dbname":"x"}`
	cases := map[string]struct {
		doc   string
		field string
	}{
		"valid":              {valid, ""},
		"aurora":             {strings.Replace(valid, `"postgres"`, `"aurora-postgresql"`, 1), ""},
		"mariadb":            {strings.Replace(valid, `"postgres"`, `"mariadb"`, 1), ""},
		"not json":           {`{"engine":`, "SecretString"},
		"array":              {`[1,2]`, "SecretString"},
		"trailing":           {valid + `{}`, "SecretString"},
		"no username":        {strings.Replace(valid, `"username":"app",`, "", 1), "username"},
		"empty password":     {strings.Replace(valid, `"pw-secret-value"`, `""`, 1), "password"},
		"numeric password":   {strings.Replace(valid, `"pw-secret-value"`, `12345`, 1), "password"},
		"no host":            {strings.Replace(valid, `"host":"db",`, "", 1), "host"},
		"host with slash":    {strings.Replace(valid, `"db"`, `"db/x"`, 1), "host"},
		"port text":          {strings.Replace(valid, `5432`, `"fivefour"`, 1), "port"},
		"port range":         {strings.Replace(valid, `5432`, `70000`, 1), "port"},
		"port object":        {strings.Replace(valid, `5432`, `{}`, 1), "port"},
		"ssl bogus":          {strings.Replace(valid, `"dbname":"x"`, `"dbname":"x","ssl":"maybe"`, 1), "ssl"},
		"ssl number":         {strings.Replace(valid, `"dbname":"x"`, `"dbname":"x","ssl":3`, 1), "ssl"},
		"username NUL":       {strings.Replace(valid, `"app"`, `"a\u0000pp"`, 1), "username"},
		"injection-shaped":   {strings.Replace(valid, `"app"`, `"app\"; DROP ROLE x; --"`, 1), ""},
		"unicode user name":  {strings.Replace(valid, `"app"`, `"приложение"`, 1), ""},
		"duplicate username": {strings.Replace(valid, `"dbname":"x"`, `"dbname":"x","username":"postgres"`, 1), "username"},
		"duplicate password": {strings.Replace(valid, `{"engine"`, `{"password":"other-value","engine"`, 1), "password"},
		"duplicate extra":    {strings.Replace(valid, `"dbname":"x"`, `"dbname":"x","note":1,"note":2`, 1), "note"},
		"trailing garbage":   {valid + `x`, "SecretString"},
		"null":               {`null`, "SecretString"},
		"empty":              {``, "SecretString"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d, err := ParseSecretDocument(tc.doc)
			if err == nil {
				err = d.Validate(NeedConnection)
			}
			checkField(t, err, tc.field)
			if err != nil && strings.Contains(err.Error(), "pw-secret-value") {
				t.Fatalf("error quotes the password: %v", err)
			}
		})
	}
}

func TestTLSModeFromSSLKey(t *testing.T) {
	cases := map[string]string{
		``:                     "",
		`,"ssl":true`:          TLSVerifyFull,
		`,"ssl":"true"`:        TLSVerifyFull,
		`,"ssl":false`:         TLSDisable,
		`,"ssl":"require"`:     TLSRequire,
		`,"ssl":"Disable"`:     TLSDisable,
		`,"ssl":null`:          "",
		`,"ssl":"verify-full"`: TLSVerifyFull,
	}
	for extra, want := range cases {
		d, err := ParseSecretDocument(`{"username":"u","password":"p"` + extra + `}`)
		if err != nil {
			t.Fatalf("%s: %v", extra, err)
		}
		if got := d.TLSMode(); got != want {
			t.Errorf("ssl%s: mode %q, want %q", extra, got, want)
		}
	}
}

func TestStringHidesPassword(t *testing.T) {
	d, _ := ParseSecretDocument(`{"engine":"postgres","host":"h","username":"u","password":"hunter2-secret"}`)
	if s := d.String(); strings.Contains(s, "hunter2") {
		t.Fatalf("String leaks the password: %s", s)
	}
}

func TestTagValue(t *testing.T) {
	cases := map[string]string{
		`set password for "app": ERROR: permission denied (SQLSTATE 42501)`: "set password for app : ERROR: permission denied SQLSTATE 42501",
		"plain":           "plain",
		"":                "",
		"a\nb\tc":         "a b c",
		"user@host:5432/": "user@host:5432/",
	}
	for in, want := range cases {
		if got := TagValue(in); got != want {
			t.Errorf("TagValue(%q) = %q, want %q", in, got, want)
		}
	}
	if got := TagValue(strings.Repeat("x", 300)); len([]rune(got)) != 256 {
		t.Errorf("long value has %d characters, want 256", len([]rune(got)))
	}
}

func TestVersionLookups(t *testing.T) {
	cases := map[string]struct {
		stages           map[string][]string
		current, pending string
	}{
		"finished":                            {map[string][]string{"a": {LabelCurrent}, "b": {LabelPrevious}}, "a", ""},
		"in progress":                         {map[string][]string{"a": {LabelCurrent}, "b": {LabelPending}}, "a", "b"},
		"pending on current, before clean-up": {map[string][]string{"a": {LabelCurrent, LabelPending}, "b": {LabelPrevious}}, "a", ""},
		"empty":                               {nil, "", ""},
	}
	for name, tc := range cases {
		if got := VersionWith(tc.stages, LabelCurrent); got != tc.current {
			t.Errorf("%s: current %q, want %q", name, got, tc.current)
		}
		if got := StrandedPending(tc.stages); got != tc.pending {
			t.Errorf("%s: stranded pending %q, want %q", name, got, tc.pending)
		}
	}
	k, v := TagLastRotation, OutcomeFailed
	tags := []types.Tag{{Key: &k, Value: &v}, {Key: nil}}
	if TagOf(tags, TagLastRotation) != OutcomeFailed || TagOf(tags, TagStrategy) != "" {
		t.Fatal("TagOf")
	}
}

func TestBaseUserPin(t *testing.T) {
	if got := BaseUserPin("app", "DB.Example.com", 5432); got != "app@db.example.com:5432" {
		t.Errorf("plain pin %q", got)
	}
	long := strings.Repeat("u", 300)
	for _, user := range []string{`a"b`, "app;drop", long, "sha256:abc", "ünïcode", "two words"} {
		got := BaseUserPin(user, "h", 1)
		if !strings.HasPrefix(got, "sha256:") || len(got) != len("sha256:")+64 || TagValue(got) != got || (SecretFilter{Key: "tag-value", Values: []string{got}}).Validate() != nil {
			t.Errorf("pin of %.20q = %q, want the sha256 form", user, got)
		}
		if got == BaseUserPin(user, "h", 2) {
			t.Errorf("pin of %.20q ignores the port", user)
		}
	}
}

// TestExtraString: the RDS identifier keys of AWS's templates are read from
// Extra and stay there for the round trip.
func TestExtraString(t *testing.T) {
	d, err := ParseSecretDocument(`{"engine":"postgres","host":"h","username":"u","password":"p","dbInstanceIdentifier":"db1","dbClusterIdentifier":null,"bad":7}`)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := d.ExtraString(KeyDBInstanceIdentifier); v != "db1" || err != nil {
		t.Fatalf("instance: %q %v", v, err)
	}
	if v, err := d.ExtraString(KeyDBClusterIdentifier); v != "" || err != nil {
		t.Fatalf("null cluster: %q %v", v, err)
	}
	if v, err := d.ExtraString("absent"); v != "" || err != nil {
		t.Fatalf("absent: %q %v", v, err)
	}
	_, err = d.ExtraString("bad")
	checkField(t, err, "bad")
	if out, _ := d.MarshalJSON(); !strings.Contains(string(out), `"dbInstanceIdentifier":"db1"`) {
		t.Fatalf("identifier not kept: %s", out)
	}
}

// TestTagOfCase: AWS's mixed-case aws:rds keys are found; rotor's keys only
// in their exact spelling.
func TestTagOfCase(t *testing.T) {
	tag := func(k, v string) types.Tag { return types.Tag{Key: &k, Value: &v} }
	tags := []types.Tag{tag("aws:rds:primaryDBInstanceArn", "arn:db"), tag("ROTOR:BASE-USER", "evil@h:1"), tag(TagStrategy, "single-user")}
	if got := TagOf(tags, TagRDSInstanceARN); got != "arn:db" {
		t.Fatalf("aws:rds key: %q", got)
	}
	if got := TagOf(tags, TagBaseUser); got != "" {
		t.Fatalf("a look-alike rotor key was read: %q", got)
	}
	if got := TagOf(tags, TagStrategy); got != "single-user" {
		t.Fatalf("rotor:strategy: %q", got)
	}
}
