package strategies

import (
	"strings"
	"testing"
)

func TestCheckRDSMasterPassword(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		password, family string
		ok               bool
	}{
		"valid":              {"Valid-password-1", "postgres", true},
		"slash":              {"Valid/password-1", "postgres", false},
		"at sign":            {"Valid@password-1", "postgres", false},
		"double quote":       {`Valid"password-1`, "postgres", false},
		"space":              {"Valid password-1", "postgres", false},
		"not ascii":          {"Valid-pässword-1", "postgres", false},
		"seven":              {"Short-1", "postgres", false},
		"128 on postgres":    {strings.Repeat("a", 128), "postgres", true},
		"129 on postgres":    {strings.Repeat("a", 129), "postgres", false},
		"41 on mysql family": {strings.Repeat("a", 41), "mysql", true},
		"42 on mysql family": {strings.Repeat("a", 42), "mysql", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := CheckRDSMasterPassword(tc.password, tc.family)
			if (err == nil) != tc.ok {
				t.Fatalf("got %v, want ok=%v", err, tc.ok)
			}
			if err != nil && strings.Contains(err.Error(), tc.password) {
				t.Fatal("the error holds the password")
			}
		})
	}
}

func TestParseNameKnowsEveryStrategy(t *testing.T) {
	t.Parallel()
	for _, n := range Names() {
		if _, err := ParseName(n); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
	}
	_, err := ParseName("rds_master")
	if err == nil || !strings.Contains(err.Error(), NameRDSMaster) {
		t.Fatalf("unknown name: %v, want the error to list %s", err, NameRDSMaster)
	}
	if _, err := New(NameRDSMaster, Options{Engines: nil}); err == nil {
		t.Fatal("New without engines accepted")
	}
}
