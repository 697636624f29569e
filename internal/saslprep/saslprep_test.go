package saslprep_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/xdg-go/stringprep"
	"golang.org/x/text/secure/precis"

	"github.com/rotorhq/rotor/internal/saslprep"
	"github.com/rotorhq/rotor/internal/saslprep/saslpreptest"
)

// TestPrepareFollowsPostgreSQL: every case of the shared table prepares as
// PostgreSQL does (the end-to-end test in internal/ops proves the table
// against a real server, psql and pgx), and ForPgx refuses exactly the
// cases marked PgxCannot.
func TestPrepareFollowsPostgreSQL(t *testing.T) {
	t.Parallel()
	for _, c := range saslpreptest.Cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			got, ok := saslprep.Prepare(c.Password)
			if got != c.Prepared || ok != !c.Raw {
				t.Errorf("Prepare = %+q, SASLprep applied %v; want %+q, %v", got, ok, c.Prepared, !c.Raw)
			}
			forPgx, err := saslprep.ForPgx(c.Password)
			switch {
			case c.PgxCannot && !errors.Is(err, saslprep.ErrPgxCannotSend):
				t.Errorf("ForPgx = %+q, %v; want ErrPgxCannotSend", forPgx, err)
			case !c.PgxCannot && (err != nil || forPgx != c.Prepared):
				t.Errorf("ForPgx = %+q, %v; want %+q", forPgx, err, c.Prepared)
			}
			if err != nil && strings.Contains(err.Error(), c.Password) {
				t.Error("the error holds the password")
			}
		})
	}
}

// TestPostgreSQLIsNotTheRFCProfile: the cases where stringprep's own
// SASLprep profile (the letter of RFC 4013) differs from PostgreSQL, which
// is why Prepare runs the steps in PostgreSQL's order. If the library
// changes, this says which difference went away.
func TestPostgreSQLIsNotTheRFCProfile(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"zero width space", "mongolian todo soft hyphen", "prohibited before NFKC", "bidi on the mapped string", "only soft hyphens"} {
		c := saslpreptest.CaseNamed(name)
		rfc, err := stringprep.SASLprep.Prepare(c.Password)
		if err == nil && rfc == c.Prepared || err != nil && c.Raw {
			t.Errorf("%s: the library's profile (%+q, %v) now agrees with PostgreSQL; Prepare may use it", name, rfc, err)
		}
	}
}

// TestPgxKeepsWhatSASLprepMade sweeps the code points of planes 0-2, the
// tag block and the edges of the private-use planes (the rest are
// unassigned or private use, as those edges are), each in four
// surroundings: whenever PostgreSQL's SASLprep succeeds, pgx's own
// normalisation (PRECIS OpaqueString, or nothing for Unicode 3.2
// unassigned code points) leaves the prepared string unchanged, so handing
// pgx the prepared string is enough. It also counts the residual strings
// (raw bytes that pgx would change), which must all be refused by ForPgx.
func TestPgxKeepsWhatSASLprepMade(t *testing.T) {
	t.Parallel()
	var strs, prepared, raw, residual int
	var runes []rune
	for _, span := range [][2]rune{{0x80, 0xD7FF}, {0xE000, 0x2FFFF}, {0xE0000, 0xE0FFF}, {0xEFF00, 0xF00FF}, {0x10FF00, 0x10FFFF}} {
		for r := span[0]; r <= span[1]; r++ {
			runes = append(runes, r)
		}
	}
	for _, r := range runes {
		s := string(r)
		for _, p := range []string{s, "a" + s, "\u05d0" + s + "\u05d0", s + "\u0301"} {
			strs++
			out, ok := saslprep.Prepare(p)
			_, err := saslprep.ForPgx(p)
			switch {
			case ok:
				prepared++
				if err != nil {
					t.Fatalf("%U in %+q: SASLprep gives %+q but ForPgx refuses it: %v", r, p, out, err)
				}
			case err != nil:
				residual++
			default:
				raw++
			}
		}
	}
	t.Logf("%d strings: %d prepared by SASLprep, %d raw bytes pgx keeps, %d raw bytes pgx would change (refused)", strs, prepared, raw, residual)
	if prepared == 0 || raw == 0 || residual == 0 {
		t.Fatal("the sweep did not reach every outcome")
	}
}

// TestPgxNormalisationIsOpaqueString pins the pgx behaviour ForPgx relies
// on, measured on pgx's library: OpaqueString leaves NFKC output alone and
// rewrites a non-NFC raw password.
func TestPgxNormalisationIsOpaqueString(t *testing.T) {
	t.Parallel()
	if got, err := precis.OpaqueString.String("e\u0301\ufffd"); err != nil || got != "\u00e9\ufffd" {
		t.Fatalf("OpaqueString(e + combining acute + U+FFFD) = %+q, %v", got, err)
	}
	if got, err := precis.OpaqueString.String("XII fix"); err != nil || got != "XII fix" {
		t.Fatalf("OpaqueString(ASCII) = %+q, %v", got, err)
	}
}
