package postgres_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/rotorhq/rotor/internal/local/dbtest"
	"github.com/rotorhq/rotor/strategies/engine"
)

// TestSyncAlternateRevokesPrivilegedAttributes: a superuser admin (the
// conformance suite's admin has only CREATEROLE, and is refused) takes
// SUPERUSER, REPLICATION and BYPASSRLS, and a superuser-only setting, from
// a pre-existing clone and reports it; the next sync changes nothing.
func TestSyncAlternateRevokesPrivilegedAttributes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg := dbtest.Postgres(t)
	db := pg.NewDatabase(t)
	base := dbtest.UniqueName("app")
	clone := base + "_clone"
	adminName := dbtest.UniqueName("super")
	pg.CreateRole(t, adminName, "admin-pass-1", "SUPERUSER")
	pg.CreateRole(t, base, "base-pass-1")
	pg.CreateRole(t, clone, "clone-pass-1", "SUPERUSER", "REPLICATION", "BYPASSRLS")
	mustExec(t, pg.Admin(t), "ALTER ROLE "+pgx.Identifier{clone}.Sanitize()+" SET session_replication_role = replica")

	admin := connect(t, params(t, pg, db, adminName, "admin-pass-1"))
	req := engine.AlternateRequest{Base: base, Clone: clone, Pending: clone, Password: "clone-pass-2"}
	resp, err := admin.SyncAlternate(ctx, req)
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	for _, a := range []string{"SUPERUSER", "REPLICATION", "BYPASSRLS"} {
		if !slices.Contains(resp.Changes, clone+"."+a+"=false") {
			t.Errorf("changes %q do not report revoking %s", resp.Changes, a)
		}
	}
	if !slices.Contains(resp.Changes, "reset session_replication_role of "+clone+" in every database") {
		t.Errorf("changes %q do not report removing session_replication_role", resp.Changes)
	}
	var super, repl, bypass bool
	if err := pg.Admin(t).QueryRow(ctx, "SELECT rolsuper, rolreplication, rolbypassrls FROM pg_roles WHERE rolname = $1", clone).Scan(&super, &repl, &bypass); err != nil {
		t.Fatal(err)
	}
	if super || repl || bypass {
		t.Fatalf("clone kept SUPERUSER %v, REPLICATION %v, BYPASSRLS %v", super, repl, bypass)
	}
	if resp, err := admin.SyncAlternate(ctx, req); err != nil || len(resp.Changes) != 0 {
		t.Fatalf("repeat: %+v, %v", resp, err)
	}
}

// TestSyncAlternateRefusalNamesEverything: a refused clone's error names the
// attribute and what to do, and the sync changes nothing (the password
// included).
func TestSyncAlternateRefusalNamesEverything(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg := dbtest.Postgres(t)
	db := pg.NewDatabase(t)
	base := dbtest.UniqueName("app")
	clone := base + "_clone"
	adminName := dbtest.UniqueName("admin")
	pg.CreateRole(t, adminName, "admin-pass-1", "CREATEROLE")
	pg.CreateRole(t, base, "base-pass-1", "CREATEDB")
	pg.CreateRole(t, clone, "clone-pass-1")
	mustExec(t, pg.AdminDB(t, db), "CREATE TABLE "+pgx.Identifier{clone + "_t"}.Sanitize()+" (x int)")
	mustExec(t, pg.AdminDB(t, db), "ALTER TABLE "+pgx.Identifier{clone + "_t"}.Sanitize()+" OWNER TO "+pgx.Identifier{clone}.Sanitize())

	admin := connect(t, params(t, pg, db, adminName, "admin-pass-1"))
	_, err := admin.SyncAlternate(ctx, engine.AlternateRequest{Base: base, Clone: clone, Pending: clone, Password: "clone-pass-2"})
	t.Logf("refusal: %v", err)
	for _, want := range []string{"refusing", clone, "1 in database " + `"` + db + `"`, "REASSIGN OWNED BY", "Clone parity"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("err %v, want one naming %q", err, want)
		}
	}
	if err := pg.CanLogin(t, clone, "clone-pass-1", db); err != nil {
		t.Fatalf("a refused sync changed the clone's password: %v", err)
	}
	var createdb bool
	if err := pg.Admin(t).QueryRow(ctx, "SELECT rolcreatedb FROM pg_roles WHERE rolname = $1", clone).Scan(&createdb); err != nil || createdb {
		t.Fatalf("a refused sync changed the clone's attributes (CREATEDB %v, %v)", createdb, err)
	}
}

// TestCheckParityNamesEachDifference: the last line of defence, reading the
// clone back after the sync, refuses naming every attribute and membership
// that differs. On PostgreSQL 15 no revoke is silently ignored, so the
// differences are made by asking for more than the clone has.
func TestCheckParityNamesEachDifference(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg := dbtest.Postgres(t)
	base := dbtest.UniqueName("app")
	clone := base + "_clone"
	pg.CreateRole(t, base, "base-pass-1")
	pg.CreateRole(t, clone, "clone-pass-1")
	s := connect(t, params(t, pg, "postgres", pg.SuperUser, pg.SuperPassword))
	if err := s.CheckParityAskingMore(ctx, base, clone, false); err != nil {
		t.Fatalf("a clone equal to what is asked: %v", err)
	}
	err := s.CheckParityAskingMore(ctx, base, clone, true)
	t.Logf("refusal: %v", err)
	for _, want := range []string{"refusing", "a different CREATEDB, CONNECTION LIMIT", `no membership in "` + base + `"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("err %v, want one naming %q", err, want)
		}
	}
}

// TestSyncAlternateRefusesTheAdminAsClone: a secret whose clone name is
// the admin's own (base "x" when the admin is "x_clone") must not make the
// admin change itself: strip its attributes, sync its memberships, and
// set its password to one whoever reads the secret gets. The sync is
// refused and the admin keeps its password and SUPERUSER.
func TestSyncAlternateRefusesTheAdminAsClone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg := dbtest.Postgres(t)
	db := pg.NewDatabase(t)
	base := dbtest.UniqueName("app")
	adminName := base + "_clone"
	pg.CreateRole(t, adminName, "admin-pass-1", "SUPERUSER")
	pg.CreateRole(t, base, "base-pass-1")

	admin := connect(t, params(t, pg, db, adminName, "admin-pass-1"))
	_, err := admin.SyncAlternate(ctx, engine.AlternateRequest{Base: base, Clone: adminName, Pending: adminName, Password: "taken-over-2"})
	if err == nil || !strings.Contains(err.Error(), "is the admin itself") {
		t.Errorf("err %v, want a refusal naming the admin", err)
	}
	if err := pg.CanLogin(t, adminName, "admin-pass-1", db); err != nil {
		t.Errorf("the admin's password changed: %v", err)
	}
	var super bool
	if err := pg.Admin(t).QueryRow(ctx, "SELECT rolsuper FROM pg_roles WHERE rolname = $1", adminName).Scan(&super); err != nil || !super {
		t.Errorf("the admin lost SUPERUSER (%v, %v)", super, err)
	}
}
