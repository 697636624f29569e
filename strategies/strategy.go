package strategies

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/strategies/conn"
)

// Strategy names, as ROTATION_STRATEGY and the rotor:strategy tag spell them.
const (
	NameSingleUser       = "single-user"
	NameAlternatingUsers = "alternating-users"
)

// Session policies for PREVIOUS_USER_SESSIONS.
const (
	SessionsWarn = "warn"
	SessionsFail = "fail"
)

// Options are the function-wide settings every strategy shares.
type Options struct {
	Engines Engines
	// TLSMode applies when a secret document has no "ssl" key.
	TLSMode string
	// RootCAs verifies database servers; nil means the system roots.
	RootCAs *x509.CertPool
	// ConnectTimeout bounds one login; zero means the engine's default.
	ConnectTimeout time.Duration
	// PreviousUserSessions is SessionsWarn or SessionsFail: what to do when
	// the user whose password alternating-users is about to change still
	// has open sessions.
	PreviousUserSessions string
}

// CreateRequest asks for the pending document.
type CreateRequest struct {
	Current  *events.SecretDocument
	Password string
}

// CreateResponse carries the pending document.
type CreateResponse struct {
	Pending *events.SecretDocument
}

// DocLoader fetches a secret document on demand. It returns (nil, nil) when
// there is no such document.
type DocLoader func(ctx context.Context) (*events.SecretDocument, error)

// SetRequest asks the strategy to make the pending credential valid in the
// database.
type SetRequest struct {
	Current, Pending *events.SecretDocument
	// Previous loads the AWSPREVIOUS document, used only when neither the
	// current nor the pending password logs in.
	Previous DocLoader
	// Master loads the admin document (masterarn), with its connection
	// details resolved.
	Master DocLoader
	Logger *slog.Logger
}

// SetResponse reports what Set found.
type SetResponse struct {
	// AlreadySet is true when the pending password already worked and
	// nothing was changed (a repeated setSecret).
	AlreadySet bool
}

// TestRequest asks the strategy to prove the pending credential works.
type TestRequest struct {
	Pending *events.SecretDocument
	Logger  *slog.Logger
}

// TestResponse is empty; it exists so fields can be added.
type TestResponse struct{}

// ErrSessionsOpen is returned (wrapped) when PREVIOUS_USER_SESSIONS=fail and
// the user about to get a new password has open sessions.
var ErrSessionsOpen = errors.New("user has open sessions")

// Strategy is what the rotation protocol asks of a strategy, one method per
// step that touches the credential (finishSecret only moves labels).
type Strategy interface {
	// Name is the strategy's identifier.
	Name() string
	// Create returns the pending document for a new password. It has no side
	// effects.
	Create(ctx context.Context, req CreateRequest) (CreateResponse, error)
	// Set makes the pending credential valid in the database. Calling it
	// again after it succeeded, or after a failure at any point, is safe.
	Set(ctx context.Context, req SetRequest) (SetResponse, error)
	// Test proves the pending credential logs in. It changes nothing.
	Test(ctx context.Context, req TestRequest) (TestResponse, error)
}

// New returns the named strategy.
func New(name string, opts Options) (Strategy, error) {
	opts = opts.WithDefaults()
	switch name {
	case NameSingleUser:
		return &SingleUser{opts: opts}, nil
	case NameAlternatingUsers:
		return &AlternatingUsers{opts: opts}, nil
	}
	return nil, fmt.Errorf("unknown strategy %q (want %s or %s)", name, NameSingleUser, NameAlternatingUsers)
}

// WithDefaults fills the zero fields: the shipped engines, verify-full,
// and the warn sessions policy.
func (o Options) WithDefaults() Options {
	if o.Engines == nil {
		o.Engines = DefaultEngines()
	}
	if o.TLSMode == "" {
		o.TLSMode = events.TLSVerifyFull
	}
	if o.PreviousUserSessions == "" {
		o.PreviousUserSessions = SessionsWarn
	}
	return o
}

// Params turns a document into login parameters with the TLS rule applied:
// the document's "ssl" key if present, else the function's setting.
func (o Options) Params(doc *events.SecretDocument) conn.Params {
	mode := doc.TLSMode()
	if mode == "" {
		mode = o.TLSMode
	}
	return conn.Params{
		Host:           doc.Host,
		Port:           doc.PortOrDefault(),
		Database:       doc.DBNameOrDefault(),
		User:           doc.Username,
		Password:       doc.Password,
		TLS:            conn.TLS{Mode: mode, RootCAs: o.RootCAs},
		ConnectTimeout: o.ConnectTimeout,
	}
}

// Login opens a session for doc with the engine its "engine" key names.
// Call it on Options with defaults applied (WithDefaults).
func (o Options) Login(ctx context.Context, doc *events.SecretDocument) (Session, error) {
	eng, err := o.Engines.For(doc)
	if err != nil {
		return nil, err
	}
	return eng.Login(ctx, o.Params(doc))
}

// Ping logs in with doc, runs a trivial query and closes the session.
func (o Options) Ping(ctx context.Context, doc *events.SecretDocument) error {
	s, err := o.Login(ctx, doc)
	if err != nil {
		return err
	}
	defer s.Close(ctx) //nolint:errcheck // read-only session
	return s.Ping(ctx)
}

// sameTarget refuses a pending document that points somewhere else than the
// current one: a tampered AWSPENDING version must not send credentials to
// another server.
func sameTarget(cur, pend *events.SecretDocument) error {
	switch {
	case cur.Family() != pend.Family():
		return &events.FieldError{Field: "engine", Reason: fmt.Sprintf("pending engine %q differs from current %q", pend.Engine, cur.Engine)}
	case cur.Host != pend.Host:
		return &events.FieldError{Field: "host", Reason: fmt.Sprintf("pending host %q differs from current %q", pend.Host, cur.Host)}
	case cur.PortOrDefault() != pend.PortOrDefault():
		return &events.FieldError{Field: "port", Reason: fmt.Sprintf("pending port %d differs from current %d", pend.PortOrDefault(), cur.PortOrDefault())}
	}
	return nil
}

func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
