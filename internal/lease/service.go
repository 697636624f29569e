package lease

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/rotation"
	"github.com/rotorhq/rotor/strategies"
	"github.com/rotorhq/rotor/strategies/engine"
)

// Lambda error types of the issuer's failures (Error.ErrorType).
const (
	// TypeInvalid: the request is malformed, names no role definition or
	// asks for more than the definition allows. Retrying will not help.
	TypeInvalid = "InvalidLeaseRequest"
	// TypeDenied: renew or revoke could not prove possession of the lease
	// (no such lease for the role, wrong password, or expired).
	TypeDenied = "LeaseDenied"
	// TypeFailed: the database or the admin secret failed; retrying may
	// help.
	TypeFailed = "LeaseFailed"
)

// Error is an issuer failure with its Lambda error type. Its message never
// holds a password.
type Error struct {
	Type string
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// ErrorType is the errorType Lambda reports (lambdafn.LambdaError).
func (e *Error) ErrorType() string { return e.Type }

func invalid(err error) error { return &Error{Type: TypeInvalid, Err: err} }
func failed(err error) error  { return &Error{Type: TypeFailed, Err: err} }

// errDenied is the one answer to a failed proof of possession: it does not
// say whether the user exists.
func errDenied(role string) error {
	return &Error{Type: TypeDenied, Err: fmt.Errorf("lease refused: no valid lease of role %q with that username and password (it may have expired)", role)}
}

// Options build a Service.
type Options struct {
	// Definitions are the role definitions (ParseDefinitions).
	Definitions []Definition
	// Secrets reads the admin secrets; Endpoints finds the database of an
	// RDS-managed one (nil: such secrets are refused).
	Secrets   rotation.AdminSecretsAPI
	Endpoints rotation.EndpointResolver
	// AdminSecretARNs is the allow-list the admin secrets are held to.
	AdminSecretARNs []string
	// Login says how to log in: engines, TLS mode and roots, timeout, and
	// the OnLogin hook (metrics). Defaults are applied.
	Login strategies.Options
	// Password is the lease password rule; zero means
	// rotation.DefaultPasswordPolicy with the engine's exclusions.
	Password rotation.PasswordPolicy
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Logger receives one line per request and per reaped user, never a
	// password. Nil discards.
	Logger *slog.Logger
	// OnOutcome, when set, is told of every request's outcome: action,
	// role and "ok" or the Lambda error type (metrics).
	OnOutcome func(action, role, outcome string)
}

// Service issues, renews, revokes and reaps leases. It is safe for
// concurrent use; each call opens its own database sessions.
type Service struct {
	defs   map[string]Definition
	order  []Definition
	o      Options
	mu     sync.Mutex
	admins map[string]*events.SecretDocument
}

// New checks o and returns a Service.
func New(o Options) (*Service, error) {
	if o.Secrets == nil {
		return nil, errors.New("lease: no Secrets Manager client")
	}
	if o.Login.Engines == nil {
		return nil, errors.New("lease: no engines")
	}
	if len(o.Definitions) == 0 {
		return nil, errors.New("lease: no role definitions")
	}
	o.Login = o.Login.WithDefaults()
	if o.Password.Length == 0 {
		o.Password = rotation.DefaultPasswordPolicy()
	}
	if err := o.Password.Validate(); err != nil {
		return nil, fmt.Errorf("lease: password rule: %w", err)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{defs: map[string]Definition{}, o: o, admins: map[string]*events.SecretDocument{}}
	for _, d := range o.Definitions {
		if _, dup := s.defs[d.Name]; dup {
			return nil, fmt.Errorf("lease: role definition %q defined twice", d.Name)
		}
		s.defs[d.Name] = d
		s.order = append(s.order, d)
	}
	return s, nil
}

// Handle serves one request: issue, renew or revoke. Errors are *Error.
func (s *Service) Handle(ctx context.Context, req events.LeaseRequest) (events.Lease, error) {
	action := req.ActionOrDefault()
	l, err := s.handle(ctx, req)
	outcome := "ok"
	if err != nil {
		var le *Error
		if !errors.As(err, &le) {
			err = failed(err)
			errors.As(err, &le)
		}
		outcome = le.Type
		s.o.Logger.Warn("lease request refused or failed", "action", action, "role", clip(req.Role), "user", clip(req.Username), "error_type", le.Type, "error", err.Error())
	} else {
		user := userOf(l)
		if user == "" {
			user = req.Username
		}
		s.o.Logger.Info("lease request served", "action", action, "role", req.Role, "user", user, "expires", l.ExpiresAt.Format(time.RFC3339), "max_expires", l.MaxExpiresAt.Format(time.RFC3339), "revoked", l.Revoked)
	}
	if s.o.OnOutcome != nil {
		role := req.Role
		if _, defined := s.defs[role]; !defined {
			role = "unknown" // a metric dimension holds defined names only
		}
		s.o.OnOutcome(action, role, outcome)
	}
	return l, err
}

// clip bounds a caller-supplied name in a log line.
func clip(s string) string {
	if len(s) > 100 {
		return s[:100] + "..."
	}
	return s
}

func userOf(l events.Lease) string {
	if l.Credentials == nil {
		return ""
	}
	return l.Credentials.Username
}

func (s *Service) handle(ctx context.Context, req events.LeaseRequest) (events.Lease, error) {
	if err := req.Validate(); err != nil {
		return events.Lease{}, invalid(err)
	}
	def, ok := s.defs[req.Role]
	if !ok {
		return events.Lease{}, invalid(&events.FieldError{Field: "role", Reason: fmt.Sprintf("no role definition named %q", req.Role)})
	}
	if req.TTLSeconds > def.MaxTTLSeconds {
		return events.Lease{}, invalid(&events.FieldError{Field: "ttlSeconds", Reason: fmt.Sprintf("%d is over role definition %q's maximum of %d seconds (maxTtlSeconds)", req.TTLSeconds, def.Name, def.MaxTTLSeconds)})
	}
	switch req.ActionOrDefault() {
	case events.LeaseRenew:
		return s.renew(ctx, def, req)
	case events.LeaseRevoke:
		return s.revoke(ctx, def, req)
	}
	return s.issue(ctx, def, req.TTLSeconds)
}

func ttlOf(def Definition, ttl int) time.Duration {
	if ttl == 0 {
		ttl = def.DefaultTTLSeconds
	}
	return time.Duration(ttl) * time.Second
}

// issue creates a lease user: v_<role>_<issued>_<random>, a generated
// password, valid for the TTL, member of the definition's group.
func (s *Service) issue(ctx context.Context, def Definition, ttl int) (events.Lease, error) {
	a, err := s.admin(ctx, def)
	if err != nil {
		return events.Lease{}, err
	}
	defer a.close(ctx)
	issued := s.o.Now().UTC().Truncate(time.Second)
	name, err := newUserName(def.Name, issued)
	if err != nil {
		return events.Lease{}, failed(err)
	}
	password, err := s.o.Password.Generate(a.facts.ExcludeCharacters)
	if err != nil {
		return events.Lease{}, failed(fmt.Errorf("generate a password: %w", err))
	}
	expires := issued.Add(ttlOf(def, ttl))
	if err := a.lm.CreateLeaseUser(ctx, engine.LeaseUser{Name: name, Password: password, Group: def.GroupRole, ValidUntil: expires}); err != nil {
		return events.Lease{}, failed(fmt.Errorf("issue a lease of role %q: %w", def.Name, err))
	}
	return s.answer(def, a.doc, name, password, issued, expires), nil
}

// answer is the lease for user: its credentials point where the admin
// secret does (host, port, database, TLS).
func (s *Service) answer(def Definition, admin *events.SecretDocument, user, password string, issued, expires time.Time) events.Lease {
	t, _ := s.o.Login.Engines.Resolve(admin) // resolved once already in admin()
	doc := &events.SecretDocument{Engine: admin.Engine, Host: t.Host, Port: t.Port, Username: user, Password: password, DBName: t.Database, SSL: admin.SSL}
	return events.Lease{
		Role:         def.Name,
		Credentials:  doc,
		IssuedAt:     issued,
		ExpiresAt:    expires,
		MaxExpiresAt: issued.Add(time.Duration(def.MaxTTLSeconds) * time.Second),
	}
}

// prove logs in as the lease user with the request's password and returns
// the lease's issue time and admin session. A failure to prove possession
// is errDenied, whatever the reason.
func (s *Service) prove(ctx context.Context, def Definition, req events.LeaseRequest) (time.Time, *adminSession, error) {
	role, issued, ok := parseUserName(req.Username)
	if !ok || role != def.Name {
		return time.Time{}, nil, errDenied(def.Name)
	}
	a, err := s.admin(ctx, def)
	if err != nil {
		return time.Time{}, nil, err
	}
	lease := s.answer(def, a.doc, req.Username, req.Password, issued, issued)
	us, err := s.o.Login.Login(ctx, lease.Credentials)
	if err != nil {
		a.close(ctx)
		if errors.Is(err, engine.ErrAuth) {
			return time.Time{}, nil, errDenied(def.Name)
		}
		return time.Time{}, nil, failed(fmt.Errorf("log in as the lease user: %w", err))
	}
	us.Close(ctx) //nolint:errcheck // the proof is done
	return issued, a, nil
}

// current returns the lease user's listing, refusing one that is not a
// member of the definition's group or whose expiry has passed (MariaDB
// lets an expired user log in until the reaper drops it).
func (s *Service) current(ctx context.Context, a *adminSession, def Definition, user string) (engine.LeaseUserInfo, error) {
	users, err := a.lm.ListLeaseUsers(ctx, user)
	if err != nil {
		return engine.LeaseUserInfo{}, failed(err)
	}
	for _, u := range users {
		if u.Name != user {
			continue
		}
		for _, g := range u.Groups {
			if g == def.GroupRole && !u.ValidUntil.IsZero() && s.o.Now().Before(u.ValidUntil) {
				return u, nil
			}
		}
	}
	return engine.LeaseUserInfo{}, errDenied(def.Name)
}

// renew extends a lease it has proof of to now + TTL, up to its issue time
// + the definition's maximum TTL.
func (s *Service) renew(ctx context.Context, def Definition, req events.LeaseRequest) (events.Lease, error) {
	issued, a, err := s.prove(ctx, def, req)
	if err != nil {
		return events.Lease{}, err
	}
	defer a.close(ctx)
	if _, err := s.current(ctx, a, def, req.Username); err != nil {
		return events.Lease{}, err
	}
	now := s.o.Now().UTC().Truncate(time.Second)
	l := s.answer(def, a.doc, req.Username, req.Password, issued, now.Add(ttlOf(def, req.TTLSeconds)))
	if l.ExpiresAt.After(l.MaxExpiresAt) {
		l.ExpiresAt = l.MaxExpiresAt
	}
	if !l.ExpiresAt.After(now) {
		return events.Lease{}, errDenied(def.Name)
	}
	if err := a.lm.ExtendLeaseUser(ctx, engine.LeaseExtension{Name: req.Username, Group: def.GroupRole, ValidUntil: l.ExpiresAt}); err != nil {
		return events.Lease{}, failed(fmt.Errorf("renew lease %q: %w", req.Username, err))
	}
	return l, nil
}

// revoke drops a lease user it has proof of.
func (s *Service) revoke(ctx context.Context, def Definition, req events.LeaseRequest) (events.Lease, error) {
	issued, a, err := s.prove(ctx, def, req)
	if err != nil {
		return events.Lease{}, err
	}
	defer a.close(ctx)
	info, err := s.current(ctx, a, def, req.Username)
	if err != nil {
		return events.Lease{}, err
	}
	resp, err := a.lm.DropLeaseUser(ctx, engine.LeaseDrop{Name: req.Username, Group: def.GroupRole})
	if err != nil {
		return events.Lease{}, failed(fmt.Errorf("revoke lease %q: %w", req.Username, err))
	}
	for _, n := range resp.Notes {
		s.o.Logger.Warn("revoked lease user left a note", "role", def.Name, "user", req.Username, "note", n)
	}
	return events.Lease{
		Role:         def.Name,
		IssuedAt:     issued,
		ExpiresAt:    info.ValidUntil,
		MaxExpiresAt: issued.Add(time.Duration(def.MaxTTLSeconds) * time.Second),
		Revoked:      true,
	}, nil
}
