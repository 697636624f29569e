package builtin_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/strategies/builtin"
)

// TestRegistryServesAWSDocumentEngines: every engine value AWS's templates
// write is served, each with its engine's defaults, and nothing else is.
func TestRegistryServesAWSDocumentEngines(t *testing.T) {
	t.Parallel()
	want := map[string]struct {
		engine, db string
		port       int
	}{
		"postgres":          {"postgres", "postgres", 5432},
		"aurora-postgresql": {"postgres", "postgres", 5432},
		"mariadb":           {"mariadb", "", 3306},
		"mysql":             {"mariadb", "", 3306},
		"aurora-mysql":      {"mariadb", "", 3306},
	}
	r := builtin.Engines()
	if got := strings.Join(r.Names(), ","); got != "aurora-mysql,aurora-postgresql,mariadb,mysql,postgres" {
		t.Fatalf("names: %s", got)
	}
	for name, w := range want {
		tg, err := r.Resolve(&events.SecretDocument{Engine: name, Host: "db"})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if f := tg.Engine.Facts(); f.Name != w.engine || tg.Port != w.port || tg.Database != w.db {
			t.Fatalf("%s: engine %s port %d db %q", name, f.Name, tg.Port, tg.Database)
		}
		kept, err := r.Resolve(&events.SecretDocument{Engine: name, Host: "db", Port: 6432, DBName: "app"})
		if err != nil || kept.Port != 6432 || kept.Database != "app" {
			t.Fatalf("%s: explicit port and dbname not kept: %+v %v", name, kept, err)
		}
	}
}

// TestRegistryRefusesUnknownEngines: no engine is a default for another.
func TestRegistryRefusesUnknownEngines(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"", "oracle", "Postgres", "postgres ", "mysql8", strings.Repeat("x", 200)} {
		_, err := builtin.Engines().Lookup(name)
		var fe *events.FieldError
		if !errors.As(err, &fe) || fe.Field != "engine" {
			t.Fatalf("%q: %v, want an error naming field engine", name, err)
		}
		if !strings.Contains(err.Error(), "postgres") || len(err.Error()) > 200 {
			t.Fatalf("%q: error should list the served engines and stay short: %s", name, err)
		}
	}
}

func TestSameTarget(t *testing.T) {
	t.Parallel()
	base := events.SecretDocument{Engine: "postgres", Host: "db", Username: "u", Password: "p"}
	cases := map[string]struct {
		tweak func(d *events.SecretDocument)
		field string // "" = same target
	}{
		"identical":                  {func(d *events.SecretDocument) {}, ""},
		"default port written out":   {func(d *events.SecretDocument) { d.Port = 5432 }, ""},
		"aurora is the same family":  {func(d *events.SecretDocument) { d.Engine = "aurora-postgresql" }, ""},
		"other user and password ok": {func(d *events.SecretDocument) { d.Username, d.Password = "v", "q" }, ""},
		"other host":                 {func(d *events.SecretDocument) { d.Host = "evil" }, "host"},
		"other port":                 {func(d *events.SecretDocument) { d.Port = 6432 }, "port"},
		"other family":               {func(d *events.SecretDocument) { d.Engine = "mariadb" }, "engine"},
		"unknown engine":             {func(d *events.SecretDocument) { d.Engine = "oracle" }, "engine"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			other := base
			tc.tweak(&other)
			err := builtin.Engines().SameTarget(&base, &other, "pending")
			var fe *events.FieldError
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field):
				t.Fatalf("got %v, want an error naming %q", err, tc.field)
			}
		})
	}
}
