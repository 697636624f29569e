package rietest_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/rotorhq/rotor/internal/local/awslocal"
	"github.com/rotorhq/rotor/internal/local/awslocal/awslocaltest"
	"github.com/rotorhq/rotor/internal/local/rietest"
)

// TestRotateThroughEmulator drives a real Go Lambda binary under the Runtime
// Interface Emulator from the stand-in's RotateSecret, end to end.
func TestRotateThroughEmulator(t *testing.T) {
	t.Parallel()
	srv, cfg := awslocaltest.New(t)
	bootstrap := rietest.Build(t, "./internal/local/rietest/testdata/rotatefn")
	emu := rietest.Start(t, bootstrap,
		"AWS_ENDPOINT_URL="+srv.URL(), "AWS_REGION="+cfg.Region,
		"AWS_ACCESS_KEY_ID=AKIDAWSLOCAL", "AWS_SECRET_ACCESS_KEY=awslocal-secret-key", "AWS_SESSION_TOKEN=")
	fn := srv.FunctionARN("rotatefn")
	srv.SetFunction(fn, &awslocal.HTTPInvoker{URL: emu.URL})

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sm := secretsmanager.NewFromConfig(cfg)
	c, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("rie/app"), SecretString: aws.String("initial")})
	if err != nil {
		t.Fatal(err)
	}
	r, err := sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String("rie/app"), RotationLambdaARN: aws.String(fn)})
	if err != nil {
		t.Fatal(err)
	}
	res, err := srv.WaitRotation(ctx, "rie/app")
	if err != nil || !res.Succeeded || res.Attempts != 1 {
		t.Fatalf("rotation = %+v, %v\nemulator output:\n%s", res, err, emu.Output())
	}
	d, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("rie/app")})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.VersionIdsToStages; len(got) != 2 || strings.Join(got[aws.ToString(r.VersionId)], ",") != "AWSCURRENT" || strings.Join(got[aws.ToString(c.VersionId)], ",") != "AWSPREVIOUS" {
		t.Fatalf("VersionIdsToStages = %v", got)
	}
	for _, v := range srv.Versions("rie/app") {
		if v.VersionID == aws.ToString(r.VersionId) && v.RotationToken != srv.LastRotationToken("rie/app") {
			t.Fatalf("the function did not pass the RotationToken on")
		}
	}
	emu.WaitOutput(t, func(o string) bool { return strings.Contains(o, "rotatefn: step finishSecret") })
}

// TestFunctionErrorThroughEmulator checks that a step error the Go runtime
// reports through the emulator reaches the stand-in as a step failure with
// the function's message, and that the pass is retried.
func TestFunctionErrorThroughEmulator(t *testing.T) {
	t.Parallel()
	srv, cfg := awslocaltest.New(t)
	bootstrap := rietest.Build(t, "./internal/local/rietest/testdata/rotatefn")
	emu := rietest.Start(t, bootstrap,
		"AWS_ENDPOINT_URL="+srv.URL(), "AWS_REGION="+cfg.Region,
		"AWS_ACCESS_KEY_ID=AKIDAWSLOCAL", "AWS_SECRET_ACCESS_KEY=awslocal-secret-key", "ROTATEFN_FAIL_STEP=setSecret")
	fn := srv.FunctionARN("rotatefn")
	srv.SetFunction(fn, &awslocal.HTTPInvoker{URL: emu.URL})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sm := secretsmanager.NewFromConfig(cfg)
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("rie/fail"), SecretString: aws.String("initial")}); err != nil {
		t.Fatal(err)
	}
	if _, err := sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String("rie/fail"), RotationLambdaARN: aws.String(fn)}); err != nil {
		t.Fatal(err)
	}
	res, err := srv.WaitRotation(ctx, "rie/fail")
	if err != nil || res.Succeeded || res.Step != "setSecret" || res.Attempts != awslocal.DefaultRotationAttempts {
		t.Fatalf("rotation = %+v, %v", res, err)
	}
	var fe *awslocal.FunctionError
	if !errors.As(res.Err, &fe) || fe.Message != "setSecret: failing on purpose" {
		t.Fatalf("step error = %#v", res.Err)
	}
}
