package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/rotorhq/rotor/internal/local/dbtest"
	"github.com/rotorhq/rotor/strategies/engine/enginetest"
	"github.com/rotorhq/rotor/strategies/postgres"
)

// TestConformance runs the engine conformance suite against the harness's
// PostgreSQL (password authentication, TLS with the run's CA).
func TestConformance(t *testing.T) {
	pg := dbtest.Postgres(t)
	db := pg.NewDatabase(t)
	table := dbtest.UniqueName("probe")
	admin := pg.AdminDB(t, db)
	if _, err := admin.Exec(context.Background(), "CREATE TABLE "+pgx.Identifier{table}.Sanitize()+" (x int)"); err != nil {
		t.Fatal(err)
	}
	exec := func(t testing.TB, stmt string) {
		t.Helper()
		c := pg.AdminDB(t, db)
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	enginetest.Run(t, enginetest.Harness{
		Engine:     postgres.Engine{},
		Target:     params(t, pg, db, "", ""),
		UniqueName: dbtest.UniqueName,
		CreateUser: func(t testing.TB, name, password string) { pg.CreateRole(t, name, password) },
		CreateAdmin: func(t testing.TB, name, password string) {
			pg.CreateRole(t, name, password, "CREATEROLE")
		},
		CreatePrivileged: func(t testing.TB, name, password string) {
			pg.CreateRole(t, name, password, "SUPERUSER")
		},
		CreateGroup: func(t testing.TB, name string) {
			exec(t, "CREATE ROLE "+pgx.Identifier{name}.Sanitize()+" NOLOGIN")
			t.Cleanup(func() { exec(t, "DROP ROLE IF EXISTS "+pgx.Identifier{name}.Sanitize()) })
		},
		DropUserAtEnd: func(t testing.TB, name string) {
			t.Cleanup(func() { exec(t, "DROP ROLE IF EXISTS "+pgx.Identifier{name}.Sanitize()) })
		},
		Grant: func(t testing.TB, user string) {
			exec(t, "GRANT SELECT ON "+pgx.Identifier{table}.Sanitize()+" TO "+pgx.Identifier{user}.Sanitize())
			t.Cleanup(func() {
				exec(t, "REVOKE SELECT ON "+pgx.Identifier{table}.Sanitize()+" FROM "+pgx.Identifier{user}.Sanitize())
			})
		},
		Probe: func(t testing.TB, user, password string) error {
			cfg, err := pg.ConnConfig(user, password, db)
			if err != nil {
				return err
			}
			c, err := pgx.ConnectConfig(context.Background(), cfg)
			if err != nil {
				return err
			}
			defer c.Close(context.Background())
			_, err = c.Exec(context.Background(), "SELECT count(*) FROM "+pgx.Identifier{table}.Sanitize())
			return err
		},
		StatementLog: func(t testing.TB) func() string {
			off := pg.LogOffset(t)
			return func() string { return pg.LogFrom(t, off) }
		},
	})
}
