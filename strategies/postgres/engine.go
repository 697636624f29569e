package postgres

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rotorhq/rotor/internal/saslprep"
	"github.com/rotorhq/rotor/strategies/engine"
)

// MaxIdentifierBytes is PostgreSQL's limit on a role name (NAMEDATALEN-1).
// Longer names are silently truncated by the server, so rotor refuses them.
const MaxIdentifierBytes = 63

// DefaultConnectTimeout bounds a login when the caller sets none.
const DefaultConnectTimeout = 5 * time.Second

// PinnedSearchPath is the search_path of every session rotor opens.
const PinnedSearchPath = "pg_catalog, pg_temp"

// DefaultExcludeCharacters is the password exclusion set AWS's PostgreSQL
// templates use, kept so generated passwords stay safe in connection URLs.
const DefaultExcludeCharacters = ":/@\"'\\"

// PostgresCurvePreferences are the TLS key exchanges offered to PostgreSQL:
// P-256 (then P-384, P-521) only. PostgreSQL up to 17 configures OpenSSL
// with one group, its ssl_ecdh_curve setting, default prime256v1 (P-256);
// PostgreSQL 18's ssl_groups defaults to X25519:prime256v1. Go ignores the
// order of CurvePreferences and sends its key share for the first of its
// own order (X25519MLKEM768, the P-256/P-384 hybrids, X25519, P-256, ...)
// that the list holds, so with Go's default every TLS 1.3 login to a
// PostgreSQL ≤ 17 server is answered with a HelloRetryRequest asking for
// P-256: one more network round trip per login. Leaving X25519 and the
// hybrids out makes P-256 the key share every default-configured
// PostgreSQL accepts at once. The trade-offs (docs/security.md): no
// post-quantum key exchange even with a server configured to offer one,
// and a server configured for X25519 only refuses the handshake (a TLS
// error at login, never a fallback to plaintext).
var PostgresCurvePreferences = []tls.CurveID{tls.CurveP256, tls.CurveP384, tls.CurveP521}

// Session is one logged-in connection. It is not safe for concurrent use.
type Session struct {
	c    *pgx.Conn
	user string
}

// Connect logs in with p. The connection uses exactly p.TLS; an
// authentication refusal wraps engine.ErrAuth. The password reaches pgx as
// saslprep.ForPgx makes it, so a non-ASCII password logs in as it does with
// psql; one pgx cannot send (saslprep.ErrPgxCannotSend) fails before any
// connection, not as an authentication refusal. The error never contains
// the password.
func Connect(ctx context.Context, p engine.Params) (*Session, error) {
	password, err := saslprep.ForPgx(p.Password)
	if err != nil {
		return nil, &engine.LoginError{User: p.User, Host: fmt.Sprintf("%s:%d", p.Host, p.Port), Err: err}
	}
	// pgx accepts only a Config made by ParseConfig (ConnectConfig panics
	// otherwise), so the empty DSN is parsed once for its defaults; every
	// field rotor relies on is set below, whatever PG* variables say.
	cfg, err := pgx.ParseConfig("")
	if err != nil {
		return nil, fmt.Errorf("pgx defaults: %w", err)
	}
	tlsCfg, err := p.TLS.Config(p.Host)
	if err != nil {
		return nil, err
	}
	cfg.Host = p.Host
	cfg.Port = uint16(p.Port)
	cfg.Database = p.Database
	cfg.User = p.User
	cfg.Password = password
	cfg.TLSConfig = tlsCfg
	cfg.Fallbacks = nil // no second attempt in another TLS mode, ever
	cfg.ConnectTimeout = p.ConnectTimeout
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	// search_path is pinned for every session rotor opens: a database or
	// role setting (which whoever owns the application's database can
	// change) must not make an unqualified name in rotor's SQL resolve to
	// code someone else owns. Every statement rotor sends also names
	// pg_catalog explicitly; this is the second line.
	cfg.RuntimeParams = map[string]string{"application_name": "rotor", "search_path": PinnedSearchPath}
	// Simple protocol: no prepared statements, so rotor also works through
	// PgBouncer and RDS Proxy in transaction mode.
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	hookFailpoints(ctx, cfg, fmt.Sprintf("%s:%d", p.Host, p.Port))
	// A session is one-shot (a handful of statements, then closed), and
	// the simple protocol prepares nothing: no statement or description
	// cache to allocate.
	cfg.StatementCacheCapacity = 0
	cfg.DescriptionCacheCapacity = 0
	if cfg.TLSConfig != nil {
		cfg.TLSConfig.CurvePreferences = PostgresCurvePreferences
	}

	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, &engine.LoginError{User: p.User, Host: fmt.Sprintf("%s:%d", p.Host, p.Port), Err: engine.ConnectTimedOut(ctx, classify(err), cfg.ConnectTimeout)}
	}
	return &Session{c: c, user: p.User}, nil
}

// classify keeps pgx's message (it names host and user, never the password)
// and marks authentication refusals.
func classify(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Only invalid_password means "this password is not the one":
		// 28000 (no pg_hba.conf entry, login not permitted) is a
		// configuration problem that another password would not fix, so
		// it must not send a strategy looking for one.
		if pgErr.Code == "28P01" {
			return fmt.Errorf("%w: %s (SQLSTATE %s)", engine.ErrAuth, pgErr.Message, pgErr.Code)
		}
		return fmt.Errorf("%s (SQLSTATE %s)", pgErr.Message, pgErr.Code)
	}
	return err
}

// Close ends the session. Closing twice is harmless.
func (s *Session) Close(ctx context.Context) error {
	if s == nil || s.c == nil {
		return nil
	}
	err := s.c.Close(ctx)
	s.c = nil
	return err
}

// Ping runs a trivial query, proving the login can run statements.
func (s *Session) Ping(ctx context.Context) error {
	var one int
	if err := s.c.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("run test query as %q: %w", s.user, err)
	}
	return nil
}

// SetPassword sets role's password to password, sent as a SCRAM verifier.
// Repeating it with the same password is harmless. A role may set its own
// password; another role's needs CREATEROLE (or superuser).
func (s *Session) SetPassword(ctx context.Context, role, password string) error {
	stmt, err := alterPassword(role, password)
	if err != nil {
		return fmt.Errorf("set password for %q: %w", role, err)
	}
	// One round trip: a simple-protocol query of two statements runs as one
	// implicit transaction, which holds the role's lock until the change
	// commits (or rolls back with it).
	if _, err := s.c.Exec(ctx, lockRoleSQL(role)+"; "+stmt); err != nil {
		return fmt.Errorf("set password for %q: %w", role, classify(err))
	}
	return nil
}

// lockRoleSQL is the statement that serialises rotor's changes to one role
// (or role pair, named by its base) across sessions until the transaction
// ends: Secrets Manager may run a step again while an earlier invocation
// still runs, and two ALTER ROLE statements on one role at once fail with
// "tuple concurrently updated". The second waits, then finds the first's
// work done. Advisory locks need no privilege; the key is a hash of the
// role's name, a number in the SQL text.
func lockRoleSQL(role string) string {
	h := fnv.New64a()
	h.Write([]byte("rotor role " + role))
	return fmt.Sprintf("SELECT pg_catalog.pg_advisory_xact_lock(%d::pg_catalog.int8)", int64(h.Sum64()))
}

// lockRole takes lockRoleSQL's lock in tx.
func lockRole(ctx context.Context, tx pgx.Tx, role string) error {
	if _, err := tx.Exec(ctx, lockRoleSQL(role)); err != nil {
		return fmt.Errorf("lock role %q against a concurrent rotation step: %w", role, classify(err))
	}
	return nil
}

func alterPassword(role, password string) (string, error) {
	v, err := ScramVerifier(password)
	if err != nil {
		return "", err
	}
	return "ALTER ROLE " + ident(role) + " WITH PASSWORD " + literal(v), nil
}

// CountSessions returns how many server sessions role has open right now,
// this one included when it is role's.
func (s *Session) CountSessions(ctx context.Context, role string) (int, error) {
	var n int
	if err := s.c.QueryRow(ctx, "SELECT pg_catalog.count(*)::pg_catalog.int4 FROM pg_catalog.pg_stat_activity WHERE usename OPERATOR(pg_catalog.=) $1::pg_catalog.name", role).Scan(&n); err != nil {
		return 0, fmt.Errorf("count sessions of %q: %w", role, classify(err))
	}
	return n, nil
}

// RoleExists reports whether role exists.
func (s *Session) RoleExists(ctx context.Context, role string) (bool, error) {
	var ok bool
	err := s.c.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) $1::pg_catalog.name)", role).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("look up role %q: %w", role, classify(err))
	}
	return ok, nil
}

// ident quotes one identifier with pgx's sanitizer.
func ident(name string) string { return pgx.Identifier{name}.Sanitize() }

// literal quotes a string constant. It is used only for values rotor made
// (SCRAM verifiers, timestamps), never for a password.
func literal(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, "\x00", ""), "'", "''") + "'"
}

// Document engine values this engine serves.
const (
	EnginePostgres         = "postgres"
	EngineAuroraPostgreSQL = "aurora-postgresql"
)

// Engine is the PostgreSQL engine. The zero value is ready to use.
type Engine struct{}

var (
	_ engine.Engine      = Engine{}
	_ engine.Session     = (*Session)(nil)
	_ engine.RoleManager = (*Session)(nil)
)

// Facts implements engine.Engine.
func (Engine) Facts() engine.Facts {
	return engine.Facts{
		Name:              "postgres",
		Family:            "postgres",
		DocumentEngines:   []string{EnginePostgres, EngineAuroraPostgreSQL},
		DefaultPort:       5432,
		DefaultDatabase:   "postgres",
		MaxUsername:       MaxIdentifierBytes,
		UsernameUnit:      engine.Bytes,
		ExcludeCharacters: DefaultExcludeCharacters,
		AdminPrivileges: func(admin, user string) string {
			return fmt.Sprintf("PostgreSQL: ALTER ROLE %[1]s CREATEROLE (PostgreSQL 16+: also GRANT %[2]s TO %[1]s WITH ADMIN OPTION)", ident(admin), ident(user))
		},
	}
}

// Login implements engine.Engine.
func (Engine) Login(ctx context.Context, p engine.Params) (engine.Session, error) {
	s, err := Connect(ctx, p)
	if err != nil {
		return nil, err
	}
	return s, nil
}
