package lease

import (
	"context"
	"slices"
	"time"

	"github.com/rotorhq/rotor/strategies/engine"
)

// ReapReport is what one Reap did.
type ReapReport struct {
	// Checked counts the lease users found, expired or not.
	Checked int
	// Reaped counts the users dropped.
	Reaped int
	// Failures are the users (or whole role definitions, User "") that
	// could not be dropped; the next Reap tries again.
	Failures []ReapFailure
}

// ReapFailure is one user Reap could not drop, or one role definition it
// could not check (User empty). Error names no secret.
type ReapFailure struct {
	Role  string `json:"role"`
	User  string `json:"user,omitempty"`
	Error string `json:"error"`
}

// Reap drops, for every role definition, the lease users whose expiry has
// passed: users whose names the issuer made for that definition, members
// of its group role, with an expiry before now or none recorded. Every
// drop ends the user's sessions and hands what it owns to the group
// (engine.LeaseManager.DropLeaseUser). A user it cannot drop is logged at
// ERROR and listed in Failures, and tried again next time; one failure
// does not stop the others. Repeating Reap is harmless.
func (s *Service) Reap(ctx context.Context) ReapReport {
	var r ReapReport
	// One admin session per admin secret, for all its definitions.
	byAdmin := map[string][]Definition{}
	var admins []string
	for _, d := range s.order {
		if _, ok := byAdmin[d.AdminSecretARN]; !ok {
			admins = append(admins, d.AdminSecretARN)
		}
		byAdmin[d.AdminSecretARN] = append(byAdmin[d.AdminSecretARN], d)
	}
	for _, arn := range admins {
		defs := byAdmin[arn]
		a, err := s.admin(ctx, defs[0])
		if err != nil {
			for _, d := range defs {
				r.fail(s, d.Name, "", err)
			}
			continue
		}
		for _, d := range defs {
			s.reapDefinition(ctx, a, d, &r)
		}
		a.close(ctx)
	}
	s.o.Logger.Info("reap done", "checked", r.Checked, "reaped", r.Reaped, "failures", len(r.Failures))
	return r
}

func (r *ReapReport) fail(s *Service, role, user string, err error) {
	r.Failures = append(r.Failures, ReapFailure{Role: role, User: user, Error: err.Error()})
	s.o.Logger.Error("lease user could not be reaped; the next run tries again", "role", role, "user", user, "error", err.Error())
}

func (s *Service) reapDefinition(ctx context.Context, a *adminSession, d Definition, r *ReapReport) {
	users, err := a.lm.ListLeaseUsers(ctx, userPrefix(d.Name))
	if err != nil {
		r.fail(s, d.Name, "", err)
		return
	}
	now := s.o.Now()
	for _, u := range users {
		role, _, ok := parseUserName(u.Name)
		if !ok || role != d.Name || !slices.Contains(u.Groups, d.GroupRole) {
			continue // not a lease of this definition
		}
		r.Checked++
		if !u.ValidUntil.IsZero() && now.Before(u.ValidUntil) {
			continue
		}
		if ctx.Err() != nil {
			r.fail(s, d.Name, u.Name, ctx.Err())
			continue
		}
		resp, err := a.lm.DropLeaseUser(ctx, engine.LeaseDrop{Name: u.Name, Group: d.GroupRole})
		if err != nil {
			r.fail(s, d.Name, u.Name, err)
			continue
		}
		r.Reaped++
		expired := "none recorded"
		if !u.ValidUntil.IsZero() {
			expired = u.ValidUntil.UTC().Format(time.RFC3339)
		}
		s.o.Logger.Info("lease user reaped", "role", d.Name, "user", u.Name, "expired", expired, "sessions_ended", resp.SessionsEnded)
		for _, n := range resp.Notes {
			s.o.Logger.Warn("reaped lease user left a note", "role", d.Name, "user", u.Name, "note", n)
		}
	}
}
