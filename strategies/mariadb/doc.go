// Package mariadb is rotor's MariaDB engine: the SQL one strategy step needs,
// on go-sql-driver/mysql, and nothing about Secrets Manager. It serves secret
// documents whose engine is mariadb, mysql or aurora-mysql when the server
// is MariaDB; a MySQL server is refused at login (see Connect).
//
// Contracts every function here keeps:
//   - A password never appears in SQL text. Passwords are sent as
//     mysql_native_password hashes computed in Go (NativePasswordHash), so
//     the general query log and the slow log see a hash, never the secret.
//     No error carries a hash either: the server's message for a statement
//     holding one is scrubbed (redact).
//   - Accounts are named 'user'@'host' with string literals quoted for the
//     session's sql_mode, which Connect reads from the server
//     (NO_BACKSLASH_ESCAPES included, also as the server's default; see
//     quoter); values go through bind parameters. No statement is built
//     by string replacement, and no SHOW GRANTS output is re-executed.
//   - TLS is exactly the mode the caller asked for (see strategies/engine);
//     there is no fallback connection.
//   - One account per user name. A name with accounts for several hosts is
//     refused with the hosts listed, never guessed at.
//   - Account statements in MariaDB commit implicitly and cannot be rolled
//     back, so SyncAlternate is not a transaction. It reads and checks
//     everything before its first change, orders its changes so that a
//     failure at any point leaves the user AWSCURRENT names logging in with
//     at least the privileges it had, and computes every change from the
//     catalog, so repeating it finishes what an interrupted run began.
//   - A clone never keeps what its base account lacks: SyncAlternate takes
//     it away, or refuses naming it before its first change
//     (docs/security.md, "Clone parity").
package mariadb
