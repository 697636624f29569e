package awslocal_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/local/awslocal"
	"github.com/rotorhq/rotor/internal/local/awslocal/awslocaltest"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// setup starts a stand-in and an SDK client for it.
func setup(t *testing.T) (*awslocal.Server, *secretsmanager.Client) {
	t.Helper()
	srv, cfg := awslocaltest.New(t)
	return srv, secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) { o.RetryMaxAttempts = 1 })
}

// token returns a deterministic 36-character ClientRequestToken.
func token(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

func create(t *testing.T, sm *secretsmanager.Client, name, value string) *secretsmanager.CreateSecretOutput {
	t.Helper()
	out, err := sm.CreateSecret(ctxT(t), &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value), ClientRequestToken: aws.String(token(1))})
	if err != nil {
		t.Fatalf("CreateSecret: %v", err)
	}
	return out
}

func put(t *testing.T, sm *secretsmanager.Client, id, tok, value string, stages ...string) {
	t.Helper()
	in := &secretsmanager.PutSecretValueInput{SecretId: aws.String(id), ClientRequestToken: aws.String(tok), SecretString: aws.String(value)}
	if stages != nil {
		in.VersionStages = stages
	}
	if _, err := sm.PutSecretValue(ctxT(t), in); err != nil {
		t.Fatalf("PutSecretValue(%s): %v", tok, err)
	}
}

// labels returns VersionIdsToStages with sorted labels.
func labels(t *testing.T, sm *secretsmanager.Client, id string) map[string][]string {
	t.Helper()
	d, err := sm.DescribeSecret(ctxT(t), &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)})
	if err != nil {
		t.Fatalf("DescribeSecret: %v", err)
	}
	m := map[string][]string{}
	for k, v := range d.VersionIdsToStages {
		v = slices.Clone(v)
		sort.Strings(v)
		m[k] = v
	}
	return m
}

func wantLabels(t *testing.T, sm *secretsmanager.Client, id string, want map[string][]string) {
	t.Helper()
	got := labels(t, sm, id)
	for _, v := range want {
		sort.Strings(v)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("VersionIdsToStages = %v, want %v", got, want)
	}
}

// wantAPIError checks an SDK error's code and, when msg is not empty, its
// message.
func wantAPIError(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error = %v, want %s", err, code)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("error code = %s (%s), want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
	if msg != "" && ae.ErrorMessage() != msg {
		t.Fatalf("error message = %q, want %q", ae.ErrorMessage(), msg)
	}
}

// rotator is a trivial but real rotation function over the SDK: createSecret
// stores "rotated-<token>" as AWSPENDING with the RotationToken, finishSecret
// moves AWSCURRENT. hook, when set, runs first and may fail the step.
func rotator(sm *secretsmanager.Client, hook func(ctx context.Context, e events.RotationEvent) error) awslocal.FuncInvoker {
	return func(ctx context.Context, e events.RotationEvent) error {
		if hook != nil {
			if err := hook(ctx, e); err != nil {
				return err
			}
		}
		d, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(e.SecretID)})
		if err != nil {
			return err
		}
		stages := d.VersionIdsToStages[e.ClientRequestToken]
		if slices.Contains(stages, "AWSCURRENT") {
			return nil
		}
		if !slices.Contains(stages, "AWSPENDING") {
			return fmt.Errorf("version %s has no stage for rotation", e.ClientRequestToken)
		}
		switch events.Step(e.Step) {
		case events.StepCreateSecret:
			_, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(e.SecretID), VersionId: aws.String(e.ClientRequestToken), VersionStage: aws.String("AWSPENDING")})
			var rnf *smtypes.ResourceNotFoundException
			if err == nil {
				return nil
			} else if !errors.As(err, &rnf) {
				return err
			}
			_, err = sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(e.SecretID), ClientRequestToken: aws.String(e.ClientRequestToken),
				SecretString: aws.String("rotated-" + e.ClientRequestToken), VersionStages: []string{"AWSPENDING"}, RotationToken: aws.String(e.RotationToken)})
			return err
		case events.StepFinishSecret:
			var cur string
			for id, st := range d.VersionIdsToStages {
				if slices.Contains(st, "AWSCURRENT") {
					cur = id
				}
			}
			in := &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String(e.SecretID), VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: aws.String(e.ClientRequestToken)}
			if cur != "" {
				in.RemoveFromVersionId = aws.String(cur)
			}
			_, err := sm.UpdateSecretVersionStage(ctx, in)
			return err
		}
		return nil
	}
}
