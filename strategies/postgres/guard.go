package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// checkBase refuses to manage a base role the admin must never act on for
// a rotated secret, whose document someone less trusted than the admin may
// have written: a superuser, a role with REPLICATION or BYPASSRLS, a role
// that cannot log in (a group role: giving it LOGIN and a password would
// hand its members' rights to whoever reads the secret), and the admin
// itself. It reads the catalog and changes nothing. A missing role is left
// to the caller.
func checkBase(ctx context.Context, q pgx.Tx, role string) error {
	var super, replication, bypassRLS, canLogin, isAdmin bool
	err := q.QueryRow(ctx, `SELECT rolsuper, rolreplication, rolbypassrls, rolcanlogin, rolname OPERATOR(pg_catalog.=) CURRENT_USER
		FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) $1::pg_catalog.name`, role).
		Scan(&super, &replication, &bypassRLS, &canLogin, &isAdmin)
	if err == pgx.ErrNoRows {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read attributes of %q: %w", role, classify(err))
	}
	var why []string
	for _, c := range []struct {
		bad  bool
		what string
	}{
		{isAdmin, "is the admin itself"},
		{super, "is a superuser"},
		{replication, "has REPLICATION"},
		{bypassRLS, "has BYPASSRLS"},
		{!canLogin, "cannot log in (NOLOGIN: a group role)"},
	} {
		if c.bad {
			why = append(why, c.what)
		}
	}
	if len(why) > 0 {
		return fmt.Errorf("refusing to manage role %q: it %s; alternating-users rotates application login roles only (see docs/security.md)", role, strings.Join(why, " and "))
	}
	return nil
}
