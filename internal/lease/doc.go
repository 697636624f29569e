// Package lease issues, renews, revokes and reaps leases: database users of
// their own for one caller, valid for a short time, members of a group role
// the database's operators own (docs/leases.md). functions/issuer and
// functions/reaper are its wiring.
//
// What it promises:
//   - A request names a role definition from configuration (LEASE_ROLES),
//     never SQL: the user's rights are the definition's group role's, and a
//     privileged group is refused by the engine.
//   - Renew and revoke prove possession of the lease by logging in as its
//     user with its password; a failed proof says nothing about whether the
//     user exists.
//   - No password reaches a log line, an error or a metric; passwords reach
//     the database only as verifiers or hashes (the engines' promise).
//   - Every step is safe to repeat: a failed issue leaves no user that can
//     log in with the password it did not return, a failed drop is retried
//     by the next reap, and the reaper drops only users whose names it made
//     that are members of the definition's group.
package lease
