package postgres_test

import (
	"context"
	"testing"

	"github.com/rotorhq/rotor/internal/local/dbtest"
)

func TestCanManageRole(t *testing.T) {
	t.Parallel()
	pg := dbtest.Postgres(t)
	db := pg.NewDatabase(t)
	app := dbtest.UniqueName("app")
	pg.CreateRole(t, app, "app-password-1")
	cases := map[string]struct {
		attrs []string
		want  bool
	}{
		"createrole": {[]string{"CREATEROLE"}, true},
		"superuser":  {[]string{"SUPERUSER"}, true},
		"plain":      {nil, false},
		"createdb":   {[]string{"CREATEDB"}, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			admin := dbtest.UniqueName("adm")
			pg.CreateRole(t, admin, "admin-password-1", tc.attrs...)
			s := connect(t, params(t, pg, db, admin, "admin-password-1"))
			ok, why, err := s.CanManageRole(context.Background(), app)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tc.want || why == "" {
				t.Fatalf("CanManageRole = %v (%s), want %v", ok, why, tc.want)
			}
		})
	}
}
