package engine

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/rotorhq/rotor/events"
)

// Params says where and as whom to log in. Password is a secret.
type Params struct {
	Host     string
	Port     int
	Database string
	User     string
	Password string
	TLS      TLS
	// ConnectTimeout bounds one connection attempt, TLS and authentication
	// included. Zero means the engine's default.
	ConnectTimeout time.Duration
}

// String describes the target without the password.
func (p Params) String() string {
	return fmt.Sprintf("%s@%s:%d/%s (tls=%s)", p.User, p.Host, p.Port, p.Database, p.TLS.Mode)
}

// TLS is the TLS policy for one connection.
type TLS struct {
	// Mode is events.TLSVerifyFull, events.TLSRequire or events.TLSDisable.
	Mode string
	// RootCAs verifies the server in verify-full mode; nil means the system
	// roots.
	RootCAs *x509.CertPool
}

// Config returns the crypto/tls configuration for host, or nil when the mode
// is disable. verify-full checks the chain and the host name; require
// encrypts without checking who answers. An unknown mode is an error, never a
// weaker default.
func (t TLS) Config(host string) (*tls.Config, error) {
	switch t.Mode {
	case events.TLSVerifyFull:
		return &tls.Config{ServerName: host, RootCAs: t.RootCAs, MinVersion: tls.VersionTLS12}, nil
	case events.TLSRequire:
		// Encryption without verification is what the operator asked for
		// with "require"; it is never chosen on rotor's own.
		return &tls.Config{ServerName: host, InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}, nil //nolint:gosec // explicit opt-in
	case events.TLSDisable:
		return nil, nil
	}
	return nil, fmt.Errorf("unknown TLS mode %q (want verify-full, require or disable)", t.Mode)
}

// ParseMode checks a TLS mode name from configuration.
func ParseMode(s string) (string, error) {
	switch s {
	case events.TLSVerifyFull, events.TLSRequire, events.TLSDisable:
		return s, nil
	}
	return "", fmt.Errorf("unknown TLS mode %q (want verify-full, require or disable)", s)
}

// LoadCABundle reads a PEM bundle of CA certificates. An empty path means the
// system roots (nil pool).
func LoadCABundle(path string) (*x509.CertPool, error) {
	if path == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read CA bundle: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA bundle %s: no PEM certificates found", path)
	}
	return pool, nil
}

// ErrAuth marks a login refused because of the credentials (wrong password,
// unknown user), as opposed to a network, TLS or server failure. Strategies
// use it to tell "this password is not the current one" from "the database
// is unreachable": only the former may lead them to try another password.
var ErrAuth = errors.New("authentication failed")

// LoginError is a failed login. Err is wrapped so errors.Is(err, ErrAuth)
// tells an authentication refusal.
type LoginError struct {
	User string
	Host string
	Err  error
}

func (e *LoginError) Error() string {
	return fmt.Sprintf("log in as %q at %s: %v", e.User, e.Host, e.Err)
}

func (e *LoginError) Unwrap() error { return e.Err }

// AlternateRequest asks an engine's SyncAlternate to make Pending log in
// with Password and to keep the clone a working stand-in for the base user.
type AlternateRequest struct {
	// Base is the original application user (the name without "_clone").
	Base string
	// Clone is the alternate user.
	Clone string
	// Pending is the user whose password changes: Base or Clone.
	Pending string
	// Password is Pending's new password (a secret).
	Password string
}

// AlternateResponse reports what SyncAlternate did.
type AlternateResponse struct {
	// CreatedClone is true when the clone did not exist before.
	CreatedClone bool
	// Changes lists the changes applied beyond the password, in a form safe
	// to log (user, role, privilege and attribute names only).
	Changes []string
}

// ConnectTimedOut says so when a login under ctx failed because its connect
// timeout ran out (the server accepted the connection, or not, and never
// answered), rather than leaving a bare "context deadline exceeded". Other
// errors, and a deadline of ctx's own, are returned unchanged.
func ConnectTimedOut(ctx context.Context, err error, timeout time.Duration) error {
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return fmt.Errorf("no answer within the connect timeout (%s): %w", timeout, err)
	}
	return err
}
