package rotatorconfig

import (
	"strings"
	"testing"
	"time"

	"github.com/rotorhq/rotor/internal/config"

	"github.com/rotorhq/rotor/events"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Strategy != "single-user" || c.Password.Length != 32 || !c.Password.RequireEachIncludedType ||
		c.TLSMode != events.TLSVerifyFull || c.Password.ExcludeCharacters != nil || c.PreviousUserSessions != "warn" {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestLoad(t *testing.T) {
	cases := map[string]struct {
		env     map[string]string
		wantErr string
		check   func(Rotator) bool
	}{
		"alternating": {map[string]string{config.EnvRotationStrategy: "alternating-users"}, "", func(c Rotator) bool { return c.Strategy == "alternating-users" }},
		"admin secrets": {map[string]string{config.EnvAdminSecretARNs: " arn:aws:secretsmanager:eu-west-1:123456789012:secret:a-AbCdEf,,arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:rds!db-1 "}, "", func(c Rotator) bool {
			return len(c.AdminSecretARNs) == 2 && c.AdminSecretARNs[1] == "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:rds!db-1"
		}},
		"admin secret by name":            {map[string]string{config.EnvAdminSecretARNs: "prod/admin"}, config.EnvAdminSecretARNs, nil},
		"admin secret of another service": {map[string]string{config.EnvAdminSecretARNs: "arn:aws:ssm:eu-west-1:123456789012:parameter/admin"}, config.EnvAdminSecretARNs, nil},
		"bad strategy":                    {map[string]string{config.EnvRotationStrategy: "both"}, config.EnvRotationStrategy, nil},
		"length":                          {map[string]string{config.EnvPasswordLength: "64"}, "", func(c Rotator) bool { return c.Password.Length == 64 }},
		"bad length":                      {map[string]string{config.EnvPasswordLength: "sixty"}, config.EnvPasswordLength, nil},
		"zero length":                     {map[string]string{config.EnvPasswordLength: "0"}, config.EnvPasswordLength, nil},
		"yes is true":                     {map[string]string{config.EnvExcludePunctuation: "YeS"}, "", func(c Rotator) bool { return c.Password.ExcludePunctuation }},
		"1 is true":                       {map[string]string{config.EnvExcludeNumbers: "1"}, "", func(c Rotator) bool { return c.Password.ExcludeNumbers }},
		"no is false":                     {map[string]string{config.EnvRequireEachIncludedType: "no"}, "", func(c Rotator) bool { return !c.Password.RequireEachIncludedType }},
		"bad bool":                        {map[string]string{config.EnvExcludeUppercase: "maybe"}, config.EnvExcludeUppercase, nil},
		"exclude":                         {map[string]string{config.EnvExcludeCharacters: "abc"}, "", func(c Rotator) bool { return *c.Password.ExcludeCharacters == "abc" }},
		"tls require":                     {map[string]string{config.EnvDBTLS: "require"}, "", func(c Rotator) bool { return c.TLSMode == "require" }},
		"tls prefer":                      {map[string]string{config.EnvDBTLS: "prefer"}, config.EnvDBTLS, nil},
		"timeout":                         {map[string]string{config.EnvDBConnectTimeout: "3s"}, "", func(c Rotator) bool { return c.ConnectTimeout == 3*time.Second }},
		"timeout secs":                    {map[string]string{config.EnvDBConnectTimeout: "7"}, "", func(c Rotator) bool { return c.ConnectTimeout == 7*time.Second }},
		"bad timeout":                     {map[string]string{config.EnvDBConnectTimeout: "-1s"}, config.EnvDBConnectTimeout, nil},
		"sessions":                        {map[string]string{config.EnvPreviousUserSessions: "FAIL"}, "", func(c Rotator) bool { return c.PreviousUserSessions == "fail" }},
		"bad sessions":                    {map[string]string{config.EnvPreviousUserSessions: "kill"}, config.EnvPreviousUserSessions, nil},
		"impossible policy":               {map[string]string{config.EnvPasswordLength: "2"}, "password settings", nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := Load(env(tc.env))
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
	c, err := Load(env(map[string]string{config.EnvDBCABundle: "/nonexistent/ca.pem"}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.StrategyOptions(); err == nil || !strings.Contains(err.Error(), config.EnvDBCABundle) {
		t.Fatalf("err %v, want one naming %s", err, config.EnvDBCABundle)
	}
}
