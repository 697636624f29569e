package postgres

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
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
	// validUntil is when the role's password stops working: nil when it
	// never does (no VALID UNTIL, or 'infinity', which the server treats
	// alike), the zero time for '-infinity'.
	validUntil *time.Time
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
//   - refuses a clone that is the admin itself;
//   - refuses a pre-existing clone that owns objects or holds privileges on
//     them (it must hold nothing of its own: what it may do, it gets from
//     its base role) or that other roles are members of, and revokes SUPERUSER, REPLICATION and BYPASSRLS from
//     one that has them, and removes its per-role settings other than
//     rotor's own, refusing, with the attribute or setting named, when the
//     admin may not;
//   - sets the pending role's password (as a SCRAM verifier) and, when it
//     lacks it, LOGIN;
//   - gives the clone the base role's attributes (INHERIT, CREATEROLE,
//     CREATEDB, CONNECTION LIMIT, VALID UNTIL) and the same role
//     memberships with the same ADMIN (and, from PostgreSQL 16, INHERIT
//     and SET) options, revoking memberships and options the base lacks;
//   - makes the clone a member of the base role (without ADMIN OPTION) and
//     sets the clone's sessions to run as the base role (ALTER ROLE clone
//     SET role), so that objects either user creates are owned by the base
//     role and usable by both;
//   - when it changed the clone's attributes or memberships, reads the
//     clone back and refuses, naming what differs, if it is not yet the
//     base's equal (the server ignores some revokes, such as one of a
//     membership another role granted on PostgreSQL 16). When it changed
//     none, the facts it read first already showed them equal.
//
// Round trips (each a network round trip to the server, pgx batches sent
// as one simple-protocol query): the first sends BEGIN, takes the role's
// lock (lockRoleSQL) and reads every fact in one statement (factsSQL); the
// second sends the writes the facts call for and then COMMIT, or, when it
// changed the clone's attributes or memberships, the read-back, after
// which a third commits. A steady-state rotation (the clone exists and
// matches its base) is two round trips of five statements: BEGIN, lock,
// facts; password, COMMIT.
//
// Repeating it is harmless: every change is computed against the catalog's
// current state. On any error the transaction is rolled back, nothing has
// changed, and the response is empty.
func (s *Session) SyncAlternate(ctx context.Context, req engine.AlternateRequest) (engine.AlternateResponse, error) {
	if req.Pending != req.Base && req.Pending != req.Clone {
		return engine.AlternateResponse{}, fmt.Errorf("pending role %q is neither %q nor %q", req.Pending, req.Base, req.Clone)
	}
	defer s.rollbackOpen(ctx)
	f, err := s.beginAlternate(ctx, req)
	if err != nil {
		return engine.AlternateResponse{}, err
	}
	p, err := planAlternate(req, f)
	if err != nil {
		return engine.AlternateResponse{}, err
	}
	if err := s.applyAlternate(ctx, req, f, p); err != nil {
		return engine.AlternateResponse{}, err
	}
	return p.resp, nil
}

// rollbackOpen rolls back the transaction SyncAlternate left open when it
// failed (a statement's error leaves it open, aborted). When the rollback
// cannot be sent the connection is closed, which ends the transaction on
// the server.
func (s *Session) rollbackOpen(ctx context.Context) {
	if s.c == nil || s.c.IsClosed() || s.c.PgConn().TxStatus() == 'I' {
		return
	}
	if _, err := s.c.Exec(ctx, "rollback"); err != nil {
		s.c.Close(ctx) //nolint:errcheck // the server ends the transaction with the connection
	}
}

// beginAlternate sends, in one round trip, BEGIN, the base role's lock and
// factsSQL, and returns the facts. The lock is its own statement, before
// the facts: in READ COMMITTED each statement reads the catalog as of its
// own start, so the facts statement sees what a concurrent step committed
// before the lock was granted. On success the transaction stays open.
func (s *Session) beginAlternate(ctx context.Context, req engine.AlternateRequest) (alternateFacts, error) {
	b := &pgx.Batch{}
	b.Queue("begin")
	b.Queue(lockRoleSQL(req.Base))
	b.Queue(factsSQL, req.Base, req.Clone)
	br := s.c.SendBatch(ctx, b)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return alternateFacts{}, fmt.Errorf("begin: %w", classify(err))
	}
	if _, err := br.Exec(); err != nil {
		return alternateFacts{}, fmt.Errorf("lock role %q against a concurrent rotation step: %w", req.Base, classify(err))
	}
	f, err := scanFacts(br.QueryRow())
	if err == nil {
		err = br.Close()
	}
	if err != nil {
		return alternateFacts{}, fmt.Errorf("read roles %q and %q from the catalog: %w", req.Base, req.Clone, classify(err))
	}
	return f, nil
}

// roleFacts is what factsSQL reads about one role. exists false leaves the
// rest zero.
type roleFacts struct {
	exists   bool
	isAdmin  bool // the role is the session's user
	canLogin bool
	attrs    roleAttrs
	memberOf map[string]grantOpts // the roles it is a member of
}

// alternateFacts is everything SyncAlternate decides on, read in one
// statement (factsSQL).
type alternateFacts struct {
	version     int32 // server_version_num
	base, clone roleFacts
	// owned counts the objects the clone owns or holds privileges on, by
	// database (DB nil: cluster-wide), ordered by database name.
	owned []ownedIn
	// members are the roles, other than the admin, that are members of
	// the clone with INHERIT or SET (before PostgreSQL 16 every
	// membership has both), by name.
	members []string
	// settings are the clone's per-role settings.
	settings []roleSetting
}

type ownedIn struct {
	DB *string `json:"db"`
	N  int     `json:"n"`
}

type roleSetting struct {
	DB    *string `json:"db"` // nil: in every database
	Name  string  `json:"name"`
	Value string  `json:"value"`
}

type membership struct {
	Role    string `json:"role"`
	Admin   bool   `json:"admin"`
	Inherit bool   `json:"inherit"`
	Set     bool   `json:"set"`
}

// memberOption is a membership's INHERIT or SET option (name "inherit" or
// "set") of pg_auth_members row m, true before PostgreSQL 16, whose
// pg_auth_members lacks the column: read through to_jsonb so that one
// statement text serves every version (naming a missing column would fail
// the statement).
func memberOption(name string) string {
	return `COALESCE((pg_catalog.to_jsonb(m) OPERATOR(pg_catalog.->>) '` + name + `_option')::pg_catalog.bool, true)`
}

// roleColumns reads role r (a pg_roles row, NULL when the role is missing)
// for scanFacts: exists, is the session user, the checkBase attributes,
// the synced ones, and its memberships (as JSON, options per role OR-ed
// over the grants of it: on PostgreSQL 16 and later a membership may be
// granted several times, by different grantors, and the server applies
// any grant's options).
func roleColumns(r string) string {
	return r + `.rolname IS NOT NULL, COALESCE(` + r + `.rolname OPERATOR(pg_catalog.=) CURRENT_USER, false),
	COALESCE(` + r + `.rolsuper, false), COALESCE(` + r + `.rolreplication, false), COALESCE(` + r + `.rolbypassrls, false),
	COALESCE(` + r + `.rolcanlogin, false), COALESCE(` + r + `.rolinherit, false), COALESCE(` + r + `.rolcreaterole, false),
	COALESCE(` + r + `.rolcreatedb, false), COALESCE(` + r + `.rolconnlimit, -1), ` + r + `.rolvaliduntil,
	COALESCE((SELECT pg_catalog.json_agg(pg_catalog.json_build_object('role', x.rolname, 'admin', x.a, 'inherit', x.i, 'set', x.s))
		FROM (SELECT g.rolname, pg_catalog.bool_or(m.admin_option) AS a, pg_catalog.bool_or(` + memberOption("inherit") + `) AS i,
				pg_catalog.bool_or(` + memberOption("set") + `) AS s
			FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles g ON g.oid OPERATOR(pg_catalog.=) m.roleid
			WHERE m.member OPERATOR(pg_catalog.=) ` + r + `.oid GROUP BY g.rolname) x), '[]')`
}

// factsSQL reads, in one statement, everything SyncAlternate needs about
// base ($1) and clone ($2); scanFacts scans it. The clone's objects come
// from pg_shdepend, which records ownership and privileges in every
// database and which every role may read (memberships are not objects:
// they are synced).
var factsSQL = `SELECT pg_catalog.current_setting('server_version_num')::pg_catalog.int4,
	` + roleColumns("b") + `,
	` + roleColumns("c") + `,
	COALESCE((SELECT pg_catalog.json_agg(pg_catalog.json_build_object('db', o.datname, 'n', o.n) ORDER BY o.datname)
		FROM (SELECT d.datname, pg_catalog.count(*)::pg_catalog.int4 AS n
			FROM pg_catalog.pg_shdepend s LEFT JOIN pg_catalog.pg_database d ON d.oid OPERATOR(pg_catalog.=) s.dbid
			WHERE s.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_authid'::pg_catalog.regclass
				AND s.refobjid OPERATOR(pg_catalog.=) c.oid
				AND s.classid OPERATOR(pg_catalog.<>) 'pg_catalog.pg_auth_members'::pg_catalog.regclass
			GROUP BY d.datname) o), '[]'),
	COALESCE((SELECT pg_catalog.json_agg(DISTINCT u.rolname ORDER BY u.rolname)
		FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles u ON u.oid OPERATOR(pg_catalog.=) m.member
		WHERE m.roleid OPERATOR(pg_catalog.=) c.oid AND u.rolname OPERATOR(pg_catalog.<>) CURRENT_USER
			AND (` + memberOption("inherit") + ` OR ` + memberOption("set") + `)), '[]'),
	COALESCE((SELECT pg_catalog.json_agg(pg_catalog.json_build_object('db', d.datname, 'name', pg_catalog.split_part(i.item, '=', 1),
			'value', pg_catalog.substr(i.item, pg_catalog.strpos(i.item, '=') OPERATOR(pg_catalog.+) 1)) ORDER BY s.setdatabase, i.item)
		FROM pg_catalog.pg_db_role_setting s
		LEFT JOIN pg_catalog.pg_database d ON d.oid OPERATOR(pg_catalog.=) s.setdatabase
		CROSS JOIN LATERAL pg_catalog.unnest(s.setconfig) AS i(item)
		WHERE s.setrole OPERATOR(pg_catalog.=) c.oid), '[]')
FROM (VALUES (1)) AS one(x)
LEFT JOIN pg_catalog.pg_roles b ON b.rolname OPERATOR(pg_catalog.=) $1::pg_catalog.name
LEFT JOIN pg_catalog.pg_roles c ON c.rolname OPERATOR(pg_catalog.=) $2::pg_catalog.name`

// scanFacts scans factsSQL's row.
func scanFacts(row pgx.Row) (alternateFacts, error) {
	var f alternateFacts
	var baseOf, cloneOf []membership
	var baseUntil, cloneUntil pgtype.Timestamptz
	dest := []any{&f.version}
	for _, r := range []struct {
		f     *roleFacts
		of    *[]membership
		until *pgtype.Timestamptz
	}{{&f.base, &baseOf, &baseUntil}, {&f.clone, &cloneOf, &cloneUntil}} {
		a := &r.f.attrs
		dest = append(dest, &r.f.exists, &r.f.isAdmin, &a.super, &a.replication, &a.bypassRLS, &r.f.canLogin,
			&a.inherit, &a.createRole, &a.createDB, &a.connLimit, r.until, r.of)
	}
	dest = append(dest, &f.owned, &f.members, &f.settings)
	if err := row.Scan(dest...); err != nil {
		return f, err
	}
	f.base.memberOf, f.clone.memberOf = grants(baseOf), grants(cloneOf)
	f.base.attrs.validUntil, f.clone.attrs.validUntil = expiry(baseUntil), expiry(cloneUntil)
	return f, nil
}

// expiry converts rolvaliduntil: NULL and 'infinity' (which *time.Time
// cannot hold) to nil, '-infinity' to the zero time.
func expiry(t pgtype.Timestamptz) *time.Time {
	switch {
	case !t.Valid || t.InfinityModifier == pgtype.Infinity:
		return nil
	case t.InfinityModifier == pgtype.NegativeInfinity:
		return &time.Time{}
	}
	v := t.Time
	return &v
}

func grants(ms []membership) map[string]grantOpts {
	out := make(map[string]grantOpts, len(ms))
	for _, m := range ms {
		out[m.Role] = grantOpts{admin: m.Admin, inherit: m.Inherit, set: m.Set}
	}
	return out
}

// plannedStmt is one write of the plan: the statement, what to return
// when the server refuses it (err is already classified), and the changes
// it makes, for the response.
type plannedStmt struct {
	sql     string
	fail    func(err error) error
	changes []string
}

// alternatePlan is the writes SyncAlternate sends in its second round
// trip, in order.
type alternatePlan struct {
	stmts []plannedStmt
	// readBack: the plan changes the clone's attributes or memberships,
	// so the clone is read back (checkParity) before the commit.
	readBack bool
	want     map[string]grantOpts // the clone's memberships once synced
	resp     engine.AlternateResponse
}

func (p *alternatePlan) add(sql string, fail func(error) error, changes ...string) {
	p.stmts = append(p.stmts, plannedStmt{sql: sql, fail: fail, changes: changes})
}

// failWith returns a plannedStmt.fail that wraps the server's error in
// what failed.
func failWith(format string, args ...any) func(error) error {
	return func(err error) error { return fmt.Errorf(format+": %w", append(args, err)...) }
}

// planAlternate checks the facts, refusing what SyncAlternate refuses,
// and returns the writes that make the clone the base's equal and set the
// pending password, in the order the refusals and errors are reported.
func planAlternate(req engine.AlternateRequest, f alternateFacts) (*alternatePlan, error) {
	if f.base.exists {
		if err := checkBase(req.Base, f.base); err != nil {
			return nil, err
		}
	}
	memberOpts := f.version >= 160000
	if !f.base.exists {
		return nil, fmt.Errorf("role %q does not exist", req.Base)
	}
	p := &alternatePlan{}
	clone := f.clone
	if !clone.exists {
		if req.Pending != req.Clone {
			return nil, fmt.Errorf("role %q does not exist, but the current secret names it", req.Clone)
		}
		p.add("CREATE ROLE "+ident(req.Clone)+" WITH LOGIN NOINHERIT", failWith("create role %q", req.Clone))
		p.resp.CreatedClone, p.readBack = true, true
		clone = roleFacts{exists: true, canLogin: true, attrs: roleAttrs{inherit: false, connLimit: -1}, memberOf: map[string]grantOpts{}}
	} else {
		// The admin must not act on itself for a secret someone less
		// trusted may have written (a base "x" names the admin "x_clone"
		// as its clone): it would set its own password to the secret's.
		if clone.isAdmin {
			return nil, refuseClone(req.Base, req.Clone, "it is the admin itself")
		}
		if err := refuseOwned(req.Base, req.Clone, f.owned); err != nil {
			return nil, err
		}
		if err := refuseMembers(req.Base, req.Clone, f.members); err != nil {
			return nil, err
		}
		planDropPrivileged(p, req.Base, req.Clone, &clone.attrs)
		planDropSettings(p, req.Base, req.Clone, f.settings)
	}
	stmt, err := alterPassword(req.Pending, req.Password)
	if err != nil {
		return nil, fmt.Errorf("set password for %q: %w", req.Pending, err)
	}
	p.add(stmt, failWith("set password for %q", req.Pending))
	canLogin := clone.canLogin
	if req.Pending == req.Base {
		canLogin = f.base.canLogin
	}
	if !canLogin {
		p.add("ALTER ROLE "+ident(req.Pending)+" WITH LOGIN", failWith("allow login for %q", req.Pending))
	}
	planAttrs(p, req.Clone, f.base.attrs, clone.attrs)
	p.want = maps.Clone(f.base.memberOf)
	p.want[req.Base] = grantOpts{admin: false, inherit: f.base.attrs.inherit || !memberOpts, set: true}
	planMemberships(p, req.Clone, p.want, clone.memberOf, memberOpts)
	if p.resp.CreatedClone || !actsAs(f.settings, req.Base) {
		p.add("ALTER ROLE "+ident(req.Clone)+" SET role TO "+ident(req.Base),
			failWith("make %q sessions act as %q", req.Clone, req.Base))
	}
	return p, nil
}

// applyAlternate sends the plan's writes in one round trip, followed by
// COMMIT or, when the plan changes the clone's attributes or memberships,
// by factsSQL to read the clone back; then (checkParity passing) a third
// round trip commits. The first write the server refuses is reported,
// and the server runs none after it.
func (s *Session) applyAlternate(ctx context.Context, req engine.AlternateRequest, f alternateFacts, p *alternatePlan) error {
	b := &pgx.Batch{}
	for _, st := range p.stmts {
		b.Queue(st.sql)
	}
	if p.readBack {
		b.Queue(factsSQL, req.Base, req.Clone)
	} else {
		b.Queue("commit")
	}
	br := s.c.SendBatch(ctx, b)
	defer br.Close()
	for _, st := range p.stmts {
		if _, err := br.Exec(); err != nil {
			return st.fail(classify(err))
		}
		p.resp.Changes = append(p.resp.Changes, st.changes...)
	}
	if !p.readBack {
		tag, err := br.Exec()
		if err == nil {
			err = br.Close()
		}
		return committed(tag, err)
	}
	got, err := scanFacts(br.QueryRow())
	if err == nil {
		err = br.Close()
	}
	if err != nil {
		return fmt.Errorf("read role %q back: %w", req.Clone, classify(err))
	}
	if err := checkParity(req.Base, req.Clone, got.clone, f.base.attrs, p.want); err != nil {
		return err
	}
	return committed(s.c.Exec(ctx, "commit"))
}

// committed is the error of a COMMIT that answered tag and err: the server
// answers a COMMIT of a failed transaction with ROLLBACK.
func committed(tag pgconn.CommandTag, err error) error {
	if err != nil {
		return fmt.Errorf("commit role changes: %w", classify(err))
	}
	if tag.String() != "COMMIT" {
		return fmt.Errorf("commit role changes: the server answered %s", tag.String())
	}
	return nil
}

// refuseClone is the error for a clone rotor will not make its base's
// equal; why names what the clone has.
func refuseClone(base, clone, why string) error {
	return fmt.Errorf("refusing to use role %q as the clone of %q: %s (see \"Clone parity\" in docs/security.md)", clone, base, why)
}

// refuseOwned refuses a clone that owns objects or holds privileges on
// them in any database (owned, from factsSQL). Whoever reads the secret
// would get them, and the admin, which owns none of those objects, could
// not take them away. Memberships are not objects; they are synced.
func refuseOwned(base, clone string, owned []ownedIn) error {
	var where []string
	total := 0
	for _, o := range owned {
		total += o.N
		name := "cluster-wide (databases, tablespaces)"
		if o.DB != nil {
			name = fmt.Sprintf("database %q", *o.DB)
		}
		where = append(where, fmt.Sprintf("%d in %s", o.N, name))
	}
	if total == 0 {
		return nil
	}
	return refuseClone(base, clone, fmt.Sprintf(
		"it owns or holds privileges on %d objects of its own (%s), which whoever reads the secret would get; a clone holds nothing but membership in its base role: in each database run REASSIGN OWNED BY %s TO %s; DROP OWNED BY %s",
		total, strings.Join(where, ", "), ident(clone), ident(base), ident(clone)))
}

// refuseMembers refuses a clone that other roles are members of (members,
// from factsSQL): once the clone is a member of the base role they would
// get the base's rights through it. Left out (by factsSQL) are the admin
// itself and, from PostgreSQL 16 on, memberships with neither INHERIT nor
// SET, which carry no rights: a role a CREATEROLE admin creates is granted
// to that admin so, with ADMIN OPTION only (unless createrole_self_grant
// says otherwise).
func refuseMembers(base, clone string, members []string) error {
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

// planDropPrivileged revokes SUPERUSER, REPLICATION and BYPASSRLS from a
// clone that has them (no base has them: checkBase refuses it) and updates
// cur. An admin that may not (only a superuser may change these) gets a
// refusal naming the attribute; the transaction is then rolled back.
func planDropPrivileged(p *alternatePlan, base, clone string, cur *roleAttrs) {
	for _, a := range []struct {
		name string
		has  *bool
	}{{"SUPERUSER", &cur.super}, {"REPLICATION", &cur.replication}, {"BYPASSRLS", &cur.bypassRLS}} {
		if !*a.has {
			continue
		}
		name := a.name
		p.add("ALTER ROLE "+ident(clone)+" WITH NO"+name, func(err error) error {
			return refuseClone(base, clone, fmt.Sprintf("it has %s, which %q lacks, and the admin cannot revoke it (%v); revoke it as a superuser or drop the role", name, base, err))
		}, fmt.Sprintf("%s.%s=false", clone, name))
		p.readBack = true
		*a.has = false
	}
}

// planDropSettings removes the clone's per-role settings (ALTER ROLE ...
// [IN DATABASE ...] SET) other than the one rotor makes, role in every
// database. A setting such as session_replication_role = replica (which
// turns off triggers and foreign keys) would otherwise give whoever reads
// the secret what the base role does not have. A setting the admin may not
// remove (only a superuser may change a superuser-only parameter) is
// refused, naming it; the transaction is then rolled back.
func planDropSettings(p *alternatePlan, base, clone string, settings []roleSetting) {
	for _, x := range settings {
		if x.DB == nil && x.Name == "role" {
			continue
		}
		stmt, where := "ALTER ROLE "+ident(clone), "in every database"
		if x.DB != nil {
			stmt += " IN DATABASE " + ident(*x.DB)
			where = fmt.Sprintf("in database %q", *x.DB)
		}
		name := x.Name
		p.add(stmt+" RESET "+ident(name), func(err error) error {
			return refuseClone(base, clone, fmt.Sprintf("it has the setting %s %s, which the admin cannot remove (%v); remove it as a superuser (ALTER ROLE ... RESET)", name, where, err))
		}, fmt.Sprintf("reset %s of %s %s", name, clone, where))
	}
}

// actsAs reports whether settings (the clone's) hold rotor's own: role set
// to base in every database. The server keeps the value as given, unquoted.
func actsAs(settings []roleSetting, base string) bool {
	for _, x := range settings {
		if x.DB == nil && x.Name == "role" && x.Value == base {
			return true
		}
	}
	return false
}

// planAttrs adds one ALTER ROLE for the attributes that differ, so an
// admin without CREATEROLE-on-CREATEROLE rights is only asked for what is
// needed.
func planAttrs(p *alternatePlan, clone string, base, cur roleAttrs) {
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
		switch {
		case base.validUntil == nil:
		case base.validUntil.IsZero():
			v = "-infinity"
		default:
			v = base.validUntil.UTC().Format(time.RFC3339Nano)
		}
		opts = append(opts, "VALID UNTIL "+literal(v))
		changes = append(changes, fmt.Sprintf("%s.VALID_UNTIL=%s", clone, v))
	}
	if len(opts) == 0 {
		return
	}
	p.add("ALTER ROLE "+ident(clone)+" WITH "+strings.Join(opts, " "), failWith("copy attributes of role to %q", clone), changes...)
	p.readBack = true
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

// planMemberships makes the clone's memberships (have) want: missing ones
// granted with want's options, options that differ changed, the rest
// revoked.
func planMemberships(p *alternatePlan, clone string, want, have map[string]grantOpts, memberOpts bool) {
	run := func(stmt, change string) {
		p.add(stmt, failWith("%s", change), change)
		p.readBack = true
	}
	for _, g := range slices.Sorted(maps.Keys(want)) {
		w, h := want[g], have[g]
		_, member := have[g]
		grant := "GRANT " + ident(g) + " TO " + ident(clone)
		switch {
		case !member && memberOpts:
			run(grant+fmt.Sprintf(" WITH ADMIN %t, INHERIT %t, SET %t", w.admin, w.inherit, w.set),
				fmt.Sprintf("grant %s to %s (admin %t, inherit %t, set %t)", g, clone, w.admin, w.inherit, w.set))
		case !member && w.admin:
			run(grant+" WITH ADMIN OPTION", fmt.Sprintf("grant %s to %s with admin option", g, clone))
		case !member:
			run(grant, fmt.Sprintf("grant %s to %s", g, clone))
		case h.admin && !w.admin:
			run("REVOKE ADMIN OPTION FOR "+ident(g)+" FROM "+ident(clone), fmt.Sprintf("revoke admin option for %s from %s", g, clone))
		case w.admin && !h.admin:
			run(grant+" WITH ADMIN OPTION", fmt.Sprintf("grant %s to %s with admin option", g, clone))
		}
		if member && memberOpts && (w.inherit != h.inherit || w.set != h.set) {
			run(grant+fmt.Sprintf(" WITH INHERIT %t, SET %t", w.inherit, w.set),
				fmt.Sprintf("set options of %s for %s (inherit %t, set %t)", g, clone, w.inherit, w.set))
		}
	}
	for _, g := range slices.Sorted(maps.Keys(have)) {
		if _, ok := want[g]; !ok {
			run("REVOKE "+ident(g)+" FROM "+ident(clone), fmt.Sprintf("revoke %s from %s", g, clone))
		}
	}
}

// checkParity refuses, naming each difference, unless the clone as read
// back (got) has the base's attributes and the memberships want. The
// server ignores, with a warning, some revokes the admin may not make (on
// PostgreSQL 16, a membership another role granted): this is where that
// shows.
func checkParity(base, clone string, got roleFacts, attrs roleAttrs, want map[string]grantOpts) error {
	have := got.memberOf
	var diff []string
	if d := got.attrs.differ(attrs); len(d) > 0 {
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
