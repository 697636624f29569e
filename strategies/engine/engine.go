package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/rotorhq/rotor/events"
)

// Engine logs in to one kind of database and states the facts rotor needs
// about it. Implementations are stateless values, safe for concurrent use.
type Engine interface {
	// Facts describes the database; it is the same on every call.
	Facts() Facts
	// Login opens a session with exactly p's TLS mode. A refusal of the
	// credentials wraps ErrAuth; the error never holds p.Password.
	Login(ctx context.Context, p Params) (Session, error)
}

// Session is a logged-in database connection, used by one goroutine.
type Session interface {
	// Close ends the session. Closing twice is harmless.
	Close(ctx context.Context) error
	// Ping runs a trivial query, proving the login can run statements.
	Ping(ctx context.Context) error
	// SetPassword sets user's password, sent as a verifier or hash, never
	// as SQL text. Setting the same password again is harmless. A user may
	// set its own password; another user's needs the engine's admin
	// privilege.
	SetPassword(ctx context.Context, user, password string) error
	// CountSessions counts user's sessions open on the server right now.
	CountSessions(ctx context.Context, user string) (int, error)
}

// RoleManager is implemented by the sessions of engines that support
// alternating-users: an admin session that keeps a clone user equivalent to
// its base user.
type RoleManager interface {
	// SyncAlternate makes req.Pending log in with req.Password, creating
	// the clone when it is missing and req.Pending is the clone, and makes
	// the clone equivalent to the base user. Repeating it after success or
	// after a failure at any point is harmless and finishes the job; on
	// failure the user AWSCURRENT names still logs in with the privileges
	// it had.
	SyncAlternate(ctx context.Context, req AlternateRequest) (AlternateResponse, error)
	// CanManageRole reports whether the session's user may do what
	// SyncAlternate asks for base user role. why explains the answer with
	// user, role and privilege names only. It changes nothing.
	CanManageRole(ctx context.Context, role string) (ok bool, why string, err error)
}

// Unit is what a database counts when it limits a user name.
type Unit string

// Units of a user name limit.
const (
	Bytes      Unit = "bytes"
	Characters Unit = "characters"
)

// Facts are what an engine knows about its database that the rest of rotor
// needs. Each fact lives here, once, for every caller.
type Facts struct {
	// Name identifies the engine in logs and errors ("postgres").
	Name string
	// Family is the wire protocol. Two documents point at the same kind of
	// server only if their engines share a family.
	Family string
	// DocumentEngines are the secret document "engine" values this engine
	// serves, as AWS's templates and the RDS console write them.
	DocumentEngines []string
	// DefaultPort applies when a document has no port.
	DefaultPort int
	// DefaultDatabase applies when a document has no dbname ("" = none).
	DefaultDatabase string
	// MaxUsername is the longest user name the database keeps intact,
	// counted in UsernameUnit.
	MaxUsername  int
	UsernameUnit Unit
	// ExcludeCharacters are the password characters to avoid when the
	// function's settings name none.
	ExcludeCharacters string
	// AdminPrivileges says what an admin user needs to manage user's
	// clone, as statements an operator can run (for rotor check).
	AdminPrivileges func(admin, user string) string
}

// UsernameLength returns name's length in the unit the database counts.
func (f Facts) UsernameLength(name string) int {
	if f.UsernameUnit == Characters {
		return utf8.RuneCountInString(name)
	}
	return len(name)
}

// CheckUsername refuses a name the database would not keep intact.
func (f Facts) CheckUsername(name string) error {
	if n := f.UsernameLength(name); f.MaxUsername > 0 && n > f.MaxUsername {
		return &events.FieldError{Field: "username", Reason: fmt.Sprintf("user %q would be %d %s; %s keeps at most %d (shorten the user name by %d)", name, n, f.UsernameUnit, f.Name, f.MaxUsername, n-f.MaxUsername)}
	}
	return nil
}

// Registry maps a secret document's "engine" value to its engine. The zero
// value is empty; Register fills it. It is read-only once built and safe for
// concurrent reads.
type Registry struct {
	byName map[string]Engine
}

// Register adds e under every document engine name it serves. A name served
// twice is a programming error and panics.
func (r *Registry) Register(e Engine) {
	if r.byName == nil {
		r.byName = map[string]Engine{}
	}
	for _, n := range e.Facts().DocumentEngines {
		if _, dup := r.byName[n]; dup {
			panic(fmt.Sprintf("engine: document engine %q registered twice", n))
		}
		r.byName[n] = e
	}
}

// Names returns the document engine names served, sorted.
func (r *Registry) Names() []string {
	if r == nil {
		return nil
	}
	names := make([]string, 0, len(r.byName))
	for n := range r.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Lookup returns the engine for a document's "engine" value, or an error
// naming the field and the values this build serves. An unknown or empty
// engine is always an error: no engine is a default for another.
func (r *Registry) Lookup(name string) (Engine, error) {
	if r == nil {
		return nil, errors.New("no database engines are registered (a nil engine registry)")
	}
	if e, ok := r.byName[name]; ok {
		return e, nil
	}
	if name == "" {
		return nil, &events.FieldError{Field: "engine", Reason: "missing (want " + strings.Join(r.Names(), ", ") + ")"}
	}
	if len(name) > 40 {
		name = name[:40] + "..."
	}
	return nil, &events.FieldError{Field: "engine", Reason: fmt.Sprintf("unsupported engine %q (want %s)", name, strings.Join(r.Names(), ", "))}
}

// Target is a document resolved against its engine: the engine's defaults
// applied, nothing else changed.
type Target struct {
	Engine   Engine
	Host     string
	Port     int
	Database string
}

// Resolve looks up doc's engine and applies its default port and database.
func (r *Registry) Resolve(doc *events.SecretDocument) (Target, error) {
	e, err := r.Lookup(doc.Engine)
	if err != nil {
		return Target{}, err
	}
	f := e.Facts()
	t := Target{Engine: e, Host: doc.Host, Port: doc.Port, Database: doc.DBName}
	if t.Port == 0 {
		t.Port = f.DefaultPort
	}
	if t.Database == "" {
		t.Database = f.DefaultDatabase
	}
	return t, nil
}

// SameTarget refuses a document b that points at another server than a:
// another engine family, host or port (defaults applied). A tampered
// version must not send credentials elsewhere. what names b in the error
// ("pending", "previous").
func (r *Registry) SameTarget(a, b *events.SecretDocument, what string) error {
	ta, err := r.Resolve(a)
	if err != nil {
		return err
	}
	tb, err := r.Resolve(b)
	if err != nil {
		return err
	}
	switch {
	case ta.Engine.Facts().Family != tb.Engine.Facts().Family:
		return &events.FieldError{Field: "engine", Reason: fmt.Sprintf("%s engine %q differs from current %q", what, b.Engine, a.Engine)}
	case ta.Host != tb.Host:
		return &events.FieldError{Field: "host", Reason: fmt.Sprintf("%s host %q differs from current %q", what, tb.Host, ta.Host)}
	case ta.Port != tb.Port:
		return &events.FieldError{Field: "port", Reason: fmt.Sprintf("%s port %d differs from current %d", what, tb.Port, ta.Port)}
	}
	return nil
}
