package mariadb

import (
	"errors"
	"strings"
)

// account is one MariaDB account, 'user'@'host'.
type account struct{ user, host string }

// quoter quotes string literals for one session's sql_mode.
type quoter struct {
	// noBackslashEscapes is true when the session's sql_mode has
	// NO_BACKSLASH_ESCAPES: a backslash is then an ordinary character.
	noBackslashEscapes bool
}

// errNUL refuses a value MariaDB cannot hold in an account name.
var errNUL = errors.New("contains a NUL byte")

// str quotes s as a string literal. A single quote is doubled (valid in
// every sql_mode). With backslash escapes on (the default), a backslash is
// doubled and a NUL becomes \0; with NO_BACKSLASH_ESCAPES a backslash is
// kept as is, and a NUL, which that mode cannot express, is refused.
func (q quoter) str(s string) (string, error) {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'':
			b.WriteString("''")
		case '\\':
			if q.noBackslashEscapes {
				b.WriteByte('\\')
			} else {
				b.WriteString(`\\`)
			}
		case 0:
			if q.noBackslashEscapes {
				return "", errNUL
			}
			b.WriteString(`\0`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String(), nil
}

// account returns 'user'@'host' quoted.
func (q quoter) account(a account) (string, error) {
	u, err := q.str(a.user)
	if err != nil {
		return "", err
	}
	h, err := q.str(a.host)
	if err != nil {
		return "", err
	}
	return u + "@" + h, nil
}

// ident quotes a schema, table, column or routine name with backticks; a
// backtick inside is doubled. Backslashes are not special in identifiers
// in any sql_mode.
func ident(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

// grantee is the GRANTEE column of information_schema's privilege views for
// an account: MariaDB writes 'user'@'host' without escaping anything, so
// this is a value to compare with (a bind parameter), never SQL.
func grantee(a account) string { return "'" + a.user + "'@'" + a.host + "'" }
