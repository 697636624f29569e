package awslocal_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/local/awslocal"
)

// VersionStages given as an empty list is refused (the API model requires
// at least one); left out, the put moves AWSCURRENT. Nothing is stored by
// the refused put.
func TestPutSecretValueEmptyVersionStages(t *testing.T) {
	t.Parallel()
	_, sm := setup(t)
	ctx := ctxT(t)
	create(t, sm, "s", "v1")
	_, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId: aws.String("s"), ClientRequestToken: aws.String(token(2)), SecretString: aws.String("v2"), VersionStages: []string{},
	})
	wantAPIError(t, err, "ValidationException", "1 validation error detected: Value '[]' at 'versionStages' failed to satisfy constraint: Member must have length greater than or equal to 1")
	if _, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s"), VersionId: aws.String(token(2))}); err == nil {
		t.Fatal("the refused put stored a version")
	}
	put(t, sm, "s", token(3), "v3")
	wantLabels(t, sm, "s", map[string][]string{token(1): {"AWSPREVIOUS"}, token(3): {"AWSCURRENT"}})
}

// AWSCURRENT cannot be moved onto the value-less placeholder RotateSecret
// makes (the stand-in's choice, doc.go); other labels can, and once
// createSecret has stored a value AWSCURRENT can too.
func TestUpdateSecretVersionStageOntoPlaceholder(t *testing.T) {
	t.Parallel()
	srv, sm := setup(t)
	ctx := ctxT(t)
	var moveErr, customErr error
	srv.SetFunction(fnARN, awslocal.FuncInvoker(func(ctx context.Context, e events.RotationEvent) error {
		if e.Step != string(events.StepCreateSecret) {
			return errors.New("stop after the check")
		}
		_, moveErr = sm.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
			SecretId: aws.String(e.SecretID), VersionStage: aws.String("AWSCURRENT"),
			RemoveFromVersionId: aws.String(token(1)), MoveToVersionId: aws.String(e.ClientRequestToken),
		})
		_, customErr = sm.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
			SecretId: aws.String(e.SecretID), VersionStage: aws.String("blue"), MoveToVersionId: aws.String(e.ClientRequestToken),
		})
		return errors.New("stop after the check")
	}))
	create(t, sm, "s", "v1")
	rotate(t, sm, "s", token(2), nil)
	if _, err := srv.WaitRotation(ctx, "s"); err != nil {
		t.Fatal(err)
	}
	wantAPIError(t, moveErr, "InvalidRequestException", "You can't attach the staging label AWSCURRENT to version "+token(2)+" because it has no secret value.")
	if customErr != nil {
		t.Fatalf("custom label onto the placeholder: %v", customErr)
	}
	wantLabels(t, sm, "s", map[string][]string{token(1): {"AWSCURRENT"}, token(2): {"AWSPENDING", "blue"}})
	if v, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s")}); err != nil || aws.ToString(v.SecretString) != "v1" {
		t.Fatalf("AWSCURRENT after the refused move: %v %v", v, err)
	}
}

// A function that never answers is cut off at the invoker's timeout and
// counts as a function failure of the step it was invoked for; the
// rotation ends (all passes fail) instead of hanging.
func TestHTTPInvokerTimeoutFailsTheStep(t *testing.T) {
	t.Parallel()
	srv, sm := setup(t)
	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); hung.Close() })
	srv.SetFunction(fnARN, &awslocal.HTTPInvoker{URL: hung.URL, Timeout: 50 * time.Millisecond})
	create(t, sm, "s", "v1")
	rotate(t, sm, "s", token(2), nil)
	res, err := srv.WaitRotation(ctxT(t), "s")
	if err != nil {
		t.Fatal(err)
	}
	var fe *awslocal.FunctionError
	if res.Succeeded || res.Step != events.StepCreateSecret || !errors.As(res.Err, &fe) || fe.Type != "Sandbox.Timedout" {
		t.Fatalf("result %+v (err %v), want a Sandbox.Timedout function error at createSecret", res, res.Err)
	}
	if res.Attempts != awslocal.DefaultRotationAttempts {
		t.Fatalf("%d passes, want every pass (%d) to run and time out", res.Attempts, awslocal.DefaultRotationAttempts)
	}
	failed := 0
	for _, e := range srv.Events() {
		if e.Name == "RotationFailed" {
			failed++
			if e.Step != string(events.StepCreateSecret) || e.ErrorType != "Sandbox.Timedout" {
				t.Fatalf("event %+v", e)
			}
		}
	}
	if failed != awslocal.DefaultRotationAttempts {
		t.Fatalf("%d RotationFailed events", failed)
	}
}

// The zero Timeout is Lambda's maximum; the caller's own cancellation is
// not reported as a function timeout.
func TestHTTPInvokerDefaultsAndCancellation(t *testing.T) {
	t.Parallel()
	if awslocal.DefaultInvokeTimeout != 15*time.Minute {
		t.Fatalf("DefaultInvokeTimeout = %v", awslocal.DefaultInvokeTimeout)
	}
	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); hung.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	_, err := (&awslocal.HTTPInvoker{URL: hung.URL}).Invoke(ctx, []byte(`{}`))
	var fe *awslocal.FunctionError
	if err == nil || errors.As(err, &fe) || !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v (%T), want the caller's cancellation, not a function error", err, err)
	}
}
