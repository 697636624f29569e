package strategies

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/strategies/engine"
)

// CloneSuffix is appended to the base user's name to name its alternate, as
// AWS's templates do.
const CloneSuffix = "_clone"

// AlternateUsername returns the user the next rotation writes: name with
// "_clone" stripped when present, else appended. A name the database would
// not keep intact (facts.CheckUsername) is an error, never a truncation.
func AlternateUsername(name string, facts engine.Facts) (string, error) {
	var alt string
	if base, ok := strings.CutSuffix(name, CloneSuffix); ok {
		alt = base
	} else {
		alt = name + CloneSuffix
	}
	if alt == "" {
		return "", &events.FieldError{Field: "username", Reason: fmt.Sprintf("%q has no base name before %q", name, CloneSuffix)}
	}
	if err := facts.CheckUsername(alt); err != nil {
		return "", err
	}
	return alt, nil
}

// BaseAndClone returns the base user and its clone for either name.
func BaseAndClone(name string) (base, clone string) {
	base = strings.TrimSuffix(name, CloneSuffix)
	return base, base + CloneSuffix
}

// AlternatingUsers alternates between a base user and its clone. The admin
// secret named by masterarn changes the password of the user not named by
// AWSCURRENT, so the current credential keeps working for a whole rotation
// period.
//
// Logins per rotation: two (admin in setSecret, pending in testSecret).
type AlternatingUsers struct{ opts Options }

// Name implements the rotation strategy interface.
func (*AlternatingUsers) Name() string { return NameAlternatingUsers }

// Create switches the user to the alternate and sets the new password.
func (a *AlternatingUsers) Create(ctx context.Context, req CreateRequest) (CreateResponse, error) {
	eng, err := a.opts.Engines.Lookup(req.Current.Engine)
	if err != nil {
		return CreateResponse{}, err
	}
	if err := RequireMasterARN(req.Current); err != nil {
		return CreateResponse{}, err
	}
	alt, err := AlternateUsername(req.Current.Username, eng.Facts())
	if err != nil {
		return CreateResponse{}, err
	}
	if err := checkMaster(ctx, req.Master, req.Current); err != nil {
		return CreateResponse{}, err
	}
	password, err := req.NewPassword(eng.Facts().ExcludeCharacters)
	if err != nil {
		return CreateResponse{}, err
	}
	p := req.Current.Clone()
	p.Username = alt
	p.Password = password
	return CreateResponse{Pending: p}, nil
}

// Set logs in as the admin and makes the pending user log in with the pending
// password, creating the clone on first use and re-syncing it with the base
// user every time. Before the password changes it counts the pending user's
// open sessions (clients still holding AWSPREVIOUS); with
// PREVIOUS_USER_SESSIONS=fail any open session refuses the rotation.
func (a *AlternatingUsers) Set(ctx context.Context, req SetRequest) (SetResponse, error) {
	log := logger(req.Logger)
	if err := a.opts.SameTarget(req.Current, req.Pending, "pending"); err != nil {
		return SetResponse{}, err
	}
	base, clone := BaseAndClone(req.Current.Username)
	if req.Pending.Username != base && req.Pending.Username != clone {
		return SetResponse{}, &events.FieldError{Field: "username", Reason: fmt.Sprintf("pending user %q is neither %q nor %q", req.Pending.Username, base, clone)}
	}
	if req.Pending.Username == req.Current.Username {
		return SetResponse{}, &events.FieldError{Field: "username", Reason: fmt.Sprintf("pending user %q is the current user: alternating-users must change the other user", req.Pending.Username)}
	}
	if req.Master == nil {
		return SetResponse{}, errors.New("no admin secret loader")
	}
	master, err := loadAdmin(ctx, req.Master, req.Current)
	if err != nil {
		return SetResponse{}, err
	}
	_, admin, err := a.opts.Params(master)
	if err != nil {
		return SetResponse{}, fmt.Errorf("admin secret (masterarn): %w", err)
	}
	if req.PinBase == nil {
		return SetResponse{}, errors.New("no base-user pin check: alternating-users refuses to act without one")
	}
	if err := req.PinBase(ctx, events.BaseUserPin(base, admin.Host, admin.Port)); err != nil {
		return SetResponse{}, err
	}
	sess, err := a.opts.LoginLogged(ctx, log, master)
	if errors.Is(err, engine.ErrAuth) {
		sess, err = a.pendingAdminLogin(ctx, log, req, master, err)
	}
	if err != nil {
		return SetResponse{}, fmt.Errorf("admin login: %w", err)
	}
	defer sess.Close(ctx) //nolint:errcheck
	rm, ok := sess.(engine.RoleManager)
	if !ok {
		return SetResponse{}, fmt.Errorf("engine %q cannot manage users: alternating-users is not available for it", master.Engine)
	}

	n, err := sess.CountSessions(ctx, req.Pending.Username)
	if err != nil {
		return SetResponse{}, err
	}
	log.Info("open sessions of the user about to get a new password", "user", req.Pending.Username, "sessions", n, "policy", a.opts.PreviousUserSessions)
	if n > 0 && a.opts.PreviousUserSessions == SessionsFail {
		return SetResponse{}, fmt.Errorf("%w: %q has %d open session(s) still using the previous credential (PREVIOUS_USER_SESSIONS=fail)", ErrSessionsOpen, req.Pending.Username, n)
	}
	resp, err := rm.SyncAlternate(ctx, engine.AlternateRequest{Base: base, Clone: clone, Pending: req.Pending.Username, Password: req.Pending.Password})
	if err != nil {
		return SetResponse{}, err
	}
	log.Info("alternate user synced", "user", req.Pending.Username, "created_clone", resp.CreatedClone, "changes", resp.Changes)
	return SetResponse{}, nil
}

// pendingAdminLogin logs in with the admin secret's AWSPENDING password
// after its current one was refused (refused): an admin secret rotated by
// another rotation (rds-master, single-user) whose setSecret has run and
// whose finishSecret has not. The pending version is used only for the same
// user on the same server; otherwise, or when there is none, refused is
// returned.
func (a *AlternatingUsers) pendingAdminLogin(ctx context.Context, log *slog.Logger, req SetRequest, master *events.SecretDocument, refused error) (engine.Session, error) {
	if req.MasterPending == nil {
		return nil, refused
	}
	pend, err := req.MasterPending(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w; reading the admin secret's pending version failed too: %w", refused, err)
	}
	if pend == nil || pend.Password == master.Password {
		return nil, refused
	}
	if pend, err = AdminTarget(pend, req.Current); err != nil {
		return nil, fmt.Errorf("%w; the admin secret's pending version: %w", refused, err)
	}
	if pend.Username != master.Username || a.opts.SameTarget(master, pend, "admin pending") != nil {
		log.Warn("the admin secret's pending version names another user or server; not using it", "user", pend.Username)
		return nil, refused
	}
	log.Info("admin password refused; the admin secret is mid-rotation, trying its pending version", "user", master.Username)
	return a.opts.LoginLogged(ctx, log, pend)
}

// checkMaster loads the admin document with load, when given, and checks
// its user as Set will, so that a bad masterarn fails before anything is
// written. It reads and does not log in. The host of an RDS-managed admin
// secret may be left unresolved by load (CreateRequest.Master); Set checks
// it.
func checkMaster(ctx context.Context, load DocLoader, cur *events.SecretDocument) error {
	if load == nil {
		return nil
	}
	master, err := load(ctx)
	if err != nil {
		return fmt.Errorf("load admin secret: %w", err)
	}
	return CheckAdminUser(master.Username, cur.Username)
}

// loadAdmin loads the admin document and checks that it names a host and
// a user other than the rotated ones.
func loadAdmin(ctx context.Context, load DocLoader, cur *events.SecretDocument) (*events.SecretDocument, error) {
	master, err := load(ctx)
	if err != nil {
		return nil, fmt.Errorf("load admin secret: %w", err)
	}
	if master, err = AdminTarget(master, cur); err != nil {
		return nil, err
	}
	if err := CheckAdminUser(master.Username, cur.Username); err != nil {
		return nil, err
	}
	return master, nil
}

// AdminTarget returns the admin document ready to log in. Only the engine
// is taken from the rotated secret when the admin document names none (an
// RDS-managed master secret whose engine RDS did not supply): everything
// else the rotated secret says is controlled by whoever may write it, who is
// less trusted than the admin. So the admin's host is never borrowed (an
// admin document without one is an error), nor its database (the admin
// logs in to its own dbname, else the engine's default: a database the
// application owns may carry settings that act on the admin's session),
// nor its TLS mode (the admin document's "ssl", else the function's
// DB_TLS: a rotated secret's "ssl": false must not send the admin's
// password in plaintext).
func AdminTarget(master, cur *events.SecretDocument) (*events.SecretDocument, error) {
	if master.Host == "" {
		return nil, &events.FieldError{Field: "host", Reason: "the admin secret (masterarn) names no host; add host and port to it, or tag it with aws:rds:primarydbinstancearn / aws:rds:primarydbclusterarn"}
	}
	m := master.Clone()
	if m.Engine == "" {
		m.Engine = cur.Engine
	}
	return m, nil
}

// Test logs in with the pending credential and runs a query.
func (a *AlternatingUsers) Test(ctx context.Context, req TestRequest) (TestResponse, error) {
	return TestResponse{}, a.opts.PingLogged(ctx, logger(req.Logger), req.Pending)
}
