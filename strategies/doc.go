// Package strategies says what a rotation does with a credential: which user
// the next password belongs to, how the database learns it, and how it is
// proven to work. Three strategies exist:
//
//   - single-user: the secret's own user changes its own password. Clients
//     holding the old password fail until they re-read the secret.
//   - alternating-users: two users (name and name_clone) take turns; an admin
//     secret (masterarn) changes the password of the one not in use, so the
//     credential clients hold stays valid for a whole rotation period.
//   - rds-master: an RDS master user's password is changed through the RDS
//     API (ModifyDBInstance / ModifyDBCluster), with no database login in
//     setSecret; testSecret logs in with the new password.
//
// Strategies know nothing about Secrets Manager: the rotation package hands
// them parsed secret documents. They talk to databases through the contract
// in strategies/engine and find the engine for a document in the registry
// they are given (Options.Engines; strategies/builtin lists the shipped
// engines: postgres and mariadb). This package imports no engine.
//
// The rules of a rotation that every caller shares live here once:
// ParseName and Choose (which strategy), Options.SameTarget (a version may
// not point at another server), RequireMasterARN, CheckAdminUser and
// AlternateUsername.
//
// On failure a strategy leaves the credential AWSCURRENT names working: it
// changes only the pending user's password, and only after the login it
// needs has succeeded.
package strategies
