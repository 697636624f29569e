package awslocal_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/local/awslocal"
)

// The tests in this file each check one row of docs/secrets-manager-fidelity.md.

// Row "RotationAbandoned": only a put that takes AWSPENDING off an
// unfinished rotation's version records it.
func TestRotationAbandonedOnlyWhenAbandoned(t *testing.T) {
	t.Parallel()
	srv, sm := setup(t)
	ctx := ctxT(t)
	create(t, sm, "abandon/app", "v1")

	// AWSPENDING on the AWSCURRENT version (what a finished rotation may
	// leave): a manual put moves AWSCURRENT and abandons nothing.
	put(t, sm, "abandon/app", token(1), "v1", "AWSCURRENT", "AWSPENDING")
	put(t, sm, "abandon/app", token(2), "v2")
	if got := eventNames(srv); len(got) != 0 {
		t.Fatalf("events after a put over a finished rotation = %v, want none", got)
	}
	wantLabels(t, sm, "abandon/app", map[string][]string{token(1): {"AWSPREVIOUS"}, token(2): {"AWSCURRENT"}})

	// AWSPENDING on another version: an unfinished rotation, abandoned.
	put(t, sm, "abandon/app", token(3), "v3", "AWSPENDING")
	put(t, sm, "abandon/app", token(4), "v4")
	evs := srv.Events()
	if len(evs) != 1 || evs[0].Name != string(events.RotationAbandoned) || evs[0].VersionID != token(3) {
		t.Fatalf("events = %+v, want one RotationAbandoned for %s", evs, token(3))
	}
	wantLabels(t, sm, "abandon/app", map[string][]string{token(2): {"AWSPREVIOUS"}, token(4): {"AWSCURRENT"}})

	// A put without stages that fills the pending version itself makes it
	// current: finished, not abandoned.
	put(t, sm, "abandon/app", token(5), "v5", "AWSPENDING")
	if _, err := sm.UpdateSecret(ctx, &secretsmanager.UpdateSecretInput{SecretId: aws.String("abandon/app"), SecretString: aws.String("v5"), ClientRequestToken: aws.String(token(5))}); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Events()); n != 1 {
		t.Fatalf("events = %v, want still the one RotationAbandoned", eventNames(srv))
	}
}

// Row "RotateImmediately=false": a failing testSecret is recorded and
// pushed as TestRotationFailed, never RotationFailed.
func TestCheckOnlyFailureIsTestRotationFailed(t *testing.T) {
	t.Parallel()
	srv, sm := setup(t)
	ctx := ctxT(t)
	target := &syncRecorder{}
	// The alerts module's rule.
	srv.SetEventTarget(target, events.RotationFailed, events.RotationAbandoned, events.TestRotationFailed)
	srv.SetFunction(fnARN, awslocal.FuncInvoker(func(_ context.Context, e events.RotationEvent) error {
		return errors.New("testSecret: cannot log in")
	}))
	create(t, sm, "check/app", "v1")
	if _, err := sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String("check/app"), RotationLambdaARN: aws.String(fnARN),
		RotateImmediately: aws.Bool(false), RotationRules: &smtypes.RotationRulesType{ScheduleExpression: aws.String("rate(10 days)")}}); err != nil {
		t.Fatal(err)
	}
	res, err := srv.WaitRotation(ctx, "check/app")
	if err != nil || res.Succeeded || !res.CheckOnly || res.Step != events.StepTestSecret {
		t.Fatalf("result = %+v %v, want a failed check at testSecret", res, err)
	}
	if got, want := eventNames(srv), []string{"TestRotationStarted", "TestRotationFailed"}; !slices.Equal(got, want) {
		t.Fatalf("events = %v, want %v", got, want)
	}
	if err := srv.WaitEventDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
	got := target.got()
	if len(got) != 1 {
		t.Fatalf("%d events pushed, want the one TestRotationFailed", len(got))
	}
	env := srv.EventBridgeEvent(srv.Events()[1], 1)
	if env.Detail.EventName != events.TestRotationFailed || env.ReportedStep() != events.StepTestSecret {
		t.Fatalf("envelope = %+v, want TestRotationFailed reporting testSecret", env.Detail)
	}
}
