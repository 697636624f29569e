// Command reaper is the Lambda function an EventBridge schedule invokes to
// drop the lease users whose expiry has passed (docs/leases.md): their
// sessions ended, what they own handed to their group role. A user it
// cannot drop is logged at ERROR, counted (LeaseReapFailures) and fails
// the invocation (errorType ReapIncomplete); the next run tries again. It
// only reads its settings, builds the pieces and starts the Lambda
// runtime; the work lives in internal/lease.
package main

import (
	"context"
	"encoding/json"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/rotorhq/rotor/internal/lambdafn"
	"github.com/rotorhq/rotor/internal/lease"
)

func main() {
	log := lambdafn.Boot("reaper", os.Getenv)
	// Cancelled on SIGTERM so database sessions in flight are closed.
	ctx, cancel := context.WithCancel(context.Background())
	svc, emf, err := lease.Setup(log, os.LookupEnv)
	if err != nil {
		lambdafn.Fatal(log, "invalid settings", err)
	}
	fn := os.Getenv("AWS_LAMBDA_FUNCTION_NAME")
	handler := func(reqCtx context.Context, payload json.RawMessage) (lease.ReapReport, error) {
		reqCtx, cancelReq := context.WithCancel(reqCtx)
		defer cancelReq()
		unlink := context.AfterFunc(ctx, cancelReq)
		defer unlink()
		r, err := svc.HandleReap(reqCtx, payload)
		emf.LeaseReap(fn, r.Reaped, len(r.Failures))
		return r, lambdafn.LambdaError(err)
	}
	lambda.StartWithOptions(handler, lambda.WithEnableSIGTERM(cancel))
}
