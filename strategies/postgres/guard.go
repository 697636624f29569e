package postgres

import (
	"fmt"
	"strings"
)

// checkBase refuses to manage a base role the admin must never act on for
// a rotated secret, whose document someone less trusted than the admin may
// have written: a superuser, a role with REPLICATION or BYPASSRLS, a role
// that cannot log in (a group role: giving it LOGIN and a password would
// hand its members' rights to whoever reads the secret), and the admin
// itself. It judges what factsSQL read about the existing role base; a
// missing role is left to the caller.
func checkBase(role string, base roleFacts) error {
	var why []string
	for _, c := range []struct {
		bad  bool
		what string
	}{
		{base.isAdmin, "is the admin itself"},
		{base.attrs.super, "is a superuser"},
		{base.attrs.replication, "has REPLICATION"},
		{base.attrs.bypassRLS, "has BYPASSRLS"},
		{!base.canLogin, "cannot log in (NOLOGIN: a group role)"},
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
