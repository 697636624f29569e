package lease

import (
	"crypto/rand"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Lease user names are v_<role>_<issued>_<random>: <issued> is the Unix
// time of issue in base 36 (so renewals know how far the definition's
// maximum TTL reaches without a record of their own), <random> is
// randomChars characters of crypto/rand in lower-case base 32.
const (
	// UserPrefix starts every lease user's name.
	UserPrefix  = "v_"
	randomChars = 12
	issuedChars = 7 // base 36 Unix seconds until 2059
	alphabet    = "abcdefghijklmnopqrstuvwxyz234567"
)

// NameLength is the length of the lease user names of role definition
// role (ASCII: bytes and characters alike).
func NameLength(role string) int {
	return len(UserPrefix) + len(role) + 1 + issuedChars + 1 + randomChars
}

// userPrefix is what every lease user name of role starts with.
func userPrefix(role string) string { return UserPrefix + role + "_" }

// newUserName returns a fresh lease user name for role issued at issued.
func newUserName(role string, issued time.Time) (string, error) {
	b := make([]byte, randomChars)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random user name: %w", err)
	}
	for i := range b {
		b[i] = alphabet[b[i]&31]
	}
	ts := strconv.FormatInt(issued.Unix(), 36)
	ts = strings.Repeat("0", max(0, issuedChars-len(ts))) + ts
	return userPrefix(role) + ts + "_" + string(b), nil
}

// parseUserName returns the role definition name and issue time a lease
// user name holds; ok is false for a name the issuer did not make.
func parseUserName(name string) (role string, issued time.Time, ok bool) {
	rest, found := strings.CutPrefix(name, UserPrefix)
	if !found || len(rest) < 1+1+issuedChars+1+randomChars {
		return "", time.Time{}, false
	}
	random := rest[len(rest)-randomChars:]
	ts := rest[len(rest)-randomChars-1-issuedChars : len(rest)-randomChars-1]
	role = rest[:len(rest)-randomChars-1-issuedChars-1]
	if rest[len(rest)-randomChars-1] != '_' || rest[len(role)] != '_' || !roleNameRE.MatchString(role) {
		return "", time.Time{}, false
	}
	for i := 0; i < len(random); i++ {
		if !strings.ContainsRune(alphabet, rune(random[i])) {
			return "", time.Time{}, false
		}
	}
	// ParseInt also takes a sign and upper case, which newUserName never
	// writes.
	for i := 0; i < len(ts); i++ {
		if c := ts[i]; (c < '0' || c > '9') && (c < 'a' || c > 'z') {
			return "", time.Time{}, false
		}
	}
	sec, err := strconv.ParseInt(ts, 36, 64)
	if err != nil || sec < 0 {
		return "", time.Time{}, false
	}
	return role, time.Unix(sec, 0).UTC(), true
}
