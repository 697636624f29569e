package enginetest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rotorhq/rotor/strategies/engine"
)

// leaseAdmin creates an admin and a lease group it may hand out, and
// returns the admin's LeaseManager and the group.
func (h Harness) leaseAdmin(t testing.TB, group string) engine.LeaseManager {
	t.Helper()
	if h.CreateLeaseGroup == nil || h.MakeObject == nil || h.CreatePrivilegedGroup == nil {
		t.Fatal("the harness lacks CreateLeaseGroup, CreatePrivilegedGroup or MakeObject: every engine must issue leases")
	}
	name := h.UniqueName("adm")
	h.CreateAdmin(t, name, "admin-Password-1")
	if group != "" {
		h.CreateLeaseGroup(t, group, name)
	}
	lm, ok := h.login(t, name, "admin-Password-1").(engine.LeaseManager)
	if !ok {
		t.Fatalf("%s sessions do not implement engine.LeaseManager", h.Engine.Facts().Name)
	}
	return lm
}

// findLease returns the listed user named name.
func findLease(t testing.TB, lm engine.LeaseManager, name string) (engine.LeaseUserInfo, bool) {
	t.Helper()
	users, err := lm.ListLeaseUsers(context.Background(), name)
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	for _, u := range users {
		if u.Name == name {
			return u, true
		}
	}
	return engine.LeaseUserInfo{}, false
}

func sameSecond(a, b time.Time) bool { d := a.Sub(b); return d < time.Second && d > -time.Second }

// checkLeaseLifecycle creates a lease user in group, uses it, extends,
// lists and drops it while it has a session open and owns a table, and
// drops it again.
func checkLeaseLifecycle(t *testing.T, h Harness, user, group string) {
	ctx := context.Background()
	lm := h.leaseAdmin(t, group)
	h.DropUserAtEnd(t, user)
	read := h.StatementLog(t)
	const password = "Lease-Password-Kk8"
	until := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	if err := lm.CreateLeaseUser(ctx, engine.LeaseUser{Name: user, Password: password, Group: group, ValidUntil: until}); err != nil {
		t.Fatalf("create: %v", err)
	}
	if err := h.Probe(t, user, password); err != nil {
		t.Fatalf("the lease user lacks its group's privileges: %v", err)
	}
	if err := lm.CreateLeaseUser(ctx, engine.LeaseUser{Name: user, Password: "Other-Password-1", Group: group, ValidUntil: until}); err == nil {
		t.Fatal("creating an existing lease user again succeeded")
	}
	if err := h.canLogin(user, password); err != nil {
		t.Fatalf("a refused second create changed the user: %v", err)
	}
	info, ok := findLease(t, lm, user)
	if !ok || !slices.Contains(info.Groups, group) || !sameSecond(info.ValidUntil, until) {
		t.Fatalf("listed %+v (found %v), want groups holding %q and expiry %s", info, ok, group, until)
	}
	later := until.Add(time.Hour)
	for range 2 {
		if err := lm.ExtendLeaseUser(ctx, engine.LeaseExtension{Name: user, Group: group, ValidUntil: later}); err != nil {
			t.Fatalf("extend: %v", err)
		}
	}
	if info, _ := findLease(t, lm, user); !sameSecond(info.ValidUntil, later) {
		t.Fatalf("after extend: expiry %s, want %s", info.ValidUntil, later)
	}
	survived := h.MakeObject(t, user, password)
	open := h.login(t, user, password)
	resp, err := lm.DropLeaseUser(ctx, engine.LeaseDrop{Name: user, Group: group})
	if err != nil || !resp.Existed || resp.SessionsEnded < 1 {
		t.Fatalf("drop: %+v, %v; want the user dropped and its session ended", resp, err)
	}
	if err := open.Ping(ctx); err == nil {
		t.Fatal("the lease user's session survived the drop")
	}
	if err := h.canLogin(user, password); !errors.Is(err, engine.ErrAuth) {
		t.Fatalf("login after drop: %v, want ErrAuth", err)
	}
	if err := survived(t, group); err != nil {
		t.Fatalf("the lease user's table: %v", err)
	}
	if _, ok := findLease(t, lm, user); ok {
		t.Fatal("the dropped user is still listed")
	}
	if resp, err := lm.DropLeaseUser(ctx, engine.LeaseDrop{Name: user, Group: group}); err != nil || resp.Existed {
		t.Fatalf("second drop: %+v, %v; want success with nothing to do", resp, err)
	}
	if log := read(); strings.Contains(log, password) {
		t.Fatal("the lease password reached the server's statement log")
	}
}

var leaseCases = []testCase{
	{"lease created, used, extended, listed, dropped twice", func(t *testing.T, h Harness) {
		checkLeaseLifecycle(t, h, h.UniqueName("v_"), h.UniqueName("grp"))
	}},
	{"lease with hostile user and group names", func(t *testing.T, h Harness) {
		for _, n := range hostileNames {
			t.Run(n, func(t *testing.T) {
				t.Parallel()
				checkLeaseLifecycle(t, h, h.UniqueName("v_")+n, h.UniqueName("g")+n)
			})
		}
	}},
	{"lease refuses privileged, login and missing groups", func(t *testing.T, h Harness) {
		ctx := context.Background()
		lm := h.leaseAdmin(t, "")
		priv := h.UniqueName("pgrp")
		h.CreatePrivilegedGroup(t, priv)
		login := h.UniqueName("u")
		h.CreateUser(t, login, "Password-1")
		for _, g := range []struct{ group, want string }{{priv, "refusing"}, {login, "refusing"}, {h.UniqueName("ghost"), "does not exist"}} {
			user := h.UniqueName("v_")
			h.DropUserAtEnd(t, user)
			err := lm.CreateLeaseUser(ctx, engine.LeaseUser{Name: user, Password: "Lease-Password-Kk8", Group: g.group, ValidUntil: time.Now().Add(time.Hour)})
			if err == nil || !strings.Contains(err.Error(), g.want) {
				t.Fatalf("group %q: %v, want an error saying %q", g.group, err, g.want)
			}
			if err := h.canLogin(user, "Lease-Password-Kk8"); !errors.Is(err, engine.ErrAuth) {
				t.Fatalf("group %q: a lease user was made (%v)", g.group, err)
			}
		}
	}},
	{"lease outside its group is neither extended nor dropped", func(t *testing.T, h Harness) {
		ctx := context.Background()
		group, other := h.UniqueName("grp"), h.UniqueName("grp")
		lm := h.leaseAdmin(t, group)
		user := h.UniqueName("v_")
		h.DropUserAtEnd(t, user)
		until := time.Now().Add(time.Hour)
		if err := lm.CreateLeaseUser(ctx, engine.LeaseUser{Name: user, Password: "Lease-Password-Kk8", Group: group, ValidUntil: until}); err != nil {
			t.Fatal(err)
		}
		h.CreateLeaseGroup(t, other, "")
		if err := lm.ExtendLeaseUser(ctx, engine.LeaseExtension{Name: user, Group: other, ValidUntil: until.Add(time.Hour)}); err == nil {
			t.Fatal("extended a user through a group it is not a member of")
		}
		if _, err := lm.DropLeaseUser(ctx, engine.LeaseDrop{Name: user, Group: other}); err == nil || !strings.Contains(err.Error(), "refusing") {
			t.Fatalf("drop through another group: %v, want a refusal", err)
		}
		if err := h.canLogin(user, "Lease-Password-Kk8"); err != nil {
			t.Fatalf("a refused drop changed the user: %v", err)
		}
		if err := lm.ExtendLeaseUser(ctx, engine.LeaseExtension{Name: h.UniqueName("ghost"), Group: group, ValidUntil: until}); err == nil {
			t.Fatal("extended a missing user")
		}
	}},
}
