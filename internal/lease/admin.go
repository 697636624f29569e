package lease

import (
	"context"
	"errors"
	"fmt"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/rotation"
	"github.com/rotorhq/rotor/strategies/engine"
)

// adminSession is a logged-in admin and what it logged in with.
type adminSession struct {
	sess  engine.Session
	lm    engine.LeaseManager
	doc   *events.SecretDocument
	facts engine.Facts
}

func (a *adminSession) close(ctx context.Context) {
	if a != nil && a.sess != nil {
		a.sess.Close(context.WithoutCancel(ctx)) //nolint:errcheck // nothing to do about it
	}
}

// admin logs in with def's admin secret. The secret's value is kept for the
// container's life; a login refused with it (rotor rotated the admin secret
// meanwhile) reads it again, and, when the new value is refused too, tries
// the secret's AWSPENDING value (a rotation between setSecret and
// finishSecret).
func (s *Service) admin(ctx context.Context, def Definition) (*adminSession, error) {
	s.mu.Lock()
	doc, cached := s.admins[def.AdminSecretARN]
	s.mu.Unlock()
	if !cached {
		var err error
		if doc, err = s.loadAdmin(ctx, def, false); err != nil {
			return nil, err
		}
	}
	a, err := s.adminLogin(ctx, def, doc)
	if err == nil || !errors.Is(err, engine.ErrAuth) {
		return a, err
	}
	if cached {
		if doc, err = s.loadAdmin(ctx, def, false); err != nil {
			return nil, err
		}
		if a, err = s.adminLogin(ctx, def, doc); err == nil || !errors.Is(err, engine.ErrAuth) {
			return a, err
		}
	}
	pending, perr := s.loadAdmin(ctx, def, true)
	if perr != nil || pending == nil {
		return nil, err
	}
	s.o.Logger.Info("admin secret's current value refused; trying its pending value (a rotation in progress)", "role", def.Name)
	return s.adminLogin(ctx, def, pending)
}

// loadAdmin reads the admin secret (AWSPENDING when pending; nil when it
// has none) and caches it.
func (s *Service) loadAdmin(ctx context.Context, def Definition, pending bool) (*events.SecretDocument, error) {
	load := rotation.LoadMaster
	if pending {
		load = rotation.LoadMasterPending
	}
	doc, err := load(ctx, s.o.Secrets, s.o.Endpoints, def.AdminSecretARN, s.o.AdminSecretARNs, s.o.Logger)
	if err != nil {
		return nil, failed(fmt.Errorf("role %q: %w", def.Name, err))
	}
	if doc == nil {
		return nil, nil
	}
	s.mu.Lock()
	s.admins[def.AdminSecretARN] = doc
	s.mu.Unlock()
	return doc, nil
}

// adminLogin logs in with doc, which must point at def's engine family.
func (s *Service) adminLogin(ctx context.Context, def Definition, doc *events.SecretDocument) (*adminSession, error) {
	want, err := s.o.Login.Engines.Lookup(def.Engine)
	if err != nil {
		return nil, failed(err)
	}
	got, err := s.o.Login.Engines.Lookup(doc.Engine)
	if err != nil {
		return nil, failed(fmt.Errorf("role %q: admin secret: %w", def.Name, err))
	}
	if got.Facts().Family != want.Facts().Family {
		return nil, failed(fmt.Errorf("role %q: its admin secret is for engine %q, but the definition says %q", def.Name, doc.Engine, def.Engine))
	}
	sess, err := s.o.Login.LoginLogged(ctx, s.o.Logger, doc)
	if err != nil {
		return nil, failed(fmt.Errorf("role %q: log in as the admin: %w", def.Name, err))
	}
	lm, ok := sess.(engine.LeaseManager)
	if !ok {
		sess.Close(ctx) //nolint:errcheck
		return nil, failed(fmt.Errorf("role %q: engine %q does not issue leases", def.Name, doc.Engine))
	}
	return &adminSession{sess: sess, lm: lm, doc: doc, facts: want.Facts()}, nil
}
