package mariadb

import (
	"crypto/sha1" //nolint:gosec // mysql_native_password is defined on SHA-1
	"encoding/hex"
	"strings"
)

// NativePasswordHash returns the mysql_native_password hash of password as
// MariaDB stores it: "*" and 40 upper-case hex digits of
// SHA1(SHA1(password)). It is what rotor sends in place of a password
// (IDENTIFIED BY PASSWORD '<hash>', SET PASSWORD = '<hash>'). The password's
// bytes are hashed as given; the driver sends the same bytes at login, so
// non-ASCII passwords work.
func NativePasswordHash(password string) string {
	first := sha1.Sum([]byte(password))
	second := sha1.Sum(first[:])
	return "*" + strings.ToUpper(hex.EncodeToString(second[:]))
}
