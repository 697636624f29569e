package strategies

import (
	"context"
	"fmt"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/strategies/conn"
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

// AlternateRequest is the engine-neutral form of an alternating-users change.
type AlternateRequest struct {
	Base, Clone, Pending string
	Password             string
}

// AlternateResponse reports what SyncAlternate changed, safe to log.
type AlternateResponse struct {
	CreatedClone bool
	Changes      []string
}

// Engines maps an engine family to its implementation.
type Engines map[events.Family]Engine

// DefaultEngines returns the engines rotor ships.
func DefaultEngines() Engines {
	return Engines{events.FamilyPostgres: Postgres{}}
}

// For returns the engine for the document's engine name, or an error naming
// the "engine" field.
func (e Engines) For(doc *events.SecretDocument) (Engine, error) {
	eng, ok := e[doc.Family()]
	if !ok {
		return nil, &events.FieldError{Field: "engine", Reason: fmt.Sprintf("engine %q is not supported by this rotor build", doc.Engine)}
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
	return pgSession{s}, nil
}

// MaxUsernameBytes implements Engine.
func (Postgres) MaxUsernameBytes() int { return postgres.MaxIdentifierBytes }

// DefaultExcludeCharacters implements Engine.
func (Postgres) DefaultExcludeCharacters() string { return postgres.DefaultExcludeCharacters }

type pgSession struct{ *postgres.Session }

func (s pgSession) SyncAlternate(ctx context.Context, req AlternateRequest) (AlternateResponse, error) {
	r, err := s.Session.SyncAlternate(ctx, postgres.AlternateRequest(req))
	return AlternateResponse(r), err
}
