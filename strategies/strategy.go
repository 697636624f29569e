package strategies

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/strategies/engine"
)

// Strategy names, as ROTATION_STRATEGY and the rotor:strategy tag spell them.
const (
	NameSingleUser       = "single-user"
	NameAlternatingUsers = "alternating-users"
	NameRDSMaster        = "rds-master"
)

// names lists the strategies in the order errors name them.
var names = []string{NameSingleUser, NameAlternatingUsers, NameRDSMaster}

// Session policies for PREVIOUS_USER_SESSIONS.
const (
	SessionsWarn = "warn"
	SessionsFail = "fail"
)

// Options are the function-wide settings every strategy shares.
type Options struct {
	// Engines serves the secret documents' "engine" values (required;
	// strategies/builtin.Engines() in the shipped functions).
	Engines *engine.Registry
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
	// OnLogin, when set, is told of every login attempt a strategy makes
	// (metrics: the rotator counts plaintext logins).
	OnLogin func(LoginInfo)
	// RDS is the client rds-master changes master passwords with; New
	// refuses rds-master without it.
	RDS RDSAPI
	// RDSPollInterval is rds-master's first wait between two describe
	// calls (it doubles, up to 10 s); zero means DefaultRDSPollInterval.
	RDSPollInterval time.Duration
	// RDSMaxWait bounds rds-master's wait for RDS in one setSecret, on top
	// of the context's deadline; zero means DefaultRDSMaxWait.
	RDSMaxWait time.Duration
}

// LoginInfo describes one login attempt: where, as whom, and how the
// connection was protected. It holds no credential.
type LoginInfo struct {
	Engine string
	Host   string
	Port   int
	User   string
	// TLSMode is events.TLSVerifyFull, TLSRequire or TLSDisable.
	TLSMode string
	// ServerName is the name the server's certificate was checked
	// against: the host with verify-full, "" otherwise (require encrypts
	// without checking who answers; disable does not encrypt).
	ServerName string
	// Err is the login's error, nil when it logged in.
	Err error
}

// Plaintext reports whether the password crossed the network unencrypted.
func (l LoginInfo) Plaintext() bool { return l.TLSMode == events.TLSDisable }

// CreateRequest asks for the pending document.
type CreateRequest struct {
	Current *events.SecretDocument
	// NewPassword generates the pending password, avoiding exclude on top
	// of the function's password policy. The strategy passes its engine's
	// ExcludeCharacters.
	NewPassword func(exclude string) (string, error)
	// Master, when set, loads the admin document (masterarn) as
	// SetRequest.Master does, except that an RDS-managed admin secret's
	// host may be left empty (its endpoint is looked up in setSecret only).
	// A strategy that needs an admin reads it here too, so that a masterarn
	// naming a missing, unreadable or unusable secret fails createSecret
	// before the pending version is written.
	Master DocLoader
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
	// MasterPending loads the admin secret's AWSPENDING document, resolved
	// like Master, or returns (nil, nil) when the admin secret is not being
	// rotated. alternating-users tries it once when the admin's current
	// password is refused: the admin secret is then mid-rotation (its
	// setSecret has changed the password, its finishSecret has not run).
	MasterPending DocLoader
	// PinBase is called by alternating-users with the base user's pin
	// (events.BaseUserPin: the user on the server the admin logs in to)
	// after the admin document is loaded and before the admin logs in. It
	// refuses a pin that differs from the one the secret carries or that
	// another secret carries, and pins an unpinned secret. Required for
	// alternating-users: the pin is what keeps the writer of the rotated
	// secret from pointing the admin at another role.
	PinBase func(ctx context.Context, pin string) error
	Logger  *slog.Logger
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

// ParseName checks a strategy name from a setting, a flag or a tag.
func ParseName(name string) (string, error) {
	if slices.Contains(names, name) {
		return name, nil
	}
	return "", fmt.Errorf("unknown strategy %q (want %s)", name, strings.Join(names, ", "))
}

// Names returns the strategy names ParseName accepts.
func Names() []string { return slices.Clone(names) }

// Source says where a secret's strategy came from.
type Source string

// Strategy sources, strongest first.
const (
	FromTag     Source = "tag " + events.TagStrategy
	FromSetting Source = "setting"
	FromDefault Source = "default"
)

// Choose applies the rule every caller shares: the secret's rotor:strategy
// tag, else the function's (or the command's) setting, else single-user.
// The chosen name is checked; the error names where it came from.
func Choose(tag, setting string) (string, Source, error) {
	name, src := tag, FromTag
	if name == "" {
		name, src = setting, FromSetting
	}
	if name == "" {
		name, src = NameSingleUser, FromDefault
	}
	if _, err := ParseName(name); err != nil {
		return name, src, fmt.Errorf("%s: %w", src, err)
	}
	return name, src, nil
}

// New returns the named strategy.
func New(name string, opts Options) (Strategy, error) {
	if opts.Engines == nil {
		return nil, errors.New("strategies: no engine registry")
	}
	opts = opts.WithDefaults()
	if _, err := ParseName(name); err != nil {
		return nil, err
	}
	switch name {
	case NameAlternatingUsers:
		return &AlternatingUsers{opts: opts}, nil
	case NameRDSMaster:
		if opts.RDS == nil {
			return nil, errors.New("strategies: rds-master needs an RDS client")
		}
		return &RDSMaster{opts: opts}, nil
	}
	return &SingleUser{opts: opts}, nil
}

// WithDefaults fills the zero fields: verify-full and the warn sessions
// policy.
func (o Options) WithDefaults() Options {
	if o.TLSMode == "" {
		o.TLSMode = events.TLSVerifyFull
	}
	if o.PreviousUserSessions == "" {
		o.PreviousUserSessions = SessionsWarn
	}
	if o.RDSPollInterval <= 0 {
		o.RDSPollInterval = DefaultRDSPollInterval
	}
	if o.RDSMaxWait <= 0 {
		o.RDSMaxWait = DefaultRDSMaxWait
	}
	return o
}

// Params resolves doc against its engine and returns the engine and the
// login parameters, with the TLS rule applied: the document's "ssl" key if
// present, else the function's setting.
func (o Options) Params(doc *events.SecretDocument) (engine.Engine, engine.Params, error) {
	t, err := o.Engines.Resolve(doc)
	if err != nil {
		return nil, engine.Params{}, err
	}
	mode := doc.TLSMode()
	if mode == "" {
		mode = o.TLSMode
	}
	return t.Engine, engine.Params{
		Host:           t.Host,
		Port:           t.Port,
		Database:       t.Database,
		User:           doc.Username,
		Password:       doc.Password,
		TLS:            engine.TLS{Mode: mode, RootCAs: o.RootCAs},
		ConnectTimeout: o.ConnectTimeout,
	}, nil
}

// Login opens a session for doc with the engine its "engine" key names.
// Call it on Options with defaults applied (WithDefaults). OnLogin is told
// of the attempt; nothing is logged (see LoginLogged).
func (o Options) Login(ctx context.Context, doc *events.SecretDocument) (engine.Session, error) {
	return o.LoginLogged(ctx, nil, doc)
}

// LoginLogged is Login that also logs the attempt on log: engine, host,
// port, user, TLS mode and the server name the certificate was checked
// against, never a credential; a plaintext login is a warning. Every login
// a strategy makes goes through it.
func (o Options) LoginLogged(ctx context.Context, log *slog.Logger, doc *events.SecretDocument) (engine.Session, error) {
	eng, p, err := o.Params(doc)
	if err != nil {
		return nil, err
	}
	s, err := eng.Login(ctx, p)
	info := LoginInfo{Engine: eng.Facts().Name, Host: p.Host, Port: p.Port, User: p.User, TLSMode: p.TLS.Mode, Err: err}
	if p.TLS.Mode == events.TLSVerifyFull {
		info.ServerName = p.Host
	}
	logLogin(log, info)
	if o.OnLogin != nil {
		o.OnLogin(info)
	}
	return s, err
}

func logLogin(log *slog.Logger, l LoginInfo) {
	if log == nil {
		return
	}
	attrs := []any{"engine", l.Engine, "host", l.Host, "port", l.Port, "user", l.User, "tls", l.TLSMode, "server_name", l.ServerName, "ok", l.Err == nil}
	if l.Plaintext() {
		log.Warn("database login without TLS: the password and the session cross the network unencrypted (\"ssl\": false or DB_TLS=disable)", attrs...)
		return
	}
	log.Info("database login", attrs...)
}

// Ping logs in with doc, runs a trivial query and closes the session.
func (o Options) Ping(ctx context.Context, doc *events.SecretDocument) error {
	return o.PingLogged(ctx, nil, doc)
}

// PingLogged is Ping with the login logged on log (LoginLogged).
func (o Options) PingLogged(ctx context.Context, log *slog.Logger, doc *events.SecretDocument) error {
	s, err := o.LoginLogged(ctx, log, doc)
	if err != nil {
		return err
	}
	defer s.Close(ctx) //nolint:errcheck // read-only session
	return s.Ping(ctx)
}

// SameTarget refuses a version (what: "pending", "previous") that points at
// another server than the current one.
func (o Options) SameTarget(cur, other *events.SecretDocument, what string) error {
	return o.Engines.SameTarget(cur, other, what)
}

// RequireMasterARN refuses a document alternating-users cannot rotate
// because it names no admin secret.
func RequireMasterARN(doc *events.SecretDocument) error {
	if doc.MasterARN == "" {
		return &events.FieldError{Field: "masterarn", Reason: "missing: alternating-users needs the ARN of an admin secret"}
	}
	return nil
}

// CheckAdminUser refuses an admin whose user is one of the pair
// alternating-users rotates (the base user or its clone): the admin would
// change its own password or lose its login mid-rotation.
func CheckAdminUser(admin, rotated string) error {
	ab, _ := BaseAndClone(admin)
	if rb, _ := BaseAndClone(rotated); ab == rb {
		return fmt.Errorf("the admin secret's user %q is one of the rotated users (%q and its clone); use a separate admin user", admin, rb)
	}
	return nil
}

func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
