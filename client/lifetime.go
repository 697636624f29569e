package client

import "time"

// MaxConnLifetime is the longest a pooled database connection should live
// when the secret rotates every interval: half of it.
//
// With alternating-users, rotation N+1 changes the password of the user
// that AWSCURRENT named before rotation N. A connection opened as that user
// just before rotation N must be closed before rotation N+1, or the
// rotation finds it still open (rotor logs the count; with
// PREVIOUS_USER_SESSIONS=fail the rotation refuses). A connection can be
// opened up to the cache TTL after rotation N, so MaxConnLifetime + TTL
// must stay below the interval: half the interval for the lifetime leaves
// the other half for the TTL and for rotations Secrets Manager starts late
// within their window.
//
// With single-user, open sessions survive the password change, so the
// lifetime is not needed for correctness; half the interval still bounds
// how long a session authenticated with a revoked password lives on.
func MaxConnLifetime(interval time.Duration) time.Duration {
	return interval / 2
}
