package strategies

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/rdsapi"
)

// RDSAPI is the part of the RDS client rds-master uses; rotor's
// *rdsapi.Client satisfies it.
type RDSAPI interface {
	DescribeDBInstance(ctx context.Context, id string) (rdsapi.DBInstance, error)
	DescribeDBCluster(ctx context.Context, id string) (rdsapi.DBCluster, error)
	DBInstances(ctx context.Context) ([]rdsapi.DBInstance, error)
	DBClusters(ctx context.Context) ([]rdsapi.DBCluster, error)
	ModifyDBInstanceMasterPassword(ctx context.Context, id, password string) error
	ModifyDBClusterMasterPassword(ctx context.Context, id, password string) error
}

// Defaults of the rds-master wait.
const (
	// DefaultRDSPollInterval is the first wait between two describe calls;
	// it doubles up to maxRDSPollInterval.
	DefaultRDSPollInterval = 500 * time.Millisecond
	// DefaultRDSMaxWait bounds one setSecret's wait for RDS.
	DefaultRDSMaxWait  = 10 * time.Minute
	maxRDSPollInterval = 10 * time.Second
	// rdsResetting is the status RDS reports while it applies a master
	// password.
	rdsResetting = "resetting-master-credentials"
	// rdsForbidden are the characters RDS refuses in a master password
	// (besides non-printable ones).
	rdsForbidden = `/@" `
)

// ErrMasterChangePending is returned (wrapped) when RDS still reports the
// master password change as pending when rds-master's time runs out. The
// secret is unchanged; a retried setSecret waits again.
var ErrMasterChangePending = errors.New("master password change still pending in RDS")

// RDSMaster rotates an RDS master user's password through the RDS API
// (ModifyDBInstance / ModifyDBCluster with MasterUserPassword), so setSecret
// logs in to no database: a lost current password is not fatal and no
// network path to the database is needed to set it. testSecret logs in with
// the pending password, as every strategy does.
//
// The instance or cluster is the one the secret's dbInstanceIdentifier or
// dbClusterIdentifier key names (as AWS's templates accept), else the one
// whose endpoint is the secret's host and port. Its master user must be the
// secret's user, and RDS must not manage its master password.
//
// Logins per rotation: one (pending, in testSecret).
type RDSMaster struct{ opts Options }

// Name implements the rotation strategy interface.
func (*RDSMaster) Name() string { return NameRDSMaster }

// Create copies the current document with a new password RDS accepts.
func (r *RDSMaster) Create(_ context.Context, req CreateRequest) (CreateResponse, error) {
	p, facts, err := r.opts.withNewPassword(req, rdsForbidden)
	if err != nil {
		return CreateResponse{}, err
	}
	if err := CheckRDSMasterPassword(p.Password, facts.Family); err != nil {
		return CreateResponse{}, err
	}
	return CreateResponse{Pending: p}, nil
}

// CheckRDSMasterPassword refuses a password RDS would refuse as a master
// password for an engine of family: characters other than printable ASCII,
// '/', '@', '"' or space; fewer than 8 characters; more than 41 for the
// MySQL family or 128 otherwise. The error never contains the password.
func CheckRDSMasterPassword(password, family string) error {
	for _, c := range password {
		if c < 0x21 || c > 0x7e || strings.ContainsRune(rdsForbidden, c) {
			return errors.New(`the new password has a character RDS refuses in a master password (only printable ASCII other than '/', '@', '"' and space): add them to the excluded characters (EXCLUDE_CHARACTERS)`)
		}
	}
	maxLen := 128
	if family == "mysql" {
		maxLen = 41
	}
	if n := len(password); n < 8 || n > maxLen {
		return fmt.Errorf("the new password is %d characters; RDS takes master passwords of 8 to %d for this engine (PASSWORD_LENGTH)", n, maxLen)
	}
	return nil
}

// Set asks RDS to change the master password to the pending one and waits
// until RDS no longer reports the change as pending. It logs in to no
// database, so it cannot tell which password RDS applied; testSecret does.
//
// Repeating it is safe. A change found pending when Set begins is taken
// for an earlier attempt's (one whose time ran out): Set waits it out and
// returns without asking again, so a change slower than one invocation's
// time still completes over retries; were it anyone else's change,
// testSecret fails and the next pass, finding nothing pending, sets the
// pending password. Finding nothing pending, Set asks for the change, which
// is harmless when RDS already has that password. The wait ends before the
// context's deadline (the Lambda's remaining time, less a margin) and after
// Options.RDSMaxWait at most; then ErrMasterChangePending is returned.
func (r *RDSMaster) Set(ctx context.Context, req SetRequest) (SetResponse, error) {
	log := logger(req.Logger)
	if err := r.opts.SameTarget(req.Current, req.Pending, "pending"); err != nil {
		return SetResponse{}, err
	}
	if req.Pending.Username != req.Current.Username {
		return SetResponse{}, fmt.Errorf("pending user %q differs from current user %q: rds-master rotation keeps the master user", req.Pending.Username, req.Current.Username)
	}
	t, err := r.target(ctx, req.Current)
	if err != nil {
		return SetResponse{}, err
	}
	// The document names the instance or cluster; whoever may write it
	// must not re-point an established secret at another master whose
	// password would then land in this secret. The same pin as
	// alternating-users' base user: set at the first rotation (or by
	// Terraform), refused when it changes or another secret holds it.
	if req.PinBase == nil {
		return SetResponse{}, errors.New("no pin check: rds-master refuses to act without one")
	}
	if err := req.PinBase(ctx, t.pin(req.Current.Username)); err != nil {
		return SetResponse{}, err
	}
	w := r.newWait(ctx, t)
	log.Info("changing the master password through RDS", "rds", t.String(), "user", req.Current.Username)
	waited, err := w.untilSettled(ctx, log)
	if err != nil {
		return SetResponse{}, err
	}
	if waited {
		log.Info("a master password change was already pending (an earlier attempt's); it has applied, and testSecret checks it is the pending password", "rds", t.String(), "describe_calls", w.describes)
		return SetResponse{}, nil
	}
	for {
		err := t.modify(ctx, r.opts.RDS, req.Pending.Password)
		if err == nil {
			break
		}
		if !rdsapi.IsInvalidState(err) {
			return SetResponse{}, fmt.Errorf("set master password of %s: %w", t, err)
		}
		log.Info("RDS refused the change in the resource's current state; waiting", "rds", t.String())
		if err := w.sleep(ctx); err != nil {
			return SetResponse{}, err
		}
	}
	if _, err := w.untilSettled(ctx, log); err != nil {
		return SetResponse{}, err
	}
	log.Info("master password change applied by RDS", "rds", t.String(), "describe_calls", w.describes)
	return SetResponse{}, nil
}

// Test logs in with the pending credential and runs a query.
func (r *RDSMaster) Test(ctx context.Context, req TestRequest) (TestResponse, error) {
	return TestResponse{}, r.opts.PingLogged(ctx, logger(req.Logger), req.Pending)
}

// RDSMasterTarget finds and checks, as rds-master's setSecret does, the
// RDS instance or cluster whose master password doc holds, and describes
// it ("DB instance db1"). It changes nothing. opts.RDS is required.
func RDSMasterTarget(ctx context.Context, opts Options, doc *events.SecretDocument) (string, error) {
	if opts.RDS == nil {
		return "", errors.New("no RDS client")
	}
	t, err := (&RDSMaster{opts: opts.WithDefaults()}).target(ctx, doc)
	if err != nil {
		return "", err
	}
	return t.String(), nil
}

// rdsTarget is an RDS instance or cluster.
type rdsTarget struct {
	cluster bool
	id      string
}

// pin is the rotor:base-user value for user as master of t.
func (t rdsTarget) pin(user string) string {
	kind := "rds-instance/"
	if t.cluster {
		kind = "rds-cluster/"
	}
	return events.BaseUserPin(user, kind+t.id, 0)
}

func (t rdsTarget) String() string {
	if t.cluster {
		return "DB cluster " + t.id
	}
	return "DB instance " + t.id
}

// rdsState is what describe reports about a target.
type rdsState struct {
	status          string
	pendingPassword bool
	masterUser      string
	managed         bool // RDS manages the master password (MasterUserSecret)
	cluster         string
}

func (t rdsTarget) describe(ctx context.Context, api RDSAPI) (rdsState, error) {
	if t.cluster {
		c, err := api.DescribeDBCluster(ctx, t.id)
		if err != nil {
			return rdsState{}, fmt.Errorf("describe %s: %w", t, err)
		}
		return rdsState{status: c.Status, masterUser: c.MasterUsername, managed: c.MasterUserSecretARN != "", pendingPassword: c.PendingMasterPassword}, nil
	}
	i, err := api.DescribeDBInstance(ctx, t.id)
	if err != nil {
		return rdsState{}, fmt.Errorf("describe %s: %w", t, err)
	}
	return rdsState{status: i.Status, masterUser: i.MasterUsername, managed: i.MasterUserSecretARN != "", cluster: i.ClusterIdentifier, pendingPassword: i.PendingMasterPassword}, nil
}

// settled reports whether no master password change is pending.
func (s rdsState) settled() bool { return !s.pendingPassword && s.status != rdsResetting }

func (t rdsTarget) modify(ctx context.Context, api RDSAPI, password string) error {
	if t.cluster {
		return api.ModifyDBClusterMasterPassword(ctx, t.id, password)
	}
	return api.ModifyDBInstanceMasterPassword(ctx, t.id, password)
}

// target finds the instance or cluster doc's master password belongs to and
// checks it: the secret's user is its master user, and RDS does not manage
// that user's password.
func (r *RDSMaster) target(ctx context.Context, doc *events.SecretDocument) (rdsTarget, error) {
	clusterID, err := doc.ExtraString(events.KeyDBClusterIdentifier)
	if err != nil {
		return rdsTarget{}, err
	}
	instanceID, err := doc.ExtraString(events.KeyDBInstanceIdentifier)
	if err != nil {
		return rdsTarget{}, err
	}
	var t rdsTarget
	switch {
	case clusterID != "":
		t = rdsTarget{cluster: true, id: clusterID}
	case instanceID != "":
		t = rdsTarget{id: instanceID}
	default:
		if t, err = r.findByEndpoint(ctx, doc); err != nil {
			return rdsTarget{}, err
		}
	}
	st, err := t.describe(ctx, r.opts.RDS)
	if err != nil {
		return rdsTarget{}, err
	}
	if !t.cluster && st.cluster != "" {
		// An Aurora instance: the master password is the cluster's.
		t = rdsTarget{cluster: true, id: st.cluster}
		if st, err = t.describe(ctx, r.opts.RDS); err != nil {
			return rdsTarget{}, err
		}
	}
	if st.managed {
		return rdsTarget{}, fmt.Errorf("RDS manages the master password of %s in its own secret (ManageMasterUserPassword): RDS rotates it, so do not attach rotor's rotator to it", t)
	}
	if st.masterUser != doc.Username {
		return rdsTarget{}, &events.FieldError{Field: "username", Reason: fmt.Sprintf("%q is not the master user of %s (%q): rds-master rotates only the master user", doc.Username, t, st.masterUser)}
	}
	return t, nil
}

// findByEndpoint returns the instance or cluster whose endpoint is doc's
// host and port (the engine's default port applied). Cluster reader
// endpoints count; an Aurora instance's endpoint names its cluster.
func (r *RDSMaster) findByEndpoint(ctx context.Context, doc *events.SecretDocument) (rdsTarget, error) {
	tg, err := r.opts.Engines.Resolve(doc)
	if err != nil {
		return rdsTarget{}, err
	}
	host := strings.ToLower(strings.TrimSuffix(tg.Host, "."))
	same := func(h string, port int) bool {
		return strings.ToLower(h) == host && port == tg.Port
	}
	var found []rdsTarget
	instances, err := r.opts.RDS.DBInstances(ctx)
	if err != nil {
		return rdsTarget{}, fmt.Errorf("list DB instances to find %s:%d: %w", host, tg.Port, err)
	}
	for _, i := range instances {
		if i.Endpoint == nil || !same(i.Endpoint.Address, i.Endpoint.Port) {
			continue
		}
		if i.ClusterIdentifier != "" {
			found = append(found, rdsTarget{cluster: true, id: i.ClusterIdentifier})
		} else {
			found = append(found, rdsTarget{id: i.Identifier})
		}
	}
	clusters, err := r.opts.RDS.DBClusters(ctx)
	if err != nil {
		return rdsTarget{}, fmt.Errorf("list DB clusters to find %s:%d: %w", host, tg.Port, err)
	}
	for _, c := range clusters {
		if same(c.Endpoint, c.Port) || same(c.ReaderEndpoint, c.Port) {
			found = append(found, rdsTarget{cluster: true, id: c.Identifier})
		}
	}
	switch n := len(uniqueTargets(found)); {
	case n == 0:
		return rdsTarget{}, &events.FieldError{Field: "host", Reason: fmt.Sprintf("no RDS instance or cluster in this account and region has the endpoint %s:%d; add %s or %s to the secret", host, tg.Port, events.KeyDBInstanceIdentifier, events.KeyDBClusterIdentifier)}
	case n > 1:
		return rdsTarget{}, &events.FieldError{Field: "host", Reason: fmt.Sprintf("%d RDS resources have the endpoint %s:%d; add %s or %s to the secret", n, host, tg.Port, events.KeyDBInstanceIdentifier, events.KeyDBClusterIdentifier)}
	}
	return found[0], nil
}

func uniqueTargets(ts []rdsTarget) []rdsTarget {
	var out []rdsTarget
	for _, t := range ts {
		dup := false
		for _, o := range out {
			dup = dup || o == t
		}
		if !dup {
			out = append(out, t)
		}
	}
	return out
}

// rdsWait polls a target with a doubling interval until a deadline.
type rdsWait struct {
	r         *RDSMaster
	t         rdsTarget
	start     time.Time
	deadline  time.Time
	interval  time.Duration
	describes int
}

// newWait bounds the wait by RDSMaxWait and, when ctx has a deadline (the
// Lambda's remaining time), by that deadline less a fifth of the time left,
// at most 15 s: enough to report the error.
func (r *RDSMaster) newWait(ctx context.Context, t rdsTarget) *rdsWait {
	now := time.Now()
	deadline := now.Add(r.opts.RDSMaxWait)
	if dl, ok := ctx.Deadline(); ok {
		margin := min(dl.Sub(now)/5, 15*time.Second)
		if d := dl.Add(-margin); d.Before(deadline) {
			deadline = d
		}
	}
	return &rdsWait{r: r, t: t, start: now, deadline: deadline, interval: r.opts.RDSPollInterval}
}

// untilSettled describes the target until no master password change is
// pending. waited reports whether one was.
func (w *rdsWait) untilSettled(ctx context.Context, log *slog.Logger) (waited bool, err error) {
	for {
		st, err := w.t.describe(ctx, w.r.opts.RDS)
		if err != nil {
			return waited, err
		}
		w.describes++
		if st.settled() {
			return waited, nil
		}
		waited = true
		if w.describes == 1 || w.describes%10 == 0 {
			log.Info("RDS reports a pending master password change; waiting", "rds", w.t.String(), "status", st.status, "waited_ms", time.Since(w.start).Milliseconds())
		}
		if err := w.sleep(ctx); err != nil {
			return waited, err
		}
	}
}

// sleep waits one interval, doubling the next, or returns
// ErrMasterChangePending when the interval would pass the deadline.
func (w *rdsWait) sleep(ctx context.Context) error {
	if time.Now().Add(w.interval).After(w.deadline) {
		return fmt.Errorf("%w: %s after %s; the secret is unchanged and a retried setSecret waits for the change to apply", ErrMasterChangePending, w.t, time.Since(w.start).Round(time.Millisecond))
	}
	timer := time.NewTimer(w.interval)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("waiting for %s: %w", w.t, ctx.Err())
	case <-timer.C:
	}
	w.interval = min(2*w.interval, max(maxRDSPollInterval, w.r.opts.RDSPollInterval))
	return nil
}
