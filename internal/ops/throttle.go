package ops

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"
)

// isThrottle reports whether err is Secrets Manager refusing a call for its
// rate: the ThrottlingException ("Rate exceeded.") every operation may
// answer.
func isThrottle(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded":
		return true
	}
	return false
}

// mentionsThrottle reports whether a rotation's recorded failure reason
// says Secrets Manager throttled one of the rotator's calls (its SDK
// retries ran out): the rotator's writes are the ones the budget is for.
func mentionsThrottle(reason string) bool {
	return strings.Contains(reason, "ThrottlingException") || strings.Contains(reason, "Rate exceeded")
}

// throttleWatch is the client's retryer with every attempt's error looked
// at first: the SDK retries a throttled call by itself, so a throttle would
// otherwise be seen only when the retries run out, if ever.
type throttleWatch struct {
	aws.Retryer
	seen func()
}

func (w throttleWatch) IsErrorRetryable(err error) bool {
	if isThrottle(err) {
		w.seen()
	}
	return w.Retryer.IsErrorRetryable(err)
}

// GetAttemptToken keeps the wrapped retryer's attempt tokens (aws.RetryerV2)
// when it has them.
func (w throttleWatch) GetAttemptToken(ctx context.Context) (func(error) error, error) {
	if v2, ok := w.Retryer.(aws.RetryerV2); ok {
		return v2.GetAttemptToken(ctx)
	}
	return w.GetInitialToken(), nil
}

// watchedAPI is a SecretsAPI whose calls made by rotate-now report each
// throttled attempt to seen, through the SDK's per-call options (a client
// that is not the SDK's ignores them).
type watchedAPI struct {
	SecretsAPI
	seen func()
}

func (w watchedAPI) watch(o *secretsmanager.Options) {
	if o.Retryer != nil {
		o.Retryer = throttleWatch{Retryer: o.Retryer, seen: w.seen}
	}
}

func (w watchedAPI) DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error) {
	out, err := w.SecretsAPI.DescribeSecret(ctx, in, append(optFns, w.watch)...)
	if isThrottle(err) {
		w.seen()
	}
	return out, err
}

func (w watchedAPI) RotateSecret(ctx context.Context, in *secretsmanager.RotateSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.RotateSecretOutput, error) {
	out, err := w.SecretsAPI.RotateSecret(ctx, in, append(optFns, w.watch)...)
	if isThrottle(err) {
		w.seen()
	}
	return out, err
}
