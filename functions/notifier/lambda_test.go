package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/local/awslocal"
	"github.com/rotorhq/rotor/internal/local/awslocal/awslocaltest"
	"github.com/rotorhq/rotor/internal/local/rietest"
)

// TestBuiltFunctionUnderTheEmulator builds the notifier's bootstrap, runs it
// under the Lambda Runtime Interface Emulator, and has the local Secrets
// Manager push its rotation events to it as EventBridge would: a failed
// rotation (three attempts) is one SNS alert, redelivery adds none, and an
// event from another source fails the invocation with the field named.
func TestBuiltFunctionUnderTheEmulator(t *testing.T) {
	srv, cfg := awslocaltest.New(t)
	sm := secretsmanager.NewFromConfig(cfg)
	topic := srv.CreateTopic("rotor-alerts")
	emu := rietest.Start(t, rietest.Build(t, "./functions/notifier"),
		"AWS_ENDPOINT_URL="+srv.URL(), "AWS_REGION="+cfg.Region,
		"AWS_ACCESS_KEY_ID=AKIDAWSLOCAL", "AWS_SECRET_ACCESS_KEY=awslocal-secret-key", "AWS_SESSION_TOKEN=",
		"SNS_TOPIC_ARN="+topic, "LOG_LEVEL=debug")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// The stand-in pushes its failure events to the notifier as an
	// EventBridge rule does (what `rotor local serve --events-to` sets up).
	srv.SetEventTarget(&awslocal.HTTPInvoker{URL: emu.URL}, events.RotationFailed, events.RotationAbandoned)

	// A rotation function that fails before it can record anything.
	fn := srv.FunctionARN("rotor-rotator")
	srv.SetFunction(fn, awslocal.FuncInvoker(func(context.Context, events.RotationEvent) error {
		return errors.New("cannot start")
	}))
	out, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("prod/notifier"), SecretString: aws.String(`{"password":"Never-In-An-Alert-42"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: out.ARN, RotationLambdaARN: aws.String(fn),
		RotationRules: &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)}}); err != nil {
		t.Fatal(err)
	}
	if res, err := srv.WaitRotation(ctx, aws.ToString(out.ARN)); err != nil || res.Succeeded || res.Attempts < 2 {
		t.Fatalf("rotation %+v %v: want a failure after several attempts", res, err)
	}

	if err := srv.WaitEventDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
	if n := srv.Stats()["Publish"]; n != 1 {
		t.Fatalf("%d Publish calls after the pushed events, want 1", n)
	}
	// EventBridge delivers at least once: the same events again (same ids,
	// pulled through a Bus) publish nothing more.
	srv.SetEventTarget(nil)
	bus := srv.NewBus(&awslocal.HTTPInvoker{URL: emu.URL}, events.RotationFailed, events.RotationAbandoned)
	if _, err := bus.Deliver(ctx); err != nil {
		t.Fatalf("deliver: %v", err)
	}
	for _, ev := range bus.Delivered() {
		if err := bus.Redeliver(ctx, ev.ID); err != nil {
			t.Fatalf("redeliver: %v", err)
		}
	}
	msgs := srv.Published()
	if len(msgs) != 1 || srv.Stats()["Publish"] != 1 {
		t.Fatalf("%d messages (%d Publish calls), want exactly 1", len(msgs), srv.Stats()["Publish"])
	}
	m := msgs[0]
	if m.TopicARN != topic || !strings.Contains(m.Subject, "rotation failed at createSecret: prod/notifier") ||
		!strings.Contains(m.Message, "rotor status prod/notifier") {
		t.Fatalf("alert:\n%s\n%s", m.Subject, m.Message)
	}
	if strings.Contains(m.Message, "Never-In-An-Alert-42") || strings.Contains(emu.Output(), "Never-In-An-Alert-42") {
		t.Fatal("a secret value reached the alert or the log")
	}

	// Not an event the rule would send: the invocation fails, naming the field.
	_, err = (&awslocal.HTTPInvoker{URL: emu.URL}).Invoke(ctx, []byte(`{"id":"x","source":"aws.kms","detail":{"eventName":"RotationFailed"}}`))
	var fe *awslocal.FunctionError
	if !errors.As(err, &fe) || !strings.Contains(fe.Message, `field "source"`) {
		t.Fatalf("foreign event: %v, want a function error naming source", err)
	}
}
