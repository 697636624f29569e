package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rotorhq/rotor/strategies/engine"
)

// roleAttrs are the role attributes the clone mirrors from the base role.
// SUPERUSER, REPLICATION and BYPASSRLS are not copied: granting them needs
// superuser, which rotor's admin need not have, and an application role
// should not hold them.
type roleAttrs struct {
	inherit, createRole, createDB bool
	connLimit                     int32
	validUntil                    *time.Time
}

// SyncAlternate runs as the admin. In one transaction it
//   - creates the clone when it is missing (only when the clone is the
//     pending role: a missing clone otherwise means the secret and the
//     database disagree, which is reported, not papered over);
//   - sets the pending role's password (as a SCRAM verifier) and LOGIN;
//   - gives the clone the base role's attributes (INHERIT, CREATEROLE,
//     CREATEDB, CONNECTION LIMIT, VALID UNTIL) and the same role
//     memberships, revoking memberships the base no longer has;
//   - makes the clone a member of the base role and sets the clone's
//     sessions to run as the base role (ALTER ROLE clone SET role), so that
//     objects either user creates are owned by the base role and usable by
//     both.
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

	if err := checkBase(ctx, tx, req.Base); err != nil {
		return resp, err
	}
	base, ok, err := readAttrs(ctx, tx, req.Base)
	if err != nil {
		return resp, err
	}
	if !ok {
		return resp, fmt.Errorf("role %q does not exist", req.Base)
	}
	clone, cloneExists, err := readAttrs(ctx, tx, req.Clone)
	if err != nil {
		return resp, err
	}
	if !cloneExists {
		if req.Pending != req.Clone {
			return resp, fmt.Errorf("role %q does not exist, but the current secret names it", req.Clone)
		}
		if _, err := tx.Exec(ctx, "CREATE ROLE "+ident(req.Clone)+" WITH LOGIN NOINHERIT"); err != nil {
			return resp, fmt.Errorf("create role %q: %w", req.Clone, classify(err))
		}
		resp.CreatedClone = true
		clone = roleAttrs{inherit: false, connLimit: -1}
	}

	stmt, err := alterPassword(req.Pending, req.Password)
	if err != nil {
		return resp, fmt.Errorf("set password for %q: %w", req.Pending, err)
	}
	if _, err := tx.Exec(ctx, stmt); err != nil {
		return resp, fmt.Errorf("set password for %q: %w", req.Pending, classify(err))
	}
	if _, err := tx.Exec(ctx, "ALTER ROLE "+ident(req.Pending)+" WITH LOGIN"); err != nil {
		return resp, fmt.Errorf("allow login for %q: %w", req.Pending, classify(err))
	}

	changes, err := syncAttrs(ctx, tx, req.Clone, base, clone)
	if err != nil {
		return resp, err
	}
	resp.Changes = append(resp.Changes, changes...)

	changes, err = syncMemberships(ctx, tx, req.Base, req.Clone)
	if err != nil {
		return resp, err
	}
	resp.Changes = append(resp.Changes, changes...)

	if _, err := tx.Exec(ctx, "ALTER ROLE "+ident(req.Clone)+" SET role TO "+ident(req.Base)); err != nil {
		return resp, fmt.Errorf("make %q sessions act as %q: %w", req.Clone, req.Base, classify(err))
	}
	if err := tx.Commit(ctx); err != nil {
		return resp, fmt.Errorf("commit role changes: %w", classify(err))
	}
	return resp, nil
}

func readAttrs(ctx context.Context, tx pgx.Tx, role string) (roleAttrs, bool, error) {
	var a roleAttrs
	err := tx.QueryRow(ctx, `SELECT rolinherit, rolcreaterole, rolcreatedb, rolconnlimit, rolvaliduntil
		FROM pg_catalog.pg_roles WHERE rolname = $1`, role).
		Scan(&a.inherit, &a.createRole, &a.createDB, &a.connLimit, &a.validUntil)
	if err == pgx.ErrNoRows {
		return a, false, nil
	}
	if err != nil {
		return a, false, fmt.Errorf("read attributes of %q: %w", role, classify(err))
	}
	return a, true, nil
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

func memberOf(ctx context.Context, tx pgx.Tx, role string) ([]string, error) {
	rows, err := tx.Query(ctx, `SELECT g.rolname FROM pg_catalog.pg_auth_members m
		JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
		JOIN pg_catalog.pg_roles u ON u.oid = m.member
		WHERE u.rolname = $1 ORDER BY g.rolname`, role)
	if err != nil {
		return nil, fmt.Errorf("read memberships of %q: %w", role, classify(err))
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("read memberships of %q: %w", role, classify(err))
	}
	return names, nil
}

// syncMemberships makes the clone a member of exactly the base role plus
// the roles the base is a member of.
func syncMemberships(ctx context.Context, tx pgx.Tx, base, clone string) ([]string, error) {
	want, err := memberOf(ctx, tx, base)
	if err != nil {
		return nil, err
	}
	want = append(want, base)
	have, err := memberOf(ctx, tx, clone)
	if err != nil {
		return nil, err
	}
	var changes []string
	for _, g := range want {
		if slices.Contains(have, g) {
			continue
		}
		if _, err := tx.Exec(ctx, "GRANT "+ident(g)+" TO "+ident(clone)); err != nil {
			return nil, fmt.Errorf("grant %q to %q: %w", g, clone, classify(err))
		}
		changes = append(changes, fmt.Sprintf("grant %s to %s", g, clone))
	}
	for _, g := range have {
		if slices.Contains(want, g) {
			continue
		}
		if _, err := tx.Exec(ctx, "REVOKE "+ident(g)+" FROM "+ident(clone)); err != nil {
			return nil, fmt.Errorf("revoke %q from %q: %w", g, clone, classify(err))
		}
		changes = append(changes, fmt.Sprintf("revoke %s from %s", g, clone))
	}
	return changes, nil
}
