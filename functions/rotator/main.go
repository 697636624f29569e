// Command rotator is the Lambda function Secrets Manager invokes for each
// rotation step. It only reads its settings, builds the pieces and starts the
// Lambda runtime; the protocol lives in package rotation.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/rotorhq/rotor/internal/config/rotatorconfig"
	"github.com/rotorhq/rotor/internal/lambdafn"
	"github.com/rotorhq/rotor/internal/metrics"
	"github.com/rotorhq/rotor/internal/rdsapi"
	"github.com/rotorhq/rotor/internal/rdsendpoint"
	"github.com/rotorhq/rotor/internal/version"
	"github.com/rotorhq/rotor/rotation"
	"github.com/rotorhq/rotor/strategies"
)

func main() {
	log := lambdafn.Boot("rotator", os.Getenv)
	cfg, err := rotatorconfig.Load(os.LookupEnv)
	if err != nil {
		lambdafn.Fatal(log, "invalid settings", err)
	}
	sopts, err := cfg.StrategyOptions()
	if err != nil {
		lambdafn.Fatal(log, "invalid settings", err)
	}
	emf := metrics.NewEMF(os.Stdout, cfg.MetricsNamespace).WithVersion(version.String()).WithFunctionName(os.Getenv("AWS_LAMBDA_FUNCTION_NAME"))
	sopts.OnLogin = emf.Logins()
	// Cancelled on SIGTERM so database sessions in flight are closed.
	ctx, cancel := context.WithCancel(context.Background())
	awsCfg, err := lambdafn.AWSConfig(os.Getenv)
	if err != nil {
		lambdafn.Fatal(log, "AWS configuration", err)
	}
	// One RDS client serves both uses: the endpoints of RDS-managed admin
	// secrets and the rds-master strategy's password changes.
	rdsClient := rdsapi.New(awsCfg)
	sopts.RDS = rdsClient
	rot, err := rotation.New(rotation.Options{
		Secrets:         lambdafn.SecretsManager(awsCfg, cfg.SecretsManagerEndpoint),
		Strategies:      func(name string) (strategies.Strategy, error) { return strategies.New(name, sopts) },
		DefaultStrategy: cfg.Strategy,
		Password:        cfg.Password,
		Endpoints:       rdsendpoint.Resolver{RDS: rdsClient},
		AdminSecretARNs: cfg.AdminSecretARNs,
		Logger:          log,
		OnStep:          emf.StepReport,
	})
	if err != nil {
		lambdafn.Fatal(log, "invalid settings", err)
	}
	// The payload is decoded by the rotator (rotation.HandleEvent), so a
	// malformed event fails with an error naming its field.
	handler := lambdafn.RawHandler(func(reqCtx context.Context, payload []byte) error {
		reqCtx, cancelReq := context.WithCancel(reqCtx)
		defer cancelReq()
		unlink := context.AfterFunc(ctx, cancelReq)
		defer unlink()
		return lambdafn.LambdaError(rot.HandleEvent(reqCtx, payload))
	})
	lambda.StartWithOptions(handler, lambda.WithEnableSIGTERM(func() {
		log.Info("SIGTERM: closing database sessions")
		cancel()
	}))
}
