package postgres

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"

	"golang.org/x/text/secure/precis"
)

// ScramIterations is the iteration count rotor's verifiers use: PostgreSQL's
// own default (scram_iterations, 4096), so logins cost what the server's own
// ALTER ROLE ... PASSWORD would make them cost.
const ScramIterations = 4096

// ScramVerifier returns the SCRAM-SHA-256 verifier PostgreSQL stores for
// password (RFC 5802 / RFC 7677, as pg_authid.rolpassword), with a fresh
// random 16-byte salt:
//
//	SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>
//
// The server accepts it in ALTER ROLE ... PASSWORD and stores it as is, so the
// password itself never travels in SQL. The password is normalised the way
// PostgreSQL and pgx normalise it at login (SASLprep, here as PRECIS
// OpaqueString, falling back to the raw bytes when the password is not valid
// for it); printable ASCII, which is all rotor generates, is unchanged.
func ScramVerifier(password string) (string, error) {
	if password == "" {
		return "", errors.New("empty password")
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	return scramVerifier(password, salt, ScramIterations)
}

func scramVerifier(password string, salt []byte, iterations int) (string, error) {
	salted, err := pbkdf2.Key(sha256.New, saslPrep(password), salt, iterations, sha256.Size)
	if err != nil {
		return "", fmt.Errorf("pbkdf2: %w", err)
	}
	clientKey := hmacSHA256(salted, "Client Key")
	storedKey := sha256.Sum256(clientKey)
	serverKey := hmacSHA256(salted, "Server Key")
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", iterations, b64(salt), b64(storedKey[:]), b64(serverKey)), nil
}

func saslPrep(password string) string {
	for i := 0; i < len(password); i++ {
		if password[i] >= 0x80 {
			if n, err := precis.OpaqueString.String(password); err == nil {
				return n
			}
			return password
		}
	}
	return password
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}
