package lease

import (
	"strings"
	"testing"
	"time"

	"github.com/rotorhq/rotor/strategies/builtin"
)

const adminARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-admin-AbCdEf"

// TestParseDefinitions: a valid baseline and one named tweak per case, each
// refused with an error naming the field.
func TestParseDefinitions(t *testing.T) {
	const base = `{"name":"app_ro","adminSecretArn":"` + adminARN + `","groupRole":"app_readers","defaultTtlSeconds":3600,"maxTtlSeconds":86400,"engine":"postgres"}`
	tweak := func(old, new string) string { return "[" + strings.Replace(base, old, new, 1) + "]" }
	defs, err := ParseDefinitions("["+base+"]", builtin.Engines(), []string{adminARN})
	if err != nil || len(defs) != 1 || defs[0] != (Definition{Name: "app_ro", AdminSecretARN: adminARN, GroupRole: "app_readers", DefaultTTLSeconds: 3600, MaxTTLSeconds: 86400, Engine: "postgres"}) {
		t.Fatalf("baseline: %+v, %v", defs, err)
	}
	for name, c := range map[string]struct{ roles, field string }{
		"empty":                       {"", "LEASE_ROLES"},
		"no definitions":              {"[]", "no role definitions"},
		"not JSON":                    {"[{", "malformed JSON"},
		"unknown field":               {tweak(`"engine"`, `"sql":"GRANT ALL","engine"`), `unknown field "sql"`},
		"name with capitals":          {tweak(`"app_ro"`, `"App"`), `"name"`},
		"name with a quote":           {tweak(`"app_ro"`, `"a'b"`), `"name"`},
		"name too long":               {tweak(`"app_ro"`, `"abcdefghijklmnopqrstuvwxy"`), `"name"`},
		"duplicate":                   {"[" + base + "," + base + "]", "defined twice"},
		"admin secret not allowed":    {tweak(adminARN, adminARN+"x"), `"adminSecretArn"`},
		"no group":                    {tweak(`"app_readers"`, `""`), `"groupRole"`},
		"default over max":            {tweak(`3600`, `90000`), `"defaultTtlSeconds"`},
		"zero default":                {tweak(`3600`, `0`), `"defaultTtlSeconds"`},
		"max over 7 days":             {tweak(`86400`, `604801`), `"maxTtlSeconds"`},
		"unknown engine":              {tweak(`"postgres"`, `"oracle"`), `"engine"`},
		"name too long for mysql 32":  {"[" + strings.Replace(strings.Replace(base, `"postgres"`, `"mysql"`, 1), `"app_ro"`, `"application"`, 1) + "]", "at most 32"},
		"ttl of the wrong JSON type":  {tweak(`3600`, `"3600"`), "defaultTtlSeconds"},
		"two JSON values":             {"[" + base + "] []", "more than one JSON value"},
		"an object, not an array":     {base, "want a JSON"},
		"engine served by no builtin": {tweak(`"postgres"`, `""`), `"engine"`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseDefinitions(c.roles, builtin.Engines(), []string{adminARN})
			if err == nil || !strings.Contains(err.Error(), c.field) {
				t.Fatalf("got %v, want an error naming %s", err, c.field)
			}
		})
	}
}

// TestUserNames: names round-trip, fit NameLength, and anything the issuer
// did not make is not taken for a lease.
func TestUserNames(t *testing.T) {
	issued := time.Date(2026, 12, 2, 3, 4, 5, 0, time.UTC)
	seen := map[string]bool{}
	for _, role := range []string{"a", "app_ro", "abcdefghijklmnopqrstuvwx"} {
		for range 50 {
			n, err := newUserName(role, issued)
			if err != nil {
				t.Fatal(err)
			}
			r, at, ok := parseUserName(n)
			if !ok || r != role || !at.Equal(issued) || len(n) != NameLength(role) || seen[n] {
				t.Fatalf("%q: role %q, issued %s, ok %v, length %d want %d, repeated %v", n, r, at, ok, len(n), NameLength(role), seen[n])
			}
			seen[n] = true
		}
	}
	if NameLength("abcdefghijklmnopqrstuvwx") > 63 {
		t.Fatalf("the longest role's user names (%d bytes) do not fit PostgreSQL", NameLength("abcdefghijklmnopqrstuvwx"))
	}
	good, _ := newUserName("app", issued)
	for _, n := range []string{"", "v_", "app_user", "v_app", "x" + good, good[:len(good)-1], good + "a",
		strings.Replace(good, "v_app_", "v_App_", 1), good[:len(good)-1] + "1", good[:len(good)-1] + "_",
		// The issue time is lower-case base 36, unsigned: ParseInt also
		// takes a sign and upper case, which the issuer never writes.
		good[:6] + "+" + good[7:], good[:6] + strings.ToUpper(good[6:13]) + good[13:]} {
		if r, _, ok := parseUserName(n); ok {
			t.Errorf("%q was taken for a lease of %q", n, r)
		}
	}
}
