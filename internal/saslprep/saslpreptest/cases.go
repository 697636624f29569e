// Package saslpreptest holds the table of non-ASCII and edge passwords that
// saslprep's unit tests and the end-to-end test against PostgreSQL
// (internal/ops) share, with what PostgreSQL's pg_saslprep makes of each.
//
// Invalid UTF-8 is not in the table: a secret document is JSON, whose
// strings are valid UTF-8, so rotor never holds such a password
// (saslprep.Prepare still keeps its raw bytes, as PostgreSQL does).
package saslpreptest

import "strings"

// Case is one password and PostgreSQL's treatment of it.
type Case struct {
	Name     string
	Password string
	// Prepared is the string PostgreSQL derives SCRAM keys from: SASLprep's
	// output, or Password itself when Raw.
	Prepared string
	// Raw: pg_saslprep refuses the password (SASLPREP_PROHIBITED), so
	// PostgreSQL uses its raw bytes.
	Raw bool
	// PgxCannot: pgx v5 would normalise the raw bytes before deriving its
	// keys, so it cannot log in with this password (saslprep.ErrPgxCannotSend);
	// psql can.
	PgxCannot bool
}

// Cases is the table. Each name says what the password tests.
var Cases = []Case{
	{Name: "plain ASCII", Password: "correct-horse-1", Prepared: "correct-horse-1"},
	{Name: "ASCII control character", Password: "\x01ctl-ascii", Prepared: "\x01ctl-ascii"}, // pure ASCII is used as it is
	{Name: "ligature", Password: "ﬁx", Prepared: "fix"},
	{Name: "roman numeral", Password: "Ⅻ", Prepared: "XII"},
	{Name: "full-width letters", Password: "ＡＢＣ", Prepared: "ABC"},
	{Name: "NFD accent", Password: "cafe\u0301-1", Prepared: "caf\u00e9-1"},
	{Name: "non-ASCII spaces", Password: "a\u00a0b\u3000c\u2003d", Prepared: "a b c d"},
	{Name: "mapped to nothing", Password: "pass\u00adword\u200d", Prepared: "password"},
	{Name: "zero width space", Password: "a\u200bb", Prepared: "a b"},
	{Name: "mongolian todo soft hyphen", Password: "a\u1806b", Prepared: "ab"},
	{Name: "emoji and no-break space", Password: "😀\u00a0x", Prepared: "😀\u00a0x", Raw: true}, // U+1F600 is unassigned in Unicode 3.2
	{Name: "emoji and NFC accent", Password: "😀\u00e9", Prepared: "😀\u00e9", Raw: true},
	{Name: "emoji and NFD accent", Password: "😀e\u0301", Prepared: "😀e\u0301", Raw: true},
	{Name: "private use", Password: "key\ue000\u00e9", Prepared: "key\ue000\u00e9", Raw: true},
	{Name: "control character", Password: "tab\t\u00f6", Prepared: "tab\t\u00f6", Raw: true},
	{Name: "bidi violation", Password: "abc\u05d0\u05d1", Prepared: "abc\u05d0\u05d1", Raw: true},
	{Name: "bidi on the mapped string", Password: "\u05d0\u2122\u05d0", Prepared: "\u05d0TM\u05d0"},
	{Name: "only soft hyphens", Password: "\u00ad\u00ad", Prepared: "\u00ad\u00ad", Raw: true},
	{Name: "prohibited before NFKC", Password: "a\u0340", Prepared: "a\u0340", Raw: true, PgxCannot: true},
	{Name: "NFD accent beside RTL", Password: "e\u0301\u05d0", Prepared: "e\u0301\u05d0", Raw: true, PgxCannot: true},
	{Name: "long", Password: strings.Repeat("pässwörd-ﬁ-", 40), Prepared: strings.Repeat("pässwörd-fi-", 40)},
}

// CaseNamed returns the case called name, or panics: the names are fixed
// above.
func CaseNamed(name string) Case {
	for _, c := range Cases {
		if c.Name == name {
			return c
		}
	}
	panic("saslpreptest: no case " + name)
}
