// Command auditor is the Lambda function an EventBridge schedule invokes
// to audit every secret with rotation enabled: overdue, stuck, failed, or
// without a working rotation function. It sends one alert per finding to
// SNS_TOPIC_ARN and writes the counts as EMF metrics in METRICS_NAMESPACE.
// It only reads its settings, builds the pieces and starts the Lambda
// runtime; the work lives in internal/alerting.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	lambdasvc "github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/rotorhq/rotor/internal/alerting"
	"github.com/rotorhq/rotor/internal/lambdafn"
	"github.com/rotorhq/rotor/internal/metrics"
	"github.com/rotorhq/rotor/internal/version"
)

func main() {
	log := lambdafn.Boot("auditor", os.Getenv)
	cfg, err := alerting.LoadConfig(os.Getenv)
	if err != nil {
		lambdafn.Fatal(log, "invalid settings", err)
	}
	awsCfg, err := lambdafn.AWSConfig(os.Getenv)
	if err != nil {
		lambdafn.Fatal(log, "AWS configuration", err)
	}
	a, err := alerting.NewAuditor(alerting.AuditorOptions{
		Secrets:   lambdafn.SecretsManager(awsCfg, cfg.SecretsManagerEndpoint),
		Functions: lambdasvc.NewFromConfig(awsCfg),
		Topic:     alerting.NewTopic(awsCfg),
		TopicARN:  cfg.TopicARN,
		Metrics:   metrics.NewEMF(os.Stdout, cfg.MetricsNamespace).WithVersion(version.String()),
		// Set by the Lambda runtime; the metrics' FunctionName dimension.
		FunctionName: os.Getenv("AWS_LAMBDA_FUNCTION_NAME"),
		Region:       awsCfg.Region,
		Logger:       log,
	})
	if err != nil {
		lambdafn.Fatal(log, "invalid settings", err)
	}
	lambda.Start(func(ctx context.Context) error {
		_, err := a.Run(ctx)
		return err
	})
}
