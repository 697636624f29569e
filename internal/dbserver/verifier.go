package dbserver

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"golang.org/x/text/secure/precis"
)

// scramIterations is PostgreSQL's default scram_iterations.
const scramIterations = 4096

// SCRAMSHA256Verifier returns the SCRAM-SHA-256 verifier PostgreSQL stores
// for password, with a fresh random salt:
//
//	SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>
//
// Sending the verifier in CREATE/ALTER ROLE ... PASSWORD keeps the password
// itself out of the SQL text, the server log and pg_stat_activity. The
// password is normalised as PostgreSQL and pgx do (SASLprep, falling back to
// the raw bytes when it is not valid for SASLprep).
func SCRAMSHA256Verifier(password string) (string, error) {
	salt := make([]byte, 16)
	rand.Read(salt)
	return scramVerifier(password, salt, scramIterations)
}

func scramVerifier(password string, salt []byte, iterations int) (string, error) {
	salted, err := pbkdf2.Key(sha256.New, normalizeSCRAMPassword(password), salt, iterations, sha256.Size)
	if err != nil {
		return "", fmt.Errorf("derive SCRAM salted password: %w", err)
	}
	clientKey := hmacSHA256(salted, "Client Key")
	storedKey := sha256.Sum256(clientKey)
	serverKey := hmacSHA256(salted, "Server Key")
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s",
		iterations, b64(salt), b64(storedKey[:]), b64(serverKey)), nil
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func normalizeSCRAMPassword(password string) string {
	if isASCII(password) {
		return password // SASLprep leaves printable ASCII alone; control characters make it fall back to raw
	}
	normalized, err := precis.OpaqueString.String(password)
	if err != nil {
		return password
	}
	return normalized
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// NativePasswordHash returns the mysql_native_password hash of password as
// MySQL and MariaDB store it ("*" and 40 upper-case hex digits), for
// CREATE/ALTER USER ... IDENTIFIED BY PASSWORD '<hash>', which keeps the
// password out of the SQL text and the general query log.
func NativePasswordHash(password string) string {
	first := sha1.Sum([]byte(password))
	second := sha1.Sum(first[:])
	return "*" + strings.ToUpper(hex.EncodeToString(second[:]))
}
