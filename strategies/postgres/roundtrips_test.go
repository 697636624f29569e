package postgres_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/rotorhq/rotor/internal/local/dbtest"
	"github.com/rotorhq/rotor/strategies/engine"
)

// logRecordStart matches the first line of a server log record (the
// harness's log_line_prefix begins with %m, a timestamp); the lines of a
// multi-line statement that follow it do not.
var logRecordStart = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d`)

// queriesLogged counts the query messages (network round trips) and the
// statements in them that the server logged (log_statement = all) for user
// on database db in log. PostgreSQL logs a simple-protocol query message
// once, however many statements it holds; pgx's batches (the simple
// protocol's) join their statements with "\n;", which the server's log,
// indenting each line after a record's first, writes as "\n\t;".
func queriesLogged(log, user, db string) (messages, statements int) {
	mark := user + "@" + db + " LOG:  statement: "
	var record strings.Builder
	flush := func() {
		if r := record.String(); strings.Contains(r, mark) {
			messages++
			statements += 1 + strings.Count(r, "\n\t;")
		}
		record.Reset()
	}
	for _, line := range strings.Split(log, "\n") {
		if logRecordStart.MatchString(line) {
			flush()
		} else {
			record.WriteString("\n")
		}
		record.WriteString(line)
	}
	flush()
	return messages, statements
}

// TestSyncAlternateRoundTrips counts, in the server's statement log, the
// query messages SyncAlternate sends: each is one network round trip,
// which on RDS costs a millisecond or more. A steady-state rotation (the
// clone exists and already matches its base) is two: one reads every fact
// under the role's lock, one sets the password and commits. The first
// rotation, which creates the clone, is three: the writes and the read-back
// of the clone, then the commit. Statements are counted too: the steady
// state's five show that nothing is written but the password.
func TestSyncAlternateRoundTrips(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg := dbtest.Postgres(t)
	db := pg.NewDatabase(t)
	// A name that needs quoting, with "=", which separates a stored
	// setting's name from its value: the clone's "role" setting names it.
	base := dbtest.UniqueName("App") + ` "x=Y"`
	clone := base + "_clone"
	adminName := dbtest.UniqueName("admin")
	pg.CreateRole(t, adminName, "admin-pass-1", "CREATEROLE")
	pg.CreateRole(t, base, "base-pass-1", "CREATEDB")
	t.Cleanup(func() { mustExec(t, pg.Admin(t), "DROP ROLE IF EXISTS "+pgx.Identifier{clone}.Sanitize()) })
	admin := connect(t, params(t, pg, db, adminName, "admin-pass-1"))

	sync := func(pending, password string, wantTrips, wantStatements int) {
		t.Helper()
		off := pg.LogOffset(t)
		resp, err := admin.SyncAlternate(ctx, engine.AlternateRequest{Base: base, Clone: clone, Pending: pending, Password: password})
		if err != nil {
			t.Fatalf("sync with %s pending: %v", pending, err)
		}
		messages, statements := queriesLogged(pg.LogFrom(t, off), adminName, db)
		t.Logf("%s pending (created clone %t, changes %q): %d round trips, %d statements", pending, resp.CreatedClone, resp.Changes, messages, statements)
		if messages != wantTrips || statements != wantStatements {
			t.Fatalf("%s pending: SyncAlternate made %d round trips of %d statements, want %d of %d", pending, messages, statements, wantTrips, wantStatements)
		}
		if err := pg.CanLogin(t, pending, password, db); err != nil {
			t.Fatalf("%s cannot log in with its new password: %v", pending, err)
		}
	}
	// Creates the clone: BEGIN, lock, facts; CREATE ROLE, password,
	// attributes, membership in the base, SET role, read-back; COMMIT.
	sync(clone, "clone-pass-2", 3, 10)
	// Steady state: BEGIN, lock, facts; password, COMMIT.
	sync(base, "base-pass-2", 2, 5)
	sync(clone, "clone-pass-3", 2, 5)
	// A clone that drifted (another attribute) is synced again, then read
	// back before the commit.
	mustExec(t, pg.Admin(t), "ALTER ROLE "+pgx.Identifier{clone}.Sanitize()+" NOCREATEDB")
	sync(base, "base-pass-3", 3, 7)
	sync(clone, "clone-pass-4", 2, 5)
	// A clone whose sessions no longer act as the base gets its setting
	// back in the same round trip as the password; it needs no read-back.
	mustExec(t, pg.Admin(t), "ALTER ROLE "+pgx.Identifier{clone}.Sanitize()+" RESET role")
	sync(base, "base-pass-4", 2, 6)
	var actsAs bool
	if err := pg.Admin(t).QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_db_role_setting s, unnest(s.setconfig) c
		WHERE s.setrole = (SELECT oid FROM pg_roles WHERE rolname = $1) AND s.setdatabase = 0 AND c = 'role=' || $2)`, clone, base).Scan(&actsAs); err != nil || !actsAs {
		t.Fatalf("the clone's sessions do not act as the base after the sync (%v)", err)
	}
	sync(clone, "clone-pass-5", 2, 5)
	// A pending clone that may not log in is given LOGIN with its password
	// (sync checks the login); LOGIN is not a synced attribute, so no
	// read-back either.
	mustExec(t, pg.Admin(t), "ALTER ROLE "+pgx.Identifier{clone}.Sanitize()+" NOLOGIN")
	sync(clone, "clone-pass-6", 2, 6)
}

// TestSyncAlternateCopiesValidUntil: the clone gets the base's VALID UNTIL,
// whether a date or 'infinity' (the usual way to lift an expiry, which Go's
// time type cannot hold: reading it failed every alternating-users
// rotation of such a base before; no VALID UNTIL means the same and
// counts as equal); the steady state then writes nothing but the password.
func TestSyncAlternateCopiesValidUntil(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg := dbtest.Postgres(t)
	db := pg.NewDatabase(t)
	adminName := dbtest.UniqueName("admin")
	pg.CreateRole(t, adminName, "admin-pass-1", "CREATEROLE")
	admin := connect(t, params(t, pg, db, adminName, "admin-pass-1"))
	for _, until := range []string{"infinity", "2999-01-02 03:04:05.123456+00"} {
		base := dbtest.UniqueName("until")
		clone := base + "_clone"
		pg.CreateRole(t, base, "base-pass-1")
		mustExec(t, pg.Admin(t), "ALTER ROLE "+pgx.Identifier{base}.Sanitize()+" VALID UNTIL '"+until+"'")
		t.Cleanup(func() { mustExec(t, pg.Admin(t), "DROP ROLE IF EXISTS "+pgx.Identifier{clone}.Sanitize()) })
		for i, pending := range []string{clone, base, clone} {
			off := pg.LogOffset(t)
			if _, err := admin.SyncAlternate(ctx, engine.AlternateRequest{Base: base, Clone: clone, Pending: pending, Password: fmt.Sprintf("pass-%d-x", i)}); err != nil {
				t.Fatalf("VALID UNTIL %s, sync %d: %v", until, i, err)
			}
			if messages, _ := queriesLogged(pg.LogFrom(t, off), adminName, db); i > 0 && messages != 2 {
				t.Fatalf("VALID UNTIL %s, sync %d: %d round trips, want the steady state's 2", until, i, messages)
			}
		}
		var same bool
		if err := pg.Admin(t).QueryRow(ctx, `SELECT COALESCE(b.rolvaliduntil, 'infinity') = COALESCE(c.rolvaliduntil, 'infinity') FROM pg_roles b, pg_roles c
			WHERE b.rolname = $1 AND c.rolname = $2`, base, clone).Scan(&same); err != nil || !same {
			t.Fatalf("VALID UNTIL %s: the clone's differs from the base's (%v)", until, err)
		}
	}
}
