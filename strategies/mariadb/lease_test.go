package mariadb_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rotorhq/rotor/internal/local/dbtest"
	"github.com/rotorhq/rotor/strategies/engine"
)

// TestLeaseGroupWithGlobalGrantOption: a role whose only global privilege
// is GRANT OPTION (SHOW GRANTS: "GRANT USAGE ON *.* TO ... WITH GRANT
// OPTION"), itself or through a role granted to it, is refused as a lease
// group: its lease users could hand the group's grants to other accounts,
// where they outlive the lease. No lease user is made.
func TestLeaseGroupWithGlobalGrantOption(t *testing.T) {
	t.Parallel()
	m := dbtest.MariaDB(t)
	a := m.Admin(t)
	db := m.NewDatabase(t)
	name, password := adminUser(t, m)
	dropUserAtEnd(t, m, name)
	s := connect(t, params(t, m, db, name, password))
	direct, inner, nested := dbtest.UniqueName("gopt"), dbtest.UniqueName("gopt"), dbtest.UniqueName("gopt")
	for _, g := range []string{direct, inner, nested} {
		mustExec(t, a, "CREATE ROLE "+ident(g), "GRANT SELECT ON "+ident(db)+".* TO "+ident(g),
			"GRANT "+ident(g)+" TO "+dbtest.UserAccount(name)+" WITH ADMIN OPTION")
		t.Cleanup(func() { mustExec(t, a, "DROP ROLE IF EXISTS "+ident(g)) })
	}
	mustExec(t, a, "GRANT USAGE ON *.* TO "+ident(direct)+" WITH GRANT OPTION",
		"GRANT USAGE ON *.* TO "+ident(inner)+" WITH GRANT OPTION",
		"GRANT "+ident(inner)+" TO "+ident(nested))
	for _, g := range []string{direct, nested} {
		user := dbtest.UniqueName("v_")
		dropUserAtEnd(t, m, user)
		err := s.CreateLeaseUser(context.Background(), engine.LeaseUser{Name: user, Password: "Lease-Password-Kk8", Group: g, ValidUntil: time.Now().Add(time.Hour)})
		if err == nil || !strings.Contains(err.Error(), "refusing") || !strings.Contains(err.Error(), "GRANT OPTION") {
			t.Fatalf("group %q: %v; want a refusal naming GRANT OPTION", g, err)
		}
		var n int
		if err := a.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM mysql.user WHERE User = ?", user).Scan(&n); err != nil || n != 0 {
			t.Fatalf("group %q: %d accounts named %q were made (%v)", g, n, user, err)
		}
	}
}

// TestSyncAlternateBaseWithGlobalGrantOption: a base account holding
// global GRANT OPTION, directly or through a role, holds a global
// privilege and is refused before anything changes, as one holding any
// other global privilege is.
func TestSyncAlternateBaseWithGlobalGrantOption(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := dbtest.MariaDB(t)
	a := m.Admin(t)
	name, password := adminUser(t, m)
	dropUserAtEnd(t, m, name)
	s := connect(t, params(t, m, "", name, password))
	role := dbtest.UniqueName("gopt")
	mustExec(t, a, "CREATE ROLE "+ident(role), "GRANT USAGE ON *.* TO "+ident(role)+" WITH GRANT OPTION")
	t.Cleanup(func() { mustExec(t, a, "DROP ROLE IF EXISTS "+ident(role)) })
	for how, give := range map[string]func(acct string) string{
		"directly":       func(acct string) string { return "GRANT USAGE ON *.* TO " + acct + " WITH GRANT OPTION" },
		"through a role": func(acct string) string { return "GRANT " + ident(role) + " TO " + acct },
	} {
		base := dbtest.UniqueName("app")
		m.CreateUser(t, base, "base-pass-1")
		dropUserAtEnd(t, m, base+"_clone")
		mustExec(t, a, give(dbtest.UserAccount(base)))
		_, err := s.SyncAlternate(ctx, engine.AlternateRequest{Base: base, Clone: base + "_clone", Pending: base + "_clone", Password: "x-pass-123"})
		if err == nil || !strings.Contains(err.Error(), "refusing to manage") || !strings.Contains(err.Error(), "GRANT OPTION") {
			t.Fatalf("base with global GRANT OPTION %s: %v; want a refusal naming GRANT OPTION", how, err)
		}
		var n int
		if err := a.QueryRowContext(ctx, "SELECT COUNT(*) FROM mysql.user WHERE User = ?", base+"_clone").Scan(&n); err != nil || n != 0 {
			t.Fatalf("base with global GRANT OPTION %s: %d clone accounts made (%v)", how, n, err)
		}
	}
}

// TestLeaseGroupWithWildcardSchemaGrant: a schema-level grant whose name
// is a pattern (% and _ are wildcards there) that covers the mysql schema
// (password hashes, grant tables) or the lease schema (expiry records) is
// refused as a lease group, as a grant naming either schema is; a pattern
// that covers neither is accepted.
func TestLeaseGroupWithWildcardSchemaGrant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := dbtest.MariaDB(t)
	a := m.Admin(t)
	db := m.NewDatabase(t)
	name, password := adminUser(t, m)
	dropUserAtEnd(t, m, name)
	s := connect(t, params(t, m, db, name, password))
	for pattern, refused := range map[string]bool{
		"m%": true, "%": true, "_ysql": true, "rot_r": true, "ROTOR": true,
		`app\_%`: false, "mysq": false, `my\_ql`: false,
	} {
		g := dbtest.UniqueName("wild")
		mustExec(t, a, "CREATE ROLE "+ident(g), "GRANT SELECT ON "+ident(pattern)+".* TO "+ident(g),
			"GRANT "+ident(g)+" TO "+dbtest.UserAccount(name)+" WITH ADMIN OPTION")
		t.Cleanup(func() { mustExec(t, a, "DROP ROLE IF EXISTS "+ident(g)) })
		user := dbtest.UniqueName("v_")
		dropUserAtEnd(t, m, user)
		err := s.CreateLeaseUser(ctx, engine.LeaseUser{Name: user, Password: "Lease-Password-Kk8", Group: g, ValidUntil: time.Now().Add(time.Hour)})
		var n int
		if qerr := a.QueryRowContext(ctx, "SELECT COUNT(*) FROM mysql.user WHERE User = ?", user).Scan(&n); qerr != nil {
			t.Fatal(qerr)
		}
		switch {
		case refused && (err == nil || !strings.Contains(err.Error(), "refusing") || n != 0):
			t.Errorf("SELECT ON %s.*: %v, %d accounts made; want a refusal and none", pattern, err, n)
		case !refused && (err != nil || n != 1):
			t.Errorf("SELECT ON %s.*: %v, %d accounts made; want the lease user", pattern, err, n)
		}
	}
}
