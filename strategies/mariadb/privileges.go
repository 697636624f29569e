package mariadb

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// Privilege levels, as GRANT's ON clause names them.
const (
	levelGlobal  = "global"
	levelSchema  = "schema"
	levelTable   = "table"
	levelColumn  = "column"
	levelRoutine = "routine"
)

// grantOption stands for WITH GRANT OPTION at one object; it is compared and
// synced like a privilege.
const grantOption = "GRANT OPTION"

// object is what a privilege is granted on.
type object struct {
	level  string
	schema string
	table  string // table or routine name
	column string
	kind   string // routine type: PROCEDURE, FUNCTION, PACKAGE, PACKAGE BODY
}

// priv is one privilege on one object.
type priv struct {
	on   object
	name string // SELECT, EXECUTE, ..., or grantOption
}

// on returns the ON clause (and, for a column, the column list) for o.
func (o object) clause() (cols, on string) {
	switch o.level {
	case levelGlobal:
		return "", "*.*"
	case levelSchema:
		return "", ident(o.schema) + ".*"
	case levelTable:
		return "", ident(o.schema) + "." + ident(o.table)
	case levelColumn:
		return " (" + ident(o.column) + ")", ident(o.schema) + "." + ident(o.table)
	}
	return "", o.kind + " " + ident(o.schema) + "." + ident(o.table)
}

// String names o for logs and errors (names only).
func (o object) String() string {
	switch o.level {
	case levelGlobal:
		return "*.*"
	case levelSchema:
		return o.schema + ".*"
	case levelTable:
		return o.schema + "." + o.table
	case levelColumn:
		return o.schema + "." + o.table + "(" + o.column + ")"
	}
	return o.kind + " " + o.schema + "." + o.table
}

// roleGrant is one role granted to an account.
type roleGrant struct {
	role  string
	admin bool
}

// limits are the account settings the clone mirrors.
type limits struct {
	maxQuestions, maxUpdates, maxConnections, maxUserConnections int64
	maxStatementTime                                             string
	sslType, sslCipher, x509Issuer, x509Subject                  string
	// passwordLifetime is PASSWORD EXPIRE INTERVAL in days; 0 is NEVER,
	// -1 DEFAULT (the server's default_password_lifetime).
	passwordLifetime int64
}

// proxyGrant is one PROXY privilege: the account may act as proxied.
type proxyGrant struct {
	proxied   account
	withGrant bool
}

// state is everything SyncAlternate copies from one account.
type state struct {
	privs       []priv
	roles       []roleGrant
	proxies     []proxyGrant
	defaultRole string
	limits      limits
	// locked is ACCOUNT LOCK. It is not copied: a locked clone is refused.
	locked bool
}

// catalogTables are the tables SyncAlternate reads. It checks it may read
// them before anything else, because information_schema's privilege views
// silently show only the session's own rows to a user who may not: read as
// "the base has no privileges", that would revoke everything from the clone.
var catalogTables = []string{"user", "global_priv", "db", "tables_priv", "columns_priv", "procs_priv", "proxies_priv", "roles_mapping"}

func (s *Session) checkCatalogAccess(ctx context.Context) error {
	var from []string
	for _, t := range catalogTables {
		from = append(from, "mysql."+t)
	}
	rows, err := s.c.QueryContext(ctx, "SELECT 1 FROM "+strings.Join(from, ", ")+" LIMIT 0")
	if err != nil {
		return fmt.Errorf("read the privilege tables (the admin needs SELECT on mysql.*): %w", classify(err))
	}
	return rows.Close()
}

// readState reads a's privileges, roles and limits from the catalog.
func (s *Session) readState(ctx context.Context, a account) (state, error) {
	var st state
	g := grantee(a)
	add := func(o object, name, grantable string) {
		if name != "USAGE" {
			st.privs = append(st.privs, priv{o, name})
		}
		if grantable == "YES" {
			st.privs = append(st.privs, priv{o, grantOption})
		}
	}
	queries := []struct {
		sql  string
		scan func(*sql.Rows) error
	}{
		{"SELECT PRIVILEGE_TYPE, IS_GRANTABLE FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ?", func(r *sql.Rows) error {
			var p, gr string
			if err := r.Scan(&p, &gr); err != nil {
				return err
			}
			add(object{level: levelGlobal}, p, gr)
			return nil
		}},
		{"SELECT TABLE_SCHEMA, PRIVILEGE_TYPE, IS_GRANTABLE FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = ?", func(r *sql.Rows) error {
			var o object
			var p, gr string
			if err := r.Scan(&o.schema, &p, &gr); err != nil {
				return err
			}
			o.level = levelSchema
			add(o, p, gr)
			return nil
		}},
		{"SELECT TABLE_SCHEMA, TABLE_NAME, PRIVILEGE_TYPE, IS_GRANTABLE FROM information_schema.TABLE_PRIVILEGES WHERE GRANTEE = ?", func(r *sql.Rows) error {
			var o object
			var p, gr string
			if err := r.Scan(&o.schema, &o.table, &p, &gr); err != nil {
				return err
			}
			o.level = levelTable
			add(o, p, gr)
			return nil
		}},
		// MariaDB keeps one grant option per table (tables_priv), also for
		// GRANT ... (column) ... WITH GRANT OPTION; column rows repeat it as
		// IS_GRANTABLE, and when the account has no table-level privilege
		// they are the only place it shows. It is recorded on the table, as
		// MariaDB stores it, and synced there.
		{"SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, PRIVILEGE_TYPE, IS_GRANTABLE FROM information_schema.COLUMN_PRIVILEGES WHERE GRANTEE = ?", func(r *sql.Rows) error {
			var o object
			var p, gr string
			if err := r.Scan(&o.schema, &o.table, &o.column, &p, &gr); err != nil {
				return err
			}
			o.level = levelColumn
			add(o, p, "NO")
			if gr == "YES" {
				add(object{level: levelTable, schema: o.schema, table: o.table}, "USAGE", gr)
			}
			return nil
		}},
	}
	for _, q := range queries {
		if err := s.scanRows(ctx, q.scan, q.sql, g); err != nil {
			return st, fmt.Errorf("read privileges of %q@%q: %w", a.user, a.host, err)
		}
	}
	// Routine privileges have no information_schema view.
	err := s.scanRows(ctx, func(r *sql.Rows) error {
		var o object
		var set string
		if err := r.Scan(&o.schema, &o.table, &o.kind, &set); err != nil {
			return err
		}
		o.level = levelRoutine
		for _, p := range strings.Split(set, ",") {
			switch p = strings.ToUpper(strings.TrimSpace(p)); p {
			case "":
			case "GRANT":
				st.privs = append(st.privs, priv{o, grantOption})
			default:
				st.privs = append(st.privs, priv{o, p})
			}
		}
		return nil
	}, "SELECT Db, Routine_name, Routine_type, Proc_priv FROM mysql.procs_priv WHERE User = ? AND Host = ?", a.user, a.host)
	if err != nil {
		return st, fmt.Errorf("read routine privileges of %q@%q: %w", a.user, a.host, err)
	}
	err = s.scanRows(ctx, func(r *sql.Rows) error {
		var rg roleGrant
		var adm string
		if err := r.Scan(&rg.role, &adm); err != nil {
			return err
		}
		rg.admin = adm == "Y"
		st.roles = append(st.roles, rg)
		return nil
	}, "SELECT Role, Admin_option FROM mysql.roles_mapping WHERE User = ? AND Host = ? ORDER BY Role", a.user, a.host)
	if err != nil {
		return st, fmt.Errorf("read roles of %q@%q: %w", a.user, a.host, err)
	}
	err = s.scanRows(ctx, func(r *sql.Rows) error {
		var pg proxyGrant
		if err := r.Scan(&pg.proxied.user, &pg.proxied.host, &pg.withGrant); err != nil {
			return err
		}
		st.proxies = append(st.proxies, pg)
		return nil
	}, "SELECT Proxied_user, Proxied_host, With_grant FROM mysql.proxies_priv WHERE User = ? AND Host = ? ORDER BY Proxied_user, Proxied_host", a.user, a.host)
	if err != nil {
		return st, fmt.Errorf("read PROXY privileges of %q@%q: %w", a.user, a.host, err)
	}
	l := &st.limits
	// mysql.user is a view over mysql.global_priv, which alone holds the
	// lock and the password lifetime.
	err = s.c.QueryRowContext(ctx, `SELECT u.default_role, u.max_questions, u.max_updates, u.max_connections, u.max_user_connections,
		CAST(u.max_statement_time AS CHAR), u.ssl_type, CAST(u.ssl_cipher AS CHAR), CAST(u.x509_issuer AS CHAR), CAST(u.x509_subject AS CHAR),
		CAST(IFNULL(JSON_VALUE(g.Priv, '$.password_lifetime'), -1) AS SIGNED), IFNULL(JSON_VALUE(g.Priv, '$.account_locked'), 0) IN ('1', 'true')
		FROM mysql.user u JOIN mysql.global_priv g ON g.User = u.User AND g.Host = u.Host
		WHERE u.User = ? AND u.Host = ?`, a.user, a.host).
		Scan(&st.defaultRole, &l.maxQuestions, &l.maxUpdates, &l.maxConnections, &l.maxUserConnections,
			&l.maxStatementTime, &l.sslType, &l.sslCipher, &l.x509Issuer, &l.x509Subject, &l.passwordLifetime, &st.locked)
	if err != nil {
		return st, fmt.Errorf("read account settings of %q@%q: %w", a.user, a.host, classify(err))
	}
	return st, nil
}

func (s *Session) scanRows(ctx context.Context, scan func(*sql.Rows) error, query string, args ...any) error {
	rows, err := s.c.QueryContext(ctx, query, args...)
	if err != nil {
		return classify(err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return classify(err)
		}
	}
	return classify(rows.Err())
}

// diffPrivs returns the privileges in want but not in have (to grant) and in
// have but not in want (to revoke), each grouped by object in a stable
// order.
func diffPrivs(want, have []priv) (grant, revoke map[object][]string, order []object) {
	grant, revoke = map[object][]string{}, map[object][]string{}
	seen := map[object]bool{}
	note := func(o object) {
		if !seen[o] {
			seen[o] = true
			order = append(order, o)
		}
	}
	for _, p := range want {
		if !slices.Contains(have, p) && !slices.Contains(grant[p.on], p.name) {
			grant[p.on] = append(grant[p.on], p.name)
			note(p.on)
		}
	}
	for _, p := range have {
		if !slices.Contains(want, p) && !slices.Contains(revoke[p.on], p.name) {
			revoke[p.on] = append(revoke[p.on], p.name)
			note(p.on)
		}
	}
	slices.SortFunc(order, func(a, b object) int { return strings.Compare(a.sortKey(), b.sortKey()) })
	for _, m := range []map[object][]string{grant, revoke} {
		for _, v := range m {
			slices.Sort(v)
		}
	}
	return grant, revoke, order
}

func (o object) sortKey() string {
	return strings.Join([]string{o.level, o.schema, o.table, o.column, o.kind}, "\x00")
}

// CanManageRole reports whether the logged-in account may do what
// alternating-users asks of an admin for user: read the privilege tables,
// create the clone and change passwords (CREATE USER), and grant the base
// user's privileges to the clone (global GRANT OPTION; the admin must also
// hold each privilege it grants, which a GRANT ALL ... WITH GRANT OPTION
// admin such as RDS's master user does). It also requires that user has
// exactly one account, and ADMIN OPTION on every role user holds (MariaDB
// lets only such an account grant a role). PROCESS is reported but not required: without it
// the count of the previous user's sessions sees nothing. why explains the
// answer with names only. It reads the catalog and changes nothing.
func (s *Session) CanManageRole(ctx context.Context, user string) (ok bool, why string, err error) {
	var cur string
	if err := s.c.QueryRowContext(ctx, "SELECT CURRENT_USER()").Scan(&cur); err != nil {
		return false, "", fmt.Errorf("read the current account: %w", classify(err))
	}
	i := strings.LastIndexByte(cur, '@')
	if i < 0 {
		return false, "", fmt.Errorf("unexpected CURRENT_USER() %q", cur)
	}
	me := account{user: cur[:i], host: cur[i+1:]}
	have := map[string]bool{}
	grantable := false
	err = s.scanRows(ctx, func(r *sql.Rows) error {
		var p, gr string
		if err := r.Scan(&p, &gr); err != nil {
			return err
		}
		have[p] = true
		grantable = grantable || gr == "YES"
		return nil
	}, "SELECT PRIVILEGE_TYPE, IS_GRANTABLE FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ?", grantee(me))
	if err != nil {
		return false, "", fmt.Errorf("read privileges of %q: %w", s.user, err)
	}
	var missing []string
	if !have["CREATE USER"] {
		missing = append(missing, "CREATE USER")
	}
	if !grantable {
		missing = append(missing, "GRANT OPTION")
	}
	if err := s.checkCatalogAccess(ctx); err != nil {
		missing = append(missing, "SELECT on mysql.*")
	}
	if len(missing) > 0 {
		return false, fmt.Sprintf("%q lacks %s (the admin needs GRANT CREATE USER ON *.* ... WITH GRANT OPTION and SELECT ON mysql.*)", s.user, strings.Join(missing, ", ")), nil
	}
	base, found, err := s.lookup(ctx, user)
	if err != nil {
		return false, err.Error(), nil
	} else if !found {
		return false, fmt.Sprintf("user %q does not exist", user), nil
	}
	// Granting a role to the clone takes ADMIN OPTION on the role.
	var roles []string
	err = s.scanRows(ctx, func(r *sql.Rows) error {
		var role string
		if err := r.Scan(&role); err != nil {
			return err
		}
		roles = append(roles, role)
		return nil
	}, `SELECT b.Role FROM mysql.roles_mapping b WHERE b.User = ? AND b.Host = ? AND NOT EXISTS (
		SELECT 1 FROM mysql.roles_mapping a WHERE a.User = ? AND a.Host = ? AND a.Role = b.Role AND a.Admin_option = 'Y')
		ORDER BY b.Role`, base.user, base.host, me.user, me.host)
	if err != nil {
		return false, "", fmt.Errorf("read roles of %q: %w", user, err)
	}
	if len(roles) > 0 {
		return false, fmt.Sprintf("%q holds roles %s that %q cannot grant (GRANT <role> TO the admin WITH ADMIN OPTION)", user, strings.Join(roles, ", "), s.user), nil
	}
	why = fmt.Sprintf("%q has CREATE USER and GRANT OPTION on *.* and reads mysql.*", s.user)
	if !have["PROCESS"] {
		why += "; without PROCESS it cannot count the previous user's open sessions"
	}
	return true, why, nil
}
