package strategies

import (
	"context"
	"fmt"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/strategies/conn"
	"github.com/rotorhq/rotor/strategies/mariadb"
	"github.com/rotorhq/rotor/strategies/postgres"
)

// Engine logs in to one kind of database.
type Engine interface {
	// Login opens a session with exactly p's TLS mode. A refusal of the
	// credentials wraps conn.ErrAuth.
	Login(ctx context.Context, p conn.Params) (Session, error)
	// MaxUsernameBytes is the longest user name the database keeps intact.
	MaxUsernameBytes() int
	// DefaultExcludeCharacters is the password exclusion set used when the
	// function's settings name none.
	DefaultExcludeCharacters() string
}

// Session is a logged-in database connection.
type Session interface {
	// Close ends the session; closing twice is harmless.
	Close(ctx context.Context) error
	// Ping runs a trivial query.
	Ping(ctx context.Context) error
	// SetPassword sets user's password. Repeating it is harmless.
	SetPassword(ctx context.Context, user, password string) error
	// CountSessions counts user's open sessions on the server.
	CountSessions(ctx context.Context, user string) (int, error)
	// SyncAlternate makes req.Pending log in with req.Password and keeps
	// the clone equivalent to the base user. All or nothing; repeatable.
	SyncAlternate(ctx context.Context, req AlternateRequest) (AlternateResponse, error)
}

// AlternateRequest and AlternateResponse are the engines' own types (one
// definition, in the leaf package conn).
type (
	AlternateRequest  = conn.AlternateRequest
	AlternateResponse = conn.AlternateResponse
)

// Engines maps an engine family to its implementation.
type Engines map[events.Family]Engine

// DefaultEngines returns the engines rotor ships.
func DefaultEngines() Engines {
	return Engines{events.FamilyPostgres: Postgres{}, events.FamilyMySQL: MariaDB{}}
}

// engineVariant is implemented by an engine whose limits depend on the
// document's engine name within its family: MySQL-family documents name
// mariadb (80-character user names) or mysql/aurora-mysql (32, AWS's rule
// for MySQL) but share one engine.
type engineVariant interface {
	ForEngine(name string) Engine
}

// For returns the engine for the document's engine name, or an error naming
// the "engine" field.
func (e Engines) For(doc *events.SecretDocument) (Engine, error) {
	eng, ok := e[doc.Family()]
	if !ok {
		return nil, &events.FieldError{Field: "engine", Reason: fmt.Sprintf("engine %q is not supported by this rotor build", doc.Engine)}
	}
	if v, ok := eng.(engineVariant); ok {
		eng = v.ForEngine(doc.Engine)
	}
	return eng, nil
}

// Postgres adapts strategies/postgres to Engine.
type Postgres struct{}

// Login implements Engine.
func (Postgres) Login(ctx context.Context, p conn.Params) (Session, error) {
	s, err := postgres.Connect(ctx, p)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// MaxUsernameBytes implements Engine.
func (Postgres) MaxUsernameBytes() int { return postgres.MaxIdentifierBytes }

// DefaultExcludeCharacters implements Engine.
func (Postgres) DefaultExcludeCharacters() string { return postgres.DefaultExcludeCharacters }

// MariaDB adapts strategies/mariadb to Engine for the MySQL family. The
// server must be MariaDB: a MySQL server is refused at login. MaxUser is the
// user name limit in characters; zero means MariaDB's 80.
type MariaDB struct{ MaxUser int }

// ForEngine returns the engine with the user name limit AWS's templates
// apply to the document's engine name: 32 for mysql and aurora-mysql, 80
// for mariadb.
func (m MariaDB) ForEngine(name string) Engine {
	switch name {
	case events.EngineMySQL, events.EngineAuroraMySQL:
		m.MaxUser = mariadb.MaxMySQLUsernameChars
	default:
		m.MaxUser = mariadb.MaxUsernameChars
	}
	return m
}

// Login implements Engine.
func (MariaDB) Login(ctx context.Context, p conn.Params) (Session, error) {
	s, err := mariadb.Connect(ctx, p)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// MaxUsernameBytes implements Engine. MariaDB counts characters; the
// strategies count bytes, which is the same for ASCII names and stricter
// for others.
func (m MariaDB) MaxUsernameBytes() int {
	if m.MaxUser > 0 {
		return m.MaxUser
	}
	return mariadb.MaxUsernameChars
}

// DefaultExcludeCharacters implements Engine.
func (MariaDB) DefaultExcludeCharacters() string { return mariadb.DefaultExcludeCharacters }
