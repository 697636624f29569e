package ops

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/config"
	"github.com/rotorhq/rotor/rotation"
	"github.com/rotorhq/rotor/strategies"
	"github.com/rotorhq/rotor/strategies/engine"
)

// CheckStatus is the verdict of one preflight check.
type CheckStatus string

// Check verdicts. Only FAIL makes a preflight fail.
const (
	CheckPass CheckStatus = "PASS"
	CheckFail CheckStatus = "FAIL"
	CheckWarn CheckStatus = "WARN"
	CheckInfo CheckStatus = "INFO"
	// CheckSkip: not run because a check it depends on failed.
	CheckSkip CheckStatus = "SKIP"
)

// Check is one preflight check.
type Check struct {
	Name   string      `json:"name"`
	Status CheckStatus `json:"status"`
	Detail string      `json:"detail,omitempty"`
	// Hint says how to fix a FAIL or WARN.
	Hint string `json:"hint,omitempty"`
}

// Names of the preflight checks, in the order they run.
const (
	CheckSecret          = "secret"
	CheckOwner           = "owner"
	CheckRotationConfig  = "rotation-config"
	CheckUnfinished      = "unfinished-rotation"
	CheckStrategy        = "strategy"
	CheckDocument        = "document"
	CheckCloneName       = "clone-name"
	CheckConnection      = "connection"
	CheckCurrentLogin    = "current-login"
	CheckAdminSecret     = "admin-secret"
	CheckBaseUser        = "base-user"
	CheckAdminLogin      = "admin-login"
	CheckAdminPrivileges = "admin-privileges"
	CheckPreviousUser    = "previous-user-sessions"
	CheckRDSMaster       = "rds-master"
)

// CheckOptions configure Preflight. Secrets is required.
type CheckOptions struct {
	Secrets SecretsAPI
	// DB is how to reach databases (the rotator's settings). Its
	// PreviousUserSessions is the rotator's policy: with SessionsFail, open
	// sessions of the user the next rotation changes are a FAIL.
	DB strategies.Options
	// Strategy applies when the secret has no rotor:strategy tag; "" means
	// single-user.
	Strategy string
	// Endpoints finds the database of an RDS-managed admin secret, as the
	// rotator does; nil means such a secret fails the admin check.
	Endpoints rotation.EndpointResolver
	// AdminSecretARNs is the rotator's ADMIN_SECRET_ARNS: masterarn must be
	// one of them.
	AdminSecretARNs []string
}

// Failed reports whether any check failed.
func Failed(checks []Check) bool {
	for _, c := range checks {
		if c.Status == CheckFail {
			return true
		}
	}
	return false
}

// Preflight checks that a secret can be rotated: the secret and its
// rotation settings, its document for the strategy, the database's
// reachability and TLS, the current credentials and, for alternating-users,
// the admin secret, the admin's login and privileges, the clone's name and
// the sessions of the user the next rotation changes. It logs in to the
// database and changes nothing anywhere. A check that cannot run because an
// earlier one failed is SKIP.
func Preflight(ctx context.Context, opts CheckOptions, secretID string) []Check {
	p := &preflight{opts: opts, db: newDB(opts.DB)}
	p.run(ctx, secretID)
	return p.checks
}

type preflight struct {
	opts   CheckOptions
	db     db
	checks []Check
	// pending is the check of an unfinished rotation, nil when there is none.
	pending *PendingCheck
}

func (p *preflight) add(name string, st CheckStatus, detail, hint string) {
	p.checks = append(p.checks, Check{Name: name, Status: st, Detail: detail, Hint: hint})
}

func (p *preflight) skip(names ...string) {
	for _, n := range names {
		p.add(n, CheckSkip, "", "")
	}
}

func (p *preflight) run(ctx context.Context, secretID string) {
	d, cur, docErr, ok := p.secret(ctx, secretID)
	if !ok {
		return
	}
	strategy, src, err := chooseStrategy(d, p.opts.Strategy)
	if err != nil {
		p.add(CheckStrategy, CheckFail, err.Error(), fmt.Sprintf("set the %s tag to one of %s", rotation.TagStrategy, strings.Join(strategies.Names(), ", ")))
		return
	}
	p.add(CheckStrategy, CheckInfo, fmt.Sprintf("%s (from %s)", strategy, src), "")
	alternating := strategy == strategies.NameAlternatingUsers

	var eng engine.Engine
	err = docErr
	if err == nil {
		eng, err = p.db.Engines.Lookup(cur.Engine)
	}
	if err == nil && alternating {
		err = strategies.RequireMasterARN(cur)
	}
	if err != nil {
		p.add(CheckDocument, CheckFail, err.Error(), "fix the AWSCURRENT document with aws secretsmanager put-secret-value")
		return
	}
	p.add(CheckDocument, CheckPass, cur.String(), "")

	cloneOK := true
	if alternating {
		alt, err := strategies.AlternateUsername(cur.Username, eng.Facts())
		if err != nil {
			cloneOK = false
			p.add(CheckCloneName, CheckFail, err.Error(), "rename the database user so that the name plus \"_clone\" fits, and update the secret")
		} else {
			p.add(CheckCloneName, CheckPass, fmt.Sprintf("the next rotation writes user %q", alt), "")
		}
	}

	p.connection(ctx, cur)

	if strategy == strategies.NameRDSMaster {
		p.rdsMaster(ctx, cur)
		return
	}
	if !alternating {
		return
	}
	p.admin(ctx, d, cur, eng, cloneOK)
}

// secret runs the checks of the secret itself: it exists and has a
// readable AWSCURRENT, its rotation settings, and no unfinished rotation.
// docErr is the current document's validation error, reported later by
// the document check; ok is false when nothing more can be checked.
func (p *preflight) secret(ctx context.Context, secretID string) (d *secretsmanager.DescribeSecretOutput, cur *events.SecretDocument, docErr error, ok bool) {
	d, err := describe(ctx, p.opts.Secrets, secretID)
	if err != nil {
		p.add(CheckSecret, CheckFail, err.Error(), "check the secret's name, the region and the caller's secretsmanager:DescribeSecret permission")
		return nil, nil, nil, false
	}
	arn := aws.ToString(d.ARN)
	if by := rdsOwnership(d); by != "" {
		detail := fmt.Sprintf("%s belongs to RDS (%s): RDS rotates the master password it holds", arn, by)
		if fn := aws.ToString(d.RotationLambdaARN); fn != "" {
			p.add(CheckOwner, CheckFail, detail+", yet rotation function "+fn+" is attached", "detach that function: RDS manages this secret's rotation (ManageMasterUserPassword) and rotor must not rotate it")
		} else {
			p.add(CheckOwner, CheckInfo, detail+"; attach no rotator to it. It can serve as masterarn of alternating-users secrets (list it in "+config.EnvAdminSecretARNs+"); to rotate a master with rotor instead, keep it in your own secret with the rds-master strategy (docs/rds-master.md)", "")
		}
		return nil, nil, nil, false
	}
	curID := events.VersionWith(d.VersionIdsToStages, rotation.LabelCurrent)
	if curID == "" {
		err = fmt.Errorf("no version of %q is AWSCURRENT", arn)
	} else {
		cur, err = readDocument(ctx, p.opts.Secrets, arn, curID, rotation.LabelCurrent, events.NeedConnection)
	}
	var fe *events.FieldError
	if err != nil && !errors.As(err, &fe) {
		p.add(CheckSecret, CheckFail, err.Error(), "the secret needs an AWSCURRENT JSON SecretString, readable with secretsmanager:GetSecretValue")
		return nil, nil, nil, false
	}
	docErr = err
	p.add(CheckSecret, CheckPass, fmt.Sprintf("%s, AWSCURRENT is version %s", arn, curID), "")
	p.rotationConfig(d, arn)
	if v := events.StrandedPending(d.VersionIdsToStages); v != "" {
		// Which credential logs in decides whether clearing the label is
		// safe: after a single-user setSecret only the pending one does.
		pc := checkPending(ctx, p.opts.Secrets, p.db, arn, curID, v)
		p.pending = &pc
		p.add(CheckUnfinished, CheckFail, fmt.Sprintf("version %s holds AWSPENDING but is not AWSCURRENT: the next rotation will be refused (AWSCURRENT: %s; pending: %s)", v, describeLogin(pc.Current), describeLogin(pc.Pending)), pc.Advice)
	} else {
		p.add(CheckUnfinished, CheckPass, "no AWSPENDING left behind", "")
	}
	return d, cur, docErr, true
}

// rdsMaster checks, as rds-master's setSecret would, which RDS instance or
// cluster the secret's master password belongs to: it exists, the caller
// may describe it, its master user is the secret's user, and RDS does not
// manage it. Nothing is changed.
func (p *preflight) rdsMaster(ctx context.Context, cur *events.SecretDocument) {
	what, err := strategies.RDSMasterTarget(ctx, p.db.Options, cur)
	if err != nil {
		p.add(CheckRDSMaster, CheckFail, err.Error(), fmt.Sprintf("name the instance or cluster in the document (%s or %s), make the secret's username its master user, and let the caller (and the rotator) call rds:DescribeDBInstances / DescribeDBClusters on it", events.KeyDBInstanceIdentifier, events.KeyDBClusterIdentifier))
		return
	}
	p.add(CheckRDSMaster, CheckPass, fmt.Sprintf("%s, master user %q: setSecret changes its password through RDS", what, cur.Username), "")
}

// rdsOwnership says why d is a secret RDS owns (an RDS-managed master
// password): "OwningService rds" or the aws:rds:* tag RDS puts on it; ""
// when it is not one.
func rdsOwnership(d *secretsmanager.DescribeSecretOutput) string {
	if aws.ToString(d.OwningService) == "rds" {
		return "OwningService rds"
	}
	for _, k := range []string{events.TagRDSInstanceARN, events.TagRDSClusterARN} {
		if v := events.TagOf(d.Tags, k); v != "" {
			return "tag " + k + " = " + v
		}
	}
	return ""
}

func (p *preflight) rotationConfig(d *secretsmanager.DescribeSecretOutput, arn string) {
	switch fn := aws.ToString(d.RotationLambdaARN); {
	case fn == "":
		p.add(CheckRotationConfig, CheckFail, "no rotation function is attached", "attach the rotator with the rotated-secret Terraform module or aws secretsmanager rotate-secret --secret-id "+shellQuote(arn)+" --rotation-lambda-arn <rotator ARN> --rotation-rules ...")
	case !aws.ToBool(d.RotationEnabled):
		p.add(CheckRotationConfig, CheckFail, "rotation is disabled (function "+fn+")", "enable it with aws secretsmanager rotate-secret --secret-id "+shellQuote(arn)+" --rotation-lambda-arn "+fn+" --rotation-rules ...")
	default:
		detail := "enabled, function " + fn
		if r := d.RotationRules; r != nil {
			if s := aws.ToString(r.ScheduleExpression); s != "" {
				detail += ", schedule " + s
			} else if n := aws.ToInt64(r.AutomaticallyAfterDays); n > 0 {
				detail += fmt.Sprintf(", every %d days", n)
			}
		}
		p.add(CheckRotationConfig, CheckPass, detail, "")
	}
}

// connection logs in with the current credential: one login tells both
// whether the server is reachable with TLS as configured and whether the
// credential works.
func (p *preflight) connection(ctx context.Context, cur *events.SecretDocument) {
	_, params, err := p.db.Params(cur)
	if err != nil {
		p.add(CheckConnection, CheckFail, err.Error(), "fix the AWSCURRENT document")
		p.add(CheckCurrentLogin, CheckSkip, "", "")
		return
	}
	where := fmt.Sprintf("%s:%d, TLS %s", params.Host, params.Port, params.TLS.Mode)
	// A plaintext connection works, but only because someone chose it:
	// say who, rather than passing it silently.
	connected := func() {
		if params.TLS.Mode == events.TLSDisable {
			p.add(CheckConnection, CheckWarn, where+": plaintext, explicitly configured by "+p.plaintextSource(cur), plaintextHint)
			return
		}
		p.add(CheckConnection, CheckPass, where, "")
	}
	err = p.db.Ping(ctx, cur)
	switch {
	case err == nil:
		connected()
		p.add(CheckCurrentLogin, CheckPass, fmt.Sprintf("%q logs in and runs a query", cur.Username), "")
	case errors.Is(err, engine.ErrAuth):
		connected()
		hint := "the database does not accept AWSCURRENT's password: if the previous one still works, run rotor rollback; otherwise reset the password and put it in the secret"
		if p.pending != nil && p.pending.Verdict == PendingFinish {
			hint = "the database has the unfinished rotation's pending password: complete that rotation (see " + CheckUnfinished + "): " + p.pending.Fix
		}
		p.add(CheckCurrentLogin, CheckFail, err.Error(), hint)
	default:
		p.add(CheckConnection, CheckFail, fmt.Sprintf("%s: %v", where, err), connectionHint(err, params.TLS.Mode))
		p.add(CheckCurrentLogin, CheckSkip, "", "")
	}
}

// plaintextHint is the advice for a connection configured without TLS.
const plaintextHint = "passwords (the rotator's new ones included) and queries cross the network unencrypted: enable TLS on the server and remove the setting, unless the network is trusted"

// plaintextSource names the setting that turned TLS off for doc: its own
// "ssl" key wins over the rotator's DB_TLS.
func (p *preflight) plaintextSource(doc *events.SecretDocument) string {
	if doc.TLSMode() == events.TLSDisable {
		return "the secret's \"ssl\": false"
	}
	return config.EnvDBTLS + "=disable (or --db-tls disable), as the secret has no \"ssl\" key"
}

// connectionHint guesses the fix from the error text: pgx does not type TLS
// failures.
func connectionHint(err error, mode string) string {
	msg := strings.ToLower(err.Error())
	switch {
	case strings.Contains(msg, "refused tls") || strings.Contains(msg, "ssl is not enabled") || strings.Contains(msg, "server does not support ssl"):
		return "the server does not accept TLS, and rotor never falls back to plaintext: enable TLS on the server; only on a trusted network set \"ssl\": false in the secret (or DB_TLS=disable)"
	case strings.Contains(msg, "x509") || strings.Contains(msg, "certificate") || strings.Contains(msg, "tls"):
		if mode == events.TLSVerifyFull {
			return "the server's certificate does not verify: point DB_CA_BUNDLE (--db-ca-bundle) at the CA that signed it (for RDS, the region's bundle) and make sure the secret's host is a name the certificate holds"
		}
		return "the TLS handshake failed: check the server's TLS settings"
	case strings.Contains(msg, "timeout") || strings.Contains(msg, "deadline") || strings.Contains(msg, "no route") || strings.Contains(msg, "connection refused") || strings.Contains(msg, "no such host"):
		return "the database does not answer: check the secret's host and port, security groups and routes from the rotator's subnets"
	}
	return "check the secret's host, port and dbname"
}

func (p *preflight) admin(ctx context.Context, d *secretsmanager.DescribeSecretOutput, cur *events.SecretDocument, eng engine.Engine, cloneOK bool) {
	// The same loading as the rotator's: RDS-managed admin secrets are
	// resolved through RDS, and a host is never borrowed from the rotated
	// secret.
	master, err := rotation.LoadMaster(ctx, p.opts.Secrets, p.opts.Endpoints, cur.MasterARN, p.opts.AdminSecretARNs, nil)
	if err == nil {
		master, err = strategies.AdminTarget(master, cur)
	}
	if err != nil {
		p.add(CheckAdminSecret, CheckFail, err.Error(), "masterarn must name one of the rotator's "+config.EnvAdminSecretARNs+" (rotor check: --admin-secret-arns), a readable secret holding the admin's username and password and either its host or the aws:rds tag of an RDS-managed secret; allow secretsmanager:GetSecretValue (and DescribeSecret) on it")
		p.skip(CheckBaseUser, CheckAdminLogin, CheckAdminPrivileges, CheckPreviousUser)
		return
	}
	if err := strategies.CheckAdminUser(master.Username, cur.Username); err != nil {
		p.add(CheckAdminSecret, CheckFail, err.Error(), "use a separate admin user")
		p.skip(CheckBaseUser, CheckAdminLogin, CheckAdminPrivileges, CheckPreviousUser)
		return
	}
	p.add(CheckAdminSecret, CheckPass, fmt.Sprintf("%s (user %q)", cur.MasterARN, master.Username), "")
	p.baseUser(ctx, d, cur, master)

	sess, err := p.db.Login(ctx, master)
	if err != nil {
		hint := "the admin secret's password is not the database's: fix the admin secret"
		if _, mp, perr := p.db.Params(master); perr == nil && !errors.Is(err, engine.ErrAuth) {
			hint = connectionHint(err, mp.TLS.Mode)
		}
		p.add(CheckAdminLogin, CheckFail, err.Error(), hint)
		p.skip(CheckAdminPrivileges, CheckPreviousUser)
		return
	}
	defer sess.Close(ctx) //nolint:errcheck
	if _, mp, _ := p.db.Params(master); mp.TLS.Mode == events.TLSDisable {
		p.add(CheckAdminLogin, CheckWarn, fmt.Sprintf("%q logs in over plaintext (%s:%d), explicitly configured by %s", master.Username, mp.Host, mp.Port, p.plaintextSource(master)), plaintextHint)
	} else {
		p.add(CheckAdminLogin, CheckPass, fmt.Sprintf("%q logs in", master.Username), "")
	}

	base, clone := strategies.BaseAndClone(cur.Username)
	hint := eng.Facts().AdminPrivileges(master.Username, base)
	if rm, ok := sess.(engine.RoleManager); ok {
		ok, why, err := rm.CanManageRole(ctx, base)
		switch {
		case err != nil:
			p.add(CheckAdminPrivileges, CheckFail, err.Error(), hint)
		case !ok:
			p.add(CheckAdminPrivileges, CheckFail, why, hint)
		default:
			p.add(CheckAdminPrivileges, CheckPass, why, "")
		}
	} else {
		p.add(CheckAdminPrivileges, CheckFail, fmt.Sprintf("engine %q cannot manage users: alternating-users is not available for it", eng.Facts().Name), "use single-user")
	}

	if !cloneOK {
		p.skip(CheckPreviousUser)
		return
	}
	next := clone
	if cur.Username == clone {
		next = base
	}
	n, err := sess.CountSessions(ctx, next)
	failPolicy := p.db.PreviousUserSessions == strategies.SessionsFail
	switch {
	case err != nil:
		p.add(CheckPreviousUser, CheckWarn, err.Error(), "")
	case n > 0 && failPolicy:
		p.add(CheckPreviousUser, CheckFail, fmt.Sprintf("%q, whose password the next rotation changes, has %d open session(s), and %s=%s: the rotation will be refused at setSecret", next, n, config.EnvPreviousUserSessions, strategies.SessionsFail),
			fmt.Sprintf("move the clients still using %q to the current credential (they re-read the secret) and close its sessions, or set %s=%s on the rotator", next, config.EnvPreviousUserSessions, strategies.SessionsWarn))
	case n > 0:
		p.add(CheckPreviousUser, CheckWarn, fmt.Sprintf("%q, whose password the next rotation changes, has %d open session(s)", next, n), fmt.Sprintf("clients still using the previous credential will fail to reconnect after the next rotation; with %s=%s the rotation is refused", config.EnvPreviousUserSessions, strategies.SessionsFail))
	default:
		p.add(CheckPreviousUser, CheckInfo, fmt.Sprintf("%q, whose password the next rotation changes, has no open session", next), "")
	}
}

// baseUser runs the rotator's base-user pin rule (rotation.CheckPin,
// rotation.SecretsPinnedTo) without writing the pin.
func (p *preflight) baseUser(ctx context.Context, d *secretsmanager.DescribeSecretOutput, cur, master *events.SecretDocument) {
	_, mp, err := p.db.Params(master)
	if err != nil {
		p.add(CheckBaseUser, CheckFail, err.Error(), "fix the admin secret")
		return
	}
	base, _ := strategies.BaseAndClone(cur.Username)
	pin := events.BaseUserPin(base, mp.Host, mp.Port)
	pinned := events.TagOf(d.Tags, rotation.TagBaseUser)
	if err := rotation.CheckPin(pinned, pin); err != nil {
		p.add(CheckBaseUser, CheckFail, err.Error(), "if the document is right, an administrator sets the "+rotation.TagBaseUser+" tag to "+pin+"; otherwise restore the document's username and masterarn")
		return
	}
	others, err := rotation.SecretsPinnedTo(ctx, p.opts.Secrets, pin, aws.ToString(d.ARN))
	switch {
	case err != nil:
		p.add(CheckBaseUser, CheckFail, err.Error(), "allow secretsmanager:ListSecrets: the rotator needs it too")
	case len(others) > 0:
		p.add(CheckBaseUser, CheckFail, rotation.SharedPinError(pin, others).Error(), "create a separate base user for each application and point each secret at its own")
	case pinned == "":
		p.add(CheckBaseUser, CheckInfo, fmt.Sprintf("not pinned yet: the next rotation pins %q (tag %s)", pin, rotation.TagBaseUser), "")
	default:
		p.add(CheckBaseUser, CheckPass, fmt.Sprintf("pinned to %q, and no other secret rotates it", pin), "")
	}
}
