package engine

import (
	"context"
	"time"
)

// LeaseManager is implemented by the admin sessions of engines that issue
// leases: database users of their own, for one caller, valid for a short
// time, members of a group role that holds the grants (functions/issuer,
// functions/reaper; docs/leases.md).
//
// A lease user is never given anything but its password, its expiry and
// membership in its group: what it may do is the group's, and the group is
// the database operators' (created and owned by them, never by request text).
// Every method refuses a group that is privileged (PostgreSQL: SUPERUSER,
// CREATEROLE, REPLICATION, BYPASSRLS or able to log in; MariaDB: not a role,
// or holding a global privilege) and names why.
type LeaseManager interface {
	// CreateLeaseUser creates u.Name, logging in with u.Password (sent as a
	// verifier or hash, never as SQL text) until u.ValidUntil, member of
	// u.Group. A name that exists already is an error and changes nothing
	// (names are random: the caller picks another). On failure no user is
	// left that can log in with u.Password.
	CreateLeaseUser(ctx context.Context, u LeaseUser) error
	// ExtendLeaseUser moves the expiry of the lease user e.Name, a member
	// of e.Group, to e.ValidUntil. A user that is missing or not a member
	// of e.Group is an error and changes nothing. Repeating it is harmless.
	ExtendLeaseUser(ctx context.Context, e LeaseExtension) error
	// ListLeaseUsers returns the users whose names start with prefix (taken
	// literally, no wildcards), with their groups and expiry, sorted by
	// name. It changes nothing.
	ListLeaseUsers(ctx context.Context, prefix string) ([]LeaseUserInfo, error)
	// DropLeaseUser ends d.Name's lease for good: no new logins, its open
	// sessions terminated, what it owns handed to d.Group (PostgreSQL:
	// REASSIGN OWNED in the session's database, then DROP OWNED for its
	// remaining privileges), the user dropped, its expiry record removed.
	// A missing user is success (Existed false); a user that is not a
	// member of d.Group is refused and left alone. Repeating it after a
	// failure at any point finishes the job.
	DropLeaseUser(ctx context.Context, d LeaseDrop) (LeaseDropResponse, error)
}

// LeaseUser is a lease user to create. Password is a secret.
type LeaseUser struct {
	Name       string
	Password   string
	Group      string
	ValidUntil time.Time
}

// LeaseExtension moves a lease user's expiry.
type LeaseExtension struct {
	Name       string
	Group      string
	ValidUntil time.Time
}

// LeaseUserInfo is a lease user as the database has it.
type LeaseUserInfo struct {
	Name string
	// Groups are the roles the user is a member of (one, for a user the
	// issuer made).
	Groups []string
	// ValidUntil is the user's expiry; the zero time means none is
	// recorded (a user the issuer did not make, or a record lost), which
	// the reaper treats as expired.
	ValidUntil time.Time
}

// LeaseDrop names a lease user to drop and the group its objects go to.
type LeaseDrop struct {
	Name  string
	Group string
}

// LeaseDropResponse reports what DropLeaseUser did.
type LeaseDropResponse struct {
	// Existed is false when there was no such user (nothing to do).
	Existed bool
	// SessionsEnded counts the user's sessions terminated.
	SessionsEnded int
	// Notes are things an operator may want to know, safe to log (user,
	// group and object names only), such as MariaDB views whose DEFINER
	// was the dropped user.
	Notes []string
}
