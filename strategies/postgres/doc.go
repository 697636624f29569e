// Package postgres is rotor's PostgreSQL engine: the SQL one strategy step
// needs, on pgx v5, and nothing about Secrets Manager.
//
// Contracts every function here keeps:
//   - A password never appears in SQL text. Passwords are sent as
//     SCRAM-SHA-256 verifiers computed in Go (ScramVerifier), so statement
//     logs and pg_stat_statements see a salted hash, never the secret.
//   - Identifiers go through pgx.Identifier's sanitizer; nothing is spliced
//     into SQL by string replacement.
//   - TLS is exactly the mode the caller asked for (see strategies/engine);
//     there is no fallback connection.
//   - Role changes made by SyncAlternate run in one transaction: on any error
//     nothing is changed.
//   - A clone never holds what its base role lacks: SyncAlternate takes it
//     away, or refuses naming it (docs/security.md, "Clone parity").
package postgres
