package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sync"
	"time"
)

// Lease actions: what a LeaseRequest asks functions/issuer to do.
const (
	// LeaseIssue creates a new database user for the caller.
	LeaseIssue = "issue"
	// LeaseRenew extends an unexpired lease, up to its role definition's
	// maximum TTL counted from when it was issued.
	LeaseRenew = "renew"
	// LeaseRevoke ends a lease before its expiry (an application shutting
	// down); the user is dropped at once.
	LeaseRevoke = "revoke"
)

// LeaseRoleNamePattern is what a role definition's name may look like: it
// becomes part of database user names, so it is kept to characters every
// engine accepts unquoted, and short.
const LeaseRoleNamePattern = `^[a-z][a-z0-9_]{0,23}$`

var leaseRoleNameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(LeaseRoleNamePattern) })

// MaxLeaseTTLSeconds bounds any lease: a role definition's maximum TTL may
// not exceed it (7 days).
const MaxLeaseTTLSeconds = 7 * 24 * 3600

// LeaseRequest is the input of the issuer function. It names a role
// definition, never SQL: what the user may do is decided by the group role
// the definition names, created by the database's operators.
//
// Renew and revoke prove possession of the lease with its password, so a
// caller allowed to invoke the issuer cannot extend or end someone else's
// credentials by knowing a user name.
type LeaseRequest struct {
	// Action is LeaseIssue (the default when empty), LeaseRenew or
	// LeaseRevoke.
	Action string `json:"action,omitempty"`
	// Role is the role definition's name.
	Role string `json:"role"`
	// TTLSeconds is the wanted lifetime from now; zero means the role
	// definition's default. Over the definition's maximum is refused.
	TTLSeconds int `json:"ttlSeconds,omitempty"`
	// Username and Password identify the lease to renew or revoke.
	// Password is a secret.
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
}

// ParseLeaseRequest decodes and validates a request. Unknown fields are an
// error, so a misspelt option is not silently ignored. Errors never hold the
// password.
func ParseLeaseRequest(data []byte) (LeaseRequest, error) {
	var r LeaseRequest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return LeaseRequest{}, fmt.Errorf("decode lease request: %s", jsonErrorWithoutValue(err))
	}
	if dec.More() {
		return LeaseRequest{}, fmt.Errorf("decode lease request: more than one JSON value")
	}
	return r, r.Validate()
}

// Validate checks the request's shape. Whether the role definition exists
// and the TTL fits it is the issuer's to check.
func (r LeaseRequest) Validate() error {
	action := r.Action
	if action == "" {
		action = LeaseIssue
	}
	switch {
	case action != LeaseIssue && action != LeaseRenew && action != LeaseRevoke:
		return &FieldError{Field: "action", Reason: fmt.Sprintf("%q is not one of issue, renew, revoke", truncate(r.Action, 40))}
	case r.Role == "":
		return &FieldError{Field: "role", Reason: "missing: name a role definition"}
	case !leaseRoleNameRE().MatchString(r.Role):
		return &FieldError{Field: "role", Reason: fmt.Sprintf("%q is not a role definition name (%s)", truncate(r.Role, 40), LeaseRoleNamePattern)}
	case r.TTLSeconds < 0 || r.TTLSeconds > MaxLeaseTTLSeconds:
		return &FieldError{Field: "ttlSeconds", Reason: fmt.Sprintf("%d is outside 0..%d", r.TTLSeconds, MaxLeaseTTLSeconds)}
	}
	if action == LeaseIssue {
		switch {
		case r.Username != "":
			return &FieldError{Field: "username", Reason: "not allowed when issuing: the issuer chooses the user name"}
		case r.Password != "":
			return &FieldError{Field: "password", Reason: "not allowed when issuing: the issuer generates the password"}
		}
		return nil
	}
	switch {
	case r.Username == "":
		return &FieldError{Field: "username", Reason: fmt.Sprintf("missing: %s names the lease's user", action)}
	case r.Password == "":
		return &FieldError{Field: "password", Reason: fmt.Sprintf("missing: %s proves possession of the lease with its password", action)}
	case action == LeaseRevoke && r.TTLSeconds != 0:
		return &FieldError{Field: "ttlSeconds", Reason: "not allowed when revoking"}
	}
	return nil
}

// ActionOrDefault returns the action, LeaseIssue when empty.
func (r LeaseRequest) ActionOrDefault() string {
	if r.Action == "" {
		return LeaseIssue
	}
	return r.Action
}

// String describes the request without the password.
func (r LeaseRequest) String() string {
	return fmt.Sprintf("%s role=%s user=%q ttl=%ds", r.ActionOrDefault(), r.Role, r.Username, r.TTLSeconds)
}

// Lease is the issuer's answer: a database user of its own for the caller,
// valid until ExpiresAt. Credentials has the shape of a rotated secret's
// document (engine, host, port, username, password, dbname, ssl), so the
// client packages that log in with a secret log in with a lease the same
// way. Credentials.Password is a secret; a revoke answer has no Credentials.
type Lease struct {
	Role        string          `json:"role"`
	Credentials *SecretDocument `json:"credentials,omitempty"`
	// IssuedAt is when the user was created; renewals keep it.
	IssuedAt time.Time `json:"issuedAt"`
	// ExpiresAt is when the user stops logging in (PostgreSQL VALID UNTIL)
	// and becomes the reaper's to drop.
	ExpiresAt time.Time `json:"expiresAt"`
	// MaxExpiresAt is as far as renewals can take the lease.
	MaxExpiresAt time.Time `json:"maxExpiresAt"`
	// Revoked is set in the answer to a revoke.
	Revoked bool `json:"revoked,omitempty"`
}

// String describes the lease without the password.
func (l Lease) String() string {
	user := ""
	if l.Credentials != nil {
		user = l.Credentials.Username
	}
	return fmt.Sprintf("lease role=%s user=%q expires=%s max=%s", l.Role, user, l.ExpiresAt.UTC().Format(time.RFC3339), l.MaxExpiresAt.UTC().Format(time.RFC3339))
}

// UnmarshalJSON decodes a lease, its credentials with ParseSecretDocument.
func (l *Lease) UnmarshalJSON(data []byte) error {
	type plain Lease
	var v struct {
		plain
		Credentials json.RawMessage `json:"credentials,omitempty"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return fmt.Errorf("decode lease: %s", jsonErrorWithoutValue(err))
	}
	*l = Lease(v.plain)
	l.Credentials = nil
	if len(v.Credentials) > 0 && string(v.Credentials) != "null" {
		d, err := ParseSecretDocument(string(v.Credentials))
		if err != nil {
			return fmt.Errorf("decode lease credentials: %w", err)
		}
		l.Credentials = d
	}
	return nil
}

// JSONErrorWithoutValue reports a decoding error by its kind and position,
// never by the text it was decoding (which may hold a password or, in
// configuration, anything else): for callers outside this package that
// decode strictly too.
func JSONErrorWithoutValue(err error) string { return jsonErrorWithoutValue(err) }

// jsonErrorWithoutValue reports a decoding error by its kind and position,
// never by the text it was decoding (which may hold a password).
func jsonErrorWithoutValue(err error) string {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "malformed JSON: it ends early"
	}
	switch e := err.(type) {
	case *json.SyntaxError:
		return fmt.Sprintf("malformed JSON at byte %d", e.Offset)
	case *json.UnmarshalTypeError:
		return fmt.Sprintf("field %q: want a JSON %s", e.Field, e.Type)
	}
	// Unknown-field errors name the field only ("json: unknown field").
	return err.Error()
}
