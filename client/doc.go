// Package client is for applications that read a secret rotor rotates. It
// caches the secret's value by staging label (AWSCURRENT by default) and
// knows what a database login needs during a rotation:
//
//   - Get serves the cached value for TTL, then asks DescribeSecret which
//     version carries the label and calls GetSecretValue only when that
//     version changed (versions are immutable, so an unchanged id means an
//     unchanged value);
//   - Refresh re-reads the value now;
//   - concurrent refreshes share one call (single-flight), so a burst of
//     connections that all find the value expired cost one call;
//   - when Secrets Manager cannot be reached, Get keeps serving the last
//     value for MaxStale past its TTL, then returns the error;
//   - Login and LoginRefused serve database drivers: after the database
//     refuses a login, LoginRefused finds the credential that logs in now —
//     a newer AWSCURRENT, or, between a single-user rotation's setSecret and
//     finishSecret (when the database already holds the new password but
//     AWSCURRENT does not yet), the rotation's AWSPENDING value.
//
// The database adapters live in subpackages so an application links only
// the driver it uses: pgxclient (pgx v5 pool, SQLSTATE 28P01) and
// mysqlclient (database/sql with go-sql-driver/mysql, error 1045).
//
// Promises: no secret value reaches an error, a log line or a formatted
// Secret (%v, %+v, %#v and slog print it redacted). Errors name the call
// that failed and the secret's id. The cache never serves a value from a
// version other than the one Secrets Manager returned for the label, and
// never one older than TTL+MaxStale.
//
// The package depends on the AWS SDK's Secrets Manager types, rotor's
// events package (the secret document) and golang.org/x/sync; nothing of
// rotor's rotation functions or its local test world (a test checks this).
package client
