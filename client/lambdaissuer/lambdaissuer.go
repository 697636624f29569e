// Package lambdaissuer asks rotor's issuer function for leases through the
// Lambda API (Invoke, RequestResponse): it is the client.Issuer an
// application or the rotor CLI uses in AWS. The caller's IAM identity needs
// lambda:InvokeFunction on the issuer (the leases Terraform module outputs
// that policy).
//
// Errors: the function's own refusal (an unknown role definition, a TTL
// over the maximum, a renewal of an expired lease) is a *FunctionError with
// the function's errorType and errorMessage; anything else names the call
// that failed. The request's password (renew, revoke) never reaches an
// error: the Lambda API's errors carry no payload, and the issuer's
// messages name users, never passwords.
package lambdaissuer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/rotorhq/rotor/events"
)

// Invoker is the part of the Lambda API the issuer client calls, with the
// SDK client's own signature: *lambda.Client satisfies it. With
// BaseEndpoint at the Lambda Runtime Interface Emulator and function name
// "function", the SDK client invokes a function running under it.
type Invoker interface {
	Invoke(context.Context, *lambda.InvokeInput, ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

// Issuer invokes one issuer function. It is safe for concurrent use.
type Issuer struct {
	lambda   Invoker
	function string
}

// New returns an issuer client for function (a name, ARN or partial ARN,
// optionally with a :qualifier, as Invoke takes it).
func New(lc Invoker, function string) (*Issuer, error) {
	if lc == nil {
		return nil, errors.New("lambdaissuer: nil Lambda client")
	}
	if function == "" {
		return nil, errors.New("lambdaissuer: function name: missing or empty")
	}
	return &Issuer{lambda: lc, function: function}, nil
}

// FunctionError is the issuer function's error answer: the errorType and
// errorMessage the Lambda runtime reports.
type FunctionError struct {
	Function string
	Type     string
	Message  string
}

func (e *FunctionError) Error() string {
	return fmt.Sprintf("issuer %s: %s: %s", e.Function, e.Type, e.Message)
}

// Lease validates req, invokes the function with it and decodes the
// answer.
func (i *Issuer) Lease(ctx context.Context, req events.LeaseRequest) (events.Lease, error) {
	if err := req.Validate(); err != nil {
		return events.Lease{}, fmt.Errorf("lease request: %w", err)
	}
	payload, err := json.Marshal(req)
	if err != nil {
		return events.Lease{}, fmt.Errorf("encode lease request: %w", err)
	}
	out, err := i.lambda.Invoke(ctx, &lambda.InvokeInput{
		FunctionName:   aws.String(i.function),
		InvocationType: types.InvocationTypeRequestResponse,
		Payload:        payload,
	})
	if err != nil {
		return events.Lease{}, fmt.Errorf("invoke issuer %s: %w", i.function, err)
	}
	if fe := functionError(i.function, out); fe != nil {
		return events.Lease{}, fe
	}
	var l events.Lease
	if err := json.Unmarshal(out.Payload, &l); err != nil {
		return events.Lease{}, fmt.Errorf("issuer %s answer: %w", i.function, err)
	}
	return l, nil
}

// functionError returns the function's error answer, or nil. Lambda marks
// one with X-Amz-Function-Error (FunctionError); the Runtime Interface
// Emulator sends the same body without the header, so a body that is an
// error object (errorType or errorMessage, and no lease fields) counts too.
func functionError(function string, out *lambda.InvokeOutput) *FunctionError {
	var e struct {
		Type      *string          `json:"errorType"`
		Message   *string          `json:"errorMessage"`
		Role      *json.RawMessage `json:"role"`
		ExpiresAt *json.RawMessage `json:"expiresAt"`
	}
	decoded := json.Unmarshal(out.Payload, &e) == nil
	isError := out.FunctionError != nil || (decoded && (e.Type != nil || e.Message != nil) && e.Role == nil && e.ExpiresAt == nil)
	if !isError {
		return nil
	}
	fe := &FunctionError{Function: function, Type: aws.ToString(e.Type), Message: aws.ToString(e.Message)}
	if fe.Type == "" {
		fe.Type = aws.ToString(out.FunctionError)
	}
	if fe.Message == "" {
		fe.Message = "the function failed without a message"
	}
	return fe
}
