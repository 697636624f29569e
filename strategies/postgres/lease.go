package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rotorhq/rotor/strategies/engine"
)

var _ engine.LeaseManager = (*Session)(nil)

// dangerousPredefined are predefined roles that reach the server's files
// or programs: a group holding one would hand its lease users the
// operating system account, as a superuser would.
var dangerousPredefined = []string{"pg_execute_server_program", "pg_read_server_files", "pg_write_server_files"}

// checkGroup refuses a lease group the issuer must never hand out: a role
// that does not exist, can log in (an application account, not a group),
// or that holds, itself or through any role it is a member of, SUPERUSER,
// CREATEROLE, REPLICATION or BYPASSRLS, or a predefined role that reaches
// the server's files or programs. It reads the catalog and changes nothing.
func checkGroup(ctx context.Context, q pgx.Tx, group string) error {
	var canLogin bool
	err := q.QueryRow(ctx, "SELECT rolcanlogin FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) $1::pg_catalog.name", group).Scan(&canLogin)
	if err == pgx.ErrNoRows {
		return fmt.Errorf("group role %q does not exist: the database's operators create it (CREATE ROLE %s NOLOGIN) and grant it what lease users may do", group, ident(group))
	}
	if err != nil {
		return fmt.Errorf("read attributes of group role %q: %w", group, classify(err))
	}
	var why []string
	if canLogin {
		why = append(why, "it can log in (LOGIN: an account, not a group role)")
	}
	rows, err := q.Query(ctx, `WITH RECURSIVE up(oid) AS (
	SELECT oid FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) $1::pg_catalog.name
	UNION SELECT m.roleid FROM pg_catalog.pg_auth_members m JOIN up ON m.member OPERATOR(pg_catalog.=) up.oid)
SELECT r.rolname::pg_catalog.text, r.rolsuper, r.rolcreaterole, r.rolreplication, r.rolbypassrls,
	r.rolname OPERATOR(pg_catalog.=) ANY ($2::pg_catalog.name[])
FROM pg_catalog.pg_roles r JOIN up ON up.oid OPERATOR(pg_catalog.=) r.oid ORDER BY 1`, group, dangerousPredefined)
	if err != nil {
		return fmt.Errorf("read the roles group role %q is a member of: %w", group, classify(err))
	}
	for rows.Next() {
		var name string
		var super, createRole, replication, bypassRLS, predefined bool
		if err := rows.Scan(&name, &super, &createRole, &replication, &bypassRLS, &predefined); err != nil {
			rows.Close()
			return fmt.Errorf("read the roles group role %q is a member of: %w", group, classify(err))
		}
		via := ""
		if name != group {
			via = fmt.Sprintf(" through %q", name)
		}
		for _, c := range []struct {
			bad  bool
			what string
		}{
			{super, "SUPERUSER"}, {createRole, "CREATEROLE"}, {replication, "REPLICATION"}, {bypassRLS, "BYPASSRLS"},
			{predefined, "membership in " + name + " (server files or programs)"},
		} {
			if c.bad {
				why = append(why, "it has "+c.what+via)
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read the roles group role %q is a member of: %w", group, classify(err))
	}
	if len(why) > 0 {
		return fmt.Errorf("refusing to use %q as a lease group role: %s; a lease group is a NOLOGIN role holding an application's grants only (see docs/leases.md)", group, strings.Join(why, " and "))
	}
	return nil
}

// timestampLiteral is t as a timestamptz constant, microsecond precision.
func timestampLiteral(t time.Time) string {
	return literal(t.UTC().Format("2006-01-02 15:04:05.999999") + "+00")
}

// CreateLeaseUser implements engine.LeaseManager: in one transaction it
// checks the group (checkGroup) and runs CREATE ROLE name LOGIN INHERIT
// PASSWORD '<SCRAM verifier>' VALID UNTIL '<ts>' IN ROLE group. PostgreSQL
// itself refuses the login once VALID UNTIL has passed; sessions opened
// before stay until the reaper ends them.
//
// The admin needs CREATEROLE and, from PostgreSQL 16 on, ADMIN OPTION on
// the group (GRANT group TO admin WITH ADMIN OPTION, which the reaper's
// REASSIGN OWNED needs on every version).
func (s *Session) CreateLeaseUser(ctx context.Context, u engine.LeaseUser) error {
	if u.ValidUntil.IsZero() {
		return fmt.Errorf("create lease user %q: no expiry", u.Name)
	}
	v, err := ScramVerifier(u.Password)
	if err != nil {
		return fmt.Errorf("create lease user %q: %w", u.Name, err)
	}
	tx, err := s.c.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", classify(err))
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit this is a no-op
	if err := checkGroup(ctx, tx, u.Group); err != nil {
		return err
	}
	stmt := "CREATE ROLE " + ident(u.Name) + " WITH LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD " +
		literal(v) + " VALID UNTIL " + timestampLiteral(u.ValidUntil) + " IN ROLE " + ident(u.Group)
	if _, err := tx.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("create lease user %q in %q: %w", u.Name, u.Group, classify(err))
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("create lease user %q: commit: %w", u.Name, classify(err))
	}
	return nil
}

// isMember reports whether role exists and whether it is a direct member of
// group.
func isMember(ctx context.Context, q pgx.Tx, role, group string) (exists, member bool, err error) {
	err = q.QueryRow(ctx, `SELECT true, EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles g ON g.oid OPERATOR(pg_catalog.=) m.roleid
	WHERE m.member OPERATOR(pg_catalog.=) r.oid AND g.rolname OPERATOR(pg_catalog.=) $2::pg_catalog.name)
FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) $1::pg_catalog.name`, role, group).Scan(&exists, &member)
	if err == pgx.ErrNoRows {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("read memberships of %q: %w", role, classify(err))
	}
	return exists, member, nil
}

// ExtendLeaseUser implements engine.LeaseManager (ALTER ROLE name VALID
// UNTIL '<ts>').
func (s *Session) ExtendLeaseUser(ctx context.Context, e engine.LeaseExtension) error {
	if e.ValidUntil.IsZero() {
		return fmt.Errorf("extend lease user %q: no expiry", e.Name)
	}
	tx, err := s.c.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", classify(err))
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit this is a no-op
	if err := lockRole(ctx, tx, e.Name); err != nil {
		return err
	}
	if err := checkGroup(ctx, tx, e.Group); err != nil {
		return err
	}
	exists, member, err := isMember(ctx, tx, e.Name, e.Group)
	switch {
	case err != nil:
		return err
	case !exists:
		return fmt.Errorf("extend lease user %q: no such user", e.Name)
	case !member:
		return fmt.Errorf("refusing to extend %q: it is not a member of lease group %q", e.Name, e.Group)
	}
	if _, err := tx.Exec(ctx, "ALTER ROLE "+ident(e.Name)+" VALID UNTIL "+timestampLiteral(e.ValidUntil)); err != nil {
		return fmt.Errorf("extend lease user %q: %w", e.Name, classify(err))
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("extend lease user %q: commit: %w", e.Name, classify(err))
	}
	return nil
}

// ListLeaseUsers implements engine.LeaseManager. A VALID UNTIL of
// 'infinity' or none at all is reported as the zero time.
func (s *Session) ListLeaseUsers(ctx context.Context, prefix string) ([]engine.LeaseUserInfo, error) {
	rows, err := s.c.Query(ctx, `SELECT r.rolname::pg_catalog.text,
	pg_catalog.date_part('epoch', r.rolvaliduntil)::pg_catalog.float8,
	COALESCE((SELECT pg_catalog.array_agg(g.rolname::pg_catalog.text ORDER BY g.rolname) FROM pg_catalog.pg_auth_members m
		JOIN pg_catalog.pg_roles g ON g.oid OPERATOR(pg_catalog.=) m.roleid WHERE m.member OPERATOR(pg_catalog.=) r.oid), '{}')
FROM pg_catalog.pg_roles r
WHERE pg_catalog.starts_with(r.rolname::pg_catalog.text, $1::pg_catalog.text)
ORDER BY 1`, prefix)
	if err != nil {
		return nil, fmt.Errorf("list lease users %q*: %w", prefix, classify(err))
	}
	var out []engine.LeaseUserInfo
	for rows.Next() {
		var u engine.LeaseUserInfo
		var epoch *float64
		if err := rows.Scan(&u.Name, &epoch, &u.Groups); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list lease users %q*: %w", prefix, classify(err))
		}
		if epoch != nil && !math.IsInf(*epoch, 0) && !math.IsNaN(*epoch) {
			sec, frac := math.Modf(*epoch)
			u.ValidUntil = time.Unix(int64(sec), int64(frac*1e9)).UTC().Round(time.Microsecond)
		}
		out = append(out, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list lease users %q*: %w", prefix, classify(err))
	}
	return out, nil
}

// terminateWaitMillis is how long DropLeaseUser waits for each terminated
// session to end, so it owns nothing new by the time it is reassigned.
const terminateWaitMillis = 5000

// DropLeaseUser implements engine.LeaseManager. In order, each step
// harmless to repeat:
//  1. refuse a privileged group (checkGroup) or a user not in the group;
//  2. ALTER ROLE name NOLOGIN, and GRANT name TO the admin (its sessions
//     can then be ended and its objects reassigned without superuser);
//  3. terminate its sessions (pg_terminate_backend, waiting for each);
//  4. in one transaction: REASSIGN OWNED BY name TO group, DROP OWNED BY
//     name (its remaining privileges and default privileges), DROP ROLE.
//
// REASSIGN and DROP OWNED act on the session's database (and shared
// objects): what the user owns in another database makes DROP ROLE fail,
// naming it, and the user stays, unable to log in, until an operator moves
// those objects; the reaper reports it on every run.
func (s *Session) DropLeaseUser(ctx context.Context, d engine.LeaseDrop) (engine.LeaseDropResponse, error) {
	var resp engine.LeaseDropResponse
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockRole(ctx, tx, d.Name); err != nil {
			return err
		}
		exists, member, err := isMember(ctx, tx, d.Name, d.Group)
		switch {
		case err != nil:
			return err
		case !exists:
			return nil
		case !member:
			return fmt.Errorf("refusing to drop %q: it is not a member of lease group %q", d.Name, d.Group)
		}
		resp.Existed = true
		if err := checkGroup(ctx, tx, d.Group); err != nil {
			return err
		}
		for _, st := range []struct{ what, sql string }{
			{"refuse new logins", "ALTER ROLE " + ident(d.Name) + " NOLOGIN"},
			{"make the admin a member", "GRANT " + ident(d.Name) + " TO CURRENT_USER"},
		} {
			if _, err := tx.Exec(ctx, st.sql); err != nil {
				return fmt.Errorf("drop lease user %q: %s: %w", d.Name, st.what, classify(err))
			}
		}
		return nil
	})
	if err != nil || !resp.Existed {
		return resp, err
	}
	err = s.c.QueryRow(ctx, `SELECT pg_catalog.count(*) FILTER (WHERE pg_catalog.pg_terminate_backend(pid, $2::pg_catalog.int8))::pg_catalog.int4
FROM pg_catalog.pg_stat_activity WHERE usename OPERATOR(pg_catalog.=) $1::pg_catalog.name AND pid OPERATOR(pg_catalog.<>) pg_catalog.pg_backend_pid()`,
		d.Name, terminateWaitMillis).Scan(&resp.SessionsEnded)
	if err != nil {
		return resp, fmt.Errorf("drop lease user %q: terminate its sessions: %w", d.Name, classify(err))
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockRole(ctx, tx, d.Name); err != nil {
			return err
		}
		for _, st := range []struct{ what, sql string }{
			{"reassign what it owns to " + d.Group, "REASSIGN OWNED BY " + ident(d.Name) + " TO " + ident(d.Group)},
			{"drop its privileges", "DROP OWNED BY " + ident(d.Name)},
			{"drop the role", "DROP ROLE IF EXISTS " + ident(d.Name)},
		} {
			if _, err := tx.Exec(ctx, st.sql); err != nil {
				return fmt.Errorf("drop lease user %q: %s: %w%s", d.Name, st.what, classify(err), dependents(err))
			}
		}
		return nil
	})
	return resp, err
}

// inTx runs f in a transaction, committing when it returns nil.
func (s *Session) inTx(ctx context.Context, f func(pgx.Tx) error) error {
	tx, err := s.c.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", classify(err))
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit this is a no-op
	if err := f(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", classify(err))
	}
	return nil
}

// dependents returns, for a DROP ROLE refused because objects depend on
// the role, the server's detail naming where they are ("1 object in
// database x"), so the reaper's report says what an operator must move.
func dependents(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "2BP01" && pgErr.Detail != "" {
		return " (" + strings.ReplaceAll(pgErr.Detail, "\n", "; ") + ")"
	}
	return ""
}
