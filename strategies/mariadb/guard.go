package mariadb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// checkBase refuses to manage a base account the admin must never act on
// for a rotated secret, whose document someone less trusted than the admin
// may have written: the admin's own account, and an account that holds a
// global privilege (ON *.*) directly or through a role granted to it, which
// is a DBA's account, not an application's. It reads the catalog and
// changes nothing.
func (s *Session) checkBase(ctx context.Context, base account) error {
	var cur string
	if err := s.c.QueryRowContext(ctx, "SELECT CURRENT_USER()").Scan(&cur); err != nil {
		return fmt.Errorf("read the current account: %w", classify(err))
	}
	if cur == base.user+"@"+base.host {
		return fmt.Errorf("refusing to manage %q@%q: it is the admin itself; use a separate admin account", base.user, base.host)
	}
	global, err := s.globalPrivileges(ctx, base)
	if err != nil {
		return fmt.Errorf("read global privileges of %q: %w", base.user, err)
	}
	if len(global) > 0 {
		return fmt.Errorf("refusing to manage %q@%q: it holds global privileges (%s ON *.*); alternating-users rotates application accounts only (see docs/security.md)", base.user, base.host, strings.Join(global, ", "))
	}
	return nil
}

// globalPrivileges lists the global privileges (ON *.*, USAGE aside, but
// GRANT OPTION alone, which USER_PRIVILEGES shows as a grantable USAGE,
// included) of account a, directly and through the roles granted to it (and theirs),
// each of the latter named with the role it comes through.
// information_schema.USER_PRIVILEGES has no rows for roles, so a role's
// grants are read with SHOW GRANTS, which lists the roles granted to it
// too.
func (s *Session) globalPrivileges(ctx context.Context, a account) ([]string, error) {
	var global, roles []string
	err := s.scanRows(ctx, func(r *sql.Rows) error {
		var p string
		if err := r.Scan(&p); err != nil {
			return err
		}
		global = append(global, p)
		return nil
	}, "SELECT DISTINCT IF(PRIVILEGE_TYPE = 'USAGE', 'GRANT OPTION', PRIVILEGE_TYPE) FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ? AND (PRIVILEGE_TYPE <> 'USAGE' OR IS_GRANTABLE = 'YES') ORDER BY 1", grantee(a))
	if err != nil {
		return nil, err
	}
	err = s.scanRows(ctx, func(r *sql.Rows) error {
		var role string
		if err := r.Scan(&role); err != nil {
			return err
		}
		roles = append(roles, role)
		return nil
	}, "SELECT Role FROM mysql.roles_mapping WHERE User = ? AND Host = ? ORDER BY Role", a.user, a.host)
	if err != nil {
		return nil, err
	}
	for _, role := range roles {
		lines, err := s.showGrants(ctx, role)
		if err != nil {
			return nil, err
		}
		for _, l := range lines {
			if p := globalGrant(l); p != "" {
				global = append(global, p+" (through role "+role+")")
			}
		}
	}
	return global, nil
}

// showGrants returns SHOW GRANTS FOR role: the role's grants and those of
// the roles granted to it.
func (s *Session) showGrants(ctx context.Context, role string) ([]string, error) {
	quoted, err := s.q.str(role)
	if err != nil {
		return nil, fmt.Errorf("role %q: %w", role, err)
	}
	var lines []string
	err = s.scanRows(ctx, func(r *sql.Rows) error {
		var line string
		if err := r.Scan(&line); err != nil {
			return err
		}
		lines = append(lines, line)
		return nil
	}, "SHOW GRANTS FOR "+quoted)
	if err != nil {
		return nil, fmt.Errorf("read the grants of role %q: %w", role, err)
	}
	return lines, nil
}

// globalGrant returns the privileges a SHOW GRANTS line grants ON *.*
// ("PROCESS, FILE"), "GRANT OPTION" for global GRANT OPTION alone (which
// SHOW GRANTS writes as "GRANT USAGE ON *.* TO ... WITH GRANT OPTION": it
// lets the grantee hand what it holds, at any level, to other accounts),
// or "" for a line that grants none (USAGE, or another level). A role or
// object name that merely looks like such a grant makes a false refusal,
// never a false acceptance.
func globalGrant(line string) string {
	i := strings.Index(line, " ON *.* TO ")
	if !strings.HasPrefix(line, "GRANT ") || i < 0 {
		return ""
	}
	if strings.HasPrefix(line, "GRANT USAGE ON *.* TO ") {
		if strings.Contains(line, " WITH GRANT OPTION") {
			return "GRANT OPTION"
		}
		return ""
	}
	return strings.TrimPrefix(line[:i], "GRANT ")
}
