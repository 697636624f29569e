package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"golang.org/x/sync/singleflight"

	"github.com/rotorhq/rotor/events"
)

// SecretsManager is the part of the Secrets Manager API the cache calls,
// with the SDK client's own method signatures: *secretsmanager.Client
// satisfies it, and so does any wrapper or fake with these two methods.
type SecretsManager interface {
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	DescribeSecret(context.Context, *secretsmanager.DescribeSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
}

// Defaults for Options fields left zero.
const (
	DefaultTTL      = 5 * time.Minute
	DefaultMaxStale = time.Hour
	DefaultTimeout  = 10 * time.Second
)

// Options configure a Cache.
type Options struct {
	// SecretID is the secret's name or ARN. Required.
	SecretID string
	// Stage is the staging label served (default AWSCURRENT).
	Stage string
	// TTL is how long a value is served without asking Secrets Manager
	// (default DefaultTTL; negative: ask on every Get). Keep it well below
	// the rotation interval; with alternating-users a client must re-read
	// at least once per rotation.
	TTL time.Duration
	// MaxStale is how long past its TTL the last value is still served when
	// Secrets Manager cannot be reached (default DefaultMaxStale; negative:
	// never). After that Get returns the error.
	MaxStale time.Duration
	// ReadEveryTime skips the DescribeSecret check when the TTL expires and
	// calls GetSecretValue directly: one call per expiry instead of one, or
	// two when the version changed. The default (false) asks DescribeSecret
	// first, which moves no secret value and needs no KMS decrypt.
	ReadEveryTime bool
	// Timeout bounds each call to Secrets Manager (default DefaultTimeout).
	// A shared refresh runs detached from any one caller's context, so one
	// caller giving up does not fail the others.
	Timeout time.Duration
	// Logger receives version changes and refresh failures: version ids and
	// error text, never a value. Nil discards.
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Cache holds one secret's value for one staging label. It is safe for
// concurrent use.
type Cache struct {
	sm   SecretsManager
	opts Options
	log  *slog.Logger
	sf   singleflight.Group

	mu      sync.Mutex
	cur     *Secret   // the stage's value
	checked time.Time // when cur was last confirmed or read
	login   *Secret   // AWSPENDING value to log in with while cur is refused
}

// New returns a cache; it makes no call until the first Get.
func New(sm SecretsManager, opts Options) (*Cache, error) {
	if sm == nil {
		return nil, errors.New("client: nil Secrets Manager client")
	}
	if opts.SecretID == "" {
		return nil, errors.New("client: option SecretID: missing or empty")
	}
	if opts.Stage == "" {
		opts.Stage = events.LabelCurrent
	}
	switch {
	case opts.TTL == 0:
		opts.TTL = DefaultTTL
	case opts.TTL < 0:
		opts.TTL = 0
	}
	if opts.MaxStale == 0 {
		opts.MaxStale = DefaultMaxStale
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Cache{sm: sm, opts: opts, log: log.With("secret", opts.SecretID, "stage", opts.Stage)}, nil
}

// Get returns the stage's value: the cached one within TTL, else the one
// Secrets Manager holds now (DescribeSecret first, GetSecretValue only when
// the version changed). When Secrets Manager fails, the cached value is
// served for MaxStale more and the failure is logged; after that, or with
// nothing cached, Get returns the error.
func (c *Cache) Get(ctx context.Context) (Secret, error) {
	c.mu.Lock()
	if c.cur != nil && c.opts.Now().Before(c.checked.Add(c.opts.TTL)) {
		s := *c.cur
		c.mu.Unlock()
		return s, nil
	}
	c.mu.Unlock()
	return c.shared(ctx, "check", c.check)
}

// Refresh reads the stage's value from Secrets Manager now, whatever the
// TTL. Concurrent calls share one GetSecretValue. On failure the cache is
// unchanged and the error returned.
func (c *Cache) Refresh(ctx context.Context) (Secret, error) {
	return c.shared(ctx, "read", c.read)
}

// Login returns the secret a new database login should use: the value Get
// returns, or, after LoginRefused found a single-user rotation between
// setSecret and finishSecret, that rotation's AWSPENDING value (until the
// stage moves). Pass it to LoginRefused if the database refuses it.
func (c *Cache) Login(ctx context.Context) (Secret, error) {
	s, err := c.Get(ctx)
	if err != nil {
		return Secret{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.login != nil && c.cur != nil && c.cur.VersionID == s.VersionID {
		return *c.login, nil
	}
	return s, nil
}

// loginLocked is what Login serves without a refresh. Caller holds c.mu.
func (c *Cache) loginLocked() *Secret {
	if c.login != nil {
		return c.login
	}
	return c.cur
}

// LoginRefused tells the cache that the database refused a login made with
// refused (a Secret Login returned). It reports whether Login now serves a
// different version, worth one more attempt: at once when the cache already
// moved on, else after one DescribeSecret shared by every concurrent caller
// refused with the same version. That call finds a newer version on the
// stage or, for AWSCURRENT, the AWSPENDING version of a rotation in flight
// (single-user: the database holds the pending password before
// finishSecret moves AWSCURRENT). It returns false when Secrets Manager
// holds nothing else to try; the caller then reports its login error.
func (c *Cache) LoginRefused(ctx context.Context, refused Secret) (bool, error) {
	moved := func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		l := c.loginLocked()
		return l != nil && l.VersionID != refused.VersionID
	}
	if moved() {
		return true, nil
	}
	if _, err := c.shared(ctx, "refused:"+refused.VersionID, func(ctx context.Context) (Secret, error) {
		return c.afterRefusal(ctx, refused.VersionID)
	}); err != nil {
		return false, err
	}
	return moved(), nil
}

// shared runs fn once for all concurrent callers with the same key, on a
// context detached from any one caller's cancellation and bounded by
// Options.Timeout; each caller still returns when its own ctx is done.
func (c *Cache) shared(ctx context.Context, key string, fn func(context.Context) (Secret, error)) (Secret, error) {
	ch := c.sf.DoChan(key, func() (any, error) {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.Timeout)
		defer cancel()
		return fn(cctx)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return Secret{}, r.Err
		}
		return r.Val.(Secret), nil
	case <-ctx.Done():
		return Secret{}, fmt.Errorf("read secret %q: %w", c.opts.SecretID, ctx.Err())
	}
}

// check confirms the cached version with DescribeSecret, reading the value
// only when the stage moved; on failure it falls back to stale.
func (c *Cache) check(ctx context.Context) (Secret, error) {
	c.mu.Lock()
	cur := c.cur
	c.mu.Unlock()
	if cur == nil || c.opts.ReadEveryTime {
		return c.readOrStale(ctx)
	}
	ids, err := c.describe(ctx)
	if err != nil {
		return c.stale(err)
	}
	id := ids[c.opts.Stage]
	c.mu.Lock()
	login := c.login
	c.mu.Unlock()
	if id != cur.VersionID && login != nil && login.VersionID == id {
		// The pending value logged in with is now current (finishSecret
		// ran): versions are immutable, so no need to read it again.
		s := *login
		s.Stages = []string{c.opts.Stage}
		c.store(s)
		return s, nil
	}
	if id != cur.VersionID {
		return c.readOrStale(ctx)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur.VersionID == cur.VersionID {
		c.checked = c.opts.Now()
	}
	return *c.cur, nil
}

func (c *Cache) readOrStale(ctx context.Context) (Secret, error) {
	s, err := c.read(ctx)
	if err != nil {
		return c.stale(err)
	}
	return s, nil
}

// stale serves the cached value after a failed refresh while it is within
// TTL+MaxStale of its last confirmation.
func (c *Cache) stale(err error) (Secret, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == nil || c.opts.MaxStale < 0 || !c.opts.Now().Before(c.checked.Add(c.opts.TTL+c.opts.MaxStale)) {
		return Secret{}, err
	}
	c.log.Warn("secret refresh failed; serving the cached version", "version", c.cur.VersionID, "confirmed", c.checked, "error", err)
	return *c.cur, nil
}

// read calls GetSecretValue for the stage and stores the result.
func (c *Cache) read(ctx context.Context) (Secret, error) {
	s, err := c.get(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(c.opts.SecretID), VersionStage: aws.String(c.opts.Stage)})
	if err != nil {
		return Secret{}, err
	}
	c.store(s)
	return s, nil
}

func (c *Cache) get(ctx context.Context, in *secretsmanager.GetSecretValueInput) (Secret, error) {
	out, err := c.sm.GetSecretValue(ctx, in)
	if err != nil {
		which := aws.ToString(in.VersionStage)
		if in.VersionId != nil {
			which = "version " + aws.ToString(in.VersionId)
		}
		return Secret{}, fmt.Errorf("GetSecretValue %q (%s): %w", c.opts.SecretID, which, err)
	}
	return secretFrom(out), nil
}

// store makes s the stage's value; a new version ends any pending-login
// fallback.
func (c *Cache) store(s Secret) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == nil || c.cur.VersionID != s.VersionID {
		if c.cur != nil {
			c.log.Info("secret version changed", "from", c.cur.VersionID, "to", s.VersionID)
		}
		c.login = nil
	}
	c.cur = &s
	c.checked = c.opts.Now()
}

// describe returns the secret's version id per staging label.
func (c *Cache) describe(ctx context.Context) (map[string]string, error) {
	out, err := c.sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(c.opts.SecretID)})
	if err != nil {
		return nil, fmt.Errorf("DescribeSecret %q: %w", c.opts.SecretID, err)
	}
	ids := map[string]string{}
	for id, stages := range out.VersionIdsToStages {
		for _, st := range stages {
			ids[st] = id
		}
	}
	return ids, nil
}

// afterRefusal brings the stage up to date and, when the stage still names
// the refused version and is AWSCURRENT, takes the AWSPENDING version as
// the login credential.
func (c *Cache) afterRefusal(ctx context.Context, refused string) (Secret, error) {
	ids, err := c.describe(ctx)
	if err != nil {
		return Secret{}, err
	}
	curID := ids[c.opts.Stage]
	if curID == "" {
		return Secret{}, fmt.Errorf("DescribeSecret %q: no version carries %s", c.opts.SecretID, c.opts.Stage)
	}
	c.mu.Lock()
	cur, login := c.cur, c.login
	c.mu.Unlock()
	if cur == nil || curID != cur.VersionID {
		s := Secret{}
		if login != nil && login.VersionID == curID {
			s = *login // versions are immutable: no need to read it again
			s.Stages = []string{c.opts.Stage}
		} else if s, err = c.get(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(c.opts.SecretID), VersionId: aws.String(curID)}); err != nil {
			return Secret{}, err
		}
		c.store(s)
		cur = &s
	}
	if c.opts.Stage != events.LabelCurrent || curID != refused {
		return *cur, nil
	}
	pendingID := ids[events.LabelPending]
	if pendingID == "" || pendingID == refused {
		return *cur, nil
	}
	p, err := c.get(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(c.opts.SecretID), VersionId: aws.String(pendingID)})
	if err != nil {
		return Secret{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur != nil && c.cur.VersionID == curID {
		c.login = &p
		c.log.Info("login refused with the current version; using the pending version of a rotation in flight", "current", curID, "pending", pendingID)
	}
	return *cur, nil
}
