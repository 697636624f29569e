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
	global, err := s.globalPrivileges(ctx, grantee(base), base.user, base.host)
	if err != nil {
		return fmt.Errorf("read global privileges of %q: %w", base.user, err)
	}
	if len(global) > 0 {
		return fmt.Errorf("refusing to manage %q@%q: it holds global privileges (%s ON *.*); alternating-users rotates application accounts only (see docs/security.md)", base.user, base.host, strings.Join(global, ", "))
	}
	return nil
}

// globalPrivileges lists the global privileges (ON *.*, USAGE aside) of the
// grantee (as information_schema writes it: 'user'@'host', or 'role' for a
// role) and of the roles granted to user@host (host "" for a role), each
// named with the role it comes through.
func (s *Session) globalPrivileges(ctx context.Context, grantee, user, host string) ([]string, error) {
	var global []string
	err := s.scanRows(ctx, func(r *sql.Rows) error {
		var who, p string
		if err := r.Scan(&who, &p); err != nil {
			return err
		}
		global = append(global, p+who)
		return nil
	}, `SELECT '', PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ? AND PRIVILEGE_TYPE <> 'USAGE'
		UNION ALL
		SELECT CONCAT(' (through role ', m.Role, ')'), p.PRIVILEGE_TYPE FROM mysql.roles_mapping m
		JOIN information_schema.USER_PRIVILEGES p ON p.GRANTEE = CONCAT("'", m.Role, "'")
		WHERE m.User = ? AND m.Host = ? AND p.PRIVILEGE_TYPE <> 'USAGE'
		ORDER BY 2`, grantee, user, host)
	return global, err
}
