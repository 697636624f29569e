package postgres

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rotorhq/rotor/strategies/engine"
)

// roleAttrs are the role attributes a clone must share with its base role.
// SUPERUSER, REPLICATION and BYPASSRLS are never copied (checkBase refuses
// a base that has them), only revoked from a clone that has them: granting
// or revoking them needs superuser, which rotor's admin need not have, and
// an application role should not hold them.
type roleAttrs struct {
	super, replication, bypassRLS bool
	inherit, createRole, createDB bool
	connLimit                     int32
	validUntil                    *time.Time
}

// differ names the attributes in which a and b differ.
func (a roleAttrs) differ(b roleAttrs) []string {
	var out []string
	for _, f := range []struct {
		name string
		same bool
	}{
		{"SUPERUSER", a.super == b.super},
		{"REPLICATION", a.replication == b.replication},
		{"BYPASSRLS", a.bypassRLS == b.bypassRLS},
		{"INHERIT", a.inherit == b.inherit},
		{"CREATEROLE", a.createRole == b.createRole},
		{"CREATEDB", a.createDB == b.createDB},
		{"CONNECTION LIMIT", a.connLimit == b.connLimit},
		{"VALID UNTIL", sameTime(a.validUntil, b.validUntil)},
	} {
		if !f.same {
			out = append(out, f.name)
		}
	}
	return out
}

// SyncAlternate runs as the admin. In one transaction it
//   - refuses a base role checkBase refuses;
//   - creates the clone when it is missing (only when the clone is the
//     pending role: a missing clone otherwise means the secret and the
//     database disagree, which is reported, not papered over);
//   - refuses a pre-existing clone that owns objects or holds privileges on
//     them (it must hold nothing of its own: what it may do, it gets from
//     its base role) or that other roles are members of, and revokes SUPERUSER, REPLICATION and BYPASSRLS from
//     one that has them, and removes its per-role settings other than
//     rotor's own, refusing, with the attribute or setting named, when the
//     admin may not;
//   - sets the pending role's password (as a SCRAM verifier) and LOGIN;
//   - gives the clone the base role's attributes (INHERIT, CREATEROLE,
//     CREATEDB, CONNECTION LIMIT, VALID UNTIL) and the same role
//     memberships with the same ADMIN (and, from PostgreSQL 16, INHERIT
//     and SET) options, revoking memberships and options the base lacks;
//   - makes the clone a member of the base role (without ADMIN OPTION) and
//     sets the clone's sessions to run as the base role (ALTER ROLE clone
//     SET role), so that objects either user creates are owned by the base
//     role and usable by both;
//   - reads the clone back and refuses, naming what differs, if it is not
//     yet the base's equal (the server ignores some revokes, such as one of
//     a membership another role granted on PostgreSQL 16).
//
// Repeating it is harmless: every change is computed against the catalog's
// current state. On any error the transaction is rolled back and nothing has
// changed.
func (s *Session) SyncAlternate(ctx context.Context, req engine.AlternateRequest) (engine.AlternateResponse, error) {
	var resp engine.AlternateResponse
	if req.Pending != req.Base && req.Pending != req.Clone {
		return resp, fmt.Errorf("pending role %q is neither %q nor %q", req.Pending, req.Base, req.Clone)
	}
	tx, err := s.c.Begin(ctx)
	if err != nil {
		return resp, fmt.Errorf("begin: %w", classify(err))
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit this is a no-op

	if err := lockRole(ctx, tx, req.Base); err != nil {
		return resp, err
	}
	if err := checkBase(ctx, tx, req.Base); err != nil {
		return resp, err
	}
	var version int32
	if err := tx.QueryRow(ctx, "SELECT pg_catalog.current_setting('server_version_num')::pg_catalog.int4").Scan(&version); err != nil {
		return resp, fmt.Errorf("read the server version: %w", classify(err))
	}
	memberOpts := version >= 160000
	base, ok, err := readAttrs(ctx, tx, req.Base)
	if err != nil {
		return resp, err
	}
	if !ok {
		return resp, fmt.Errorf("role %q does not exist", req.Base)
	}
	clone, err := prepareClone(ctx, tx, req, memberOpts, &resp)
	if err != nil {
		return resp, err
	}
	if err := setPendingPassword(ctx, tx, req); err != nil {
		return resp, err
	}
	if err := syncClone(ctx, tx, req, base, clone, memberOpts, &resp); err != nil {
		return resp, err
	}
	if err := tx.Commit(ctx); err != nil {
		return resp, fmt.Errorf("commit role changes: %w", classify(err))
	}
	return resp, nil
}

// prepareClone returns the clone's attributes: an existing clone is checked
// (it owns nothing, nobody is its member) and stripped of what a base never
// has (privileged attributes, per-role settings); a missing one is created,
// NOINHERIT and without memberships, when it is the pending user. Changes
// are added to resp.
func prepareClone(ctx context.Context, tx pgx.Tx, req engine.AlternateRequest, memberOpts bool, resp *engine.AlternateResponse) (roleAttrs, error) {
	clone, exists, err := readAttrs(ctx, tx, req.Clone)
	if err != nil {
		return clone, err
	}
	if !exists {
		if req.Pending != req.Clone {
			return clone, fmt.Errorf("role %q does not exist, but the current secret names it", req.Clone)
		}
		if _, err := tx.Exec(ctx, "CREATE ROLE "+ident(req.Clone)+" WITH LOGIN NOINHERIT"); err != nil {
			return clone, fmt.Errorf("create role %q: %w", req.Clone, classify(err))
		}
		resp.CreatedClone = true
		return roleAttrs{inherit: false, connLimit: -1}, nil
	}
	if err := checkCloneOwnsNothing(ctx, tx, req.Base, req.Clone); err != nil {
		return clone, err
	}
	if err := checkCloneHasNoMembers(ctx, tx, req.Base, req.Clone, memberOpts); err != nil {
		return clone, err
	}
	changes, err := dropPrivileged(ctx, tx, req.Base, req.Clone, &clone)
	if err != nil {
		return clone, err
	}
	resp.Changes = append(resp.Changes, changes...)
	if changes, err = dropSettings(ctx, tx, req.Base, req.Clone); err != nil {
		return clone, err
	}
	resp.Changes = append(resp.Changes, changes...)
	return clone, nil
}

// setPendingPassword sets the pending role's password, as a SCRAM verifier,
// and lets it log in.
func setPendingPassword(ctx context.Context, tx pgx.Tx, req engine.AlternateRequest) error {
	stmt, err := alterPassword(req.Pending, req.Password)
	if err != nil {
		return fmt.Errorf("set password for %q: %w", req.Pending, err)
	}
	if _, err := tx.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("set password for %q: %w", req.Pending, classify(err))
	}
	if _, err := tx.Exec(ctx, "ALTER ROLE "+ident(req.Pending)+" WITH LOGIN"); err != nil {
		return fmt.Errorf("allow login for %q: %w", req.Pending, classify(err))
	}
	return nil
}

// syncClone makes the clone the base's equal: attributes, memberships and
// their options, sessions acting as the base role; then reads it back
// (checkParity). Changes are added to resp.
func syncClone(ctx context.Context, tx pgx.Tx, req engine.AlternateRequest, base, clone roleAttrs, memberOpts bool, resp *engine.AlternateResponse) error {
	changes, err := syncAttrs(ctx, tx, req.Clone, base, clone)
	if err != nil {
		return err
	}
	resp.Changes = append(resp.Changes, changes...)
	want, err := cloneMemberships(ctx, tx, req.Base, base, memberOpts)
	if err != nil {
		return err
	}
	if changes, err = syncMemberships(ctx, tx, req.Clone, want, memberOpts); err != nil {
		return err
	}
	resp.Changes = append(resp.Changes, changes...)
	if _, err := tx.Exec(ctx, "ALTER ROLE "+ident(req.Clone)+" SET role TO "+ident(req.Base)); err != nil {
		return fmt.Errorf("make %q sessions act as %q: %w", req.Clone, req.Base, classify(err))
	}
	return checkParity(ctx, tx, req.Base, req.Clone, base, want, memberOpts)
}

func readAttrs(ctx context.Context, tx pgx.Tx, role string) (roleAttrs, bool, error) {
	var a roleAttrs
	err := tx.QueryRow(ctx, `SELECT rolsuper, rolreplication, rolbypassrls, rolinherit, rolcreaterole, rolcreatedb, rolconnlimit, rolvaliduntil
		FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) $1::pg_catalog.name`, role).
		Scan(&a.super, &a.replication, &a.bypassRLS, &a.inherit, &a.createRole, &a.createDB, &a.connLimit, &a.validUntil)
	if err == pgx.ErrNoRows {
		return a, false, nil
	}
	if err != nil {
		return a, false, fmt.Errorf("read attributes of %q: %w", role, classify(err))
	}
	return a, true, nil
}

// refuseClone is the error for a clone rotor will not make its base's
// equal; why names what the clone has.
func refuseClone(base, clone, why string) error {
	return fmt.Errorf("refusing to use role %q as the clone of %q: %s (see \"Clone parity\" in docs/security.md)", clone, base, why)
}

// checkCloneOwnsNothing refuses a clone that owns objects or holds
// privileges on them in any database (pg_shdepend records both, for every
// database, and is readable by every role). Whoever reads the secret would
// get them, and the admin, which owns none of those objects, could not take
// them away. Memberships are not objects; they are synced.
func checkCloneOwnsNothing(ctx context.Context, tx pgx.Tx, base, clone string) error {
	rows, err := tx.Query(ctx, `SELECT d.datname, pg_catalog.count(*)::pg_catalog.int4
		FROM pg_catalog.pg_shdepend s LEFT JOIN pg_catalog.pg_database d ON d.oid OPERATOR(pg_catalog.=) s.dbid
		WHERE s.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_authid'::pg_catalog.regclass
		  AND s.refobjid OPERATOR(pg_catalog.=) (SELECT oid FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) $1::pg_catalog.name)
		  AND s.classid OPERATOR(pg_catalog.<>) 'pg_catalog.pg_auth_members'::pg_catalog.regclass
		GROUP BY d.datname ORDER BY d.datname`, clone)
	if err != nil {
		return fmt.Errorf("read objects owned by or granted to %q: %w", clone, classify(err))
	}
	var where []string
	total := 0
	for rows.Next() {
		var db *string
		var n int32
		if err := rows.Scan(&db, &n); err != nil {
			rows.Close()
			return fmt.Errorf("read objects owned by or granted to %q: %w", clone, classify(err))
		}
		total += int(n)
		name := "cluster-wide (databases, tablespaces)"
		if db != nil {
			name = fmt.Sprintf("database %q", *db)
		}
		where = append(where, fmt.Sprintf("%d in %s", n, name))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read objects owned by or granted to %q: %w", clone, classify(err))
	}
	if total == 0 {
		return nil
	}
	return refuseClone(base, clone, fmt.Sprintf(
		"it owns or holds privileges on %d objects of its own (%s), which whoever reads the secret would get; a clone holds nothing but membership in its base role: in each database run REASSIGN OWNED BY %s TO %s; DROP OWNED BY %s",
		total, strings.Join(where, ", "), ident(clone), ident(base), ident(clone)))
}

// checkCloneHasNoMembers refuses a clone that other roles are members of:
// once the clone is a member of the base role they would get the base's
// rights through it. Left out are the admin itself and, from PostgreSQL 16
// on, memberships with neither INHERIT nor SET, which carry no rights: a
// role a CREATEROLE admin creates is granted to that admin so, with ADMIN
// OPTION only (unless createrole_self_grant says otherwise).
func checkCloneHasNoMembers(ctx context.Context, tx pgx.Tx, base, clone string, memberOpts bool) error {
	usable := ""
	if memberOpts {
		usable = " AND (m.inherit_option OR m.set_option)"
	}
	rows, err := tx.Query(ctx, `SELECT u.rolname FROM pg_catalog.pg_auth_members m
		JOIN pg_catalog.pg_roles g ON g.oid OPERATOR(pg_catalog.=) m.roleid
		JOIN pg_catalog.pg_roles u ON u.oid OPERATOR(pg_catalog.=) m.member
		WHERE g.rolname OPERATOR(pg_catalog.=) $1::pg_catalog.name AND u.rolname OPERATOR(pg_catalog.<>) CURRENT_USER`+usable+`
		GROUP BY u.rolname ORDER BY u.rolname`, clone)
	if err != nil {
		return fmt.Errorf("read members of %q: %w", clone, classify(err))
	}
	members, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("read members of %q: %w", clone, classify(err))
	}
	if len(members) == 0 {
		return nil
	}
	quoted := make([]string, len(members))
	for i, m := range members {
		quoted[i] = fmt.Sprintf("%q", m)
	}
	return refuseClone(base, clone, fmt.Sprintf("other roles are members of it (%s) and would get the rights of %q through it; REVOKE %s FROM each first",
		strings.Join(quoted, ", "), base, ident(clone)))
}

// dropPrivileged revokes SUPERUSER, REPLICATION and BYPASSRLS from a clone
// that has them (no base has them: checkBase refuses it) and updates cur.
// An admin that may not (only a superuser may change these) gets a
// refusal naming the attribute; the transaction is then rolled back.
func dropPrivileged(ctx context.Context, tx pgx.Tx, base, clone string, cur *roleAttrs) ([]string, error) {
	var changes []string
	for _, a := range []struct {
		name string
		has  *bool
	}{{"SUPERUSER", &cur.super}, {"REPLICATION", &cur.replication}, {"BYPASSRLS", &cur.bypassRLS}} {
		if !*a.has {
			continue
		}
		if _, err := tx.Exec(ctx, "ALTER ROLE "+ident(clone)+" WITH NO"+a.name); err != nil {
			return nil, refuseClone(base, clone, fmt.Sprintf("it has %s, which %q lacks, and the admin cannot revoke it (%v); revoke it as a superuser or drop the role", a.name, base, classify(err)))
		}
		*a.has = false
		changes = append(changes, fmt.Sprintf("%s.%s=false", clone, a.name))
	}
	return changes, nil
}

// dropSettings removes the clone's per-role settings (ALTER ROLE ... [IN
// DATABASE ...] SET) other than the one rotor makes, role in every
// database. A setting such as session_replication_role = replica (which
// turns off triggers and foreign keys) would otherwise give whoever reads
// the secret what the base role does not have. A setting the admin may not
// remove (only a superuser may change a superuser-only parameter) is
// refused, naming it; the transaction is then rolled back.
func dropSettings(ctx context.Context, tx pgx.Tx, base, clone string) ([]string, error) {
	type setting struct{ db, name string }
	rows, err := tx.Query(ctx, `SELECT d.datname, pg_catalog.split_part(c.item, '=', 1)
		FROM pg_catalog.pg_db_role_setting s
		LEFT JOIN pg_catalog.pg_database d ON d.oid OPERATOR(pg_catalog.=) s.setdatabase
		CROSS JOIN LATERAL pg_catalog.unnest(s.setconfig) AS c(item)
		WHERE s.setrole OPERATOR(pg_catalog.=) (SELECT oid FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) $1::pg_catalog.name)`, clone)
	if err != nil {
		return nil, fmt.Errorf("read settings of %q: %w", clone, classify(err))
	}
	var extra []setting
	for rows.Next() {
		var db *string
		var name string
		if err := rows.Scan(&db, &name); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read settings of %q: %w", clone, classify(err))
		}
		switch {
		case db == nil && name == "role":
		case db == nil:
			extra = append(extra, setting{name: name})
		default:
			extra = append(extra, setting{db: *db, name: name})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read settings of %q: %w", clone, classify(err))
	}
	var changes []string
	for _, x := range extra {
		stmt, where := "ALTER ROLE "+ident(clone), "in every database"
		if x.db != "" {
			stmt += " IN DATABASE " + ident(x.db)
			where = fmt.Sprintf("in database %q", x.db)
		}
		if _, err := tx.Exec(ctx, stmt+" RESET "+ident(x.name)); err != nil {
			return nil, refuseClone(base, clone, fmt.Sprintf("it has the setting %s %s, which the admin cannot remove (%v); remove it as a superuser (ALTER ROLE ... RESET)", x.name, where, classify(err)))
		}
		changes = append(changes, fmt.Sprintf("reset %s of %s %s", x.name, clone, where))
	}
	return changes, nil
}

// syncAttrs issues one ALTER ROLE for the attributes that differ, so an
// admin without CREATEROLE-on-CREATEROLE rights is only asked for what is
// needed.
func syncAttrs(ctx context.Context, tx pgx.Tx, clone string, base, cur roleAttrs) ([]string, error) {
	var opts, changes []string
	flag := func(name string, want, have bool) {
		if want == have {
			return
		}
		if want {
			opts = append(opts, name)
		} else {
			opts = append(opts, "NO"+name)
		}
		changes = append(changes, fmt.Sprintf("%s.%s=%t", clone, name, want))
	}
	flag("INHERIT", base.inherit, cur.inherit)
	flag("CREATEROLE", base.createRole, cur.createRole)
	flag("CREATEDB", base.createDB, cur.createDB)
	if base.connLimit != cur.connLimit {
		opts = append(opts, fmt.Sprintf("CONNECTION LIMIT %d", base.connLimit))
		changes = append(changes, fmt.Sprintf("%s.CONNECTION_LIMIT=%d", clone, base.connLimit))
	}
	if !sameTime(base.validUntil, cur.validUntil) {
		v := "infinity"
		if base.validUntil != nil {
			v = base.validUntil.UTC().Format(time.RFC3339Nano)
		}
		opts = append(opts, "VALID UNTIL "+literal(v))
		changes = append(changes, fmt.Sprintf("%s.VALID_UNTIL=%s", clone, v))
	}
	if len(opts) == 0 {
		return nil, nil
	}
	stmt := "ALTER ROLE " + ident(clone) + " WITH"
	for _, o := range opts {
		stmt += " " + o
	}
	if _, err := tx.Exec(ctx, stmt); err != nil {
		return nil, fmt.Errorf("copy attributes of role to %q: %w", clone, classify(err))
	}
	return changes, nil
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

// grantOpts are the options of one role membership. Before PostgreSQL 16
// only admin exists; inherit and set are then always true.
type grantOpts struct {
	admin, inherit, set bool
}

// memberOf returns the roles role is a member of, with the options of the
// membership. On PostgreSQL 16 and later a membership may be granted
// several times (by different grantors); its options are those of any
// grant, as the server applies them.
func memberOf(ctx context.Context, tx pgx.Tx, role string, memberOpts bool) (map[string]grantOpts, error) {
	opts := "true, true"
	if memberOpts {
		opts = "pg_catalog.bool_or(m.inherit_option), pg_catalog.bool_or(m.set_option)"
	}
	rows, err := tx.Query(ctx, `SELECT g.rolname, pg_catalog.bool_or(m.admin_option), `+opts+`
		FROM pg_catalog.pg_auth_members m
		JOIN pg_catalog.pg_roles g ON g.oid OPERATOR(pg_catalog.=) m.roleid
		JOIN pg_catalog.pg_roles u ON u.oid OPERATOR(pg_catalog.=) m.member
		WHERE u.rolname OPERATOR(pg_catalog.=) $1::pg_catalog.name
		GROUP BY g.rolname`, role)
	if err != nil {
		return nil, fmt.Errorf("read memberships of %q: %w", role, classify(err))
	}
	defer rows.Close()
	out := map[string]grantOpts{}
	for rows.Next() {
		var g string
		var o grantOpts
		if err := rows.Scan(&g, &o.admin, &o.inherit, &o.set); err != nil {
			return nil, fmt.Errorf("read memberships of %q: %w", role, classify(err))
		}
		out[g] = o
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read memberships of %q: %w", role, classify(err))
	}
	return out, nil
}

// cloneMemberships returns the memberships the clone must have: the base
// role's, with the same options, plus the base role itself, without ADMIN
// OPTION, with SET (its sessions SET ROLE to the base) and with INHERIT as
// the base's INHERIT attribute (as a plain GRANT would give it).
func cloneMemberships(ctx context.Context, tx pgx.Tx, base string, attrs roleAttrs, memberOpts bool) (map[string]grantOpts, error) {
	want, err := memberOf(ctx, tx, base, memberOpts)
	if err != nil {
		return nil, err
	}
	want[base] = grantOpts{admin: false, inherit: attrs.inherit || !memberOpts, set: true}
	return want, nil
}

// syncMemberships makes the clone's memberships want: missing ones granted
// with want's options, options that differ changed, the rest revoked.
func syncMemberships(ctx context.Context, tx pgx.Tx, clone string, want map[string]grantOpts, memberOpts bool) ([]string, error) {
	have, err := memberOf(ctx, tx, clone, memberOpts)
	if err != nil {
		return nil, err
	}
	var changes []string
	run := func(stmt, change string) error {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("%s: %w", change, classify(err))
		}
		changes = append(changes, change)
		return nil
	}
	for _, g := range slices.Sorted(maps.Keys(want)) {
		w, h := want[g], have[g]
		_, member := have[g]
		grant := "GRANT " + ident(g) + " TO " + ident(clone)
		switch {
		case !member && memberOpts:
			err = run(grant+fmt.Sprintf(" WITH ADMIN %t, INHERIT %t, SET %t", w.admin, w.inherit, w.set),
				fmt.Sprintf("grant %s to %s (admin %t, inherit %t, set %t)", g, clone, w.admin, w.inherit, w.set))
		case !member && w.admin:
			err = run(grant+" WITH ADMIN OPTION", fmt.Sprintf("grant %s to %s with admin option", g, clone))
		case !member:
			err = run(grant, fmt.Sprintf("grant %s to %s", g, clone))
		case h.admin && !w.admin:
			err = run("REVOKE ADMIN OPTION FOR "+ident(g)+" FROM "+ident(clone), fmt.Sprintf("revoke admin option for %s from %s", g, clone))
		case w.admin && !h.admin:
			err = run(grant+" WITH ADMIN OPTION", fmt.Sprintf("grant %s to %s with admin option", g, clone))
		}
		if err != nil {
			return changes, err
		}
		if member && memberOpts && (w.inherit != h.inherit || w.set != h.set) {
			if err := run(grant+fmt.Sprintf(" WITH INHERIT %t, SET %t", w.inherit, w.set),
				fmt.Sprintf("set options of %s for %s (inherit %t, set %t)", g, clone, w.inherit, w.set)); err != nil {
				return changes, err
			}
		}
	}
	for _, g := range slices.Sorted(maps.Keys(have)) {
		if _, ok := want[g]; ok {
			continue
		}
		if err := run("REVOKE "+ident(g)+" FROM "+ident(clone), fmt.Sprintf("revoke %s from %s", g, clone)); err != nil {
			return changes, err
		}
	}
	return changes, nil
}

// checkParity reads the clone back and refuses, naming each difference,
// unless its attributes are the base's and its memberships are want. The
// server ignores, with a warning, some revokes the admin may not make (on
// PostgreSQL 16, a membership another role granted): this is where that
// shows.
func checkParity(ctx context.Context, tx pgx.Tx, base, clone string, attrs roleAttrs, want map[string]grantOpts, memberOpts bool) error {
	got, _, err := readAttrs(ctx, tx, clone)
	if err != nil {
		return err
	}
	have, err := memberOf(ctx, tx, clone, memberOpts)
	if err != nil {
		return err
	}
	var diff []string
	if d := got.differ(attrs); len(d) > 0 {
		diff = append(diff, "a different "+strings.Join(d, ", "))
	}
	for _, g := range slices.Sorted(maps.Keys(have)) {
		w, ok := want[g]
		switch {
		case !ok:
			diff = append(diff, fmt.Sprintf("membership in %q", g))
		case have[g] != w:
			h := have[g]
			diff = append(diff, fmt.Sprintf("membership in %q with ADMIN OPTION %t, INHERIT %t, SET %t (want %t, %t, %t)", g, h.admin, h.inherit, h.set, w.admin, w.inherit, w.set))
		}
	}
	for _, g := range slices.Sorted(maps.Keys(want)) {
		if _, ok := have[g]; !ok {
			diff = append(diff, fmt.Sprintf("no membership in %q", g))
		}
	}
	if len(diff) == 0 {
		return nil
	}
	return refuseClone(base, clone, "after the sync it still has "+strings.Join(diff, ", ")+
		", which the admin could not change (on PostgreSQL 16 and later only the role that granted a membership, or a superuser, may revoke it)")
}
