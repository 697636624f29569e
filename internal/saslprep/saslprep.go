package saslprep

import (
	"errors"
	"unicode/utf8"

	"github.com/xdg-go/stringprep"
	"golang.org/x/text/secure/precis"
	"golang.org/x/text/unicode/norm"
)

// mongolianTodoSoftHyphen is in RFC 3454 table B.1 (and PostgreSQL's copy of
// it) but missing from stringprep.TableB1 v1.0.4.
const mongolianTodoSoftHyphen = '\u1806'

// prohibited are the tables SASLprep (RFC 4013 section 2.3) prohibits in its
// output, and table A.1 (unassigned in Unicode 3.2), which PostgreSQL
// prohibits too.
var prohibited = []stringprep.Set{
	stringprep.TableA1,
	stringprep.TableC1_2,
	stringprep.TableC2_1,
	stringprep.TableC2_2,
	stringprep.TableC3,
	stringprep.TableC4,
	stringprep.TableC5,
	stringprep.TableC6,
	stringprep.TableC7,
	stringprep.TableC8,
	stringprep.TableC9,
}

// Prepare returns the string PostgreSQL derives SCRAM-SHA-256 keys from for
// password, and whether SASLprep applied: false means PostgreSQL uses the
// password's raw bytes (and so does Prepare's result, which is then
// password itself).
func Prepare(password string) (prepared string, ok bool) {
	ascii := true
	for i := 0; i < len(password); i++ {
		if password[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return password, true
	}
	if !utf8.ValidString(password) {
		return password, false
	}
	// 1) Map: non-ASCII spaces to a space (first, so U+200B becomes a
	// space), table B.1 to nothing.
	mapped := make([]rune, 0, len(password))
	for _, r := range password {
		switch {
		case stringprep.TableC1_2.Contains(r):
			mapped = append(mapped, ' ')
		case r == mongolianTodoSoftHyphen:
		default:
			if to, ok := stringprep.TableB1.Map(r); ok {
				mapped = append(mapped, to...)
			} else {
				mapped = append(mapped, r)
			}
		}
	}
	if len(mapped) == 0 {
		return password, false
	}
	// 3) and 4), as PostgreSQL runs them: on the mapped string.
	randAL := false
	for _, r := range mapped {
		for _, set := range prohibited {
			if set.Contains(r) {
				return password, false
			}
		}
		if stringprep.TableD1.Contains(r) {
			randAL = true
		}
	}
	if randAL {
		for _, r := range mapped {
			if stringprep.TableD2.Contains(r) {
				return password, false
			}
		}
		if !stringprep.TableD1.Contains(mapped[0]) || !stringprep.TableD1.Contains(mapped[len(mapped)-1]) {
			return password, false
		}
	}
	// 2) Normalise.
	return norm.NFKC.String(string(mapped)), true
}

// ErrPgxCannotSend is ForPgx's error for a password pgx v5 cannot log in
// with: PostgreSQL uses its raw bytes (SASLprep refuses it), and pgx would
// normalise those bytes before deriving its keys. psql and libpq log in with
// such a password; to use it from pgx, set a password without the
// character SASLprep refuses, or in NFC without non-ASCII spaces.
var ErrPgxCannotSend = errors.New("pgx cannot log in with this password: PostgreSQL uses its raw bytes (SASLprep refuses a character in it), " +
	"but pgx would normalise them (NFC, non-ASCII spaces); change it with psql to one without that character")

// ForPgx returns the password to set as pgconn.Config.Password so that pgx
// derives the SCRAM-SHA-256 keys PostgreSQL derives for password (Prepare),
// or ErrPgxCannotSend in the residual case where no string does. Printable
// ASCII, which is all rotor generates, comes back unchanged.
func ForPgx(password string) (string, error) {
	prepared, _ := Prepare(password)
	if pgxNormalise(prepared) != prepared {
		return "", ErrPgxCannotSend
	}
	return prepared, nil
}

// pgxNormalise is what pgx v5.13's pgconn does to a password before
// deriving SCRAM keys (normalizeScramPassword in auth_scram.go, whose table
// of Unicode 3.2 unassigned code points is RFC 3454 table A.1). It is
// repeated here, not imported, because pgx does not export it; the end-to-
// end logins in strategies/postgres's tests catch a pgx upgrade that
// changes it.
func pgxNormalise(password string) string {
	for _, r := range password {
		if stringprep.TableA1.Contains(r) {
			return password
		}
	}
	n, err := precis.OpaqueString.String(password)
	if err != nil {
		return password
	}
	return n
}
