// Package saslprep turns a PostgreSQL password into the bytes PostgreSQL
// derives its SCRAM-SHA-256 keys from, and into the password to hand pgx so
// that pgx derives the same keys.
//
// PostgreSQL (the server building a verifier from ALTER ROLE ... PASSWORD
// 'plaintext', and libpq logging in) prepares a password with its own
// pg_saslprep (src/common/saslprep.c): SASLprep (RFC 4013) as PostgreSQL
// implements it, and, where that fails (the password is not UTF-8, holds a
// character SASLprep prohibits, breaks the bidirectional rule, or maps to
// nothing), the password's raw bytes. Its implementation differs from the
// letter of RFC 4013 in ways that change the result for some passwords, so
// Prepare follows PostgreSQL, not the RFC:
//
//   - U+200B (zero width space) is mapped to a space (it is in both table
//     C.1.2 and table B.1; PostgreSQL applies C.1.2 first).
//   - The prohibited, unassigned and bidirectional checks look at the mapped
//     string before NFKC normalisation, not at the normalised output: "a"
//     followed by U+0340 is prohibited (raw bytes) although its NFKC form is
//     allowed, and a string of right-to-left letters around U+2122 (™, a
//     neutral character whose NFKC form "TM" is left-to-right) passes.
//   - Unassigned code points (table A.1, Unicode 3.2) are prohibited, as in
//     RFC 3454's "stored strings".
//   - A password that maps to nothing (only soft hyphens, say) is
//     prohibited, so its raw bytes are used.
//   - Pure ASCII is used as it is, control characters included.
//
// The tables are those of github.com/xdg-go/stringprep (RFC 3454's), with
// one addition: its table B.1 lacks U+1806 (Mongolian todo soft hyphen),
// which RFC 3454 and PostgreSQL map to nothing. NFKC is
// golang.org/x/text/unicode/norm. Its profile's Prepare is not used as is
// because of the differences above.
//
// pgx v5 normalises the password it is given once more (pgconn's
// normalizeScramPassword: the password as is if it holds a code point
// unassigned in Unicode 3.2, else PRECIS OpaqueString, falling back to the
// password as is when OpaqueString refuses it). ForPgx hands pgx the string
// PostgreSQL derives its keys from; OpaqueString leaves it unchanged or
// refuses it (both keep it) whenever PostgreSQL's SASLprep succeeded. It
// changes it in one residual case: PostgreSQL keeps the raw bytes (SASLprep
// refused the password) and the raw password is not in NFC or holds a
// non-ASCII space, which OpaqueString would rewrite. pgx has no hook to send
// other bytes, so ForPgx returns ErrPgxCannotSend there rather than let a
// login fail as a wrong password.
//
// Nothing here ever puts a password into an error.
package saslprep
