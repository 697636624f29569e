// Command notifier is the Lambda function an EventBridge rule invokes with
// Secrets Manager's rotation events (RotationFailed, RotationAbandoned). It
// sends one readable alert per failure to the SNS topic in SNS_TOPIC_ARN.
// It only reads its settings, builds the pieces and starts the Lambda
// runtime; the work lives in internal/alerting.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/alerting"
	"github.com/rotorhq/rotor/internal/lambdafn"
)

func main() {
	log := lambdafn.Boot("notifier", os.Getenv)
	cfg, err := alerting.LoadConfig(os.Getenv)
	if err != nil {
		lambdafn.Fatal(log, "invalid settings", err)
	}
	awsCfg, err := lambdafn.AWSConfig(os.Getenv)
	if err != nil {
		lambdafn.Fatal(log, "AWS configuration", err)
	}
	n, err := alerting.NewNotifier(alerting.NotifierOptions{
		Secrets:  lambdafn.SecretsManager(awsCfg, cfg.SecretsManagerEndpoint),
		Topic:    alerting.NewTopic(awsCfg),
		TopicARN: cfg.TopicARN,
		Logger:   log,
	})
	if err != nil {
		lambdafn.Fatal(log, "invalid settings", err)
	}
	lambda.Start(func(ctx context.Context, ev events.SecretsManagerEvent) error {
		_, err := n.Handle(ctx, ev)
		return err
	})
}
