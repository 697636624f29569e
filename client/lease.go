package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/rotorhq/rotor/events"
)

// Issuer answers lease requests: rotor's issuer function (package
// client/lambdaissuer invokes it through the Lambda API) or anything else
// that speaks events.LeaseRequest and events.Lease. It returns the
// issuer's refusal as an error.
type Issuer interface {
	Lease(ctx context.Context, req events.LeaseRequest) (events.Lease, error)
}

// Defaults for LeaseOptions fields left zero.
const (
	DefaultLeaseMargin  = 5 * time.Second
	DefaultLeaseTimeout = 30 * time.Second
)

// Where in a lease's span the renewer renews: uniformly between these
// fractions of the time from the last issue or renewal to the expiry (2/3,
// jittered by ±5 points, so a fleet of clients started together spreads
// its calls).
const (
	renewFrom = 0.62
	renewTo   = 0.72
)

// LeaseOptions configure a LeaseSource.
type LeaseOptions struct {
	// Role is the issuer's role definition. Required.
	Role string
	// TTL is the lifetime asked for at each issue and renewal, in whole
	// seconds; zero asks for the role definition's default.
	TTL time.Duration
	// Margin is how long before its user expires a connection must be
	// closed: the longest query or transaction the application runs, plus
	// clock skew between it and the issuer (default DefaultLeaseMargin).
	Margin time.Duration
	// Timeout bounds each call to the issuer (default DefaultLeaseTimeout).
	Timeout time.Duration
	// Logger receives renewals, new leases and failures: user names and
	// expiries, never a password. Nil discards.
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// LeaseSource holds a lease on database credentials from an Issuer and
// keeps one fit for new connections:
//
//   - NewLeaseSource obtains the first lease; its span (expiry minus issue)
//     sets ConnLifetime, a quarter of it less Margin;
//   - a background renewer renews the lease at about 2/3 of its span, and
//     obtains a new lease (a new user) instead when a renewal would not
//     give at least 5/6 of a full span, because the role definition's
//     maximum TTL (MaxExpiresAt) is near; the old user is left to expire
//     with the connections that use it;
//   - Current serves the lease only while it has ConnLifetime + Margin to
//     run, so a connection opened with it and closed after ConnLifetime is
//     closed Margin before its user expires; otherwise it renews or
//     obtains one before answering (normally the renewer did so long
//     before);
//   - Close stops the renewer and revokes every lease it still holds.
//
// Promises: no password reaches an error or a log line (events.Lease and
// events.SecretDocument format without it). A failed renewal leaves the
// lease in place and is retried; once the lease is no longer fit, Current
// returns the issuer's error. Safe for concurrent use.
type LeaseSource struct {
	issuer   Issuer
	opts     LeaseOptions
	log      *slog.Logger
	sf       singleflight.Group
	span     time.Duration // of the first lease
	lifetime time.Duration

	mu      sync.Mutex
	cur     events.Lease
	renewed time.Time            // when cur was issued or last renewed (local clock)
	users   map[string]time.Time // expiry of every user this source holds, current or retired
	held    []events.Lease       // retired leases not yet expired, for Close to revoke
	closed  bool

	stop chan struct{}
	done chan struct{}
	kick chan struct{}
}

// NewLeaseSource obtains a first lease for opts.Role and starts the renewer.
// It fails when the issuer refuses, and when the lease's span is too short
// for opts.Margin (ConnLifetime would not be positive).
func NewLeaseSource(ctx context.Context, issuer Issuer, opts LeaseOptions) (*LeaseSource, error) {
	if issuer == nil {
		return nil, errors.New("client: nil lease issuer")
	}
	if opts.Role == "" {
		return nil, errors.New("client: lease option Role: missing or empty")
	}
	if opts.TTL < 0 || opts.TTL%time.Second != 0 {
		return nil, fmt.Errorf("client: lease option TTL: %s is not a whole number of seconds >= 0", opts.TTL)
	}
	if opts.Margin <= 0 {
		opts.Margin = DefaultLeaseMargin
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultLeaseTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &LeaseSource{issuer: issuer, opts: opts, log: log.With("role", opts.Role), users: map[string]time.Time{},
		stop: make(chan struct{}), done: make(chan struct{}), kick: make(chan struct{}, 1)}
	l, err := s.call(ctx, events.LeaseRequest{Action: events.LeaseIssue, Role: opts.Role, TTLSeconds: s.ttlSeconds()})
	if err != nil {
		return nil, err
	}
	s.span = l.ExpiresAt.Sub(l.IssuedAt)
	s.lifetime = s.span/4 - opts.Margin
	if s.lifetime <= 0 {
		s.revoke(ctx, l)
		return nil, fmt.Errorf("client: lease of role %q lasts %s: too short for a connection lifetime with margin %s (a quarter of the lease must exceed the margin)", opts.Role, s.span, opts.Margin)
	}
	s.install(l)
	go s.renewer()
	return s, nil
}

// ConnLifetime is the longest a connection opened with Current's lease may
// live: set the pool's MaxConnLifetime (pgx) or SetConnMaxLifetime
// (database/sql) to it, or lower. pgxclient and mysqlclient do.
func (s *LeaseSource) ConnLifetime() time.Duration { return s.lifetime }

// Margin is LeaseOptions.Margin (or its default).
func (s *LeaseSource) Margin() time.Duration { return s.opts.Margin }

// Current returns the lease a new connection should log in with: one with
// at least ConnLifetime + Margin to run, renewed or newly obtained first
// when the held one is not (one issuer call shared by concurrent callers).
// Its Credentials are never nil.
func (s *LeaseSource) Current(ctx context.Context) (events.Lease, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return events.Lease{}, fmt.Errorf("client: lease source of role %q is closed", s.opts.Role)
	}
	if s.fitLocked() {
		l := s.cur
		s.mu.Unlock()
		return l, nil
	}
	s.mu.Unlock()
	ch := s.sf.DoChan("refresh", func() (any, error) {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.Timeout)
		defer cancel()
		return s.refresh(cctx, true)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return events.Lease{}, r.Err
		}
		return r.Val.(events.Lease), nil
	case <-ctx.Done():
		return events.Lease{}, fmt.Errorf("client: lease of role %q: %w", s.opts.Role, ctx.Err())
	}
}

// UserValid reports whether a connection logged in as username may still
// be handed out: the user is that of a lease this source holds or held,
// and does not expire within Margin. A pool checks it before handing out a
// connection.
func (s *LeaseSource) UserValid(username string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.users[username]
	return ok && t.Sub(s.opts.Now()) >= s.opts.Margin
}

// Close stops the renewer and revokes the current lease and every retired
// one with more than Margin to run (the rest expire on their own): close
// the pools using the source first. It returns the revocations' errors;
// calling it again does nothing.
func (s *LeaseSource) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.stop)
	s.mu.Unlock()
	<-s.done
	// A refresh in flight finishes before the leases are counted.
	s.sf.Do("refresh", func() (any, error) { return nil, nil })
	s.mu.Lock()
	leases := append([]events.Lease{s.cur}, s.held...)
	s.held = nil
	s.mu.Unlock()
	var errs []error
	now := s.opts.Now()
	for _, l := range leases {
		// A lease about to expire is left to expire (and to the reaper):
		// the issuer proves possession by logging in as its user, which
		// could expire while the revoke is under way.
		if l.Credentials == nil || l.ExpiresAt.Sub(now) < s.opts.Margin {
			continue
		}
		if err := s.revoke(ctx, l); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (s *LeaseSource) ttlSeconds() int { return int(s.opts.TTL / time.Second) }

// fitLocked reports whether cur may serve a new connection. Caller holds mu.
func (s *LeaseSource) fitLocked() bool {
	return s.cur.Credentials != nil && s.cur.ExpiresAt.Sub(s.opts.Now()) >= s.lifetime+s.opts.Margin
}

// renewAtLocked is when the renewer acts on cur: a jittered 2/3 of the way from
// its last issue or renewal to its expiry. Caller holds mu.
func (s *LeaseSource) renewAtLocked() time.Time {
	f := renewFrom + rand.Float64()*(renewTo-renewFrom)
	return s.renewed.Add(time.Duration(f * float64(s.cur.ExpiresAt.Sub(s.renewed))))
}

// renewer renews or replaces the lease at its renewal time until Close.
// After a failure it tries again after a tenth of the time left before the
// lease stops being fit (at least 100 ms).
func (s *LeaseSource) renewer() {
	defer close(s.done)
	s.mu.Lock()
	at, seen := s.renewAtLocked(), s.renewed
	s.mu.Unlock()
	for {
		t := time.NewTimer(max(at.Sub(s.opts.Now()), 0))
		select {
		case <-s.stop:
			t.Stop()
			return
		case <-t.C:
		}
		s.mu.Lock()
		if !s.renewed.Equal(seen) {
			// Current refreshed the lease meanwhile: start from that.
			at, seen = s.renewAtLocked(), s.renewed
			s.mu.Unlock()
			continue
		}
		s.mu.Unlock()
		_, err, _ := s.sf.Do("refresh", func() (any, error) {
			ctx, cancel := context.WithTimeout(context.Background(), s.opts.Timeout)
			defer cancel()
			return s.refresh(ctx, false)
		})
		s.mu.Lock()
		if err != nil {
			left := s.cur.ExpiresAt.Sub(s.opts.Now()) - s.lifetime - s.opts.Margin
			at = s.opts.Now().Add(max(left/10, 100*time.Millisecond))
			s.log.Warn("lease renewal failed; will retry", "user", userOf(s.cur), "expires", s.cur.ExpiresAt, "error", err)
		} else {
			at = s.renewAtLocked()
		}
		seen = s.renewed
		s.mu.Unlock()
	}
}

// refresh renews cur, or obtains a new lease when a renewal would give less
// than 5/6 of the first lease's span. With onlyIfUnfit it does nothing
// when cur is fit (another caller refreshed it meanwhile).
func (s *LeaseSource) refresh(ctx context.Context, onlyIfUnfit bool) (events.Lease, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return events.Lease{}, fmt.Errorf("client: lease source of role %q is closed", s.opts.Role)
	}
	if onlyIfUnfit && s.fitLocked() {
		l := s.cur
		s.mu.Unlock()
		return l, nil
	}
	cur, now := s.cur, s.opts.Now()
	s.mu.Unlock()

	wanted := s.span
	if s.opts.TTL > 0 {
		wanted = s.opts.TTL
	}
	renewable := cur.Credentials != nil && now.Before(cur.ExpiresAt) && cur.MaxExpiresAt.Sub(now) >= wanted*5/6
	if renewable {
		l, err := s.call(ctx, events.LeaseRequest{Action: events.LeaseRenew, Role: s.opts.Role, TTLSeconds: s.ttlSeconds(),
			Username: cur.Credentials.Username, Password: cur.Credentials.Password})
		if err == nil {
			if l.Credentials == nil {
				l.Credentials = cur.Credentials
			}
			s.log.Info("lease renewed", "user", l.Credentials.Username, "expires", l.ExpiresAt)
			s.install(l)
			return l, nil
		}
		if ctx.Err() != nil {
			return events.Lease{}, err
		}
		// A refused renewal (the user was reaped or revoked meanwhile)
		// is no reason to stop: a new lease serves as well. The refused
		// one is forgotten: nothing to revoke at Close, and its
		// connections fail UserValid.
		s.log.Warn("lease renewal refused; obtaining a new lease", "user", cur.Credentials.Username, "error", err)
		s.forget(cur)
	}
	l, err := s.call(ctx, events.LeaseRequest{Action: events.LeaseIssue, Role: s.opts.Role, TTLSeconds: s.ttlSeconds()})
	if err != nil {
		return events.Lease{}, err
	}
	s.log.Info("new lease", "user", l.Credentials.Username, "expires", l.ExpiresAt, "replaces", userOf(cur))
	s.install(l)
	return l, nil
}

// userOf is l's user name, "" when it has no credentials.
func userOf(l events.Lease) string {
	if l.Credentials == nil {
		return ""
	}
	return l.Credentials.Username
}

// forget drops l from what the source holds, if it is still current: it
// is not kept for Close and its user is no longer valid.
func (s *LeaseSource) forget(l events.Lease) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.users, l.Credentials.Username)
	if s.cur.Credentials != nil && s.cur.Credentials.Username == l.Credentials.Username {
		s.cur.Credentials = nil
	}
}

// install makes l current; a lease it replaces (another user) is kept for
// Close until it expires.
func (s *LeaseSource) install(l events.Lease) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	if s.cur.Credentials != nil && s.cur.Credentials.Username != l.Credentials.Username {
		s.held = append(s.held, s.cur)
	}
	s.cur, s.renewed = l, now
	s.users[l.Credentials.Username] = l.ExpiresAt
	kept := s.held[:0]
	for _, h := range s.held {
		if now.Before(h.ExpiresAt) {
			kept = append(kept, h)
		} else {
			delete(s.users, h.Credentials.Username)
		}
	}
	s.held = kept
}

// call asks the issuer and checks that an issue or renewal answer holds
// credentials and an expiry in the future.
func (s *LeaseSource) call(ctx context.Context, req events.LeaseRequest) (events.Lease, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	l, err := s.issuer.Lease(ctx, req)
	if err != nil {
		return events.Lease{}, fmt.Errorf("client: %s lease of role %q: %w", req.ActionOrDefault(), s.opts.Role, err)
	}
	switch {
	case req.ActionOrDefault() == events.LeaseIssue && (l.Credentials == nil || l.Credentials.Username == "" || l.Credentials.Password == ""):
		return events.Lease{}, fmt.Errorf("client: issue lease of role %q: the answer has no username or password", s.opts.Role)
	case !l.ExpiresAt.After(s.opts.Now()):
		return events.Lease{}, fmt.Errorf("client: %s lease of role %q: the answer expires at %s, not in the future", req.ActionOrDefault(), s.opts.Role, l.ExpiresAt.Format(time.RFC3339))
	}
	return l, nil
}

// revoke ends l at the issuer.
func (s *LeaseSource) revoke(ctx context.Context, l events.Lease) error {
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	_, err := s.issuer.Lease(ctx, events.LeaseRequest{Action: events.LeaseRevoke, Role: s.opts.Role,
		Username: l.Credentials.Username, Password: l.Credentials.Password})
	if err != nil {
		return fmt.Errorf("client: revoke lease of user %q: %w", l.Credentials.Username, err)
	}
	s.mu.Lock()
	delete(s.users, l.Credentials.Username)
	s.mu.Unlock()
	s.log.Info("lease revoked", "user", l.Credentials.Username)
	return nil
}
