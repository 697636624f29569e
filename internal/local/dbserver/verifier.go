package dbserver

import (
	"github.com/rotorhq/rotor/strategies/mariadb"
	"github.com/rotorhq/rotor/strategies/postgres"
)

// SCRAMSHA256Verifier returns the SCRAM-SHA-256 verifier PostgreSQL stores
// for password, with a fresh random salt. It is rotor's engine's own
// (postgres.ScramVerifier), so the harness creates roles exactly as a
// rotation sets their passwords: the password never reaches SQL text.
func SCRAMSHA256Verifier(password string) (string, error) {
	return postgres.ScramVerifier(password)
}

// NativePasswordHash returns the mysql_native_password hash of password as
// MySQL and MariaDB store it ("*" and 40 upper-case hex digits), for
// CREATE/ALTER USER ... IDENTIFIED BY PASSWORD '<hash>', which keeps the
// password out of the SQL text and the general query log. It is rotor's
// engine's own (mariadb.NativePasswordHash), so the harness creates users
// exactly as a rotation sets their passwords.
func NativePasswordHash(password string) string {
	return mariadb.NativePasswordHash(password)
}
