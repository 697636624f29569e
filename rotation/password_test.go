package rotation

import (
	"errors"
	"strings"
	"testing"
)

func ptr(s string) *string { return &s }

func TestPasswordPolicy(t *testing.T) {
	cases := map[string]struct {
		tweak   func(*PasswordPolicy)
		engine  string
		allowed string
		wantErr string
	}{
		"default":          {func(*PasswordPolicy) {}, ":/@\"'\\", "", ""},
		"engine exclusion": {func(*PasswordPolicy) {}, "/@\"'\\", "", ""},
		"explicit empty exclusion overrides engine": {func(p *PasswordPolicy) { p.ExcludeCharacters = ptr("") }, ":/@", "", ""},
		"no punctuation": {func(p *PasswordPolicy) { p.ExcludePunctuation = true }, "", lowercase + uppercase + digits, ""},
		"digits only": {func(p *PasswordPolicy) {
			p.ExcludePunctuation, p.ExcludeLowercase, p.ExcludeUppercase = true, true, true
		}, "", digits, ""},
		"length 1 each":   {func(p *PasswordPolicy) { p.Length = 3 }, "", "", "too short"},
		"nothing left":    {func(p *PasswordPolicy) { p.ExcludeCharacters = ptr(lowercase + uppercase + digits + punctuation) }, "", "", "excludes every character"},
		"length zero":     {func(p *PasswordPolicy) { p.Length = 0 }, "", "", "out of range"},
		"length too long": {func(p *PasswordPolicy) { p.Length = 4097 }, "", "", "out of range"},
		"max length":      {func(p *PasswordPolicy) { p.Length = 4096 }, "", "", ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := DefaultPasswordPolicy()
			tc.tweak(&p)
			pw, err := p.Generate(tc.engine)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(pw) != p.Length {
				t.Fatalf("length %d, want %d", len(pw), p.Length)
			}
			exclude := tc.engine
			if p.ExcludeCharacters != nil {
				exclude = *p.ExcludeCharacters
			}
			if strings.ContainsAny(pw, exclude) {
				t.Fatalf("password has an excluded character (%q)", exclude)
			}
			if tc.allowed != "" && strings.Trim(pw, tc.allowed) != "" {
				t.Fatalf("password has a character outside %q", tc.allowed)
			}
		})
	}
}

func TestPasswordHasEachIncludedType(t *testing.T) {
	p := DefaultPasswordPolicy()
	p.Length = 4
	for range 200 {
		pw, err := p.Generate("")
		if err != nil {
			t.Fatal(err)
		}
		for _, class := range []string{lowercase, uppercase, digits, punctuation} {
			if !strings.ContainsAny(pw, class) {
				t.Fatalf("4-character password lacks a class %q", class)
			}
		}
	}
}

func TestPasswordsDiffer(t *testing.T) {
	p := DefaultPasswordPolicy()
	seen := map[string]bool{}
	for range 100 {
		pw, err := p.Generate("")
		if err != nil {
			t.Fatal(err)
		}
		if seen[pw] {
			t.Fatal("repeated password")
		}
		seen[pw] = true
	}
}

func TestRedact(t *testing.T) {
	msg := redact("login as app with pw Abcd1234!xyz and Abcd1234!xyzLONG failed", []string{"Abcd1234!xyz", "Abcd1234!xyzLONG", "ab"})
	if strings.Contains(msg, "Abcd1234") {
		t.Fatalf("secret left in %q", msg)
	}
	if !strings.Contains(msg, "login as app") {
		t.Fatalf("short secret mangled ordinary text: %q", msg)
	}
}

func TestStepErrorNamesTheStepAndRedacts(t *testing.T) {
	e := &StepError{Step: "setSecret", Op: "set password", Err: errors.New("server said hunter2-secret is bad"), secrets: []string{"hunter2-secret"}}
	if e.ErrorType() != "SetSecretFailed" {
		t.Fatalf("ErrorType %q", e.ErrorType())
	}
	if strings.Contains(e.Error(), "hunter2") || strings.Contains(e.Reason(), "hunter2") {
		t.Fatalf("secret in %q / %q", e.Error(), e.Reason())
	}
	if !strings.HasPrefix(e.Error(), "setSecret: set password: ") {
		t.Fatalf("Error() = %q", e.Error())
	}
	if (&StepError{Op: "validate event"}).ErrorType() != "InvalidRotationEvent" {
		t.Fatal("an event without a valid step must report InvalidRotationEvent")
	}
}
