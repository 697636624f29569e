package strategies

import (
	"context"
	"errors"
	"fmt"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/strategies/engine"
)

// SingleUser rotates the password of the secret's own user, logged in as
// that user. It needs no admin credentials.
//
// Logins per rotation on the normal path: two (current in setSecret, pending
// in testSecret). A repeated setSecret is recognised when the current
// password is refused and the pending one logs in.
type SingleUser struct{ opts Options }

// Name implements the rotation strategy interface.
func (*SingleUser) Name() string { return NameSingleUser }

// Create copies the current document with the new password.
func (s *SingleUser) Create(_ context.Context, req CreateRequest) (CreateResponse, error) {
	p, _, err := s.opts.withNewPassword(req, "")
	return CreateResponse{Pending: p}, err
}

// withNewPassword returns a copy of the current document with a new
// password generated for its engine, avoiding the engine's excluded
// characters and exclude, and the engine's facts.
func (o Options) withNewPassword(req CreateRequest, exclude string) (*events.SecretDocument, engine.Facts, error) {
	eng, err := o.Engines.Lookup(req.Current.Engine)
	if err != nil {
		return nil, engine.Facts{}, err
	}
	// A name the database cannot hold cannot log in: say so before any
	// change, not as a refused login in setSecret.
	if err := eng.Facts().CheckUsername(req.Current.Username); err != nil {
		return nil, engine.Facts{}, err
	}
	password, err := req.NewPassword(eng.Facts().ExcludeCharacters + exclude)
	if err != nil {
		return nil, engine.Facts{}, err
	}
	p := req.Current.Clone()
	p.Password = password
	return p, eng.Facts(), nil
}

// Set logs in with the current password and changes it to the pending one.
// If the current password is refused, the pending one is tried (the change
// was made by an earlier attempt), then the previous one (the current
// version was written by hand but the database kept the old password).
// Only an authentication refusal leads to another attempt: a network or TLS
// failure is returned as is.
func (s *SingleUser) Set(ctx context.Context, req SetRequest) (SetResponse, error) {
	log := logger(req.Logger)
	if err := s.opts.SameTarget(req.Current, req.Pending, "pending"); err != nil {
		return SetResponse{}, err
	}
	if req.Pending.Username != req.Current.Username {
		return SetResponse{}, fmt.Errorf("pending user %q differs from current user %q: single-user rotation keeps the user", req.Pending.Username, req.Current.Username)
	}
	sess, err := s.opts.LoginLogged(ctx, log, req.Current)
	if err == nil {
		defer sess.Close(ctx) //nolint:errcheck
		return SetResponse{}, sess.SetPassword(ctx, req.Current.Username, req.Pending.Password)
	}
	if !errors.Is(err, engine.ErrAuth) {
		return SetResponse{}, err
	}
	log.Info("current password refused; trying pending", "user", req.Current.Username)
	if perr := s.opts.PingLogged(ctx, log, req.Pending); perr == nil {
		return SetResponse{AlreadySet: true}, nil
	} else if !errors.Is(perr, engine.ErrAuth) {
		return SetResponse{}, perr
	}
	if req.Previous != nil {
		prev, lerr := req.Previous(ctx)
		if lerr != nil {
			return SetResponse{}, fmt.Errorf("load previous version: %w", lerr)
		}
		if prev != nil && prev.Username == req.Current.Username && s.opts.SameTarget(req.Current, prev, "previous") == nil {
			log.Info("pending password refused; trying previous", "user", req.Current.Username)
			psess, perr := s.opts.LoginLogged(ctx, log, prev)
			if perr == nil {
				defer psess.Close(ctx) //nolint:errcheck
				return SetResponse{}, psess.SetPassword(ctx, req.Current.Username, req.Pending.Password)
			}
		}
	}
	return SetResponse{}, fmt.Errorf("no known password logs in as %q (current, pending and previous refused): %w", req.Current.Username, err)
}

// Test logs in with the pending credential and runs a query.
func (s *SingleUser) Test(ctx context.Context, req TestRequest) (TestResponse, error) {
	return TestResponse{}, s.opts.PingLogged(ctx, logger(req.Logger), req.Pending)
}
