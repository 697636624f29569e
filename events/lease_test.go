package events_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rotorhq/rotor/events"
)

func TestParseLeaseRequest(t *testing.T) {
	const pw = "s3cret-Lease-pw"
	ok := []string{
		`{"role":"app_ro"}`,
		`{"action":"issue","role":"app_ro","ttlSeconds":3600}`,
		`{"action":"renew","role":"app_ro","username":"v_app_ro_abc","password":"` + pw + `","ttlSeconds":600}`,
		`{"action":"revoke","role":"app_ro","username":"v_app_ro_abc","password":"` + pw + `"}`,
	}
	for _, in := range ok {
		if _, err := events.ParseLeaseRequest([]byte(in)); err != nil {
			t.Errorf("%s: %v", strings.ReplaceAll(in, pw, "***"), err)
		}
	}
	bad := []struct{ in, field string }{
		{`{"action":"grant","role":"app_ro"}`, `"action"`},
		{`{}`, `"role"`},
		{`{"role":"App; DROP ROLE x"}`, `"role"`},
		{`{"role":"app_ro","ttlSeconds":-1}`, `"ttlSeconds"`},
		{`{"role":"app_ro","ttlSeconds":99999999}`, `"ttlSeconds"`},
		{`{"role":"app_ro","username":"v_x"}`, `"username"`},
		{`{"role":"app_ro","password":"` + pw + `"}`, `"password"`},
		{`{"action":"renew","role":"app_ro","password":"` + pw + `"}`, `"username"`},
		{`{"action":"renew","role":"app_ro","username":"v_x"}`, `"password"`},
		{`{"action":"revoke","role":"app_ro","username":"v_x","password":"` + pw + `","ttlSeconds":5}`, `"ttlSeconds"`},
		{`{"role":"app_ro","sql":"DROP TABLE t"}`, `unknown field`},
		{`{"role":"app_ro","password":` + pw + `}`, `malformed JSON`},
		{`{"role":"app_ro","ttlSeconds":"3600"}`, `"ttlSeconds"`},
		{`{"role":"app_ro"} {"role":"x"}`, `more than one`},
	}
	for _, c := range bad {
		_, err := events.ParseLeaseRequest([]byte(c.in))
		if err == nil {
			t.Errorf("%s: accepted", strings.ReplaceAll(c.in, pw, "***"))
			continue
		}
		if !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: error %q does not name %s", strings.ReplaceAll(c.in, pw, "***"), err, c.field)
		}
		if strings.Contains(err.Error(), pw) {
			t.Errorf("error holds the password: %q", strings.ReplaceAll(err.Error(), pw, "***"))
		}
	}
}

func TestLeaseRoundTripKeepsCredentialsAndHidesThemInString(t *testing.T) {
	const pw = "lease-Password-1"
	doc, err := events.ParseSecretDocument(`{"engine":"postgres","host":"db","port":5432,"username":"v_app_ro_x","password":"` + pw + `","dbname":"app","ssl":"verify-full"}`)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)
	in := events.Lease{Role: "app_ro", Credentials: doc, IssuedAt: now, ExpiresAt: now.Add(time.Hour), MaxExpiresAt: now.Add(24 * time.Hour)}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out events.Lease
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.Credentials == nil || out.Credentials.Password != pw || out.Credentials.Username != "v_app_ro_x" || out.Credentials.TLSMode() != events.TLSVerifyFull {
		t.Fatalf("credentials did not survive the round trip: %v", out.Credentials)
	}
	if !out.ExpiresAt.Equal(in.ExpiresAt) || !out.MaxExpiresAt.Equal(in.MaxExpiresAt) || out.Role != "app_ro" {
		t.Fatalf("round trip: %v, want %v", out, in)
	}
	if s := out.String(); strings.Contains(s, pw) || !strings.Contains(s, "v_app_ro_x") {
		t.Fatalf("String() = %q", s)
	}
	if s := (events.LeaseRequest{Action: events.LeaseRenew, Role: "app_ro", Username: "u", Password: pw}).String(); strings.Contains(s, pw) {
		t.Fatalf("LeaseRequest.String() holds the password")
	}
}
