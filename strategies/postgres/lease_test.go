package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rotorhq/rotor/internal/local/dbtest"
	"github.com/rotorhq/rotor/strategies/engine"
)

// TestLeaseGroupPrivilegedThroughMembership: a NOLOGIN group that is
// harmless itself but a member of a privileged role, or of a predefined
// role reaching the server's files or programs, is refused, naming the
// role it gets the privilege through; no user is made.
func TestLeaseGroupPrivilegedThroughMembership(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg := dbtest.Postgres(t)
	su := pg.Admin(t)
	id := func(s string) string { return pgx.Identifier{s}.Sanitize() }
	exec := func(stmts ...string) {
		t.Helper()
		for _, s := range stmts {
			if _, err := su.Exec(ctx, s); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
	}
	adm := dbtest.UniqueName("adm")
	pg.CreateRole(t, adm, "admin-pass-1", "CREATEROLE")
	lm := connect(t, params(t, pg, "postgres", adm, "admin-pass-1"))
	type groupCase struct {
		setup func(group, via string)
		want  string
	}
	for name, c := range map[string]groupCase{
		"CREATEROLE two levels up": {func(group, via string) {
			mid := via + "_mid"
			exec("CREATE ROLE "+id(via)+" NOLOGIN CREATEROLE", "CREATE ROLE "+id(mid)+" NOLOGIN",
				"GRANT "+id(via)+" TO "+id(mid), "GRANT "+id(mid)+" TO "+id(group))
			t.Cleanup(func() { exec("DROP ROLE IF EXISTS "+id(mid), "DROP ROLE IF EXISTS "+id(via)) })
		}, "CREATEROLE through"},
		"server files": {func(group, _ string) { exec("GRANT pg_read_server_files TO " + id(group)) }, "pg_read_server_files"},
	} {
		t.Run(name, func(t *testing.T) {
			group, via, user := dbtest.UniqueName("grp"), dbtest.UniqueName("via"), dbtest.UniqueName("v_")
			exec("CREATE ROLE " + id(group) + " NOLOGIN")
			t.Cleanup(func() { exec("DROP ROLE IF EXISTS "+id(user), "DROP ROLE IF EXISTS "+id(group)) })
			c.setup(group, via)
			err := lm.CreateLeaseUser(ctx, engine.LeaseUser{Name: user, Password: "Lease-Password-1", Group: group, ValidUntil: time.Now().Add(time.Hour)})
			if err == nil || !strings.Contains(err.Error(), "refusing") || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("create: %v; want a refusal naming %q", err, c.want)
			}
			if ok, err := lm.RoleExists(ctx, user); err != nil || ok {
				t.Fatalf("a refused create made %q (%v)", user, err)
			}
		})
	}
}
