// Package enginetest is the conformance suite every rotor database engine
// must pass: one table of behaviours, run against a real server by each
// engine's tests. Adding an engine means writing its package, registering it
// in strategies/builtin, and calling Run from its tests with a Harness for
// a server the test harness starts.
package enginetest

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/strategies"
	"github.com/rotorhq/rotor/strategies/engine"
)

// Harness is what the suite needs from one engine's test setup: a running
// server that accepts both TLS (with a certificate for Target.Host signed by
// Target.TLS.RootCAs) and plaintext logins, and a superuser path to set it
// up that does not go through the engine under test.
type Harness struct {
	Engine engine.Engine
	// Target is where the server listens: Host, Port, Database and a
	// verify-full TLS policy with the server's CA. User and Password are
	// ignored.
	Target engine.Params
	// CreateUser creates a login user with password and no privileges,
	// dropped when the test ends (clones the suite makes included).
	CreateUser func(t testing.TB, name, password string)
	// CreateAdmin creates a user with the privileges Facts.AdminPrivileges
	// names, dropped when the test ends.
	CreateAdmin func(t testing.TB, name, password string)
	// CreatePrivileged creates a login user the admin must refuse to manage
	// (PostgreSQL: a superuser; MariaDB: ALL PRIVILEGES ON *.*), dropped
	// when the test ends.
	CreatePrivileged func(t testing.TB, name, password string)
	// CreateGroup creates a user or role that cannot log in, or is nil
	// when the engine has no such thing that the suite can name.
	CreateGroup func(t testing.TB, name string)
	// DropUserAtEnd drops a user the engine created (a clone) when the test
	// ends.
	DropUserAtEnd func(t testing.TB, name string)
	// Grant gives user a privilege on an object the harness owns, and
	// Probe logs in as user and uses it: together they show whether a
	// privilege travelled to a clone.
	Grant func(t testing.TB, user string)
	Probe func(t testing.TB, user, password string) error
	// StatementLog returns a function that reads what the server logged of
	// the statements it received from now on.
	StatementLog func(t testing.TB) func() string
	// UniqueName returns a user name no other test uses, starting with
	// prefix.
	UniqueName func(prefix string) string
	// CreateLeaseGroup creates group, a role that cannot log in, holding
	// what Grant gives (so Probe works for its members) and the right to
	// create tables in Target.Database, and lets the user admin (made by
	// CreateAdmin) hand it to lease users. It is dropped, with what it
	// owns, when the test ends.
	CreateLeaseGroup func(t testing.TB, group, admin string)
	// CreatePrivilegedGroup creates a role that cannot log in but that the
	// admin must refuse as a lease group (PostgreSQL: CREATEROLE; MariaDB:
	// a global privilege), dropped when the test ends.
	CreatePrivilegedGroup func(t testing.TB, name string)
	// MakeObject logs in as user and creates a table of its own. The
	// returned check, called after the user is dropped, reports whether
	// the table survived and now belongs to group (where the engine has
	// owners).
	MakeObject func(t testing.TB, user, password string) (check func(t testing.TB, group string) error)
	// CloneExtras are what a clone that existed before rotor's first sync
	// may hold beyond its base user: privileges, attributes, memberships,
	// settings. SyncAlternate must take each away or refuse, naming it.
	CloneExtras []CloneExtra
}

// CloneExtra is one thing a pre-existing clone holds that its base user
// lacks.
type CloneExtra struct {
	// Name is what a refusal must name ("SUPERUSER").
	Name string
	// Give gives clone the extra; base is its base user, already created.
	Give func(t testing.TB, clone, base string)
	// Has reports whether clone still holds the extra.
	Has func(t testing.TB, clone string) bool
	// Refused is set when the admin cannot take the extra away, so
	// SyncAlternate must refuse and change nothing.
	Refused bool
}

func (h Harness) params(user, password string) engine.Params {
	p := h.Target
	p.User, p.Password = user, password
	return p
}

func (h Harness) login(t testing.TB, user, password string) engine.Session {
	t.Helper()
	s, err := h.Engine.Login(context.Background(), h.params(user, password))
	if err != nil {
		t.Fatalf("log in as %q: %v", user, err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

func (h Harness) admin(t testing.TB) engine.Session {
	t.Helper()
	name := h.UniqueName("adm")
	h.CreateAdmin(t, name, "admin-Password-1")
	return h.login(t, name, "admin-Password-1")
}

// canLogin logs in as user and pings.
func (h Harness) canLogin(user, password string) error {
	ctx := context.Background()
	s, err := h.Engine.Login(ctx, h.params(user, password))
	if err != nil {
		return err
	}
	defer s.Close(ctx)
	return s.Ping(ctx)
}

// Run runs the conformance suite against h.
func Run(t *testing.T, h Harness) {
	facts := h.Engine.Facts()
	t.Run("facts", func(t *testing.T) { checkFacts(t, facts) })
	for _, c := range append(cases, leaseCases...) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, h)
		})
	}
}

func checkFacts(t *testing.T, f engine.Facts) {
	switch {
	case f.Name == "" || f.Family == "":
		t.Fatalf("facts need a name and a family: %+v", f)
	case len(f.DocumentEngines) == 0:
		t.Fatal("facts name no document engine")
	case f.DefaultPort < 1 || f.DefaultPort > 65535:
		t.Fatalf("default port %d", f.DefaultPort)
	case f.MaxUsername < len(strategies.CloneSuffix)+1:
		t.Fatalf("user name limit %d leaves no room for a clone", f.MaxUsername)
	case f.UsernameUnit != engine.Bytes && f.UsernameUnit != engine.Characters:
		t.Fatalf("user name unit %q", f.UsernameUnit)
	case f.AdminPrivileges == nil || !strings.Contains(f.AdminPrivileges("adm", "app"), "adm"):
		t.Fatal("facts need an admin privileges hint naming the admin")
	}
}

type testCase struct {
	name string
	run  func(t *testing.T, h Harness)
}

// hostileNames are user names shaped like injections, quoting traps and
// non-ASCII text. Each must round-trip as data.
var hostileNames = []string{`q"uote`, `a'b`, `x; DROP USER root; --`, `back\slash`, `pct%_`, `ünï`}

var cases = []testCase{
	{"login and ping", func(t *testing.T, h Harness) {
		u := h.UniqueName("u")
		h.CreateUser(t, u, "Password-1")
		if err := h.canLogin(u, "Password-1"); err != nil {
			t.Fatal(err)
		}
	}},
	{"wrong password is ErrAuth and names no secret", func(t *testing.T, h Harness) {
		u := h.UniqueName("u")
		h.CreateUser(t, u, "Password-1")
		const wrong = "Wrong-Password-Zz9"
		err := h.canLogin(u, wrong)
		if !errors.Is(err, engine.ErrAuth) {
			t.Fatalf("got %v, want ErrAuth", err)
		}
		if strings.Contains(err.Error(), wrong) {
			t.Fatalf("error holds the password: %v", err)
		}
	}},
	{"unknown user is ErrAuth", func(t *testing.T, h Harness) {
		if err := h.canLogin(h.UniqueName("ghost"), "Password-1"); !errors.Is(err, engine.ErrAuth) {
			t.Fatalf("got %v, want ErrAuth", err)
		}
	}},
	{"unreachable server is not ErrAuth", func(t *testing.T, h Harness) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		p := h.params("u", "Password-1")
		p.Host, p.Port, p.ConnectTimeout = "127.0.0.1", port, 2*time.Second
		p.TLS.Mode = events.TLSDisable
		_, err = h.Engine.Login(context.Background(), p)
		if err == nil || errors.Is(err, engine.ErrAuth) {
			t.Fatalf("got %v, want a connection error that is not ErrAuth", err)
		}
	}},
	{"verify-full refuses an unknown CA and never falls back", func(t *testing.T, h Harness) {
		u := h.UniqueName("u")
		h.CreateUser(t, u, "Password-1")
		// The server takes plaintext logins too, so a fallback would
		// succeed: only an error shows there was none.
		plain := h.params(u, "Password-1")
		plain.TLS = engine.TLS{Mode: events.TLSDisable}
		if s, err := h.Engine.Login(context.Background(), plain); err != nil {
			t.Fatalf("the harness server must accept plaintext for this case: %v", err)
		} else {
			s.Close(context.Background())
		}
		p := h.params(u, "Password-1")
		p.TLS.RootCAs = x509.NewCertPool()
		_, err := h.Engine.Login(context.Background(), p)
		if err == nil || errors.Is(err, engine.ErrAuth) {
			t.Fatalf("got %v, want a TLS verification error", err)
		}
	}},
	{"unknown TLS mode is an error", func(t *testing.T, h Harness) {
		p := h.params("u", "Password-1")
		p.TLS.Mode = "prefer"
		if _, err := h.Engine.Login(context.Background(), p); err == nil {
			t.Fatal("an unknown TLS mode was accepted")
		}
	}},
	{"own password set as verifier, repeatable", func(t *testing.T, h Harness) {
		u := h.UniqueName("u")
		h.CreateUser(t, u, "Password-1")
		read := h.StatementLog(t)
		s := h.login(t, u, "Password-1")
		const next = "Next-Password-Qq7"
		for range 2 {
			if err := s.SetPassword(context.Background(), u, next); err != nil {
				t.Fatal(err)
			}
		}
		if err := h.canLogin(u, next); err != nil {
			t.Fatalf("new password: %v", err)
		}
		if err := h.canLogin(u, "Password-1"); !errors.Is(err, engine.ErrAuth) {
			t.Fatalf("old password: %v, want ErrAuth", err)
		}
		if log := read(); strings.Contains(log, next) {
			t.Fatal("the password reached the server's statement log")
		}
	}},
	{"admin sets another user's password; errors name no secret", func(t *testing.T, h Harness) {
		adm := h.admin(t)
		u := h.UniqueName("u")
		h.CreateUser(t, u, "Password-1")
		const next = "Admin-Set-Password-Ww3"
		if err := adm.SetPassword(context.Background(), u, next); err != nil {
			t.Fatal(err)
		}
		if err := h.canLogin(u, next); err != nil {
			t.Fatal(err)
		}
		err := adm.SetPassword(context.Background(), h.UniqueName("ghost"), next)
		if err == nil || strings.Contains(err.Error(), next) {
			t.Fatalf("setting a missing user's password: %v", err)
		}
	}},
	{"session count", func(t *testing.T, h Harness) {
		adm := h.admin(t)
		u := h.UniqueName("u")
		h.CreateUser(t, u, "Password-1")
		if n, err := adm.CountSessions(context.Background(), u); err != nil || n != 0 {
			t.Fatalf("before login: %d, %v", n, err)
		}
		h.login(t, u, "Password-1")
		if n, err := adm.CountSessions(context.Background(), u); err != nil || n != 1 {
			t.Fatalf("with one session open: %d, %v", n, err)
		}
	}},
	{"clone created, synced, idempotent", func(t *testing.T, h Harness) {
		checkAlternate(t, h, h.UniqueName("app"))
	}},
	{"hostile and longest names", func(t *testing.T, h Harness) {
		f := h.Engine.Facts()
		names := append([]string(nil), hostileNames...)
		longest := h.UniqueName("l")
		for f.UsernameLength(longest+strategies.CloneSuffix) < f.MaxUsername {
			longest += "x"
		}
		names = append(names, longest)
		for _, n := range names {
			t.Run(n, func(t *testing.T) {
				if n != longest {
					n = h.UniqueName("") + n
				}
				checkAlternate(t, h, n)
			})
		}
	}},
	{"admin refuses privileged, group and own accounts as base", func(t *testing.T, h Harness) {
		ctx := context.Background()
		adminName := h.UniqueName("adm")
		h.CreateAdmin(t, adminName, "admin-Password-1")
		rm, ok := h.login(t, adminName, "admin-Password-1").(engine.RoleManager)
		if !ok {
			t.Skip("engine does not support alternating-users")
		}
		priv := h.UniqueName("dba")
		h.CreatePrivileged(t, priv, "Dba-Password-1")
		bases := []string{priv, adminName}
		if h.CreateGroup != nil {
			group := h.UniqueName("grp")
			h.CreateGroup(t, group)
			bases = append(bases, group)
		}
		for _, base := range bases {
			clone := base + strategies.CloneSuffix
			h.DropUserAtEnd(t, clone)
			_, err := rm.SyncAlternate(ctx, engine.AlternateRequest{Base: base, Clone: clone, Pending: clone, Password: "Clone-Password-Rr5"})
			if err == nil || !strings.Contains(err.Error(), "refusing") {
				t.Fatalf("base %q: %v, want a refusal", base, err)
			}
			if err := h.canLogin(clone, "Clone-Password-Rr5"); !errors.Is(err, engine.ErrAuth) {
				t.Fatalf("base %q: a clone was made (%v)", base, err)
			}
		}
	}},
	{"pre-existing clone made equal to its base or refused", func(t *testing.T, h Harness) {
		if _, ok := h.admin(t).(engine.RoleManager); !ok {
			t.Skip("engine does not support alternating-users")
		}
		if len(h.CloneExtras) == 0 {
			t.Fatal("the harness lists no CloneExtras: name what a clone can hold beyond its base user")
		}
		for _, x := range h.CloneExtras {
			t.Run(x.Name, func(t *testing.T) {
				t.Parallel()
				checkCloneExtra(t, h, x)
			})
		}
	}},
	{"admin privileges reported", func(t *testing.T, h Harness) {
		adm := h.admin(t)
		u := h.UniqueName("u")
		h.CreateUser(t, u, "Password-1")
		rm, ok := adm.(engine.RoleManager)
		if !ok {
			t.Skip("engine does not support alternating-users")
		}
		if ok, why, err := rm.CanManageRole(context.Background(), u); err != nil || !ok {
			t.Fatalf("admin: %v %q %v", ok, why, err)
		}
		plain := h.login(t, u, "Password-1").(engine.RoleManager)
		if ok, why, err := plain.CanManageRole(context.Background(), u); err != nil || ok || why == "" {
			t.Fatalf("plain user: %v %q %v", ok, why, err)
		}
	}},
}

// checkAlternate runs alternating-users' database side for base: the clone
// is created with base's privileges, a repeat changes nothing, a privilege
// granted later reaches the clone, and base's own password changes.
func checkAlternate(t *testing.T, h Harness, base string) {
	t.Helper()
	ctx := context.Background()
	rm, ok := h.admin(t).(engine.RoleManager)
	if !ok {
		t.Skip("engine does not support alternating-users")
	}
	clone := base + strategies.CloneSuffix
	h.CreateUser(t, base, "Base-Password-1")
	h.DropUserAtEnd(t, clone)
	read := h.StatementLog(t)
	req := engine.AlternateRequest{Base: base, Clone: clone, Pending: clone, Password: "Clone-Password-Rr5"}
	resp, err := rm.SyncAlternate(ctx, req)
	if err != nil || !resp.CreatedClone {
		t.Fatalf("first sync: %+v, %v", resp, err)
	}
	if err := h.canLogin(clone, req.Password); err != nil {
		t.Fatalf("clone login: %v", err)
	}
	if resp, err = rm.SyncAlternate(ctx, req); err != nil || resp.CreatedClone || len(resp.Changes) != 0 {
		t.Fatalf("repeated sync changed something: %+v, %v", resp, err)
	}
	h.Grant(t, base)
	if _, err := rm.SyncAlternate(ctx, req); err != nil {
		t.Fatalf("sync after a grant: %v", err)
	}
	if err := h.Probe(t, clone, req.Password); err != nil {
		t.Fatalf("the base user's new privilege did not reach the clone: %v", err)
	}
	back := engine.AlternateRequest{Base: base, Clone: clone, Pending: base, Password: "Base-Password-Tt2"}
	if _, err := rm.SyncAlternate(ctx, back); err != nil {
		t.Fatalf("sync with the base user pending: %v", err)
	}
	if err := h.canLogin(base, back.Password); err != nil {
		t.Fatalf("base login: %v", err)
	}
	if err := h.canLogin(clone, req.Password); err != nil {
		t.Fatalf("the clone stopped working when the base user's password changed: %v", err)
	}
	if log := read(); strings.Contains(log, req.Password) || strings.Contains(log, back.Password) {
		t.Fatal("a password reached the server's statement log")
	}
}

// checkCloneExtra gives a pre-existing clone x and syncs it as the pending
// user: the sync takes x away and the clone works, or (x.Refused) the sync
// refuses naming x.Name, and neither gives the clone the pending password
// nor takes x away.
func checkCloneExtra(t *testing.T, h Harness, x CloneExtra) {
	ctx := context.Background()
	rm, ok := h.admin(t).(engine.RoleManager)
	if !ok {
		t.Skip("engine does not support alternating-users")
	}
	base := h.UniqueName("app")
	clone := base + strategies.CloneSuffix
	h.CreateUser(t, base, "Base-Password-1")
	h.CreateUser(t, clone, "Old-Clone-Password-1")
	x.Give(t, clone, base)
	if !x.Has(t, clone) {
		t.Fatalf("the harness did not give %q %s", clone, x.Name)
	}
	req := engine.AlternateRequest{Base: base, Clone: clone, Pending: clone, Password: "Clone-Password-Rr5"}
	resp, err := rm.SyncAlternate(ctx, req)
	if x.Refused {
		if err == nil || !strings.Contains(err.Error(), "refusing") || !strings.Contains(err.Error(), x.Name) {
			t.Fatalf("sync: %+v, %v; want a refusal naming %s", resp, err, x.Name)
		}
		if err := h.canLogin(clone, req.Password); err == nil {
			t.Fatal("a refused sync gave the clone the pending password")
		}
		if !x.Has(t, clone) {
			t.Fatalf("a refused sync took %s away: it must change nothing", x.Name)
		}
		return
	}
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	if x.Has(t, clone) {
		t.Fatalf("the clone kept %s after the sync (changes %q)", x.Name, resp.Changes)
	}
	if err := h.canLogin(clone, req.Password); err != nil {
		t.Fatalf("clone login: %v", err)
	}
	if resp, err := rm.SyncAlternate(ctx, req); err != nil || len(resp.Changes) != 0 {
		t.Fatalf("repeated sync: %+v, %v; want no changes", resp, err)
	}
}
