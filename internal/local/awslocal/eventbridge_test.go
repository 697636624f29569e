package awslocal_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/local/awslocal"
	"github.com/rotorhq/rotor/internal/local/awslocal/awslocaltest"
)

// recorder is a delivery target that keeps what it was sent.
type recorder struct{ payloads [][]byte }

func (r *recorder) Invoke(_ context.Context, p []byte) ([]byte, error) {
	r.payloads = append(r.payloads, p)
	return []byte("null"), nil
}

// Rotation events reach a rule's target in EventBridge's CloudTrail
// service-event envelope, filtered by name, once each; Redeliver repeats one
// with the same id.
func TestBusDeliversRotationEventsAsEventBridgeDoes(t *testing.T) {
	srv, cfg := awslocaltest.New(t)
	sm := secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) { o.RetryMaxAttempts = 1 })
	ctx := ctxT(t)
	fnARN := srv.FunctionARN("failing")
	srv.SetFunction(fnARN, awslocal.FuncInvoker(func(_ context.Context, e events.RotationEvent) error {
		if e.Step == string(events.StepCreateSecret) {
			return errors.New("boom")
		}
		return nil
	}))
	out, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("eb/one"), SecretString: aws.String("v")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{
		SecretId: out.ARN, RotationLambdaARN: aws.String(fnARN),
		RotationRules: &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(7)},
	}); err != nil {
		t.Fatal(err)
	}
	res, err := srv.WaitRotation(ctx, aws.ToString(out.ARN))
	if err != nil || res.Succeeded {
		t.Fatalf("rotation %+v %v, want a failure", res, err)
	}

	var rec recorder
	bus := srv.NewBus(&rec, events.RotationFailed)
	n, err := bus.Deliver(ctx)
	if err != nil || n != res.Attempts || len(rec.payloads) != n {
		t.Fatalf("delivered %d (%d payloads) for %d failed attempts, err %v", n, len(rec.payloads), res.Attempts, err)
	}
	ids := map[string]bool{}
	for _, p := range rec.payloads {
		ev, err := events.ParseSecretsManagerEvent(p)
		if err != nil {
			t.Fatalf("envelope does not parse: %v\n%s", err, p)
		}
		if ev.DetailType != events.DetailTypeServiceEvent || ev.Detail.EventType != "AwsServiceEvent" || len(ev.Resources) != 0 {
			t.Fatalf("not a CloudTrail service event: %s", p)
		}
		if ev.SecretID() != aws.ToString(out.ARN) || ev.Detail.EventName != events.RotationFailed || ev.ReportedStep() != events.StepCreateSecret {
			t.Fatalf("secret %q name %q step %q", ev.SecretID(), ev.Detail.EventName, ev.ReportedStep())
		}
		if want := "Error when executing lambda " + fnARN + " during createSecret step"; ev.Detail.ErrorMessage != want {
			t.Fatalf("errorMessage %q, want AWS's %q (the function's own text stays out)", ev.Detail.ErrorMessage, want)
		}
		var raw map[string]any
		_ = json.Unmarshal(p, &raw)
		if _, ok := raw["detail-type"]; !ok {
			t.Fatalf("wire name detail-type missing: %s", p)
		}
		ids[ev.ID] = true
	}
	if len(ids) != n {
		t.Fatalf("event ids are not unique: %v", ids)
	}
	if again, _ := bus.Deliver(ctx); again != 0 {
		t.Fatalf("second Deliver sent %d events again", again)
	}
	first := bus.Delivered()[0]
	if err := bus.Redeliver(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	last, _ := events.ParseSecretsManagerEvent(rec.payloads[len(rec.payloads)-1])
	if last.ID != first.ID || last.Detail.EventID != first.Detail.EventID {
		t.Fatalf("redelivery changed the ids")
	}
	if err := bus.Redeliver(ctx, "no-such-id"); err == nil {
		t.Fatal("redelivering an unknown id succeeded")
	}
}

// GetFunctionConfiguration, through the server's own routing, reports
// registered functions as Active (or the state set), and unknown ones as
// ResourceNotFoundException; Invoke on the same base URL still works.
func TestServerAnswersGetFunctionConfiguration(t *testing.T) {
	srv, cfg := awslocaltest.New(t)
	lc := lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.RetryMaxAttempts = 1 })
	ctx := ctxT(t)
	arn := srv.FunctionARN("fn")
	srv.SetFunction(arn, awslocal.FuncInvoker(func(context.Context, events.RotationEvent) error { return nil }))

	out, err := lc.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(arn)})
	if err != nil || out.State != lambdatypes.StateActive || aws.ToString(out.FunctionArn) != arn {
		t.Fatalf("registered function: %+v %v", out, err)
	}
	srv.SetFunctionState(arn, "Failed", "role cannot be assumed")
	out, err = lc.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("fn")})
	if err != nil || out.State != lambdatypes.StateFailed || aws.ToString(out.StateReason) != "role cannot be assumed" {
		t.Fatalf("failed function by name: %+v %v", out, err)
	}
	_, err = lc.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(srv.FunctionARN("gone"))})
	var nf *lambdatypes.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("unknown function: %v, want ResourceNotFoundException", err)
	}
	if _, err := lc.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(arn), Payload: []byte(`{}`)}); err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	if n := srv.Stats()["GetFunctionConfiguration"]; n != 3 {
		t.Fatalf("GetFunctionConfiguration counted %d times, want 3", n)
	}
}

// syncRecorder is a delivery target safe for the server's sender goroutine.
type syncRecorder struct {
	mu       sync.Mutex
	payloads [][]byte
	fail     int // fail this many sends first
}

func (r *syncRecorder) Invoke(_ context.Context, p []byte) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.payloads = append(r.payloads, slices.Clone(p))
	if r.fail > 0 {
		r.fail--
		return nil, &awslocal.FunctionError{Type: "Boom", Message: "target failed"}
	}
	return []byte("null"), nil
}

func (r *syncRecorder) got() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.payloads)
}

// With an event target set, the server pushes each matching event as it is
// recorded, once, in order, in the same envelope (and with the same id) a
// Bus would deliver; a failed send is retried.
func TestServerPushesRotationEventsToItsTarget(t *testing.T) {
	srv, cfg := awslocaltest.New(t)
	sm := secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) { o.RetryMaxAttempts = 1 })
	ctx := ctxT(t)
	target := &syncRecorder{fail: 1}
	srv.SetEventTarget(target, events.RotationFailed, events.RotationAbandoned)
	fnARN := srv.FunctionARN("failing")
	srv.SetFunction(fnARN, awslocal.FuncInvoker(func(_ context.Context, e events.RotationEvent) error {
		if e.Step == string(events.StepSetSecret) {
			return errors.New("boom")
		}
		return nil
	}))
	out, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("eb/pushed"), SecretString: aws.String("v")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{
		SecretId: out.ARN, RotationLambdaARN: aws.String(fnARN),
		RotationRules: &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(7)},
	}); err != nil {
		t.Fatal(err)
	}
	res, err := srv.WaitRotation(ctx, aws.ToString(out.ARN))
	if err != nil || res.Succeeded {
		t.Fatalf("rotation %+v %v, want a failure", res, err)
	}
	if err := srv.WaitEventDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
	var want [][]byte
	for i, e := range srv.Events() {
		if e.Name == string(events.RotationFailed) || e.Name == string(events.RotationAbandoned) {
			b, _ := json.Marshal(srv.EventBridgeEvent(e, i))
			want = append(want, b)
		}
	}
	if len(want) != res.Attempts {
		t.Fatalf("%d failure events for %d failed passes", len(want), res.Attempts)
	}
	// The first send failed and was repeated: one more send than events.
	got := target.got()
	if len(got) != len(want)+1 || string(got[0]) != string(got[1]) {
		t.Fatalf("%d sends for %d events, want the first one twice", len(got), len(want))
	}
	for i, w := range want {
		if string(got[i+1]) != string(w) {
			t.Fatalf("send %d:\n%s\nwant\n%s", i+1, got[i+1], w)
		}
		var env events.SecretsManagerEvent
		if err := json.Unmarshal(got[i+1], &env); err != nil || env.Detail.EventName != events.RotationFailed || env.SecretID() != aws.ToString(out.ARN) {
			t.Fatalf("send %d is not a RotationFailed envelope for the secret: %+v %v", i+1, env, err)
		}
	}
}
