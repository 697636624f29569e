package mariadb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/rotorhq/rotor/strategies/engine"
)

// SyncAlternate runs as the admin. It
//  1. checks, before any change, that the admin may read the privilege
//     tables, that the base user has exactly one account, and that the
//     clone is either missing or has exactly one account on the same host
//     (a missing clone is created only when it is the pending user: a
//     missing current user means the secret and the database disagree,
//     which is reported, not papered over);
//  2. reads both accounts' privileges from the catalog (global, schema,
//     table, column and routine privileges with their grant options,
//     granted roles with ADMIN OPTION, the default role, resource limits
//     and the TLS requirement);
//  3. creates the clone if missing, as 'clone'@'<base's host>' with a
//     random hash whose password nobody knows, so it cannot log in while
//     its privileges are incomplete;
//  4. grants the clone what the base has and it lacks, sets its default
//     role, limits and TLS requirement;
//  5. revokes from the clone what the base no longer has;
//  6. sets the pending user's password (the real hash, also for a clone
//     created in step 3), last, so the pending credential works only once
//     its account is complete.
//
// MariaDB commits every account statement on its own, so this is not a
// transaction. The order keeps the promise that matters: the user
// AWSCURRENT names (the non-pending one) keeps its password throughout, and
// when it is the clone it only gains privileges until the grants are done,
// so a failure never takes away access it had. Repeating SyncAlternate
// after a failure completes the sync: every change is computed against the
// catalog as it is now, and a clone created by the failed call exists, is
// synced like any other and gets the pending password in step 6.
//
// Changes lists only statements the server carried out: a revoke the server
// answers with "there is no such grant" is not listed.
func (s *Session) SyncAlternate(ctx context.Context, req engine.AlternateRequest) (engine.AlternateResponse, error) {
	var resp engine.AlternateResponse
	hash, err := s.q.str(NativePasswordHash(req.Password))
	if err != nil {
		return resp, fmt.Errorf("set password for %q: %w", req.Pending, err)
	}
	unlock, err := s.lockAccount(ctx, req.Base)
	if err != nil {
		return resp, err
	}
	defer unlock()
	p, err := s.resolvePair(ctx, req)
	if err != nil {
		return resp, err
	}
	want, err := s.readState(ctx, p.base)
	if err != nil {
		return resp, err
	}
	var have state
	if p.cloneExists {
		if have, err = s.readState(ctx, p.clone); err != nil {
			return resp, err
		}
		if err := s.checkClone(ctx, p, want, have, req.Pending == req.Clone); err != nil {
			return resp, err
		}
	} else {
		if have, err = s.createClone(ctx, p); err != nil {
			return resp, err
		}
		resp.CreatedClone = true
	}
	resp.Changes, err = s.applyState(ctx, p, want, have)
	if err != nil {
		return resp, err
	}
	pending := p.base
	if req.Pending == req.Clone {
		pending = p.clone
	}
	return resp, s.alterPassword(ctx, pending, hash)
}

// pair is the base account and its clone's, as the catalog has them.
type pair struct {
	base, clone account
	cloneExists bool
	// cloneAcct is the clone's quoted account name.
	cloneAcct string
}

// resolvePair checks the request against the catalog before anything
// changes: the names, the admin's catalog access, both accounts, and that a
// missing clone is the pending user (else the secret and the database
// disagree).
func (s *Session) resolvePair(ctx context.Context, req engine.AlternateRequest) (pair, error) {
	var p pair
	if req.Pending != req.Base && req.Pending != req.Clone {
		return p, fmt.Errorf("pending user %q is neither %q nor %q", req.Pending, req.Base, req.Clone)
	}
	for _, n := range []string{req.Base, req.Clone} {
		// information_schema writes grantees as 'user'@'host' unescaped; a
		// name holding that separator could be read as another account.
		if strings.Contains(n, "'@'") {
			return p, fmt.Errorf("user name %q contains '@', which MariaDB's privilege views cannot tell apart from the account separator", n)
		}
	}
	if err := s.checkCatalogAccess(ctx); err != nil {
		return p, err
	}
	base, ok, err := s.lookup(ctx, req.Base)
	if err != nil {
		return p, err
	}
	if !ok {
		return p, fmt.Errorf("user %q does not exist", req.Base)
	}
	if err := s.checkBase(ctx, base); err != nil {
		return p, err
	}
	clone, cloneExists, err := s.lookup(ctx, req.Clone)
	if err != nil {
		return p, err
	}
	if cloneExists && clone.host != base.host {
		return p, fmt.Errorf("user %q exists for host %q but %q for host %q: the clone must be on the base user's host", req.Clone, clone.host, req.Base, base.host)
	}
	if !cloneExists && req.Pending != req.Clone {
		return p, fmt.Errorf("user %q does not exist, but the current secret names it", req.Clone)
	}
	p = pair{base: base, clone: account{user: req.Clone, host: base.host}, cloneExists: cloneExists}
	if p.cloneAcct, err = s.q.account(p.clone); err != nil {
		return p, fmt.Errorf("user %q: %w", req.Clone, err)
	}
	return p, nil
}

// createClone creates the clone with a hash no password matches (the
// pending password must not log in before the grants are done) and returns
// the new account's state as the server made it.
func (s *Session) createClone(ctx context.Context, p pair) (state, error) {
	placeholder, err := unusableHash()
	if err != nil {
		return state{}, fmt.Errorf("create user %q@%q: %w", p.clone.user, p.clone.host, err)
	}
	if err := s.exec(ctx, fmt.Sprintf("create user %q@%q", p.clone.user, p.clone.host),
		"CREATE USER IF NOT EXISTS "+p.cloneAcct+" IDENTIFIED BY PASSWORD '"+placeholder+"'"); err != nil {
		return state{}, err
	}
	// A new account has its own defaults; read them rather than assume.
	return s.readState(ctx, p.clone)
}

// applyState makes the clone's state want: grants, roles and limits first,
// so a clone that is AWSCURRENT only gains privileges until every grant is
// in place, then the revokes. It returns the changes the server carried
// out, also on error.
func (s *Session) applyState(ctx context.Context, p pair, want, have state) ([]string, error) {
	var all []string
	grants, revokes, order := diffPrivs(want.privs, have.privs)
	steps := make([]func() ([]string, error), 0, 2*len(order)+5)
	// PROXY privileges the base lacks go first: the admin may be unable to
	// revoke them (that takes PROXY ... WITH GRANT OPTION on the proxied
	// account), and a refusal must come before any other change.
	steps = append(steps, func() ([]string, error) { return s.revokeProxies(ctx, p, want.proxies, have.proxies) })
	for _, o := range order {
		steps = append(steps, func() ([]string, error) { return s.grant(ctx, o, grants[o], p.cloneAcct, p.clone) })
	}
	steps = append(steps,
		func() ([]string, error) { return s.grantProxies(ctx, p, want.proxies, have.proxies) },
		func() ([]string, error) { return s.syncRoles(ctx, want, have, p.cloneAcct, p.clone) },
		func() ([]string, error) { return s.syncLimits(ctx, want.limits, have.limits, p.cloneAcct, p.clone) },
	)
	for _, o := range order {
		steps = append(steps, func() ([]string, error) { return s.revoke(ctx, o, revokes[o], p.cloneAcct, p.clone) })
	}
	// The role revokes come after the privilege revokes for the same
	// reason the grants came first.
	steps = append(steps, func() ([]string, error) { return s.revokeRoles(ctx, want, have, p.cloneAcct, p.clone) })
	for _, step := range steps {
		changes, err := step()
		all = append(all, changes...)
		if err != nil {
			return all, err
		}
	}
	return all, nil
}

// unusableHash returns a mysql_native_password hash of random bytes: a
// well-formed hash no known password matches, for a clone that must not
// log in yet.
func unusableHash() (string, error) {
	var b [20]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random placeholder hash: %w", err)
	}
	return "*" + strings.ToUpper(hex.EncodeToString(b[:])), nil
}

// grant gives the clone privs on o. A table, column or routine that no
// longer exists (MariaDB keeps grants on dropped objects) cannot be granted:
// that is skipped and reported, never fatal, since the clone could not use
// it anyway.
func (s *Session) grant(ctx context.Context, o object, privs []string, cloneAcct string, clone account) ([]string, error) {
	if len(privs) == 0 {
		return nil, nil
	}
	withGrant := slices.Contains(privs, grantOption)
	privs = slices.DeleteFunc(slices.Clone(privs), func(p string) bool { return p == grantOption })
	cols, on := o.clause()
	list := make([]string, len(privs))
	for i, p := range privs {
		list[i] = p + cols
	}
	if len(list) == 0 {
		list = []string{"USAGE"}
	}
	stmt := "GRANT " + strings.Join(list, ", ") + " ON " + on + " TO " + cloneAcct
	what := strings.Join(privs, ", ")
	if withGrant {
		stmt += " WITH GRANT OPTION"
		what = strings.TrimPrefix(what+", "+grantOption, ", ")
	}
	change := fmt.Sprintf("grant %s on %s to %s", what, o, clone.user)
	if err := s.exec(ctx, change, stmt); err != nil {
		if o.level != levelGlobal && o.level != levelSchema && isMissingObject(err) {
			return []string{"skipped " + change + ": the object no longer exists"}, nil
		}
		return nil, err
	}
	return []string{change}, nil
}

func (s *Session) revoke(ctx context.Context, o object, privs []string, cloneAcct string, clone account) ([]string, error) {
	var changes []string
	cols, on := o.clause()
	var list, names []string
	for _, p := range privs {
		if p == grantOption {
			change := fmt.Sprintf("revoke %s on %s from %s", grantOption, o, clone.user)
			err := s.exec(ctx, change, "REVOKE GRANT OPTION ON "+on+" FROM "+cloneAcct)
			switch {
			case err == nil:
				changes = append(changes, change)
			case errNumber(err) != errNonexistGrant:
				return changes, err
			}
			continue
		}
		list = append(list, p+cols)
		names = append(names, p)
	}
	if len(list) == 0 {
		return changes, nil
	}
	change := fmt.Sprintf("revoke %s on %s from %s", strings.Join(names, ", "), o, clone.user)
	if err := s.exec(ctx, change, "REVOKE "+strings.Join(list, ", ")+" ON "+on+" FROM "+cloneAcct); err != nil {
		if errNumber(err) != errNonexistGrant {
			return changes, err
		}
		return changes, nil // nothing to revoke: not a change
	}
	return append(changes, change), nil
}

func isMissingObject(err error) bool {
	switch errNumber(err) {
	case errNoSuchTable, 1305, 1054: // no such table, routine (ER_SP_DOES_NOT_EXIST), column (ER_BAD_FIELD_ERROR)
		return true
	}
	return false
}

// syncRoles grants the clone the base's roles (with ADMIN OPTION where the
// base has it) and sets its default role.
func (s *Session) syncRoles(ctx context.Context, want, have state, cloneAcct string, clone account) ([]string, error) {
	var changes []string
	for _, r := range want.roles {
		i := slices.IndexFunc(have.roles, func(h roleGrant) bool { return h.role == r.role })
		if i >= 0 && (have.roles[i].admin || !r.admin) {
			continue
		}
		role, err := s.q.str(r.role)
		if err != nil {
			return changes, fmt.Errorf("role %q: %w", r.role, err)
		}
		stmt := "GRANT " + role + " TO " + cloneAcct
		change := fmt.Sprintf("grant role %s to %s", r.role, clone.user)
		if r.admin {
			stmt += " WITH ADMIN OPTION"
			change += " with admin option"
		}
		if err := s.exec(ctx, change, stmt); err != nil {
			return changes, err
		}
		changes = append(changes, change)
	}
	if want.defaultRole != have.defaultRole {
		target := "NONE"
		if want.defaultRole != "" {
			r, err := s.q.str(want.defaultRole)
			if err != nil {
				return changes, fmt.Errorf("role %q: %w", want.defaultRole, err)
			}
			target = r
		}
		change := fmt.Sprintf("set default role of %s to %s", clone.user, strings.Trim(target, "'"))
		if want.defaultRole == "" {
			change = fmt.Sprintf("set default role of %s to NONE", clone.user)
		}
		if err := s.exec(ctx, change, "SET DEFAULT ROLE "+target+" FOR "+cloneAcct); err != nil {
			return changes, err
		}
		changes = append(changes, change)
	}
	return changes, nil
}

// revokeRoles takes from the clone the roles, and the ADMIN OPTIONs, the
// base no longer has.
func (s *Session) revokeRoles(ctx context.Context, want, have state, cloneAcct string, clone account) ([]string, error) {
	var changes []string
	for _, h := range have.roles {
		i := slices.IndexFunc(want.roles, func(w roleGrant) bool { return w.role == h.role })
		if i >= 0 && (want.roles[i].admin || !h.admin) {
			continue
		}
		role, err := s.q.str(h.role)
		if err != nil {
			return changes, fmt.Errorf("role %q: %w", h.role, err)
		}
		stmt, change := "REVOKE "+role+" FROM "+cloneAcct, fmt.Sprintf("revoke role %s from %s", h.role, clone.user)
		if i >= 0 {
			stmt, change = "REVOKE ADMIN OPTION FOR "+role+" FROM "+cloneAcct, fmt.Sprintf("revoke admin option for role %s from %s", h.role, clone.user)
		}
		if err := s.exec(ctx, change, stmt); err != nil {
			return changes, err
		}
		changes = append(changes, change)
	}
	return changes, nil
}

// syncLimits mirrors the resource limits, the TLS requirement and the
// password lifetime in one ALTER USER, issued only when something differs.
func (s *Session) syncLimits(ctx context.Context, want, have limits, cloneAcct string, clone account) ([]string, error) {
	var opts, changes []string
	num := func(name string, w, h int64) {
		if w != h {
			opts = append(opts, name+" "+strconv.FormatInt(w, 10))
			changes = append(changes, fmt.Sprintf("%s.%s=%d", clone.user, name, w))
		}
	}
	num("MAX_QUERIES_PER_HOUR", want.maxQuestions, have.maxQuestions)
	num("MAX_UPDATES_PER_HOUR", want.maxUpdates, have.maxUpdates)
	num("MAX_CONNECTIONS_PER_HOUR", want.maxConnections, have.maxConnections)
	num("MAX_USER_CONNECTIONS", want.maxUserConnections, have.maxUserConnections)
	if want.maxStatementTime != have.maxStatementTime {
		f, err := strconv.ParseFloat(want.maxStatementTime, 64)
		if err != nil {
			return nil, fmt.Errorf("max_statement_time of the base user: %q is not a number", want.maxStatementTime)
		}
		v := strconv.FormatFloat(f, 'f', -1, 64)
		opts = append(opts, "MAX_STATEMENT_TIME "+v)
		changes = append(changes, fmt.Sprintf("%s.MAX_STATEMENT_TIME=%s", clone.user, v))
	}
	var expire string
	if want.passwordLifetime != have.passwordLifetime {
		switch v := want.passwordLifetime; {
		case v < 0:
			expire = "PASSWORD EXPIRE DEFAULT"
		case v == 0:
			expire = "PASSWORD EXPIRE NEVER"
		default:
			expire = "PASSWORD EXPIRE INTERVAL " + strconv.FormatInt(v, 10) + " DAY"
		}
		changes = append(changes, fmt.Sprintf("%s.%s", clone.user, expire))
	}
	var require string
	if want.sslType != have.sslType || want.sslCipher != have.sslCipher || want.x509Issuer != have.x509Issuer || want.x509Subject != have.x509Subject {
		switch strings.ToUpper(want.sslType) {
		case "":
			require = "REQUIRE NONE"
		case "ANY":
			require = "REQUIRE SSL"
		case "X509":
			require = "REQUIRE X509"
		case "SPECIFIED":
			var parts []string
			for _, f := range []struct{ kw, v string }{{"ISSUER", want.x509Issuer}, {"SUBJECT", want.x509Subject}, {"CIPHER", want.sslCipher}} {
				if f.v == "" {
					continue
				}
				lit, err := s.q.str(f.v)
				if err != nil {
					return nil, fmt.Errorf("TLS requirement of the base user: %w", err)
				}
				parts = append(parts, f.kw+" "+lit)
			}
			require = "REQUIRE " + strings.Join(parts, " AND ")
		default:
			return nil, fmt.Errorf("unknown ssl_type %q of the base user", want.sslType)
		}
		changes = append(changes, fmt.Sprintf("%s.%s", clone.user, strings.SplitN(require, " '", 2)[0]))
	}
	if len(opts) == 0 && require == "" && expire == "" {
		return nil, nil
	}
	stmt := "ALTER USER " + cloneAcct
	if require != "" {
		stmt += " " + require
	}
	if len(opts) > 0 {
		stmt += " WITH " + strings.Join(opts, " ")
	}
	if expire != "" {
		stmt += " " + expire
	}
	if err := s.exec(ctx, fmt.Sprintf("copy limits of the base user to %q", clone.user), stmt); err != nil {
		return nil, err
	}
	return changes, nil
}

// refuseClone is the error for a clone rotor will not make its base's
// equal; why names what the clone has.
func refuseClone(p pair, why string) error {
	return fmt.Errorf("refusing to use %q@%q as the clone of %q: %s (see \"Clone parity\" in docs/security.md)", p.clone.user, p.clone.host, p.base.user, why)
}

// checkClone refuses, before anything changes, a pre-existing clone that
// SyncAlternate could not make the base's equal: one that is locked when
// it is the pending user (someone locked it on purpose; rotor does not
// unlock it, nor hand out a password for it), and one that holds a role, or
// ADMIN OPTION on a role, that the base lacks and the admin cannot revoke
// (MariaDB lets only an account with ADMIN OPTION on a role revoke it).
func (s *Session) checkClone(ctx context.Context, p pair, want, have state, pending bool) error {
	if have.locked && pending {
		return refuseClone(p, "it is locked (ACCOUNT LOCK); unlock it (ALTER USER ... ACCOUNT UNLOCK) or drop it")
	}
	var revoke []string
	for _, h := range have.roles {
		i := slices.IndexFunc(want.roles, func(w roleGrant) bool { return w.role == h.role })
		if i < 0 || (h.admin && !want.roles[i].admin) {
			revoke = append(revoke, h.role)
		}
	}
	if len(revoke) == 0 {
		return nil
	}
	var cur string
	if err := s.c.QueryRowContext(ctx, "SELECT CURRENT_USER()").Scan(&cur); err != nil {
		return fmt.Errorf("read the current account: %w", classify(err))
	}
	var can []string
	err := s.scanRows(ctx, func(r *sql.Rows) error {
		var role string
		if err := r.Scan(&role); err != nil {
			return err
		}
		can = append(can, role)
		return nil
	}, "SELECT Role FROM mysql.roles_mapping WHERE CONCAT(User, '@', Host) = ? AND Admin_option = 'Y'", cur)
	if err != nil {
		return fmt.Errorf("read the roles the admin administers: %w", err)
	}
	var cannot []string
	for _, r := range revoke {
		if !slices.Contains(can, r) {
			cannot = append(cannot, strconv.Quote(r))
		}
	}
	if len(cannot) == 0 {
		return nil
	}
	return refuseClone(p, fmt.Sprintf("it holds roles %s (or ADMIN OPTION on them) that %q lacks, and the admin cannot revoke them (it needs ADMIN OPTION on each role)", strings.Join(cannot, ", "), p.base.user))
}

// revokeProxies takes from the clone the PROXY privileges the base lacks
// (or holds without GRANT OPTION: grantProxies then grants it again
// without). An admin that may not is refused, naming the privilege; this
// runs before any other change.
func (s *Session) revokeProxies(ctx context.Context, p pair, want, have []proxyGrant) ([]string, error) {
	var changes []string
	for _, h := range have {
		if slices.Contains(want, h) {
			continue
		}
		proxied, err := s.q.account(h.proxied)
		if err != nil {
			return changes, fmt.Errorf("proxied account %q@%q: %w", h.proxied.user, h.proxied.host, err)
		}
		change := fmt.Sprintf("revoke PROXY on %q@%q from %s", h.proxied.user, h.proxied.host, p.clone.user)
		if err := s.exec(ctx, change, "REVOKE PROXY ON "+proxied+" FROM "+p.cloneAcct); err != nil {
			if len(changes) == 0 {
				return nil, refuseClone(p, fmt.Sprintf("it holds PROXY on %q@%q, which %q lacks, and the admin cannot revoke it (%v)", h.proxied.user, h.proxied.host, p.base.user, err))
			}
			return changes, err
		}
		changes = append(changes, change)
	}
	return changes, nil
}

// grantProxies gives the clone the base's PROXY privileges it lacks.
func (s *Session) grantProxies(ctx context.Context, p pair, want, have []proxyGrant) ([]string, error) {
	var changes []string
	for _, w := range want {
		if slices.Contains(have, w) {
			continue
		}
		proxied, err := s.q.account(w.proxied)
		if err != nil {
			return changes, fmt.Errorf("proxied account %q@%q: %w", w.proxied.user, w.proxied.host, err)
		}
		stmt := "GRANT PROXY ON " + proxied + " TO " + p.cloneAcct
		change := fmt.Sprintf("grant PROXY on %q@%q to %s", w.proxied.user, w.proxied.host, p.clone.user)
		if w.withGrant {
			stmt += " WITH GRANT OPTION"
			change += " with grant option"
		}
		if err := s.exec(ctx, change, stmt); err != nil {
			return changes, err
		}
		changes = append(changes, change)
	}
	return changes, nil
}
