// Command issuer is the Lambda function applications invoke for a lease: a
// database user of their own, valid for a short time (docs/leases.md). The
// request names a role definition of LEASE_ROLES, never SQL; renew and
// revoke prove possession with the lease's password. It only reads its
// settings, builds the pieces and starts the Lambda runtime; the work lives
// in internal/lease.
//
// Input: events.LeaseRequest. Output: events.Lease. Errors have the types
// InvalidLeaseRequest, LeaseDenied and LeaseFailed.
package main

import (
	"context"
	"encoding/json"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/lambdafn"
	"github.com/rotorhq/rotor/internal/lease"
)

func main() {
	log := lambdafn.Boot("issuer", os.Getenv)
	// Cancelled on SIGTERM so database sessions in flight are closed.
	ctx, cancel := context.WithCancel(context.Background())
	svc, _, err := lease.Setup(log, os.LookupEnv)
	if err != nil {
		lambdafn.Fatal(log, "invalid settings", err)
	}
	handler := func(reqCtx context.Context, payload json.RawMessage) (events.Lease, error) {
		reqCtx, cancelReq := context.WithCancel(reqCtx)
		defer cancelReq()
		unlink := context.AfterFunc(ctx, cancelReq)
		defer unlink()
		l, err := svc.HandleRequest(reqCtx, payload)
		return l, lambdafn.LambdaError(err)
	}
	lambda.StartWithOptions(handler, lambda.WithEnableSIGTERM(cancel))
}
