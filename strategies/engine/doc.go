// Package engine is the contract between rotor's strategies and the database
// engines, and nothing else: what an engine knows about its database (Facts),
// how it logs in (Engine), what a logged-in session can do (Session, and
// RoleManager for alternating-users), where and as whom to log in (Params,
// TLS), and how a refused login is told from any other failure (ErrAuth).
//
// It is a leaf: it imports no engine and no strategy, so an engine package
// (strategies/postgres, strategies/mariadb) implements it directly and a
// strategy uses it without knowing which engines exist. The list of engines
// lives in one place, strategies/builtin.
//
// Promises every engine keeps (checked by the conformance suite in
// strategies/engine/enginetest):
//   - A password never appears in SQL text, a log line or an error: it is
//     sent as a verifier or hash computed in Go.
//   - TLS is exactly the mode asked for; there is no fallback connection in
//     another mode, and an unknown mode is an error, never a weaker default.
//   - A login refused because of the credentials wraps ErrAuth; any other
//     failure does not.
//   - Every method that changes something may be called again after it
//     succeeded or after a failure at any point, and finishes the job.
//   - Identifiers are quoted by the driver's own sanitizer or, where the
//     driver has none, by one quoting function tested with hostile names.
package engine
