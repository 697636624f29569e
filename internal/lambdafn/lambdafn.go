// Package lambdafn is the wiring every rotor Lambda function shares: a JSON
// logger, the AWS SDK configuration with the endpoint overrides rotor
// honours, errors that name their type for Lambda, and a context that ends
// when the runtime sends SIGTERM.
package lambdafn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/rotorhq/rotor/internal/config"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// NewLogger returns a JSON logger on stderr at level: "debug", "info" (or
// empty), "warn" or "error", in any case. Any other value is an error naming
// LOG_LEVEL; the logger returned with it logs at info, so the caller can
// report the error before stopping. Nothing silently falls back.
func NewLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	var err error
	switch strings.ToLower(strings.TrimSpace(level)) {
	case "debug":
		l = slog.LevelDebug
	case "", "info":
		l = slog.LevelInfo
	case "warn":
		l = slog.LevelWarn
	case "error":
		l = slog.LevelError
	default:
		l = slog.LevelInfo
		err = fmt.Errorf("%s=%q: want debug, info, warn or error", config.EnvLogLevel, level)
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l})), err
}

// AWSConfig loads the SDK's default configuration: region, credentials and
// the standard endpoint settings (AWS_ENDPOINT_URL,
// AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL_RDS, ...).
func AWSConfig(ctx context.Context) (aws.Config, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	return cfg, nil
}

// SecretsManager returns a client; a non-empty endpoint (AWS's templates'
// SECRETS_MANAGER_ENDPOINT) takes precedence over the SDK's settings.
func SecretsManager(cfg aws.Config, endpoint string) *secretsmanager.Client {
	return secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	})
}

// typedError is an error that names its Lambda errorType.
type typedError interface {
	error
	ErrorType() string
}

// LambdaError converts err so that Lambda reports the type the error names
// (e.g. "SetSecretFailed") instead of the Go type's name.
func LambdaError(err error) error {
	var te typedError
	if err == nil || !errors.As(err, &te) {
		return err
	}
	return messages.InvokeResponse_Error{Message: err.Error(), Type: te.ErrorType()}
}

// Fatal logs a configuration error and exits: a function that cannot start
// fails its first invocation with the reason in the log.
func Fatal(log *slog.Logger, msg string, err error) {
	log.Error(msg, "error", err.Error())
	os.Exit(1)
}
