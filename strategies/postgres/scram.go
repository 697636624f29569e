package postgres

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/rotorhq/rotor/internal/saslprep"
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
// password itself never travels in SQL. The keys are derived from what
// PostgreSQL's own SASLprep makes of the password, or its raw bytes where
// PostgreSQL falls back to them (saslprep.Prepare), so the verifier is the
// one the server builds from ALTER ROLE ... PASSWORD 'plaintext' and psql,
// libpq and pgx (through saslprep.ForPgx) log in with it; printable ASCII,
// which is all rotor generates, is unchanged.
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
	prepared, _ := saslprep.Prepare(password)
	salted, err := pbkdf2.Key(sha256.New, prepared, salt, iterations, sha256.Size)
	if err != nil {
		return "", fmt.Errorf("pbkdf2: %w", err)
	}
	clientKey := hmacSHA256(salted, "Client Key")
	storedKey := sha256.Sum256(clientKey)
	serverKey := hmacSHA256(salted, "Server Key")
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", iterations, b64(salt), b64(storedKey[:]), b64(serverKey)), nil
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}
