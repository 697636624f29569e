package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The fuzz targets of the inputs rotor decodes: a secret's document, the
// rotation event and the rotate-now request. Their seeds run as ordinary
// tests; `make fuzz` (FUZZTIME each) and `make test` (a few seconds each)
// fuzz them. Inputs the fuzzer found failing are kept under
// testdata/fuzz/<target>/ and run with the seeds. Each target checks
// properties, not only that nothing panics:
//
//   - a decoded input survives marshal -> decode unchanged;
//   - a refusal is a *FieldError naming a field (or the decoder's own
//     message naming the field), short, the same every time;
//   - the password's value never changes an error's text.

// addFixtures seeds f with every testdata file whose name starts with
// prefix.
func addFixtures(f *testing.F, prefix string) {
	f.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", prefix+"*.json"))
	if err != nil || len(paths) == 0 {
		f.Fatalf("no testdata/%s*.json seeds: %v", prefix, err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// maxErrorLen bounds an error's text: a long bad value is never echoed
// whole.
const maxErrorLen = 300

func checkRefusal(t *testing.T, err error) {
	t.Helper()
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field == "" {
		t.Fatalf("error %q (%T) is not a *FieldError naming a field", err, err)
	}
	if len(err.Error()) > maxErrorLen {
		t.Fatalf("error is %d bytes long", len(err.Error()))
	}
}

func FuzzSecretDocument(f *testing.F) {
	addFixtures(f, "secret_")
	for _, s := range []string{
		`{"engine":"postgres","host":"db","port":"5432","username":"app","password":"p4ssw0rd-long","dbname":"app","ssl":true,"team":{"x":[1,null]}}`,
		`{"engine":"mysql","host":"db","port":3306,"username":"app","password":"p","masterarn":"arn:aws:secretsmanager:us-east-1:123456789012:secret:admin-AbCdEf"}`,
		`{"username":"app","password":"p","username":"root"}`,
		`{"engine":"postgres","host":"db","port":null,"username":"app","password":"p"}`,
		`{"engine":7,"host":["db"],"port":true,"username":"app","password":"p"}`,
		`{"engine":"postgres","host":"db","port":65536,"username":"a\u0000b","password":"p"}`,
		`{"ssl":"sometimes","username":"app","password":"p"}`,
		`{"engine":"postgres"} x`,
		`[]`, `null`, `{`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseSecretDocument(string(data))
		if err != nil {
			checkRefusal(t, err)
			if _, again := ParseSecretDocument(string(data)); again == nil || again.Error() != err.Error() {
				t.Fatalf("the same document is refused differently: %q, then %v", err, again)
			}
			return
		}
		// Round trip: what rotor writes back reads as what it read.
		b, err := d.MarshalJSON()
		if err != nil {
			t.Fatalf("marshal a parsed document: %v", err)
		}
		d2, err := ParseSecretDocument(string(b))
		if err != nil {
			t.Fatalf("rotor's own output is refused: %v\n%s", err, b)
		}
		if !sameDocument(d, d2) {
			b2, _ := d2.MarshalJSON()
			t.Fatalf("round trip changed the document:\n%s\n%s\n%#v\n%#v", b, b2, *d, *d2)
		}
		for _, req := range []Requirement{NeedConnection, NeedCredentials} {
			verr := d.Validate(req)
			if e2 := d2.Validate(req); (verr == nil) != (e2 == nil) || verr != nil && verr.Error() != e2.Error() {
				t.Fatalf("validation differs after the round trip: %v, then %v", verr, e2)
			}
			if verr == nil {
				continue
			}
			checkRefusal(t, verr)
			// The password's value never shapes the error: another
			// password of the same length, NUL bytes in the same places,
			// gives the same text.
			other := d.Clone()
			other.Password = strings.Map(func(r rune) rune {
				if r == 0 {
					return 0
				}
				return 'Z'
			}, d.Password)
			other.Password += strings.Repeat("Z", len(d.Password)-len(other.Password))
			if e2 := other.Validate(req); e2 == nil || e2.Error() != verr.Error() {
				t.Fatalf("the password's value changes the error: %q vs %v", verr, e2)
			}
		}
	})
}

// sameDocument compares two documents, extra values by their compact JSON.
func sameDocument(a, b *SecretDocument) bool {
	ca, cb := a.Clone(), b.Clone()
	for _, d := range []*SecretDocument{ca, cb} {
		for k, v := range d.Extra {
			d.Extra[k] = compact(v)
		}
		d.SSL = compact(d.SSL)
	}
	return reflect.DeepEqual(ca, cb)
}

func compact(v json.RawMessage) json.RawMessage {
	if len(v) == 0 {
		return nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, v); err != nil {
		return v
	}
	return buf.Bytes()
}

func FuzzRotationEvent(f *testing.F) {
	addFixtures(f, "rotation_event")
	for _, s := range []string{
		`{"Step":"setSecret","SecretId":"arn:aws:secretsmanager:us-east-1:123456789012:secret:app-AbCdEf","ClientRequestToken":"00000000-0000-4000-8000-000000000000","RotationToken":"x"}`,
		`{"Step":"createSecret","step":"finishSecret","SecretId":"s","ClientRequestToken":"00000000-0000-4000-8000-000000000000"}`,
		`{"Step":1}`, `{"Step":"dropSecret","SecretId":"s","ClientRequestToken":"t"}`,
		`{"Step":"testSecret","SecretId":"s\u0000","ClientRequestToken":"00000000-0000-4000-8000-000000000000","Extra":{"a":[1]}}`,
		`[]`, `{`, `null`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := ParseRotationEvent(data)
		if err != nil {
			checkRefusal(t, err)
			if _, again := ParseRotationEvent(data); again == nil || again.Error() != err.Error() {
				t.Fatalf("the same event is refused differently: %q, then %v", err, again)
			}
			return
		}
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		e2, err := ParseRotationEvent(b)
		if err != nil {
			t.Fatalf("a marshalled valid event is refused: %v\n%s", err, b)
		}
		if e2 != e {
			t.Fatalf("round trip changed the event: %+v -> %+v", e, e2)
		}
	})
}

func FuzzRotateNowRequest(f *testing.F) {
	addFixtures(f, "rotatenow_request")
	for _, s := range []string{
		`{"secretIds":["app/db","arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbCdEf"],"wait":true,"timeoutSeconds":300,"concurrency":4,"rotationsPerSecond":2.5,"failureGraceSeconds":60}`,
		`{"filters":[{"key":"tag-key","values":["!team"]}],"wait":false}`,
		`{"secretId":"x"}`, `{"secretIds":[],"filters":[{"key":"name","values":["a"]}]}`,
		`{"secretIds":["a"]} {"secretIds":["b"]}`, `{"secretIds":["a"],"secretIds":["b"]}`,
		`{"secretIds":["a"],"rotationsPerSecond":1e400}`, `[]`, `{`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRotateNowRequest(data)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) && !strings.HasPrefix(err.Error(), "decode rotate-now request: ") {
				t.Fatalf("error %q is neither a *FieldError nor a decode error", err)
			}
			if _, again := ParseRotateNowRequest(data); again == nil || again.Error() != err.Error() {
				t.Fatalf("the same request is refused differently: %q, then %v", err, again)
			}
			return
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := ParseRotateNowRequest(b)
		if err != nil {
			t.Fatalf("a marshalled valid request is refused: %v\n%s", err, b)
		}
		b2, _ := json.Marshal(r2)
		if !bytes.Equal(b, b2) {
			t.Fatalf("round trip changed the request:\n%s\n%s", b, b2)
		}
	})
}
