package postgres

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestScramVerifierShape(t *testing.T) {
	v, err := ScramVerifier("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	// SCRAM-SHA-256$4096:<salt>$<StoredKey>:<ServerKey>
	rest, ok := strings.CutPrefix(v, "SCRAM-SHA-256$4096:")
	if !ok {
		t.Fatalf("verifier %q lacks the prefix", v)
	}
	saltPart, keys, _ := strings.Cut(rest, "$")
	stored, server, _ := strings.Cut(keys, ":")
	for name, part := range map[string]struct {
		s   string
		len int
	}{"salt": {saltPart, 16}, "StoredKey": {stored, 32}, "ServerKey": {server, 32}} {
		b, err := base64.StdEncoding.DecodeString(part.s)
		if err != nil || len(b) != part.len {
			t.Errorf("%s: %d bytes, %v; want %d", name, len(b), err, part.len)
		}
	}
	if w, _ := ScramVerifier("correct horse battery staple"); w == v {
		t.Fatal("two verifiers share a salt")
	}
	if _, err := ScramVerifier(""); err == nil {
		t.Fatal("empty password accepted")
	}
}

// BenchmarkScramVerifier: the cost rotor pays per password change to keep
// the password out of SQL (4096 PBKDF2-HMAC-SHA-256 iterations).
//
//	go test -run '^$' -bench ScramVerifier ./strategies/postgres/
func BenchmarkScramVerifier(b *testing.B) {
	for range b.N {
		if _, err := ScramVerifier("aA1!aA1!aA1!aA1!aA1!aA1!aA1!aA1!"); err != nil {
			b.Fatal(err)
		}
	}
}
