package ops

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/rotation"
	"github.com/rotorhq/rotor/strategies"
	"github.com/rotorhq/rotor/strategies/engine"
)

// RollbackOptions configure Rollback. Secrets is required.
type RollbackOptions struct {
	Secrets SecretsAPI
	// DB is how to reach databases: engines, TLS mode, CA pool, timeout
	// (the rotator's settings).
	DB strategies.Options
	// Strategy applies when the secret has no rotor:strategy tag; "" means
	// single-user.
	Strategy string
}

// RollbackResult says what Rollback did.
type RollbackResult struct {
	ARN            string            `json:"arn"`
	Strategy       string            `json:"strategy"`
	StrategySource strategies.Source `json:"strategySource"`
	// FromVersion was AWSCURRENT and is now AWSPREVIOUS; ToVersion was
	// AWSPREVIOUS and is now AWSCURRENT.
	FromVersion string `json:"fromVersion"`
	ToVersion   string `json:"toVersion"`
	// PasswordRestored is true when the database password was set back
	// (single-user); AlreadyRestored when it already was (an earlier
	// rollback set it and stopped before moving the label).
	PasswordRestored bool `json:"passwordRestored"`
	AlreadyRestored  bool `json:"alreadyRestored,omitempty"`
}

// Rollback makes the AWSPREVIOUS version of a secret AWSCURRENT again.
//
//   - single-user: the database password is set back to the previous
//     version's, logged in as the user with the current password; the
//     previous credential must then log in. If it does not, the current
//     password is put back and a *RefusedError returned (nothing changed).
//   - alternating-users: the previous user keeps its password, so the
//     previous credential only has to log in; nothing changes in the
//     database.
//
// Only then does AWSCURRENT move (RemoveFromVersionId = the current
// version); Secrets Manager gives the old current AWSPREVIOUS, so a second
// rollback undoes the first. Rollback refuses (*RefusedError, nothing
// changed) when there is no AWSPREVIOUS, a rotation is unfinished, or the
// previous credential cannot be made to log in. If only the label move
// fails, running Rollback again finishes it: the restored password is
// recognised.
func Rollback(ctx context.Context, opts RollbackOptions, secretID string) (RollbackResult, error) {
	var res RollbackResult
	d, err := describe(ctx, opts.Secrets, secretID)
	if err != nil {
		return res, err
	}
	res.ARN = aws.ToString(d.ARN)
	res.FromVersion = events.VersionWith(d.VersionIdsToStages, rotation.LabelCurrent)
	res.ToVersion = events.VersionWith(d.VersionIdsToStages, rotation.LabelPrevious)
	switch {
	case res.FromVersion == "":
		return res, refusedf("", "no version of %q is AWSCURRENT", res.ARN)
	case res.ToVersion == "":
		return res, refusedf("", "no version of %q is AWSPREVIOUS, so there is nothing to roll back to", res.ARN)
	}
	if v := events.StrandedPending(d.VersionIdsToStages); v != "" {
		pc := checkPending(ctx, opts.Secrets, newDB(opts.DB), res.ARN, res.FromVersion, v)
		return res, refusedf(pc.Advice, "a rotation of %q is running or unfinished (version %s holds AWSPENDING)", res.ARN, v)
	}
	name, src, err := chooseStrategy(d, opts.Strategy)
	res.Strategy, res.StrategySource = name, src
	if err != nil {
		return res, refusedf("", "%v", err)
	}
	cur, err := readDocument(ctx, opts.Secrets, res.ARN, res.FromVersion, rotation.LabelCurrent, events.NeedConnection)
	if err != nil {
		return res, refusedf("", "%v", err)
	}
	prev, err := readDocument(ctx, opts.Secrets, res.ARN, res.ToVersion, rotation.LabelPrevious, events.NeedConnection)
	if err != nil {
		return res, refusedf("", "%v", err)
	}
	b := newDB(opts.DB)
	if err := b.SameTarget(cur, prev, "previous"); err != nil {
		return res, refusedf("", "%v: rollback only restores a credential on the same database", err)
	}

	switch name {
	case strategies.NameSingleUser:
		if prev.Username != cur.Username {
			return res, refusedf(fmt.Sprintf("if the secret alternates users, tag it %s=%s or pass --strategy %s", rotation.TagStrategy, strategies.NameAlternatingUsers, strategies.NameAlternatingUsers), "the previous version is user %q and the current one %q: that is not a single-user rotation", prev.Username, cur.Username)
		}
		restored, already, err := restorePassword(ctx, b, cur, prev)
		res.PasswordRestored, res.AlreadyRestored = restored, already
		if err != nil {
			return res, err
		}
	case strategies.NameRDSMaster:
		return res, refusedf("roll forward with rotor rotate instead: the next rotation sets a new master password through RDS", "rollback does not restore an RDS master password (strategy %s): the database has the current one, and moving AWSCURRENT back would leave the secret with a password RDS no longer has", strategies.NameRDSMaster)
	case strategies.NameAlternatingUsers:
		if err := b.Ping(ctx, prev); err != nil {
			return res, refusedf("the previous user's password was changed or the user dropped; roll forward with rotor rotate instead", "the previous credential (user %q) does not log in: %v", prev.Username, err)
		}
	}

	_, err = opts.Secrets.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
		SecretId:            aws.String(res.ARN),
		VersionStage:        aws.String(rotation.LabelCurrent),
		MoveToVersionId:     aws.String(res.ToVersion),
		RemoveFromVersionId: aws.String(res.FromVersion),
	})
	if err != nil {
		msg := fmt.Sprintf("move AWSCURRENT from %s to %s: %s", res.FromVersion, res.ToVersion, serviceMessage(err))
		if res.PasswordRestored {
			msg += "; the database already has the previous password, so clients reading AWSCURRENT fail until this is fixed: run rotor rollback again"
		}
		return res, errors.New(msg)
	}
	return res, nil
}

// restorePassword sets the single user's password back to prev's. It
// reports restored when it changed the password, already when prev logged
// in before anything was changed.
func restorePassword(ctx context.Context, b db, cur, prev *events.SecretDocument) (restored, already bool, err error) {
	perr := b.Ping(ctx, prev)
	if perr == nil {
		return false, true, nil
	}
	if !errors.Is(perr, engine.ErrAuth) {
		return false, false, refusedf("run rotor check for the connection and TLS settings", "cannot reach the database as %q: %v", prev.Username, perr)
	}
	sess, err := b.Login(ctx, cur)
	if err != nil {
		return false, false, refusedf("run rotor check; if neither password works, an administrator must reset it", "the current credential of %q does not log in, so its password cannot be set back: %v", cur.Username, err)
	}
	defer sess.Close(ctx) //nolint:errcheck
	if err := sess.SetPassword(ctx, cur.Username, prev.Password); err != nil {
		return false, false, fmt.Errorf("set the password of %q back to the previous version's: %w (nothing changed)", cur.Username, err)
	}
	if verr := b.Ping(ctx, prev); verr != nil {
		if uerr := sess.SetPassword(ctx, cur.Username, cur.Password); uerr != nil {
			return true, false, fmt.Errorf("the previous credential of %q still does not log in after setting it (%v), and putting the current password back failed: %w; the database now has the previous version's password", cur.Username, verr, uerr)
		}
		return false, false, refusedf("the previous version's other settings (dbname, ssl) may be what the database refuses: run rotor check", "the previous credential of %q does not log in even after setting its password (%v); the current password was put back, nothing changed", cur.Username, verr)
	}
	return true, false, nil
}
