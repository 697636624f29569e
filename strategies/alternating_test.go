package strategies

import (
	"errors"
	"strings"
	"testing"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/strategies/engine"
)

func TestAlternateUsername(t *testing.T) {
	cases := map[string]struct {
		in, want string
		max      int
		unit     engine.Unit
		field    bool
	}{
		"append":              {"app", "app_clone", 63, "", false},
		"strip":               {"app_clone", "app", 63, "", false},
		"only suffix":         {"_clone", "", 63, "", true},
		"exactly fits":        {strings.Repeat("a", 57), strings.Repeat("a", 57) + "_clone", 63, "", false},
		"one byte over":       {strings.Repeat("a", 58), "", 63, "", true},
		"multibyte counted":   {strings.Repeat("é", 29), strings.Repeat("é", 29) + "_clone", 64, "", false},
		"multibyte over":      {strings.Repeat("é", 29), "", 63, "", true},
		"mysql 32":            {strings.Repeat("u", 27), "", 32, "", true},
		"characters counted":  {strings.Repeat("é", 74), strings.Repeat("é", 74) + "_clone", 80, engine.Characters, false},
		"characters over":     {strings.Repeat("é", 75), "", 80, engine.Characters, true},
		"quotes kept as data": {`a"b`, `a"b_clone`, 63, "", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := AlternateUsername(tc.in, engine.Facts{Name: "test", MaxUsername: tc.max, UsernameUnit: tc.unit})
			if tc.field {
				var fe *events.FieldError
				if !errors.As(err, &fe) || fe.Field != "username" {
					t.Fatalf("err %v, want a username field error", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
