package mariadb

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/rotorhq/rotor/strategies/engine"
)

// MaxUsernameChars is the longest user name AWS's MariaDB templates allow
// and MariaDB before 10.6 stores (10.6 and later take 128). rotor keeps to
// it so a secret that rotates on one MariaDB rotates on all.
const MaxUsernameChars = 80

// MaxMySQLUsernameChars is AWS's limit for documents whose engine is mysql
// or aurora-mysql (MySQL's own limit), kept for those documents even when
// the server behind them is MariaDB.
const MaxMySQLUsernameChars = 32

// DefaultConnectTimeout bounds a login when the caller sets none.
const DefaultConnectTimeout = 5 * time.Second

// DefaultExcludeCharacters is the password exclusion set AWS's MySQL and
// MariaDB templates use.
const DefaultExcludeCharacters = "/@\"'\\"

// Driver error numbers rotor acts on.
const (
	errAccessDenied  = 1045 // ER_ACCESS_DENIED_ERROR: wrong user or password
	errNoSuchTable   = 1146 // ER_NO_SUCH_TABLE
	errNonexistGrant = 1141 // ER_NONEXISTING_GRANT
)

// ErrNotMariaDB is returned (wrapped) when the server is not MariaDB.
var ErrNotMariaDB = errors.New("server is not MariaDB")

// Session is one logged-in connection. It is not safe for concurrent use.
type Session struct {
	db   *sql.DB
	c    *sql.Conn
	user string
	q    quoter
	// Version is the server's VERSION().
	Version string
}

// Connect logs in with p. The connection uses exactly p.TLS; an
// authentication refusal wraps engine.ErrAuth. The error never contains the
// password.
//
// A server whose VERSION() does not say MariaDB is MySQL (or a fork of
// it): the session is closed and ErrNotMariaDB returned. MySQL 8 stores
// passwords with other plugins (caching_sha2_password) and different
// statements, and this build cannot be tested against it, so rotor refuses
// rather than guesses.
func Connect(ctx context.Context, p engine.Params) (*Session, error) {
	tlsCfg, err := p.TLS.Config(p.Host)
	if err != nil {
		return nil, err
	}
	cfg := mysql.NewConfig()
	cfg.User = p.User
	cfg.Passwd = p.Password
	cfg.Net = "tcp"
	cfg.Addr = net.JoinHostPort(p.Host, strconv.Itoa(p.Port))
	cfg.DBName = p.Database
	cfg.TLS = tlsCfg // nil: plaintext, as "disable" asks
	cfg.AllowFallbackToPlaintext = false
	cfg.AllowNativePasswords = true
	cfg.AllowCleartextPasswords = false
	cfg.AllowOldPasswords = false
	cfg.MultiStatements = false
	cfg.InterpolateParams = false
	cfg.ConnectionAttributes = "program_name:rotor"
	cfg.Logger = &mysql.NopLogger{} // the driver's own log lines go to stderr otherwise
	cfg.Timeout = p.ConnectTimeout
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultConnectTimeout
	}
	where := net.JoinHostPort(p.Host, strconv.Itoa(p.Port))
	loginErr := func(err error) error {
		return &engine.LoginError{User: p.User, Host: where, Err: engine.ConnectTimedOut(ctx, classify(err), cfg.Timeout)}
	}
	connector, err := newConnector(ctx, cfg, where)
	if err != nil {
		return nil, loginErr(err)
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(1)
	// The timeout covers TLS and authentication too, not only the dial.
	lctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	c, err := db.Conn(lctx)
	if err != nil {
		db.Close()
		return nil, loginErr(err)
	}
	s := &Session{db: db, c: c, user: p.User}
	var mode string
	if err := c.QueryRowContext(lctx, "SELECT VERSION(), @@SESSION.sql_mode").Scan(&s.Version, &mode); err != nil {
		s.Close(ctx) //nolint:errcheck
		return nil, loginErr(err)
	}
	if err := checkServer(s.Version); err != nil {
		s.Close(ctx) //nolint:errcheck
		return nil, fmt.Errorf("%s at %s: %w", p.User, where, err)
	}
	s.q.noBackslashEscapes = hasMode(mode, "NO_BACKSLASH_ESCAPES")
	return s, nil
}

// checkServer refuses a server whose VERSION() does not name MariaDB.
// MariaDB always says so ("10.11.6-MariaDB-log", and "5.5.5-10.x-MariaDB"
// through some proxies); MySQL, Aurora MySQL and Percona do not.
func checkServer(version string) error {
	if strings.Contains(strings.ToLower(version), "mariadb") {
		return nil
	}
	return fmt.Errorf("%w: the server reports version %q, which is MySQL; this rotor build rotates MariaDB only (MySQL stores passwords with other authentication plugins, and no MySQL server is available to test against)", ErrNotMariaDB, version)
}

func hasMode(modes, m string) bool {
	for _, x := range strings.Split(modes, ",") {
		if strings.EqualFold(strings.TrimSpace(x), m) {
			return true
		}
	}
	return false
}

// classify keeps the driver's message (it names user and host, never the
// password), marks authentication refusals, and keeps the server's error
// reachable with errors.As.
func classify(err error) error {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		if me.Number == errAccessDenied {
			return fmt.Errorf("%w: %w", engine.ErrAuth, serverError{me})
		}
		return serverError{me}
	}
	return err
}

// serverError is a MariaDB error shown as "message (error N)".
type serverError struct{ e *mysql.MySQLError }

func (s serverError) Error() string { return fmt.Sprintf("%s (error %d)", s.e.Message, s.e.Number) }
func (s serverError) Unwrap() error { return s.e }

func errNumber(err error) uint16 {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number
	}
	return 0
}

// Close ends the session. Closing twice is harmless.
func (s *Session) Close(context.Context) error {
	if s == nil || s.db == nil {
		return nil
	}
	if s.c != nil {
		s.c.Close()
		s.c = nil
	}
	err := s.db.Close()
	s.db = nil
	return err
}

// Ping runs a trivial query, proving the login can run statements.
func (s *Session) Ping(ctx context.Context) error {
	var one int
	if err := s.c.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("run test query as %q: %w", s.user, classify(err))
	}
	return nil
}

// exec runs one statement rotor built. what names it in errors; the
// statement itself is never quoted in an error (it may hold a hash), and
// neither is the part of it the server quotes back (see redact).
func (s *Session) exec(ctx context.Context, what, stmt string) error {
	if _, err := s.c.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("%s: %w", what, classify(redact(err, stmt)))
	}
	return nil
}

// hashPattern matches a mysql_native_password hash as rotor writes it.
var hashPattern = regexp.MustCompile(`\*[0-9A-Fa-f]{40}`)

// nearPattern matches the statement text MariaDB's syntax errors (1064 and
// others) quote back: "... near '<rest of the statement>' at line N". The
// quoted text is cut at an arbitrary length, so it may hold part of a hash
// that no longer matches hashPattern.
var nearPattern = regexp.MustCompile(`(?s)near '.*' at line`)

// redact returns err with every trace of a password hash in stmt removed
// from the server's message: when stmt holds a hash, the statement text the
// server quoted back ("near '...'") becomes "near [REDACTED]" and any whole
// hash left in the message becomes [REDACTED]. A server error is replaced
// by a copy with the cleaned message (same number and SQLSTATE), so
// errors.As finds no hash either. Errors of statements without a hash, and
// errors that are not server errors, are returned unchanged.
func redact(err error, stmt string) error {
	var me *mysql.MySQLError
	if !hashPattern.MatchString(stmt) || !errors.As(err, &me) {
		return err
	}
	msg := nearPattern.ReplaceAllString(me.Message, "near [REDACTED] at line")
	msg = hashPattern.ReplaceAllString(msg, "[REDACTED]")
	return &mysql.MySQLError{Number: me.Number, SQLState: me.SQLState, Message: msg}
}

// SetPassword sets user's password, sent as a mysql_native_password hash.
// Repeating it with the same password is harmless.
//
// When user is the session's own user, the session's own account changes
// (SET PASSWORD = '<hash>', which MariaDB lets every account run for
// itself): that is the account the login matched, CURRENT_USER(). Another
// user's account is looked up in mysql.user and changed with ALTER USER,
// which needs the CREATE USER privilege; a name with accounts for several
// hosts is refused.
func (s *Session) SetPassword(ctx context.Context, user, password string) error {
	hash, err := s.q.str(NativePasswordHash(password))
	if err != nil {
		return fmt.Errorf("set password for %q: %w", user, err)
	}
	unlock, err := s.lockAccount(ctx, user)
	if err != nil {
		return err
	}
	defer unlock()
	if user == s.user {
		return s.exec(ctx, fmt.Sprintf("set password for %q", user), "SET PASSWORD = "+hash)
	}
	a, ok, err := s.lookup(ctx, user)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("set password for %q: no such user", user)
	}
	return s.alterPassword(ctx, a, hash)
}

func (s *Session) alterPassword(ctx context.Context, a account, quotedHash string) error {
	acct, err := s.q.account(a)
	if err != nil {
		return fmt.Errorf("set password for %q: %w", a.user, err)
	}
	return s.exec(ctx, fmt.Sprintf("set password for %q@%q", a.user, a.host), "ALTER USER "+acct+" IDENTIFIED BY PASSWORD "+quotedHash)
}

// lookup returns user's one account. ok is false when the user has none.
// Several accounts (hosts) for the name are an error listing them: rotor
// changes exactly one account per user name and will not guess which.
func (s *Session) lookup(ctx context.Context, user string) (a account, ok bool, err error) {
	rows, err := s.c.QueryContext(ctx, "SELECT Host FROM mysql.user WHERE User = ? AND is_role = 'N' ORDER BY Host", user)
	if err != nil {
		return a, false, fmt.Errorf("look up accounts of %q: %w", user, classify(err))
	}
	defer rows.Close()
	var hosts []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return a, false, fmt.Errorf("look up accounts of %q: %w", user, classify(err))
		}
		hosts = append(hosts, h)
	}
	if err := rows.Err(); err != nil {
		return a, false, fmt.Errorf("look up accounts of %q: %w", user, classify(err))
	}
	switch len(hosts) {
	case 0:
		return a, false, nil
	case 1:
		return account{user: user, host: hosts[0]}, true, nil
	}
	quoted := make([]string, len(hosts))
	for i, h := range hosts {
		quoted[i] = strconv.Quote(h)
	}
	return a, false, fmt.Errorf("user %q has accounts for %d hosts (%s): rotor rotates exactly one account per user name; drop the extra accounts or give them other names", user, len(hosts), strings.Join(quoted, ", "))
}

// CountSessions returns how many server sessions user has open right now,
// this one included when it is user's. Other users' sessions are visible
// only with the PROCESS privilege; without it the count covers only this
// session's own user.
func (s *Session) CountSessions(ctx context.Context, user string) (int, error) {
	var n int
	if err := s.c.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = ?", user).Scan(&n); err != nil {
		return 0, fmt.Errorf("count sessions of %q: %w", user, classify(err))
	}
	return n, nil
}

// Document engine values this engine serves. A mysql or aurora-mysql
// document is served when the server behind it is MariaDB.
const (
	EngineMariaDB     = "mariadb"
	EngineMySQL       = "mysql"
	EngineAuroraMySQL = "aurora-mysql"
)

// Engine is the MariaDB engine. New serves mariadb documents;
// NewForMySQLDocuments serves mysql and aurora-mysql documents with AWS's
// 32-character user name limit for them.
type Engine struct{ mysqlDocuments bool }

var (
	_ engine.Engine      = Engine{}
	_ engine.Session     = (*Session)(nil)
	_ engine.RoleManager = (*Session)(nil)
)

// New returns the engine for mariadb documents.
func New() Engine { return Engine{} }

// NewForMySQLDocuments returns the engine for mysql and aurora-mysql
// documents (a MariaDB server behind them; MySQL is refused at login).
func NewForMySQLDocuments() Engine { return Engine{mysqlDocuments: true} }

// Facts implements engine.Engine.
func (e Engine) Facts() engine.Facts {
	f := engine.Facts{
		Name:              "mariadb",
		Family:            "mysql",
		DocumentEngines:   []string{EngineMariaDB},
		DefaultPort:       3306,
		MaxUsername:       MaxUsernameChars,
		UsernameUnit:      engine.Characters,
		ExcludeCharacters: DefaultExcludeCharacters,
		AdminPrivileges:   adminPrivileges,
	}
	if e.mysqlDocuments {
		f.DocumentEngines = []string{EngineMySQL, EngineAuroraMySQL}
		f.MaxUsername = MaxMySQLUsernameChars
	}
	return f
}

// Login implements engine.Engine.
func (Engine) Login(ctx context.Context, p engine.Params) (engine.Session, error) {
	s, err := Connect(ctx, p)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func adminPrivileges(admin, user string) string {
	return fmt.Sprintf("MariaDB: GRANT CREATE USER ON *.* TO %[1]s WITH GRANT OPTION; GRANT SELECT ON mysql.* TO %[1]s; "+
		"the admin must also hold every privilege %[2]s holds (MariaDB grants only what the grantor has) and ADMIN OPTION on each role %[2]s holds "+
		"(GRANT <role> TO %[1]s WITH ADMIN OPTION); PROCESS lets it count the previous user's sessions (see docs/mariadb.md)", admin, user)
}

// lockTimeoutSeconds bounds the wait for another rotor session's work on
// the same account.
const lockTimeoutSeconds = 60

// lockAccount serialises rotor's changes to one account (or account pair,
// named by its base user) across sessions, as the PostgreSQL engine does
// with an advisory lock: Secrets Manager may run a step again while an
// earlier invocation still runs. It takes a named lock (GET_LOCK; the name
// is a digest, within the server's 64-character limit) and returns its
// release.
func (s *Session) lockAccount(ctx context.Context, user string) (func(), error) {
	sum := sha256.Sum256([]byte("rotor account " + user))
	name := "rotor:" + hex.EncodeToString(sum[:20])
	var got sql.NullInt64
	if err := s.c.QueryRowContext(ctx, "SELECT GET_LOCK(?, ?)", name, lockTimeoutSeconds).Scan(&got); err != nil {
		return nil, fmt.Errorf("lock account %q against a concurrent rotation step: %w", user, classify(err))
	}
	if !got.Valid || got.Int64 != 1 {
		return nil, fmt.Errorf("lock account %q: another rotation step held it for %d s", user, lockTimeoutSeconds)
	}
	return func() {
		// Best effort: the lock also ends with the session.
		var released sql.NullInt64
		_ = s.c.QueryRowContext(context.WithoutCancel(ctx), "SELECT RELEASE_LOCK(?)", name).Scan(&released)
	}, nil
}
