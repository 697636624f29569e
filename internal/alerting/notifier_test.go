package alerting_test

import (
	"bytes"
	"context"
	"log/slog"

	"os"
	"strings"
	"testing"
	"time"

	"github.com/rotorhq/rotor/internal/local/awslocal"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/jackc/pgx/v5"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/alerting"
	"github.com/rotorhq/rotor/rotation"
)

// A rotation that fails at setSecret on every one of Secrets Manager's
// attempts produces exactly one alert, with the step, rotor's redacted
// reason, the last success and what to do; redelivering every event sends
// nothing more; a later abandonment is a new alert.
func TestFailedRotationEndToEnd(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	fnARN := e.srv.FunctionARN("rotor-rotator")
	const oldPassword = "Old-Password-4f1c9e2a7b"
	port := closedPort(t)

	// A first rotation succeeds (the real rotator, a real PostgreSQL user),
	// so the secret has a LastRotatedDate.
	e.srv.SetFunction(fnARN, e.rotator(t))
	doc, role := e.pgDoc(t, oldPassword)
	arn := e.createRotated(t, "prod/app/db", doc, fnARN, 30)
	rotated, err := e.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	currentPassword := passwordOf(t, aws.ToString(rotated.SecretString))

	// Two days later the next one meets a database that refuses the user:
	// a DBA took its LOGIN away, so setSecret cannot log in.
	e.clock.Advance(48 * time.Hour)
	admin := e.pg.Admin(t)
	if _, err := admin.Exec(ctx, "ALTER ROLE "+pgx.Identifier{role}.Sanitize()+" NOLOGIN"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	res, err := e.srv.WaitRotation(ctx, arn)
	if err != nil || res.Succeeded || res.Step != events.StepSetSecret {
		t.Fatalf("rotation: %+v %v; want a failure at setSecret", res, err)
	}
	pending, err := e.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn), VersionStage: aws.String("AWSPENDING")})
	if err != nil {
		t.Fatal(err)
	}
	pendingPassword := passwordOf(t, aws.ToString(pending.SecretString))

	var logs bytes.Buffer
	n, err := alerting.NewNotifier(alerting.NotifierOptions{Secrets: e.sm, Topic: e.sns, TopicARN: e.topicARN, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	var results []alerting.NotifyResult
	bus := e.srv.NewBus(notifierInvoker(t, n, &results), events.RotationFailed, events.RotationAbandoned)
	sent, err := bus.Deliver(ctx)
	if err != nil {
		t.Fatalf("deliver: %v", err)
	}
	if sent != res.Attempts || sent < 2 {
		t.Fatalf("delivered %d RotationFailed events for %d attempts; the test needs Secrets Manager's retries", sent, res.Attempts)
	}
	msgs := e.srv.Published()
	if len(msgs) != 1 {
		t.Fatalf("%d SNS messages for one failed rotation, want 1: %+v", len(msgs), msgs)
	}
	if got := e.srv.Stats()["Publish"]; got != 1 {
		t.Fatalf("Publish called %d times, want 1", got)
	}
	m := msgs[0]
	t.Logf("Subject: %s\n%s", m.Subject, m.Message)
	if m.TopicARN != e.topicARN {
		t.Fatalf("published to %s", m.TopicARN)
	}
	for _, want := range []string{
		"rotation failed at setSecret", "prod/app/db", arn,
		"Failed step:", "setSecret", "Reason:",
		"Last success:", "Version:", res.VersionID,
		"rotor status prod/app/db", "rotor check prod/app/db", "(2 days ago)",
	} {
		if !strings.Contains(m.Subject+"\n"+m.Message, want) {
			t.Errorf("alert lacks %q:\nSubject: %s\n%s", want, m.Subject, m.Message)
		}
	}
	reason := tags(t, e.sm, arn)[rotation.TagLastError]
	if reason == "" || !strings.Contains(m.Message, reason) {
		t.Errorf("alert does not quote rotor's reason %q:\n%s", reason, m.Message)
	}
	for _, secret := range []string{oldPassword, currentPassword, pendingPassword} {
		if strings.Contains(m.Subject, secret) || strings.Contains(m.Message, secret) {
			t.Fatalf("alert contains a password")
		}
		if strings.Contains(logs.String(), secret) {
			t.Fatalf("notifier log contains a password")
		}
	}
	mark := tags(t, e.sm, arn)[alerting.TagLastAlert]
	if !strings.Contains(mark, res.VersionID) {
		t.Fatalf("tag %s = %q, want the rotation's version", alerting.TagLastAlert, mark)
	}
	skipped := 0
	for _, r := range results {
		if r.Skipped == "already alerted" {
			skipped++
		}
	}
	if skipped != sent-1 {
		t.Fatalf("%d of %d deliveries skipped as already alerted, want %d", skipped, sent, sent-1)
	}

	// EventBridge redelivers every one of them: nothing new.
	for _, ev := range bus.Delivered() {
		if err := bus.Redeliver(ctx, ev.ID); err != nil {
			t.Fatalf("redeliver %s: %v", ev.ID, err)
		}
	}
	if got := len(e.srv.Published()); got != 1 {
		t.Fatalf("%d SNS messages after redelivery, want still 1", got)
	}

	// Someone writes a value while the failed rotation is pending: that
	// abandons it, and is worth its own alert.
	if _, err := e.sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(arn), SecretString: aws.String(secretDoc(port, "Manual-Password-9d8c7b6a"))}); err != nil {
		t.Fatal(err)
	}
	if sent, err := bus.Deliver(ctx); err != nil || sent != 1 {
		t.Fatalf("deliver abandonment: %d %v", sent, err)
	}
	msgs = e.srv.Published()
	if len(msgs) != 2 || !strings.Contains(msgs[1].Subject, "rotation abandoned") {
		t.Fatalf("after abandonment: %d messages, last %+v", len(msgs), msgs[len(msgs)-1])
	}
	if strings.Contains(msgs[1].Message, "Manual-Password-9d8c7b6a") {
		t.Fatal("alert contains the written password")
	}
}

// The Secrets Manager error message stands in for rotor's reason when the
// outcome tags describe an earlier rotation (the function never ran, so
// rotor could not tag): the step still comes from the event.
func TestNotifierFallsBackToTheEventWhenTagsAreStale(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	fnARN := e.srv.FunctionARN("rotor-rotator")
	e.srv.SetFunction(fnARN, e.rotator(t))
	doc, _ := e.pgDoc(t, "Pw-11111111aaaa")
	arn := e.createRotated(t, "prod/stale", doc, fnARN, 30)
	// A function that fails before rotor runs (a crash at start).
	e.srv.SetFunction(fnARN, invokerFunc(func(ctx context.Context, _ []byte) ([]byte, error) {
		return nil, &awslocal.FunctionError{Type: "Runtime.ExitError", Message: "exit status 2"}
	}))
	if _, err := e.sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	if res, _ := e.srv.WaitRotation(ctx, arn); res.Succeeded {
		t.Fatal("rotation succeeded")
	}
	n, _ := alerting.NewNotifier(alerting.NotifierOptions{Secrets: e.sm, Topic: e.sns, TopicARN: e.topicARN})
	var results []alerting.NotifyResult
	bus := e.srv.NewBus(notifierInvoker(t, n, &results), events.RotationFailed)
	if _, err := bus.Deliver(ctx); err != nil {
		t.Fatal(err)
	}
	msgs := e.srv.Published()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	if !strings.Contains(msgs[0].Message, "createSecret") || !strings.Contains(msgs[0].Message, "Secrets Manager: Error when executing lambda "+fnARN) {
		t.Fatalf("alert does not use the event's step and message:\n%s", msgs[0].Message)
	}
}

// Events that are not failures, and events for deleted secrets, send
// nothing and are not errors.
func TestNotifierIgnores(t *testing.T) {
	e := newEnv(t)
	n, _ := alerting.NewNotifier(alerting.NotifierOptions{Secrets: e.sm, Topic: e.sns, TopicARN: e.topicARN})
	for file, want := range map[string]string{
		"eventbridge_rotation_started.json":       "not a failure",
		"eventbridge_rotation_succeeded.json":     "not a failure",
		"eventbridge_api_call_rotate_secret.json": "not a failure",
		"eventbridge_rotation_failed.json":        "secret deleted",
	} {
		raw, err := os.ReadFile("../../events/testdata/" + file)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := events.ParseSecretsManagerEvent(raw)
		if err != nil {
			t.Fatal(err)
		}
		res, err := n.Handle(ctxT(t), ev)
		if err != nil || res.Published || res.Skipped != want {
			t.Errorf("%s: %+v %v, want skipped %q", file, res, err, want)
		}
	}
	if got := len(e.srv.Published()); got != 0 {
		t.Fatalf("%d messages published", got)
	}
}

func passwordOf(t *testing.T, doc string) string {
	t.Helper()
	d, err := events.ParseSecretDocument(doc)
	if err != nil {
		t.Fatal(err)
	}
	return d.Password
}

// RotateSecret with RotateImmediately=false runs testSecret only; when it
// fails the stand-in records TestRotationFailed (not RotationFailed), pushes
// it through the alerts module's rule, and the notifier alerts once.
func TestCheckOnlyFailureAlerts(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	fnARN := e.srv.FunctionARN("rotor-rotator")
	e.srv.SetFunction(fnARN, e.rotator(t))
	const password = "Check-Password-71c2e9aa"
	out, err := e.sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("prod/check"), SecretString: aws.String(secretDoc(closedPort(t), password))})
	if err != nil {
		t.Fatal(err)
	}
	n, err := alerting.NewNotifier(alerting.NotifierOptions{Secrets: e.sm, Topic: e.sns, TopicARN: e.topicARN})
	if err != nil {
		t.Fatal(err)
	}
	var results []alerting.NotifyResult
	e.srv.SetEventTarget(notifierInvoker(t, n, &results), events.RotationFailed, events.RotationAbandoned, events.TestRotationFailed)
	if _, err := e.sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: out.ARN, RotationLambdaARN: aws.String(fnARN), RotateImmediately: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	res, err := e.srv.WaitRotation(ctx, aws.ToString(out.ARN))
	if err != nil || res.Succeeded || !res.CheckOnly || res.Step != events.StepTestSecret {
		t.Fatalf("check: %+v %v; want a failed testSecret", res, err)
	}
	if err := e.srv.WaitEventDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ev := range e.srv.Events() {
		names = append(names, ev.Name)
	}
	if strings.Join(names, ",") != "TestRotationStarted,TestRotationFailed" {
		t.Fatalf("events = %v", names)
	}
	msgs := e.srv.Published()
	if len(results) != 1 || !results[0].Published || len(msgs) != 1 {
		t.Fatalf("notifier results %+v, %d messages; want one alert", results, len(msgs))
	}
	if !strings.Contains(msgs[0].Subject+msgs[0].Message, "testSecret") || strings.Contains(msgs[0].Subject+msgs[0].Message, password) {
		t.Fatalf("alert does not name testSecret, or quotes the password:\n%s\n%s", msgs[0].Subject, msgs[0].Message)
	}
}
