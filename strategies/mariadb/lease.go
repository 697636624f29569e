package mariadb

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rotorhq/rotor/strategies/engine"
)

var _ engine.LeaseManager = (*Session)(nil)

// MariaDB has no VALID UNTIL and no user comments or attributes (10.11
// refuses CREATE USER ... COMMENT), so a lease user's expiry is recorded in
// a table the admin owns: LeaseSchema.LeaseTable, created on first use. The
// reaper reads it; the server itself does not stop an expired user from
// logging in, the reaper does (docs/leases.md).
const (
	LeaseSchema = "rotor"
	LeaseTable  = "rotor_leases"
	// LeaseHost is the host part of every lease account.
	LeaseHost = "%"
)

const leaseTable = "`" + LeaseSchema + "`.`" + LeaseTable + "`"

// leaseTimeLayout is how expiries are written to and read from the table
// (DATETIME(6), UTC).
const leaseTimeLayout = "2006-01-02 15:04:05.000000"

// errUnknownThread is ER_NO_SUCH_THREAD: the session ended by itself.
const errUnknownThread = 1094

// ensureLeaseTable creates the expiry table if missing.
func (s *Session) ensureLeaseTable(ctx context.Context) error {
	if err := s.exec(ctx, "create the lease schema "+LeaseSchema, "CREATE DATABASE IF NOT EXISTS `"+LeaseSchema+"`"); err != nil {
		return err
	}
	return s.exec(ctx, "create the lease table "+LeaseSchema+"."+LeaseTable, "CREATE TABLE IF NOT EXISTS "+leaseTable+` (
	user_name VARCHAR(128) NOT NULL PRIMARY KEY,
	group_role VARCHAR(128) NOT NULL,
	valid_until DATETIME(6) NOT NULL
) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`)
}

// checkGroup refuses a lease group the issuer must never hand out: a name
// that is not a role (an account, or nothing), or a role holding a global
// privilege (ON *.*) itself or through a role granted to it. It changes
// nothing.
func (s *Session) checkGroup(ctx context.Context, group string) error {
	var isRole string
	err := s.c.QueryRowContext(ctx, "SELECT is_role FROM mysql.user WHERE User = ? ORDER BY is_role DESC LIMIT 1", group).Scan(&isRole)
	switch {
	case err == sql.ErrNoRows:
		return fmt.Errorf("group role %q does not exist: the database's operators create it (CREATE ROLE) and grant it what lease users may do", group)
	case err != nil:
		return fmt.Errorf("look up group role %q: %w", group, classify(err))
	case isRole != "Y":
		return fmt.Errorf("refusing to use %q as a lease group role: it is an account, not a role (see docs/leases.md)", group)
	}
	// SHOW GRANTS lists the role's grants and those of the roles granted
	// to it (information_schema.USER_PRIVILEGES has no rows for roles).
	lines, err := s.showGrants(ctx, group)
	if err != nil {
		return err
	}
	var bad []string
	for _, l := range lines {
		if why := privilegedGrant(l); why != "" {
			bad = append(bad, why)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("refusing to use %q as a lease group role: it holds %s, itself or through a role; a lease group holds an application's grants only (see docs/leases.md)", group, strings.Join(bad, " and "))
	}
	return nil
}

// privilegedGrant says why a SHOW GRANTS line makes a lease group
// privileged: a global privilege (ON *.*), or any privilege on the mysql
// schema (password hashes, grant tables) or on the lease schema (expiry
// records), named or matched by a schema name pattern (`m%`.*: % and _
// are wildcards in a schema-level grant). It returns "" for anything
// else. A role or object name that merely looks like one of these makes a
// false refusal, never a false acceptance.
func privilegedGrant(line string) string {
	if !strings.HasPrefix(line, "GRANT ") {
		return ""
	}
	if p := globalGrant(line); p != "" {
		return "global privileges (" + p + " ON *.*)"
	}
	for _, m := range schemaRefPattern.FindAllStringSubmatch(line, -1) {
		pattern := strings.ReplaceAll(m[1], "``", "`")
		switch {
		case schemaPatternMatches(pattern, "mysql"):
			return "privileges on the mysql schema (through " + strconv.Quote(pattern) + ")"
		case schemaPatternMatches(pattern, LeaseSchema):
			return "privileges on the lease schema " + LeaseSchema + " (through " + strconv.Quote(pattern) + ")"
		}
	}
	return ""
}

// schemaRefPattern finds the schema names of a SHOW GRANTS line: each
// backquoted name followed by a dot (`db`.* or `db`.`table`, also after
// PROCEDURE or FUNCTION). Names inside a backquoted role name can match
// too, which only adds refusals.
var schemaRefPattern = regexp.MustCompile("`((?:[^`]|``)*)`\\.")

// schemaPatternMatches reports whether a grant's schema name, read as a
// LIKE pattern (% any run, _ any one character, backslash escaping the
// next), can name schema, ignoring case (lower_case_table_names may make
// the server do so). Every level is read so, which refuses more than the
// server grants (it applies wildcards to schema-level grants only).
func schemaPatternMatches(pattern, schema string) bool {
	var re strings.Builder
	re.WriteString("(?is)^")
	escaped := false
	for _, c := range pattern {
		switch {
		case escaped:
			escaped = false
			re.WriteString(regexp.QuoteMeta(string(c)))
		case c == '\\':
			escaped = true
		case c == '%':
			re.WriteString(".*")
		case c == '_':
			re.WriteString(".")
		default:
			re.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	if escaped {
		re.WriteString(regexp.QuoteMeta("\\"))
	}
	re.WriteString("$")
	ok, err := regexp.MatchString(re.String(), schema)
	return ok || err != nil
}

// isMember reports whether account a has been granted role group.
func (s *Session) isMember(ctx context.Context, a account, group string) (bool, error) {
	var n int
	if err := s.c.QueryRowContext(ctx, "SELECT COUNT(*) FROM mysql.roles_mapping WHERE User = ? AND Host = ? AND Role = ?", a.user, a.host, group).Scan(&n); err != nil {
		return false, fmt.Errorf("read roles of %q: %w", a.user, classify(err))
	}
	return n > 0, nil
}

// recordExpiry writes user's expiry to the lease table.
func (s *Session) recordExpiry(ctx context.Context, user, group string, until time.Time) error {
	_, err := s.c.ExecContext(ctx, "INSERT INTO "+leaseTable+" (user_name, group_role, valid_until) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE group_role = VALUES(group_role), valid_until = VALUES(valid_until)",
		user, group, until.UTC().Format(leaseTimeLayout))
	if err != nil {
		return fmt.Errorf("record the expiry of lease user %q: %w", user, classify(err))
	}
	return nil
}

// CreateLeaseUser implements engine.LeaseManager. Under the account's
// named lock it checks the group, records the expiry (first, so a user
// never exists without one), creates 'name'@'%' with the password's
// mysql_native_password hash, grants it the group role and makes that its
// default role. On failure after the user was made it is dropped again.
//
// The admin needs CREATE USER, SELECT on mysql.*, CREATE, SELECT, INSERT,
// UPDATE and DELETE on rotor.*, and ADMIN OPTION on the group role.
func (s *Session) CreateLeaseUser(ctx context.Context, u engine.LeaseUser) (err error) {
	if u.ValidUntil.IsZero() {
		return fmt.Errorf("create lease user %q: no expiry", u.Name)
	}
	if u.Password == "" {
		return fmt.Errorf("create lease user %q: empty password", u.Name)
	}
	if strings.Contains(u.Name, "'@'") {
		return fmt.Errorf("create lease user %q: the name contains '@', which MariaDB's privilege views cannot tell apart from the account separator", u.Name)
	}
	a := account{user: u.Name, host: LeaseHost}
	acct, err := s.q.account(a)
	if err != nil {
		return fmt.Errorf("create lease user %q: %w", u.Name, err)
	}
	role, err := s.q.str(u.Group)
	if err != nil {
		return fmt.Errorf("group role %q: %w", u.Group, err)
	}
	hash, err := s.q.str(NativePasswordHash(u.Password))
	if err != nil {
		return fmt.Errorf("create lease user %q: %w", u.Name, err)
	}
	unlock, err := s.lockAccount(ctx, u.Name)
	if err != nil {
		return err
	}
	defer unlock()
	if err := s.checkGroup(ctx, u.Group); err != nil {
		return err
	}
	if _, exists, err := s.lookup(ctx, u.Name); err != nil {
		return err
	} else if exists {
		return fmt.Errorf("create lease user %q: the user exists already", u.Name)
	}
	if err := s.ensureLeaseTable(ctx); err != nil {
		return err
	}
	if err := s.recordExpiry(ctx, u.Name, u.Group, u.ValidUntil); err != nil {
		return err
	}
	created := false
	defer func() {
		if err == nil {
			return
		}
		undo := context.WithoutCancel(ctx)
		if created {
			_ = s.exec(undo, "undo", "DROP USER IF EXISTS "+acct)
		}
		_, _ = s.c.ExecContext(undo, "DELETE FROM "+leaseTable+" WHERE user_name = ?", u.Name)
	}()
	if err := s.exec(ctx, fmt.Sprintf("create lease user %q", u.Name), "CREATE USER "+acct+" IDENTIFIED BY PASSWORD "+hash); err != nil {
		return err
	}
	created = true
	if err := s.exec(ctx, fmt.Sprintf("grant role %q to lease user %q", u.Group, u.Name), "GRANT "+role+" TO "+acct); err != nil {
		return err
	}
	return s.exec(ctx, fmt.Sprintf("set default role of lease user %q", u.Name), "SET DEFAULT ROLE "+role+" FOR "+acct)
}

// leaseAccount looks up a lease user's one account and checks it is a
// member of group. ok is false when the user does not exist.
func (s *Session) leaseAccount(ctx context.Context, name, group, what string) (a account, ok bool, err error) {
	a, ok, err = s.lookup(ctx, name)
	if err != nil || !ok {
		return a, ok, err
	}
	member, err := s.isMember(ctx, a, group)
	if err != nil {
		return a, true, err
	}
	if !member {
		return a, true, fmt.Errorf("refusing to %s %q: it is not a member of lease group %q", what, name, group)
	}
	return a, true, nil
}

// ExtendLeaseUser implements engine.LeaseManager: it rewrites the user's
// expiry record.
func (s *Session) ExtendLeaseUser(ctx context.Context, e engine.LeaseExtension) error {
	if e.ValidUntil.IsZero() {
		return fmt.Errorf("extend lease user %q: no expiry", e.Name)
	}
	unlock, err := s.lockAccount(ctx, e.Name)
	if err != nil {
		return err
	}
	defer unlock()
	if err := s.checkGroup(ctx, e.Group); err != nil {
		return err
	}
	_, ok, err := s.leaseAccount(ctx, e.Name, e.Group, "extend")
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("extend lease user %q: no such user", e.Name)
	}
	if err := s.ensureLeaseTable(ctx); err != nil {
		return err
	}
	return s.recordExpiry(ctx, e.Name, e.Group, e.ValidUntil)
}

// ListLeaseUsers implements engine.LeaseManager. A user without an expiry
// record has the zero ValidUntil.
func (s *Session) ListLeaseUsers(ctx context.Context, prefix string) ([]engine.LeaseUserInfo, error) {
	var out []engine.LeaseUserInfo
	index := map[string]int{}
	err := s.scanRows(ctx, func(r *sql.Rows) error {
		var u engine.LeaseUserInfo
		if err := r.Scan(&u.Name); err != nil {
			return err
		}
		index[u.Name] = len(out)
		out = append(out, u)
		return nil
	}, "SELECT DISTINCT User FROM mysql.user WHERE is_role = 'N' AND LEFT(User, CHAR_LENGTH(?)) = ? ORDER BY User", prefix, prefix)
	if err != nil {
		return nil, fmt.Errorf("list lease users %q*: %w", prefix, err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	err = s.scanRows(ctx, func(r *sql.Rows) error {
		var user, role string
		if err := r.Scan(&user, &role); err != nil {
			return err
		}
		if i, ok := index[user]; ok {
			out[i].Groups = append(out[i].Groups, role)
		}
		return nil
	}, "SELECT User, Role FROM mysql.roles_mapping WHERE Host <> '' AND LEFT(User, CHAR_LENGTH(?)) = ? ORDER BY Role", prefix, prefix)
	if err != nil {
		return nil, fmt.Errorf("list roles of lease users %q*: %w", prefix, err)
	}
	err = s.scanRows(ctx, func(r *sql.Rows) error {
		var user, until string
		if err := r.Scan(&user, &until); err != nil {
			return err
		}
		i, ok := index[user]
		if !ok {
			return nil
		}
		t, err := time.Parse(leaseTimeLayout, until)
		if err != nil {
			return fmt.Errorf("expiry %q of %q: %w", until, user, err)
		}
		out[i].ValidUntil = t
		return nil
	}, "SELECT user_name, DATE_FORMAT(valid_until, '%Y-%m-%d %H:%i:%s.%f') FROM "+leaseTable+" WHERE LEFT(user_name, CHAR_LENGTH(?)) = ?", prefix, prefix)
	if err != nil && errNumber(err) != errNoSuchTable {
		return nil, fmt.Errorf("read lease expiries %q*: %w", prefix, err)
	}
	return out, nil
}

// DropLeaseUser implements engine.LeaseManager. Under the account's named
// lock, each step harmless to repeat:
//  1. refuse a user that is not a member of the group, or a privileged
//     group;
//  2. ACCOUNT LOCK (no new logins);
//  3. KILL CONNECTION for each of its sessions (needs PROCESS to see them
//     and CONNECTION ADMIN to end them);
//  4. note the views, routines, triggers and events whose DEFINER it is
//     (MariaDB has no owners to reassign: its tables stay where they are;
//     those objects would fail for want of their definer);
//  5. delete the expiry record, then DROP USER (a user left without a
//     record is listed with no expiry, so the reaper retries it).
func (s *Session) DropLeaseUser(ctx context.Context, d engine.LeaseDrop) (engine.LeaseDropResponse, error) {
	var resp engine.LeaseDropResponse
	unlock, err := s.lockAccount(ctx, d.Name)
	if err != nil {
		return resp, err
	}
	defer unlock()
	a, ok, err := s.leaseAccount(ctx, d.Name, d.Group, "drop")
	if err != nil {
		return resp, err
	}
	if !ok {
		_, err := s.c.ExecContext(ctx, "DELETE FROM "+leaseTable+" WHERE user_name = ?", d.Name)
		if err != nil && errNumber(err) != errNoSuchTable {
			return resp, fmt.Errorf("drop lease user %q: delete its expiry record: %w", d.Name, classify(err))
		}
		return resp, nil
	}
	resp.Existed = true
	if err := s.checkGroup(ctx, d.Group); err != nil {
		return resp, err
	}
	acct, err := s.q.account(a)
	if err != nil {
		return resp, fmt.Errorf("drop lease user %q: %w", d.Name, err)
	}
	if err := s.exec(ctx, fmt.Sprintf("lock lease user %q", d.Name), "ALTER USER "+acct+" ACCOUNT LOCK"); err != nil {
		return resp, err
	}
	var ids []int64
	err = s.scanRows(ctx, func(r *sql.Rows) error {
		var id int64
		if err := r.Scan(&id); err != nil {
			return err
		}
		ids = append(ids, id)
		return nil
	}, "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ? AND ID <> CONNECTION_ID()", d.Name)
	if err != nil {
		return resp, fmt.Errorf("drop lease user %q: list its sessions: %w", d.Name, err)
	}
	for _, id := range ids {
		if _, err := s.c.ExecContext(ctx, "KILL CONNECTION "+strconv.FormatInt(id, 10)); err != nil && errNumber(err) != errUnknownThread {
			return resp, fmt.Errorf("drop lease user %q: end session %d: %w", d.Name, id, classify(err))
		}
		resp.SessionsEnded++
	}
	definer := a.user + "@" + a.host
	err = s.scanRows(ctx, func(r *sql.Rows) error {
		var kind, schema, name string
		if err := r.Scan(&kind, &schema, &name); err != nil {
			return err
		}
		resp.Notes = append(resp.Notes, fmt.Sprintf("%s %s.%s has DEFINER %s, which no longer exists", kind, schema, name, definer))
		return nil
	}, `SELECT 'view', TABLE_SCHEMA, TABLE_NAME FROM information_schema.VIEWS WHERE DEFINER = ?
		UNION ALL SELECT LOWER(ROUTINE_TYPE), ROUTINE_SCHEMA, ROUTINE_NAME FROM information_schema.ROUTINES WHERE DEFINER = ?
		UNION ALL SELECT 'trigger', TRIGGER_SCHEMA, TRIGGER_NAME FROM information_schema.TRIGGERS WHERE DEFINER = ?
		UNION ALL SELECT 'event', EVENT_SCHEMA, EVENT_NAME FROM information_schema.EVENTS WHERE DEFINER = ?`, definer, definer, definer, definer)
	if err != nil {
		return resp, fmt.Errorf("drop lease user %q: list the objects it defined: %w", d.Name, err)
	}
	slices.Sort(resp.Notes)
	if _, err := s.c.ExecContext(ctx, "DELETE FROM "+leaseTable+" WHERE user_name = ?", d.Name); err != nil && errNumber(err) != errNoSuchTable {
		return resp, fmt.Errorf("drop lease user %q: delete its expiry record: %w", d.Name, classify(err))
	}
	return resp, s.exec(ctx, fmt.Sprintf("drop lease user %q", d.Name), "DROP USER IF EXISTS "+acct)
}
