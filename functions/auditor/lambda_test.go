package main

import (
	"bufio"
	"context"
	"encoding/json"
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
	"github.com/rotorhq/rotor/rotation"
)

// TestBuiltFunctionUnderTheEmulator builds the auditor's bootstrap, runs it
// under the Lambda Runtime Interface Emulator with a scheduled event, and
// checks its alerts on the local SNS and its EMF line on stdout.
func TestBuiltFunctionUnderTheEmulator(t *testing.T) {
	srv, cfg := awslocaltest.New(t)
	sm := secretsmanager.NewFromConfig(cfg)
	topic := srv.CreateTopic("rotor-alerts")
	emu := rietest.Start(t, rietest.Build(t, "./functions/auditor"),
		"AWS_ENDPOINT_URL="+srv.URL(), "AWS_REGION="+cfg.Region,
		"AWS_ACCESS_KEY_ID=AKIDAWSLOCAL", "AWS_SECRET_ACCESS_KEY=awslocal-secret-key", "AWS_SESSION_TOKEN=",
		"AWS_LAMBDA_FUNCTION_NAME=rotor-auditor", "SNS_TOPIC_ARN="+topic, "METRICS_NAMESPACE=RotorRIE")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// A secret whose rotation function has gone, with a failed outcome tag.
	fn := srv.FunctionARN("rotor-gone")
	srv.SetFunction(fn, awslocal.FuncInvoker(func(context.Context, events.RotationEvent) error { return nil }))
	out, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("prod/audited"), SecretString: aws.String("v"),
		Tags: []smtypes.Tag{{Key: aws.String(rotation.TagLastRotation), Value: aws.String(rotation.OutcomeFailed)}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: out.ARN, RotationLambdaARN: aws.String(fn),
		RotateImmediately: aws.Bool(false), RotationRules: &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)}}); err != nil {
		t.Fatal(err)
	}
	_ = srv.WaitRotations(ctx)
	srv.SetFunction(fn, nil)

	scheduled := `{"version":"0","id":"1f2e3d4c-0000-4000-8000-000000000001","detail-type":"Scheduled Event","source":"aws.events","time":"2026-11-02T04:00:00Z","region":"us-east-1","resources":[],"detail":{}}`
	if _, err := (&awslocal.HTTPInvoker{URL: emu.URL}).Invoke(ctx, []byte(scheduled)); err != nil {
		t.Fatalf("invoke: %v", err)
	}
	kinds := map[string]bool{}
	for _, m := range srv.Published() {
		kinds[m.Subject] = true
	}
	want := []string{
		"rotor: rotation function missing or not invokable: prod/audited",
		"rotor: last rotation failed: prod/audited",
	}
	if len(kinds) != len(want) {
		t.Fatalf("alerts %v, want %v", kinds, want)
	}
	for _, w := range want {
		if !kinds[w] {
			t.Fatalf("alerts %v lack %q", kinds, w)
		}
	}
	var metrics map[string]any
	emfOut := emu.WaitOutput(t, func(o string) bool { return strings.Contains(o, `"_aws"`) })
	sc := bufio.NewScanner(strings.NewReader(emfOut))
	for sc.Scan() {
		// The emulator passes the function's stdout through line by line.
		line := sc.Text()
		if i := strings.Index(line, "{"); i >= 0 && strings.Contains(line, `"_aws"`) && json.Unmarshal([]byte(line[i:]), &metrics) == nil {
			break
		}
	}
	if metrics == nil {
		t.Fatalf("no EMF line in the output:\n%s", emu.Output())
	}
	if metrics["MissingFunctions"] != 1.0 || metrics["FailedRotations"] != 1.0 || metrics["SecretsAudited"] != 1.0 || metrics["FunctionName"] != "rotor-auditor" {
		t.Fatalf("metrics %v", metrics)
	}
}
