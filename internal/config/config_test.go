package config

import (
	"strings"
	"testing"
	"time"

	"github.com/rotorhq/rotor/events"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadRotatorDefaults(t *testing.T) {
	c, err := LoadRotator(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Strategy != "single-user" || c.Password.Length != 32 || !c.Password.RequireEachIncludedType ||
		c.TLSMode != events.TLSVerifyFull || c.Password.ExcludeCharacters != nil || c.PreviousUserSessions != "warn" {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestLoadRotator(t *testing.T) {
	cases := map[string]struct {
		env     map[string]string
		wantErr string
		check   func(Rotator) bool
	}{
		"alternating":       {map[string]string{EnvRotationStrategy: "alternating-users"}, "", func(c Rotator) bool { return c.Strategy == "alternating-users" }},
		"bad strategy":      {map[string]string{EnvRotationStrategy: "both"}, EnvRotationStrategy, nil},
		"length":            {map[string]string{EnvPasswordLength: "64"}, "", func(c Rotator) bool { return c.Password.Length == 64 }},
		"bad length":        {map[string]string{EnvPasswordLength: "sixty"}, EnvPasswordLength, nil},
		"zero length":       {map[string]string{EnvPasswordLength: "0"}, EnvPasswordLength, nil},
		"yes is true":       {map[string]string{EnvExcludePunctuation: "YeS"}, "", func(c Rotator) bool { return c.Password.ExcludePunctuation }},
		"1 is true":         {map[string]string{EnvExcludeNumbers: "1"}, "", func(c Rotator) bool { return c.Password.ExcludeNumbers }},
		"no is false":       {map[string]string{EnvRequireEachIncludedType: "no"}, "", func(c Rotator) bool { return !c.Password.RequireEachIncludedType }},
		"bad bool":          {map[string]string{EnvExcludeUppercase: "maybe"}, EnvExcludeUppercase, nil},
		"exclude":           {map[string]string{EnvExcludeCharacters: "abc"}, "", func(c Rotator) bool { return *c.Password.ExcludeCharacters == "abc" }},
		"tls require":       {map[string]string{EnvDBTLS: "require"}, "", func(c Rotator) bool { return c.TLSMode == "require" }},
		"tls prefer":        {map[string]string{EnvDBTLS: "prefer"}, EnvDBTLS, nil},
		"timeout":           {map[string]string{EnvDBConnectTimeout: "3s"}, "", func(c Rotator) bool { return c.ConnectTimeout == 3*time.Second }},
		"timeout secs":      {map[string]string{EnvDBConnectTimeout: "7"}, "", func(c Rotator) bool { return c.ConnectTimeout == 7*time.Second }},
		"bad timeout":       {map[string]string{EnvDBConnectTimeout: "-1s"}, EnvDBConnectTimeout, nil},
		"sessions":          {map[string]string{EnvPreviousUserSessions: "FAIL"}, "", func(c Rotator) bool { return c.PreviousUserSessions == "fail" }},
		"bad sessions":      {map[string]string{EnvPreviousUserSessions: "kill"}, EnvPreviousUserSessions, nil},
		"bad level":         {map[string]string{EnvLogLevel: "loud"}, EnvLogLevel, nil},
		"impossible policy": {map[string]string{EnvPasswordLength: "2"}, "password settings", nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := LoadRotator(env(tc.env))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c) {
				t.Fatalf("config %+v", c)
			}
		})
	}
}

func TestCABundleErrorsNameTheSetting(t *testing.T) {
	c, err := LoadRotator(env(map[string]string{EnvDBCABundle: "/nonexistent/ca.pem"}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.StrategyOptions(); err == nil || !strings.Contains(err.Error(), EnvDBCABundle) {
		t.Fatalf("err %v, want one naming %s", err, EnvDBCABundle)
	}
}
