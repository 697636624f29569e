package postgres

import (
	"context"
	"fmt"
)

// CanManageRole reports whether the logged-in role may do what
// alternating-users asks of an admin for role: create its clone, change
// either one's password and grant role to the clone. That takes superuser,
// or CREATEROLE; from PostgreSQL 16 on CREATEROLE also needs ADMIN OPTION on
// role. why explains the answer in a form safe to show (role and attribute
// names only). It reads the catalog and changes nothing.
func (s *Session) CanManageRole(ctx context.Context, role string) (ok bool, why string, err error) {
	var super, createRole, adminOption bool
	var version int
	err = s.c.QueryRow(ctx, `SELECT r.rolsuper, r.rolcreaterole,
	pg_catalog.current_setting('server_version_num')::pg_catalog.int4,
	EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles t ON t.oid OPERATOR(pg_catalog.=) m.roleid
	        WHERE t.rolname OPERATOR(pg_catalog.=) $1::pg_catalog.name AND m.member OPERATOR(pg_catalog.=) r.oid AND m.admin_option)
FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER`, role).Scan(&super, &createRole, &version, &adminOption)
	if err != nil {
		return false, "", fmt.Errorf("read privileges of %q: %w", s.user, classify(err))
	}
	switch {
	case super:
		return true, fmt.Sprintf("%q is a superuser", s.user), nil
	case !createRole:
		return false, fmt.Sprintf("%q has neither CREATEROLE nor SUPERUSER", s.user), nil
	case version >= 160000 && !adminOption:
		return false, fmt.Sprintf("%q has CREATEROLE but, on PostgreSQL 16 and later, also needs ADMIN OPTION on %q", s.user, role), nil
	}
	return true, fmt.Sprintf("%q has CREATEROLE", s.user), nil
}
