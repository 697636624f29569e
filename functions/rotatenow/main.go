// Command rotatenow is the Lambda function that rotates secrets on demand
// (from Terraform's aws_lambda_invocation, a pipeline or an operator) and,
// when asked, waits for each outcome. It only reads its settings, builds
// the pieces and starts the Lambda runtime; the work lives in internal/ops.
//
// Input: {"secretIds":[...]} or {"filters":[{"key":"tag-key","values":[...]}]},
// with optional "wait", "timeoutSeconds", "concurrency", "writesPerSecond",
// "failureGraceSeconds".
// The invocation fails (errorType RotateNowFailed) when any secret did not
// rotate; the message lists those secrets and the log holds every result.
package main

import (
	"context"
	"encoding/json"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/config"
	"github.com/rotorhq/rotor/internal/lambdafn"
	"github.com/rotorhq/rotor/internal/ops"
)

func main() {
	log := lambdafn.Boot("rotatenow", os.Getenv)
	defaults, err := ops.LoadRotateNowDefaults(os.Getenv)
	if err != nil {
		lambdafn.Fatal(log, "invalid settings", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	awsCfg, err := lambdafn.AWSConfig(os.Getenv)
	if err != nil {
		lambdafn.Fatal(log, "AWS configuration", err)
	}
	defaults.Secrets = lambdafn.SecretsManager(awsCfg, os.Getenv(config.EnvSecretsManagerEndpoint))
	fn := &ops.RotateNowFunction{Defaults: defaults, Logger: log}
	handler := func(reqCtx context.Context, payload json.RawMessage) (events.RotateNowResponse, error) {
		reqCtx, cancelReq := context.WithCancel(reqCtx)
		defer cancelReq()
		unlink := context.AfterFunc(ctx, cancelReq)
		defer unlink()
		resp, err := fn.Handle(reqCtx, payload)
		return resp, lambdafn.LambdaError(err)
	}
	lambda.StartWithOptions(handler, lambda.WithEnableSIGTERM(cancel))
}
