package ops

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/rotation"
	"github.com/rotorhq/rotor/strategies"
)

// FinishOptions configure Finish. Secrets is required.
type FinishOptions struct {
	Secrets SecretsAPI
	// DB is how to reach databases (the rotator's settings).
	DB strategies.Options
}

// FinishResult says what Finish found and did.
type FinishResult struct {
	ARN string `json:"arn"`
	// FromVersion was AWSCURRENT; ToVersion held the stranded AWSPENDING
	// and is AWSCURRENT once Finish succeeded.
	FromVersion string `json:"fromVersion,omitempty"`
	ToVersion   string `json:"toVersion,omitempty"`
	// Check is what logging in with both credentials found.
	Check *PendingCheck `json:"check,omitempty"`
	// PendingLabelLeft is true when AWSPENDING could not be taken off the
	// new current version afterwards (harmless; Secrets Manager would
	// have removed it after a completed rotation).
	PendingLabelLeft bool `json:"pendingLabelLeft,omitempty"`
}

// Finish completes an unfinished rotation by hand. It logs in with
// AWSCURRENT's and the stranded AWSPENDING version's credentials
// (CheckPending) and, only when the verdict is PendingFinish (the pending
// credential logs in and AWSCURRENT's is refused: a single-user rotation
// that stopped after setSecret), moves AWSCURRENT to the pending version as
// the rotator's finishSecret would; Secrets Manager makes the old current
// AWSPREVIOUS. Otherwise it refuses (*RefusedError, nothing changed) with
// the advice for the verdict. It never changes the database.
func Finish(ctx context.Context, opts FinishOptions, secretID string) (FinishResult, error) {
	var res FinishResult
	d, err := describe(ctx, opts.Secrets, secretID)
	if err != nil {
		return res, err
	}
	res.ARN = aws.ToString(d.ARN)
	res.FromVersion = events.VersionWith(d.VersionIdsToStages, rotation.LabelCurrent)
	pending := events.StrandedPending(d.VersionIdsToStages)
	switch {
	case res.FromVersion == "":
		return res, refusedf("", "no version of %q is AWSCURRENT", res.ARN)
	case pending == "":
		return res, refusedf("", "no rotation of %q is unfinished: no version other than AWSCURRENT holds AWSPENDING", res.ARN)
	}
	pc := checkPending(ctx, opts.Secrets, newDB(opts.DB), res.ARN, res.FromVersion, pending)
	res.Check = &pc
	if pc.Verdict != PendingFinish {
		return res, refusedf(pc.Advice, "the unfinished rotation of %q (version %s) cannot be completed: the verdict is %s, not %s", res.ARN, pending, pc.Verdict, PendingFinish)
	}
	_, err = opts.Secrets.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
		SecretId:            aws.String(res.ARN),
		VersionStage:        aws.String(rotation.LabelCurrent),
		MoveToVersionId:     aws.String(pending),
		RemoveFromVersionId: aws.String(res.FromVersion),
	})
	if err != nil {
		return res, fmt.Errorf("move AWSCURRENT from %s to %s: %s; the database has the pending version's password, so run rotor finish again (or: %s)", res.FromVersion, pending, serviceMessage(err), pc.Fix)
	}
	res.ToVersion = pending
	// Secrets Manager takes AWSPENDING off the new current version when a
	// rotation completes; do the same, so the secret looks like any other
	// finished rotation. Best effort: the rotation is complete either way,
	// and a leftover label on the current version blocks nothing.
	if _, err := opts.Secrets.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
		SecretId:            aws.String(res.ARN),
		VersionStage:        aws.String(rotation.LabelPending),
		RemoveFromVersionId: aws.String(pending),
	}); err != nil {
		res.PendingLabelLeft = true
	}
	return res, nil
}
