// Command rotatefn is a trivial but real rotation function for the emulator
// test: createSecret stores a generated password as AWSPENDING (passing the
// RotationToken on), finishSecret moves AWSCURRENT. It reaches Secrets
// Manager through the SDK's default configuration, so AWS_ENDPOINT_URL
// points it at the local stand-in. ROTATEFN_FAIL_STEP=<step> makes that
// step fail. It logs steps, never values.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"slices"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/rotorhq/rotor/events"
)

func main() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatalf("load AWS config: %v", err)
	}
	sm := secretsmanager.NewFromConfig(cfg)
	lambda.Start(func(ctx context.Context, e events.RotationEvent) error {
		log.Printf("rotatefn: step %s for %s version %s", e.Step, e.SecretID, e.ClientRequestToken)
		if os.Getenv("ROTATEFN_FAIL_STEP") == e.Step {
			return fmt.Errorf("%s: failing on purpose", e.Step)
		}
		return handle(ctx, sm, e)
	})
}

func handle(ctx context.Context, sm *secretsmanager.Client, e events.RotationEvent) error {
	d, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(e.SecretID)})
	if err != nil {
		return fmt.Errorf("describe secret: %w", err)
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
		var rnf *types.ResourceNotFoundException
		if err == nil {
			return nil
		} else if !errors.As(err, &rnf) {
			return fmt.Errorf("get pending value: %w", err)
		}
		pw, err := sm.GetRandomPassword(ctx, &secretsmanager.GetRandomPasswordInput{})
		if err != nil {
			return fmt.Errorf("get random password: %w", err)
		}
		_, err = sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(e.SecretID), ClientRequestToken: aws.String(e.ClientRequestToken),
			SecretString: pw.RandomPassword, VersionStages: []string{"AWSPENDING"}, RotationToken: aws.String(e.RotationToken)})
		if err != nil {
			return fmt.Errorf("put pending version: %w", err)
		}
	case events.StepFinishSecret:
		in := &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String(e.SecretID), VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: aws.String(e.ClientRequestToken)}
		for id, st := range d.VersionIdsToStages {
			if slices.Contains(st, "AWSCURRENT") {
				in.RemoveFromVersionId = aws.String(id)
			}
		}
		if _, err := sm.UpdateSecretVersionStage(ctx, in); err != nil {
			return fmt.Errorf("move AWSCURRENT: %w", err)
		}
	}
	return nil
}
