package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/rotorhq/rotor/internal/local/dbtest"
	"github.com/rotorhq/rotor/strategies"
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
	// One superuser connection, taken in turn, for the harness's setup: a
	// login per statement (TLS and SCRAM) would dominate the suite's time.
	var mu sync.Mutex
	exec := func(t testing.TB, stmt string) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		if _, err := admin.Exec(context.Background(), stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	id := func(name string) string { return pgx.Identifier{name}.Sanitize() }
	query := func(t testing.TB, q string, args ...any) bool {
		t.Helper()
		var ok bool
		mu.Lock()
		defer mu.Unlock()
		if err := admin.QueryRow(context.Background(), q, args...).Scan(&ok); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return ok
	}
	attr := func(name, column string, refused bool) enginetest.CloneExtra {
		return enginetest.CloneExtra{
			Name: name,
			Give: func(t testing.TB, clone, _ string) { exec(t, "ALTER ROLE "+id(clone)+" "+name) },
			Has: func(t testing.TB, clone string) bool {
				return query(t, "SELECT "+column+" FROM pg_roles WHERE rolname = $1", clone)
			},
			Refused: refused,
		}
	}
	group := func(t testing.TB) string {
		g := dbtest.UniqueName("grp")
		exec(t, "CREATE ROLE "+id(g)+" NOLOGIN")
		t.Cleanup(func() { exec(t, "DROP ROLE IF EXISTS "+id(g)) })
		return g
	}
	setting := func(name, value string, refused bool) enginetest.CloneExtra {
		return enginetest.CloneExtra{
			Name: name,
			Give: func(t testing.TB, clone, _ string) {
				exec(t, "ALTER ROLE "+id(clone)+" IN DATABASE "+id(db)+" SET "+name+" = "+value)
			},
			Has: func(t testing.TB, clone string) bool {
				return query(t, `SELECT EXISTS (SELECT 1 FROM pg_db_role_setting s, unnest(s.setconfig) c
					WHERE s.setrole = (SELECT oid FROM pg_roles WHERE rolname = $1) AND c LIKE $2)`, clone, name+"=%")
			},
			Refused: refused,
		}
	}
	const memberSQL = `SELECT EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
		JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = $1 AND g.rolname = $2 AND ($3 OR m.admin_option))`
	// membership makes the clone a member of a new group role (with ADMIN
	// OPTION if admin), and the base too if baseToo.
	membership := func(name string, baseToo, admin bool) enginetest.CloneExtra {
		var g string
		return enginetest.CloneExtra{
			Name: name,
			Give: func(t testing.TB, clone, base string) {
				g = group(t)
				if baseToo {
					exec(t, "GRANT "+id(g)+" TO "+id(base))
				}
				stmt := "GRANT " + id(g) + " TO " + id(clone)
				if admin {
					stmt += " WITH ADMIN OPTION"
				}
				exec(t, stmt)
			},
			Has: func(t testing.TB, clone string) bool { return query(t, memberSQL, clone, g, !admin) },
		}
	}
	extras := []enginetest.CloneExtra{
		// The harness's admin has CREATEROLE, not SUPERUSER: it may not
		// take these away, so the sync must refuse.
		attr("SUPERUSER", "rolsuper", true),
		attr("REPLICATION", "rolreplication", true),
		attr("BYPASSRLS", "rolbypassrls", true),
		attr("CREATEROLE", "rolcreaterole", false),
		{
			Name: "ADMIN OPTION on the base role",
			Give: func(t testing.TB, clone, base string) {
				exec(t, "GRANT "+id(base)+" TO "+id(clone)+" WITH ADMIN OPTION")
			},
			Has: func(t testing.TB, clone string) bool {
				return query(t, memberSQL, clone, strings.TrimSuffix(clone, strategies.CloneSuffix), false)
			},
		},
		membership("ADMIN OPTION on a role the base is a member of", true, true),
		membership("membership the base lacks", false, false),
		setting("statement_timeout", "5000", false),
		// Superuser-only: the harness's admin may not remove it.
		setting("session_replication_role", "replica", true),
		func() enginetest.CloneExtra {
			var g string
			return enginetest.CloneExtra{
				Name: "members",
				Give: func(t testing.TB, clone, _ string) {
					g = group(t)
					exec(t, "GRANT "+id(clone)+" TO "+id(g))
				},
				Has:     func(t testing.TB, clone string) bool { return query(t, memberSQL, g, clone, true) },
				Refused: true,
			}
		}(),
		{
			Name: "holds privileges",
			Give: func(t testing.TB, clone, _ string) { exec(t, "GRANT SELECT ON "+id(table)+" TO "+id(clone)) },
			Has: func(t testing.TB, clone string) bool {
				return query(t, "SELECT has_table_privilege($1, $2, 'SELECT')", clone, id(table))
			},
			Refused: true,
		},
		{
			Name: "owns",
			Give: func(t testing.TB, clone, _ string) {
				owned := id(dbtest.UniqueName("owned"))
				exec(t, "CREATE TABLE "+owned+" (x int)")
				exec(t, "ALTER TABLE "+owned+" OWNER TO "+id(clone))
			},
			Has: func(t testing.TB, clone string) bool {
				return query(t, "SELECT EXISTS (SELECT 1 FROM pg_tables WHERE tableowner = $1)", clone)
			},
			Refused: true,
		},
	}
	enginetest.Run(t, enginetest.Harness{
		CloneExtras: extras,
		Engine:      postgres.Engine{},
		Target:      params(t, pg, db, "", ""),
		UniqueName:  dbtest.UniqueName,
		CreateUser:  func(t testing.TB, name, password string) { pg.CreateRole(t, name, password) },
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
		CreateLeaseGroup: func(t testing.TB, g, admin string) {
			exec(t, "CREATE ROLE "+id(g)+" NOLOGIN")
			t.Cleanup(func() { exec(t, "DROP OWNED BY "+id(g)); exec(t, "DROP ROLE IF EXISTS "+id(g)) })
			exec(t, "GRANT SELECT ON "+id(table)+" TO "+id(g))
			exec(t, "GRANT CREATE ON SCHEMA public TO "+id(g))
			if admin != "" {
				exec(t, "GRANT "+id(g)+" TO "+id(admin)+" WITH ADMIN OPTION")
			}
		},
		CreatePrivilegedGroup: func(t testing.TB, g string) {
			exec(t, "CREATE ROLE "+id(g)+" NOLOGIN CREATEROLE")
			t.Cleanup(func() { exec(t, "DROP ROLE IF EXISTS "+id(g)) })
		},
		MakeObject: func(t testing.TB, user, password string) func(testing.TB, string) error {
			owned := dbtest.UniqueName("leased")
			c := pg.ConnectAs(t, user, password, db)
			if _, err := c.Exec(context.Background(), "CREATE TABLE public."+id(owned)+" (x int)"); err != nil {
				t.Fatalf("create a table as %q: %v", user, err)
			}
			return func(t testing.TB, group string) error {
				var owner string
				mu.Lock()
				defer mu.Unlock()
				if err := admin.QueryRow(context.Background(), "SELECT tableowner FROM pg_tables WHERE schemaname = 'public' AND tablename = $1", owned).Scan(&owner); err != nil {
					return fmt.Errorf("table %q: %w", owned, err)
				}
				if owner != group {
					return fmt.Errorf("table %q is owned by %q, want %q", owned, owner, group)
				}
				return nil
			}
		},
		StatementLog: func(t testing.TB) func() string {
			off := pg.LogOffset(t)
			return func() string { return pg.LogFrom(t, off) }
		},
	})
}
