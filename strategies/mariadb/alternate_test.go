package mariadb_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/rotorhq/rotor/internal/local/dbtest"
	"github.com/rotorhq/rotor/strategies/engine"
	"github.com/rotorhq/rotor/strategies/mariadb"
)

// snapshot describes the privileges, roles and limits of user@'%' as sorted
// lines with the user's name left out, so two accounts that should be
// equivalent compare equal. It reads the catalog as root.
func snapshot(t *testing.T, a *sql.DB, user string) []string {
	t.Helper()
	ctx := context.Background()
	g := "'" + user + "'@'%'"
	var out []string
	for _, q := range []string{
		"SELECT CONCAT_WS(' ', 'global', PRIVILEGE_TYPE, IS_GRANTABLE) FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ?",
		"SELECT CONCAT_WS(' ', 'schema', TABLE_SCHEMA, PRIVILEGE_TYPE, IS_GRANTABLE) FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = ?",
		"SELECT CONCAT_WS(' ', 'table', TABLE_SCHEMA, TABLE_NAME, PRIVILEGE_TYPE, IS_GRANTABLE) FROM information_schema.TABLE_PRIVILEGES WHERE GRANTEE = ?",
		"SELECT CONCAT_WS(' ', 'column', TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, PRIVILEGE_TYPE, IS_GRANTABLE) FROM information_schema.COLUMN_PRIVILEGES WHERE GRANTEE = ?",
		"SELECT CONCAT_WS(' ', 'routine', Db, Routine_name, Routine_type, Proc_priv) FROM mysql.procs_priv WHERE CONCAT('''', User, '''@''', Host, '''') = ?",
		"SELECT CONCAT_WS(' ', 'role', Role, Admin_option) FROM mysql.roles_mapping WHERE CONCAT('''', User, '''@''', Host, '''') = ?",
		"SELECT CONCAT_WS(' ', 'account', default_role, max_questions, max_updates, max_connections, max_user_connections, max_statement_time, ssl_type) FROM mysql.user WHERE CONCAT('''', User, '''@''', Host, '''') = ?",
	} {
		rows, err := a.QueryContext(ctx, q, g)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		rows.Close()
	}
	slices.Sort(out)
	return out
}

func sameState(t *testing.T, a *sql.DB, base, clone string) {
	t.Helper()
	b, c := snapshot(t, a, base), snapshot(t, a, clone)
	if !slices.Equal(b, c) {
		t.Fatalf("clone differs from base\nbase:\n  %s\nclone:\n  %s", strings.Join(b, "\n  "), strings.Join(c, "\n  "))
	}
}

// adminUser creates an admin like RDS's master user: every privilege on
// *.* with GRANT OPTION.
func adminUser(t *testing.T, m *dbtest.Maria) (name, password string) {
	t.Helper()
	name, password = dbtest.UniqueName("admin"), "admin-pass-1"
	m.CreateUser(t, name, password)
	mustExec(t, m.Admin(t), "GRANT ALL PRIVILEGES ON *.* TO "+dbtest.UserAccount(name)+" WITH GRANT OPTION")
	return name, password
}

func dropUserAtEnd(t *testing.T, m *dbtest.Maria, user string) {
	t.Cleanup(func() {
		if _, err := m.Admin(t).ExecContext(context.Background(), "DROP USER IF EXISTS "+dbtest.UserAccount(user)); err != nil {
			t.Errorf("drop %s: %v", user, err)
		}
	})
}

func TestSyncAlternatePrivileges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := dbtest.MariaDB(t)
	a := m.Admin(t)
	db, other := m.NewDatabase(t), m.NewDatabase(t)
	base := dbtest.UniqueName("app")
	clone := base + "_clone"
	role, role2 := dbtest.UniqueName("readers"), dbtest.UniqueName("auditors")
	adminName, adminPass := adminUser(t, m)
	m.CreateUser(t, base, "base-pass-1")
	dropUserAtEnd(t, m, clone)
	for _, r := range []string{role, role2} {
		// Granting a role needs ADMIN OPTION on it (a role the admin
		// creates comes with it).
		mustExec(t, a, "CREATE ROLE "+ident(r), "GRANT "+ident(r)+" TO "+dbtest.UserAccount(adminName)+" WITH ADMIN OPTION")
		r := r
		t.Cleanup(func() { a.ExecContext(ctx, "DROP ROLE IF EXISTS "+ident(r)) })
	}
	b := dbtest.UserAccount(base)
	mustExec(t, a,
		"CREATE TABLE "+ident(other)+".t1 (id int, secret int, note text)",
		"CREATE TABLE "+ident(other)+".gone (id int)",
		"CREATE PROCEDURE "+ident(other)+".p1() SELECT 1",
		"GRANT SELECT ON "+ident(other)+".* TO "+ident(role),
		"GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, INDEX, ALTER, CREATE VIEW ON "+ident(db)+".* TO "+b,
		"GRANT SELECT, INSERT ON "+ident(other)+".t1 TO "+b+" WITH GRANT OPTION",
		"GRANT UPDATE (note), SELECT (id, note) ON "+ident(other)+".t1 TO "+b,
		"GRANT SELECT ON "+ident(other)+".gone TO "+b,
		"GRANT EXECUTE ON PROCEDURE "+ident(other)+".p1 TO "+b,
		"GRANT "+ident(role)+" TO "+b,
		"GRANT "+ident(role2)+" TO "+b+" WITH ADMIN OPTION",
		"SET DEFAULT ROLE "+ident(role)+" FOR "+b,
		"ALTER USER "+b+" REQUIRE SSL WITH MAX_USER_CONNECTIONS 7 MAX_QUERIES_PER_HOUR 1000",
		// MariaDB keeps grants on dropped tables: the sync must not trip
		// over one.
		"DROP TABLE "+ident(other)+".gone",
	)

	off := m.LogOffset(t)
	admin := connect(t, params(t, m, "", adminName, adminPass))
	resp, err := admin.SyncAlternate(ctx, engine.AlternateRequest{Base: base, Clone: clone, Pending: clone, Password: hardPassword})
	if err != nil {
		t.Fatalf("sync (create clone): %v", err)
	}
	if !resp.CreatedClone {
		t.Fatal("clone not reported as created")
	}
	t.Logf("changes: %v", resp.Changes)
	if !slices.ContainsFunc(resp.Changes, func(c string) bool { return strings.HasPrefix(c, "skipped ") && strings.Contains(c, ".gone") }) {
		t.Fatalf("the grant on a dropped table was not reported as skipped: %v", resp.Changes)
	}
	// The clone has everything but the grant on the dropped table.
	mustExec(t, a, "REVOKE SELECT ON "+ident(other)+".gone FROM "+b)
	sameState(t, a, base, clone)
	if err := m.CanLogin(t, clone, hardPassword, ""); err != nil {
		t.Fatalf("clone's password: %v", err)
	}
	if log := m.LogFrom(t, off); strings.Contains(log, hardPassword) || !strings.Contains(log, mariadb.NativePasswordHash(hardPassword)) {
		t.Fatalf("the general log holds the password, or not the hash:\n%s", log)
	}

	// A second sync changes nothing but the password.
	resp, err = admin.SyncAlternate(ctx, engine.AlternateRequest{Base: base, Clone: clone, Pending: clone, Password: hardPassword})
	if err != nil || resp.CreatedClone || len(resp.Changes) != 0 {
		t.Fatalf("repeat sync: %+v, %v", resp, err)
	}

	// Tables either user creates are usable by both: MariaDB has no owners,
	// privileges are per schema.
	baseConn := m.ConnectAs(t, base, "base-pass-1", db)
	cloneConn := m.ConnectAs(t, clone, hardPassword, db)
	mustExec(t, baseConn, "CREATE TABLE by_base (v int)")
	mustExec(t, cloneConn, "CREATE TABLE by_clone (v int)")
	for _, c := range []*sql.DB{baseConn, cloneConn} {
		for _, tbl := range []string{"by_base", "by_clone"} {
			mustExec(t, c, "INSERT INTO "+tbl+" VALUES (1)")
			var n int
			if err := c.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+tbl).Scan(&n); err != nil {
				t.Fatalf("read %s: %v", tbl, err)
			}
		}
		// The default role is active: the role's schema is readable.
		var n int
		if err := c.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+ident(other)+".t1").Scan(&n); err != nil {
			t.Fatalf("read through the default role: %v", err)
		}
	}

	// The base loses grants at every level: the next sync (base pending)
	// takes them from the clone too.
	mustExec(t, a,
		"REVOKE DROP ON "+ident(db)+".* FROM "+b,
		"REVOKE GRANT OPTION ON "+ident(other)+".t1 FROM "+b,
		"REVOKE UPDATE (note) ON "+ident(other)+".t1 FROM "+b,
		"REVOKE EXECUTE ON PROCEDURE "+ident(other)+".p1 FROM "+b,
		"REVOKE "+ident(role2)+" FROM "+b,
		"SET DEFAULT ROLE NONE FOR "+b,
		"ALTER USER "+b+" REQUIRE NONE WITH MAX_USER_CONNECTIONS 3",
		"GRANT TRIGGER ON "+ident(db)+".* TO "+b,
	)
	resp, err = admin.SyncAlternate(ctx, engine.AlternateRequest{Base: base, Clone: clone, Pending: base, Password: "base-pass-2"})
	if err != nil {
		t.Fatalf("sync (base pending): %v", err)
	}
	t.Logf("changes: %v", resp.Changes)
	sameState(t, a, base, clone)
	if len(resp.Changes) != 9 {
		t.Fatalf("%d changes %v, want 9", len(resp.Changes), resp.Changes)
	}
	if err := m.CanLogin(t, base, "base-pass-2", ""); err != nil {
		t.Fatalf("base's new password: %v", err)
	}
	if err := m.CanLogin(t, clone, hardPassword, ""); err != nil {
		t.Fatalf("clone's password changed by a base rotation: %v", err)
	}
}

func ident(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// TestSyncAlternateFailsBeforeChanging: what MariaDB cannot roll back is
// not started. An admin that cannot read the privilege tables, or cannot
// create users, leaves no clone and no changed password behind.
func TestSyncAlternateFailsBeforeChanging(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := dbtest.MariaDB(t)
	a := m.Admin(t)
	cases := map[string]struct {
		grants []string
		want   string
	}{
		"no catalog access": {nil, "SELECT on mysql.*"},
		"no CREATE USER":    {[]string{"GRANT SELECT ON mysql.* TO %s"}, "CREATE USER"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			base := dbtest.UniqueName("app")
			weak := dbtest.UniqueName("weak")
			m.CreateUser(t, base, "base-pass-1")
			m.CreateUser(t, weak, "weak-pass-1")
			dropUserAtEnd(t, m, base+"_clone")
			for _, g := range tc.grants {
				mustExec(t, a, fmt.Sprintf(g, dbtest.UserAccount(weak)))
			}
			s := connect(t, params(t, m, "", weak, "weak-pass-1"))
			_, err := s.SyncAlternate(ctx, engine.AlternateRequest{Base: base, Clone: base + "_clone", Pending: base + "_clone", Password: "x-pass-123"})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want one naming %s", err, tc.want)
			}
			var n int
			if err := a.QueryRowContext(ctx, "SELECT COUNT(*) FROM mysql.user WHERE User = ?", base+"_clone").Scan(&n); err != nil || n != 0 {
				t.Fatalf("clone accounts after a failed sync: %d (%v)", n, err)
			}
			ok, why, err := s.CanManageRole(ctx, base)
			if err != nil || ok || !strings.Contains(why, strings.Fields(tc.want)[0]) {
				t.Fatalf("CanManageRole = %v %q %v", ok, why, err)
			}
		})
	}
	// The current user missing is reported, not created.
	t.Run("current clone missing", func(t *testing.T) {
		t.Parallel()
		adminName, adminPass := adminUser(t, m)
		base := dbtest.UniqueName("app")
		m.CreateUser(t, base, "base-pass-1")
		s := connect(t, params(t, m, "", adminName, adminPass))
		_, err := s.SyncAlternate(ctx, engine.AlternateRequest{Base: base, Clone: base + "_clone", Pending: base, Password: "x-pass-123"})
		if err == nil || !strings.Contains(err.Error(), "does not exist") {
			t.Fatalf("err %v", err)
		}
		if err := m.CanLogin(t, base, "base-pass-1", ""); err != nil {
			t.Fatalf("base password changed: %v", err)
		}
	})
}

// TestSyncAlternateInterrupted: a clone left half-synced (it has extra and
// missing privileges, as after a failure between statements) is completed
// by the next sync.
func TestSyncAlternateInterrupted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := dbtest.MariaDB(t)
	a := m.Admin(t)
	db := m.NewDatabase(t)
	adminName, adminPass := adminUser(t, m)
	base := dbtest.UniqueName("app")
	clone := base + "_clone"
	m.CreateUser(t, base, "base-pass-1")
	m.CreateUser(t, clone, "clone-pass-1")
	mustExec(t, a,
		"GRANT SELECT, INSERT ON "+ident(db)+".* TO "+dbtest.UserAccount(base),
		"GRANT SELECT, DELETE ON "+ident(db)+".* TO "+dbtest.UserAccount(clone),
	)
	s := connect(t, params(t, m, "", adminName, adminPass))
	resp, err := s.SyncAlternate(ctx, engine.AlternateRequest{Base: base, Clone: clone, Pending: base, Password: "base-pass-2"})
	if err != nil {
		t.Fatal(err)
	}
	sameState(t, a, base, clone)
	want := []string{"grant INSERT on " + db + ".* to " + clone, "revoke DELETE on " + db + ".* from " + clone}
	if !slices.Equal(resp.Changes, want) {
		t.Fatalf("changes %q, want %q", resp.Changes, want)
	}
	if err := m.CanLogin(t, clone, "clone-pass-1", ""); err != nil {
		t.Fatalf("the current (clone) password changed: %v", err)
	}
}

func TestCanManageRole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := dbtest.MariaDB(t)
	adminName, adminPass := adminUser(t, m)
	base := dbtest.UniqueName("app")
	m.CreateUser(t, base, "base-pass-1")
	s := connect(t, params(t, m, "", adminName, adminPass))
	ok, why, err := s.CanManageRole(ctx, base)
	if err != nil || !ok || !strings.Contains(why, "CREATE USER") {
		t.Fatalf("CanManageRole = %v %q %v", ok, why, err)
	}
	// A role the admin cannot grant is named.
	role := dbtest.UniqueName("r")
	a := m.Admin(t)
	mustExec(t, a, "CREATE ROLE "+ident(role), "GRANT "+ident(role)+" TO "+dbtest.UserAccount(base))
	t.Cleanup(func() { a.ExecContext(ctx, "DROP ROLE IF EXISTS "+ident(role)) })
	ok, why, err = s.CanManageRole(ctx, base)
	if err != nil || ok || !strings.Contains(why, role) || !strings.Contains(why, "ADMIN OPTION") {
		t.Fatalf("ungrantable role: CanManageRole = %v %q %v", ok, why, err)
	}
	ok, why, err = s.CanManageRole(ctx, base+"_nobody")
	if err != nil || ok || !strings.Contains(why, "does not exist") {
		t.Fatalf("missing user: CanManageRole = %v %q %v", ok, why, err)
	}
}

// TestSyncAlternateCloneUnusableUntilComplete: a clone created by a sync
// that fails at a later grant exists but cannot log in with the pending
// password; the retry completes its privileges and only then gives it the
// password.
func TestSyncAlternateCloneUnusableUntilComplete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := dbtest.MariaDB(t)
	a := m.Admin(t)
	db1, db2 := m.NewDatabase(t), m.NewDatabase(t)
	base := dbtest.UniqueName("app")
	clone := base + "_clone"
	m.CreateUser(t, base, "base-pass-1")
	dropUserAtEnd(t, m, clone)
	b := dbtest.UserAccount(base)
	mustExec(t, a,
		"GRANT SELECT ON "+ident(db1)+".* TO "+b,
		"GRANT SELECT, INSERT ON "+ident(db2)+".* TO "+b,
	)
	// The admin may grant on db1 only: the grant on db2 fails after the
	// clone was created.
	weak := dbtest.UniqueName("weak")
	m.CreateUser(t, weak, "weak-pass-1")
	w := dbtest.UserAccount(weak)
	mustExec(t, a,
		"GRANT CREATE USER ON *.* TO "+w,
		"GRANT SELECT ON mysql.* TO "+w,
		"GRANT SELECT ON "+ident(db1)+".* TO "+w+" WITH GRANT OPTION",
	)
	s := connect(t, params(t, m, "", weak, "weak-pass-1"))
	const pending = "clone-pass-1"
	req := engine.AlternateRequest{Base: base, Clone: clone, Pending: clone, Password: pending}
	resp, err := s.SyncAlternate(ctx, req)
	if err == nil || !resp.CreatedClone {
		t.Fatalf("sync with a grant the admin cannot make: %+v, %v; want a failure after creating the clone", resp, err)
	}
	t.Logf("first sync: %+v, %v", resp, err)
	if strings.Contains(err.Error(), mariadb.NativePasswordHash(pending)) {
		t.Fatalf("error holds the hash: %v", err)
	}
	var n int
	if err := a.QueryRowContext(ctx, "SELECT COUNT(*) FROM mysql.user WHERE User = ?", clone).Scan(&n); err != nil || n != 1 {
		t.Fatalf("clone accounts after the failed sync: %d, %v", n, err)
	}
	var me *mysql.MySQLError
	if err := m.CanLogin(t, clone, pending, ""); !errors.As(err, &me) || me.Number != 1045 {
		t.Fatalf("the half-made clone logs in with the pending password (err %v)", err)
	}

	// The retry, once the admin may grant everything, completes the clone.
	mustExec(t, a, "GRANT SELECT, INSERT ON "+ident(db2)+".* TO "+w+" WITH GRANT OPTION")
	resp, err = s.SyncAlternate(ctx, req)
	if err != nil || resp.CreatedClone {
		t.Fatalf("retry: %+v, %v", resp, err)
	}
	sameState(t, a, base, clone)
	if err := m.CanLogin(t, clone, pending, ""); err != nil {
		t.Fatalf("clone's password after the retry: %v", err)
	}
	// A third run changes nothing and keeps the password.
	resp, err = s.SyncAlternate(ctx, req)
	if err != nil || len(resp.Changes) != 0 {
		t.Fatalf("repeat: %+v, %v", resp, err)
	}
	if err := m.CanLogin(t, clone, pending, ""); err != nil {
		t.Fatalf("clone's password after the repeat: %v", err)
	}
}

// TestSyncAlternateColumnGrantOption: a grant option the base holds only
// through a column grant (MariaDB stores it on the table, and shows it only
// in the column rows) is mirrored, and taken away again when the base loses
// it.
func TestSyncAlternateColumnGrantOption(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := dbtest.MariaDB(t)
	a := m.Admin(t)
	db := m.NewDatabase(t)
	adminName, adminPass := adminUser(t, m)
	base := dbtest.UniqueName("app")
	clone := base + "_clone"
	m.CreateUser(t, base, "base-pass-1")
	dropUserAtEnd(t, m, clone)
	b := dbtest.UserAccount(base)
	tbl := ident(db) + ".t"
	mustExec(t, a, "CREATE TABLE "+tbl+" (id int, note text)", "GRANT SELECT (id) ON "+tbl+" TO "+b+" WITH GRANT OPTION")
	s := connect(t, params(t, m, "", adminName, adminPass))
	resp, err := s.SyncAlternate(ctx, engine.AlternateRequest{Base: base, Clone: clone, Pending: clone, Password: "clone-pass-1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("changes: %v", resp.Changes)
	sameState(t, a, base, clone)
	// The clone can pass the column privilege on, as the base can.
	cc := m.ConnectAs(t, clone, "clone-pass-1", "")
	other := dbtest.UniqueName("o")
	m.CreateUser(t, other, "other-pass-1")
	mustExec(t, cc, "GRANT SELECT (id) ON "+tbl+" TO "+dbtest.UserAccount(other))

	mustExec(t, a, "REVOKE GRANT OPTION ON "+tbl+" FROM "+b)
	resp, err = s.SyncAlternate(ctx, engine.AlternateRequest{Base: base, Clone: clone, Pending: base, Password: "base-pass-2"})
	if err != nil {
		t.Fatal(err)
	}
	sameState(t, a, base, clone)
	if want := []string{"revoke GRANT OPTION on " + db + ".t from " + clone}; !slices.Equal(resp.Changes, want) {
		t.Fatalf("changes %q, want %q", resp.Changes, want)
	}
}

// TestRevokeListsOnlyWhatHappened: a revoke the server answers with "there
// is no such grant" (the grant went away after the catalog was read) is not
// an error and not a change; one that succeeds is listed.
func TestRevokeListsOnlyWhatHappened(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := dbtest.MariaDB(t)
	a := m.Admin(t)
	db := m.NewDatabase(t)
	adminName, adminPass := adminUser(t, m)
	user := dbtest.UniqueName("app")
	m.CreateUser(t, user, "user-pass-1")
	s := connect(t, params(t, m, "", adminName, adminPass))

	changes, err := s.RevokeOnSchema(ctx, db, []string{"GRANT OPTION", "SELECT"}, user, "%")
	if err != nil || len(changes) != 0 {
		t.Fatalf("revoking grants the user does not have: changes %q, err %v; want none", changes, err)
	}
	mustExec(t, a, "GRANT SELECT ON "+ident(db)+".* TO "+dbtest.UserAccount(user)+" WITH GRANT OPTION")
	changes, err = s.RevokeOnSchema(ctx, db, []string{"GRANT OPTION", "SELECT"}, user, "%")
	want := []string{"revoke GRANT OPTION on " + db + ".* from " + user, "revoke SELECT on " + db + ".* from " + user}
	if err != nil || !slices.Equal(changes, want) {
		t.Fatalf("changes %q, err %v; want %q", changes, err, want)
	}
	if got := snapshot(t, a, user); slices.ContainsFunc(got, func(l string) bool { return strings.HasPrefix(l, "schema ") }) {
		t.Fatalf("privileges left: %q", got)
	}
}

// TestSyncAlternateProxyAndPasswordLifetime: with an admin that may grant
// and revoke PROXY, a pre-existing clone loses the PROXY privilege the base
// lacks and gains the one it has, and takes the base's password lifetime;
// a repeat changes nothing.
func TestSyncAlternateProxyAndPasswordLifetime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := dbtest.MariaDB(t)
	a := m.Admin(t)
	adminName, adminPass := adminUser(t, m)
	base := dbtest.UniqueName("app")
	clone := base + "_clone"
	m.CreateUser(t, base, "base-pass-1")
	m.CreateUser(t, clone, "clone-pass-1")
	kept, dropped := dbtest.UniqueName("px"), dbtest.UniqueName("px")
	for _, u := range []string{kept, dropped} {
		m.CreateUser(t, u, "px-pass-1")
		mustExec(t, a, "GRANT PROXY ON "+dbtest.UserAccount(u)+" TO "+dbtest.UserAccount(adminName)+" WITH GRANT OPTION")
	}
	mustExec(t, a,
		"GRANT PROXY ON "+dbtest.UserAccount(kept)+" TO "+dbtest.UserAccount(base),
		"GRANT PROXY ON "+dbtest.UserAccount(dropped)+" TO "+dbtest.UserAccount(clone),
		"ALTER USER "+dbtest.UserAccount(base)+" PASSWORD EXPIRE INTERVAL 30 DAY",
	)
	s := connect(t, params(t, m, "", adminName, adminPass))
	req := engine.AlternateRequest{Base: base, Clone: clone, Pending: clone, Password: "clone-pass-2"}
	resp, err := s.SyncAlternate(ctx, req)
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	t.Logf("changes: %q", resp.Changes)
	var proxied []string
	rows, err := a.QueryContext(ctx, "SELECT Proxied_user FROM mysql.proxies_priv WHERE User = ?", clone)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			t.Fatal(err)
		}
		proxied = append(proxied, u)
	}
	rows.Close()
	if !slices.Equal(proxied, []string{kept}) {
		t.Fatalf("clone may proxy %q, want only %q", proxied, kept)
	}
	var lifetime int
	if err := a.QueryRowContext(ctx, "SELECT JSON_VALUE(Priv, '$.password_lifetime') FROM mysql.global_priv WHERE User = ?", clone).Scan(&lifetime); err != nil || lifetime != 30 {
		t.Fatalf("clone's password lifetime %d (%v), want 30", lifetime, err)
	}
	if resp, err := s.SyncAlternate(ctx, req); err != nil || len(resp.Changes) != 0 {
		t.Fatalf("repeat: %+v, %v", resp, err)
	}
}

// TestSyncAlternateLockedClone: a locked clone is refused as the pending
// user (rotor neither unlocks it nor gives it a password), but does not
// stop a rotation of the base user, which is how a leaked clone password
// is replaced.
func TestSyncAlternateLockedClone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := dbtest.MariaDB(t)
	adminName, adminPass := adminUser(t, m)
	base := dbtest.UniqueName("app")
	clone := base + "_clone"
	m.CreateUser(t, base, "base-pass-1")
	m.CreateUser(t, clone, "clone-pass-1")
	mustExec(t, m.Admin(t), "ALTER USER "+dbtest.UserAccount(clone)+" ACCOUNT LOCK")
	s := connect(t, params(t, m, "", adminName, adminPass))
	_, err := s.SyncAlternate(ctx, engine.AlternateRequest{Base: base, Clone: clone, Pending: clone, Password: "clone-pass-2"})
	if err == nil || !strings.Contains(err.Error(), "ACCOUNT LOCK") {
		t.Fatalf("clone pending: %v, want a refusal naming ACCOUNT LOCK", err)
	}
	if _, err := s.SyncAlternate(ctx, engine.AlternateRequest{Base: base, Clone: clone, Pending: base, Password: "base-pass-2"}); err != nil {
		t.Fatalf("base pending: %v", err)
	}
	if err := m.CanLogin(t, base, "base-pass-2", ""); err != nil {
		t.Fatalf("base's new password: %v", err)
	}
}

// TestSyncAlternateRefusesGlobalPrivilegesThroughARole: a base account
// whose global privilege comes through a role (nested one level deeper
// here) is a DBA's account as much as one holding it directly.
// information_schema.USER_PRIVILEGES has no rows for roles, so this is read
// with SHOW GRANTS.
func TestSyncAlternateRefusesGlobalPrivilegesThroughARole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := dbtest.MariaDB(t)
	a := m.Admin(t)
	base, adm := dbtest.UniqueName("app"), dbtest.UniqueName("adm")
	outer, inner := dbtest.UniqueName("role"), dbtest.UniqueName("role")
	m.CreateUser(t, base, "base-pass-1")
	m.CreateUser(t, adm, "admin-pass-1")
	dropUserAtEnd(t, m, base+"_clone")
	t.Cleanup(func() { mustExec(t, a, "DROP ROLE IF EXISTS "+ident(outer), "DROP ROLE IF EXISTS "+ident(inner)) })
	mustExec(t, a,
		"GRANT ALL PRIVILEGES ON *.* TO "+dbtest.UserAccount(adm)+" WITH GRANT OPTION",
		"CREATE ROLE "+ident(inner), "CREATE ROLE "+ident(outer),
		"GRANT PROCESS ON *.* TO "+ident(inner),
		"GRANT "+ident(inner)+" TO "+ident(outer),
		"GRANT "+ident(outer)+" TO "+dbtest.UserAccount(base))
	s := connect(t, params(t, m, "", adm, "admin-pass-1"))
	_, err := s.SyncAlternate(ctx, engine.AlternateRequest{Base: base, Clone: base + "_clone", Pending: base + "_clone", Password: "Clone-Password-1"})
	if err == nil || !strings.Contains(err.Error(), "refusing") || !strings.Contains(err.Error(), "PROCESS (through role "+outer+")") {
		t.Fatalf("sync: %v; want a refusal naming PROCESS through %s", err, outer)
	}
}
