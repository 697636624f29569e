package ops

import (
	"context"
	"errors"
	"fmt"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/rotation"
	"github.com/rotorhq/rotor/strategies"
	"github.com/rotorhq/rotor/strategies/engine"
)

// LoginState is what one login attempt with a version's credential found.
type LoginState string

// Login states.
const (
	// LoginOK: the credential logs in and runs a query.
	LoginOK LoginState = "logs-in"
	// LoginRefused: the database refused the password, or the version holds
	// no usable credential (no value yet, an invalid document, another
	// database).
	LoginRefused LoginState = "refused"
	// LoginUnknown: the database could not be asked (unreachable, TLS).
	LoginUnknown LoginState = "unknown"
)

// LoginCheck is the outcome of one login attempt. Detail names the version
// and the failure; it never holds a secret value.
type LoginCheck struct {
	State  LoginState `json:"state"`
	Detail string     `json:"detail,omitempty"`
}

// PendingVerdict is the advice for an unfinished rotation.
type PendingVerdict string

// Pending verdicts.
const (
	// PendingUnchecked: no login was tried; the advice tells how to find out.
	PendingUnchecked PendingVerdict = "unchecked"
	// PendingClear: AWSCURRENT logs in, so clearing AWSPENDING loses nothing.
	PendingClear PendingVerdict = "clear"
	// PendingFinish: only the pending credential logs in (a single-user
	// rotation stopped after setSecret): AWSCURRENT must move to it.
	PendingFinish PendingVerdict = "finish"
	// PendingNeither: neither credential logs in.
	PendingNeither PendingVerdict = "neither"
	// PendingUnknown: the logins could not decide it (the database did not
	// answer).
	PendingUnknown PendingVerdict = "unknown"
)

// PendingCheck is what logging in with both credentials of an unfinished
// rotation found, and what to do about it.
type PendingCheck struct {
	// CurrentVersion holds AWSCURRENT, PendingVersion the stranded
	// AWSPENDING.
	CurrentVersion string `json:"currentVersion"`
	PendingVersion string `json:"pendingVersion"`
	// Current and Pending are the logins; nil when not tried.
	Current *LoginCheck    `json:"current,omitempty"`
	Pending *LoginCheck    `json:"pending,omitempty"`
	Verdict PendingVerdict `json:"verdict"`
	// Advice says what to do and why, in one paragraph for people.
	Advice string `json:"advice"`
	// Fix is the command to run: clearing AWSPENDING (verdict clear) or
	// moving AWSCURRENT to the pending version (verdict finish). It is ""
	// for the other verdicts, when no command is known to be safe; Advice
	// then says what to find out first.
	Fix string `json:"fix,omitempty"`
}

// ClearPendingCommand is the AWS CLI command that removes AWSPENDING from
// version, which lets the next rotation start. It is safe only when
// AWSCURRENT logs in (see CheckPending): after a single-user rotation's
// setSecret the database holds the pending password, and clearing the label
// would leave the only working password on a version no label points to.
func ClearPendingCommand(secretID, version string) string {
	return fmt.Sprintf("aws secretsmanager update-secret-version-stage --secret-id %s --version-stage AWSPENDING --remove-from-version-id %s", shellQuote(secretID), version)
}

// FinishPendingCommand is the AWS CLI command that completes an unfinished
// rotation by hand: it moves AWSCURRENT from current to pending, as the
// rotator's finishSecret would. Secrets Manager makes current AWSPREVIOUS.
func FinishPendingCommand(secretID, pending, current string) string {
	return fmt.Sprintf("aws secretsmanager update-secret-version-stage --secret-id %s --version-stage AWSCURRENT --move-to-version-id %s --remove-from-version-id %s", shellQuote(secretID), pending, current)
}

// uncheckedPending is the advice when rotor cannot log in to find out which
// credential works.
func uncheckedPending(secretID, pending, current string) PendingCheck {
	return PendingCheck{
		CurrentVersion: current,
		PendingVersion: pending,
		Verdict:        PendingUnchecked,
		Advice: fmt.Sprintf("if no rotation is running, run rotor check %[1]s (or rotor status %[1]s --check-db) first: it logs in to find which credential works. "+
			"Do not clear AWSPENDING blindly: for a single-user secret whose rotation stopped after setSecret, the database already has the pending password, "+
			"and clearing the label leaves the only working password on a version no label points to, so every later rotation fails. "+
			"Only when AWSCURRENT logs in, clear it with: %[2]s",
			shellQuote(secretID), ClearPendingCommand(secretID, pending)),
	}
}

// CheckPending logs in with AWSCURRENT's and the stranded AWSPENDING
// version's credentials and advises what to do with the unfinished
// rotation: clear AWSPENDING when AWSCURRENT logs in, move AWSCURRENT to the
// pending version when only that one logs in, and neither when no
// credential works or the database did not answer. It changes nothing; it
// logs in at most twice. The pending credential is tried only when it
// points at the same server as the current one.
func CheckPending(ctx context.Context, api SecretsAPI, dbOpts strategies.Options, secretID, current, pending string) PendingCheck {
	return checkPending(ctx, api, newDB(dbOpts), secretID, current, pending)
}

func checkPending(ctx context.Context, api SecretsAPI, b db, secretID, current, pending string) PendingCheck {
	pc := PendingCheck{CurrentVersion: current, PendingVersion: pending}
	cur, err := readDocument(ctx, api, secretID, current, rotation.LabelCurrent, events.NeedConnection)
	if err != nil {
		pc.Current = notTried(err)
	} else {
		pc.Current = tryLogin(ctx, b, cur, "AWSCURRENT version "+current)
	}
	pend, err := readDocument(ctx, api, secretID, pending, rotation.LabelPending, events.NeedConnection)
	if err == nil && cur != nil {
		if err = b.SameTarget(cur, pend, "pending"); err != nil {
			err = fmt.Errorf("AWSPENDING version %s: %w: not tried", pending, err)
		}
	}
	if err != nil {
		pc.Pending = notTried(err)
	} else {
		pc.Pending = tryLogin(ctx, b, pend, "AWSPENDING version "+pending)
	}
	pc.advise(secretID)
	return pc
}

func (pc *PendingCheck) advise(secretID string) {
	cur, pend := pc.Current.State, pc.Pending.State
	switch {
	case cur == LoginOK:
		pc.Verdict = PendingClear
		pc.Fix = ClearPendingCommand(secretID, pc.PendingVersion)
		pc.Advice = "AWSCURRENT logs in, so clearing AWSPENDING loses nothing; if no rotation is running, clear it with: " + pc.Fix
	case cur == LoginRefused && pend == LoginOK:
		pc.Verdict = PendingFinish
		pc.Fix = FinishPendingCommand(secretID, pc.PendingVersion, pc.CurrentVersion)
		pc.Advice = "only the pending credential logs in: the rotation set the new password in the database and stopped before finishSecret. " +
			"Do NOT clear AWSPENDING (that would leave the only working password on a version no label points to); complete the rotation instead with rotor finish " + shellQuote(secretID) + ", or: " + pc.Fix
	case cur == LoginRefused && pend == LoginRefused:
		pc.Verdict = PendingNeither
		pc.Advice = fmt.Sprintf("neither AWSCURRENT (%s) nor the pending version (%s) logs in: an administrator must set the user's password to AWSCURRENT's (or put the working one in the secret), then run rotor check %s again", pc.Current.Detail, pc.Pending.Detail, shellQuote(secretID))
	default:
		pc.Verdict = PendingUnknown
		pc.Advice = fmt.Sprintf("could not find out which credential logs in (AWSCURRENT: %s; pending: %s): fix the connection (run rotor check %s where the rotator runs) before clearing AWSPENDING, which can lose the working password of a single-user secret", describeLogin(pc.Current), describeLogin(pc.Pending), shellQuote(secretID))
	}
}

func describeLogin(c *LoginCheck) string {
	if c.Detail == "" {
		return string(c.State)
	}
	return string(c.State) + ", " + c.Detail
}

// notTried reports a credential that could not be tried. A version with no
// value holds no credential, which is as good as a refused one; any other
// failure (access denied, a malformed document, another server) says
// nothing about the database.
func notTried(err error) *LoginCheck {
	if errors.Is(err, rotation.ErrNoValue) {
		return &LoginCheck{State: LoginRefused, Detail: err.Error()}
	}
	return &LoginCheck{State: LoginUnknown, Detail: err.Error()}
}

// tryLogin pings with doc.
func tryLogin(ctx context.Context, b db, doc *events.SecretDocument, what string) *LoginCheck {
	err := b.Ping(ctx, doc)
	switch {
	case err == nil:
		return &LoginCheck{State: LoginOK, Detail: fmt.Sprintf("%s (user %q) logs in", what, doc.Username)}
	case errors.Is(err, engine.ErrAuth):
		return &LoginCheck{State: LoginRefused, Detail: fmt.Sprintf("%s (user %q) is refused: %v", what, doc.Username, err)}
	default:
		return &LoginCheck{State: LoginUnknown, Detail: fmt.Sprintf("%s (user %q): %v", what, doc.Username, err)}
	}
}
