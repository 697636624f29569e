package mariadb_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/rotorhq/rotor/strategies/mariadb"
)

func TestRedactRemovesHashes(t *testing.T) {
	t.Parallel()
	hash := mariadb.NativePasswordHash("redact-me-123")
	stmt := "ALTER USER 'app'@'%' IDENTIFIED BY PASSWORD '" + hash + "'"
	syntax := "You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version for the right syntax to use near "
	cases := map[string]struct{ msg, want string }{
		"whole hash quoted": {
			syntax + "'PASSWORD '" + hash + "'' at line 1",
			syntax + "[REDACTED] at line 1",
		},
		// The server cuts the quoted text short: a hash prefix is not a
		// whole hash but must go too.
		"truncated hash": {
			syntax + "'" + hash[:25] + "' at line 1",
			syntax + "[REDACTED] at line 1",
		},
		"hash outside a near part": {
			"Operation failed for " + hash,
			"Operation failed for [REDACTED]",
		},
		"no statement text": {
			"Access denied for user 'admin'@'%'",
			"Access denied for user 'admin'@'%'",
		},
	}
	for name, tc := range cases {
		orig := &mysql.MySQLError{Number: 1064, SQLState: [5]byte{'4', '2', '0', '0', '0'}, Message: tc.msg}
		err := mariadb.Redact(fmt.Errorf("wrapped: %w", orig), stmt)
		var me *mysql.MySQLError
		if !errors.As(err, &me) {
			t.Fatalf("%s: %T %v is no longer a server error", name, err, err)
		}
		if me.Message != tc.want || me.Number != 1064 || me.SQLState != orig.SQLState {
			t.Errorf("%s: got %d %q, want %q", name, me.Number, me.Message, tc.want)
		}
		if strings.Contains(err.Error(), hash[1:9]) {
			t.Errorf("%s: error holds the hash: %v", name, err)
		}
	}
	// A statement without a hash keeps the server's words, statement text
	// included (it names accounts and objects only).
	orig := &mysql.MySQLError{Number: 1064, Message: syntax + "'ON `db`.* TO x' at line 1"}
	if err := mariadb.Redact(orig, "GRANT SELECT ON `db`.* TO x"); err != orig {
		t.Errorf("statement without a hash: got %v", err)
	}
	// Errors that are not the server's pass through.
	other := errors.New("connection reset")
	if err := mariadb.Redact(other, stmt); err != other {
		t.Errorf("driver error: got %v", err)
	}
}
