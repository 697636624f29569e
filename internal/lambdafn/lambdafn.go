// Package lambdafn is the wiring every rotor Lambda function shares: a JSON
// logger, the AWS SDK configuration with the endpoint overrides rotor
// honours, errors that name their type for Lambda, and a context that ends
// when the runtime sends SIGTERM.
package lambdafn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/rotorhq/rotor/internal/config"
	"github.com/rotorhq/rotor/internal/version"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// Log levels beyond slog's four, named as Lambda names them.
const (
	LevelTrace = slog.LevelDebug - 4
	LevelFatal = slog.LevelError + 4
)

// Log formats Lambda's advanced logging controls set in
// AWS_LAMBDA_LOG_FORMAT.
const (
	FormatJSON = "JSON"
	FormatText = "Text"
)

// LogSettings is how a function logs: the minimum level and the format.
type LogSettings struct {
	Level  slog.Level
	Format string // FormatJSON or FormatText
	// Source names the variable the level came from, empty for the default.
	Source string
	// Ignored is set when LOG_LEVEL was set too but AWS_LAMBDA_LOG_LEVEL
	// won: "LOG_LEVEL=debug". The caller logs it so the override is seen.
	Ignored string
}

// LoadLogSettings reads the log settings through getenv. The level is
// AWS_LAMBDA_LOG_LEVEL (Lambda sets it from the function's logging_config
// application_log_level), else LOG_LEVEL, its alias, else INFO; either takes
// Lambda's level names TRACE, DEBUG, INFO, WARN, ERROR and FATAL in any
// case. The format is AWS_LAMBDA_LOG_FORMAT: JSON (also the default, since
// rotor's logs are meant for CloudWatch Logs Insights) or Text. Any other
// value is an error naming the variable.
func LoadLogSettings(getenv func(string) string) (LogSettings, error) {
	s := LogSettings{Level: slog.LevelInfo, Format: FormatJSON}
	lambdaLevel := strings.TrimSpace(getenv(config.EnvLambdaLogLevel))
	alias := strings.TrimSpace(getenv(config.EnvLogLevel))
	name, v := config.EnvLambdaLogLevel, lambdaLevel
	if v == "" {
		name, v = config.EnvLogLevel, alias
	} else if alias != "" && !strings.EqualFold(alias, lambdaLevel) {
		s.Ignored = config.EnvLogLevel + "=" + alias
	}
	if v != "" {
		l, ok := parseLevel(v)
		if !ok {
			return s, fmt.Errorf("%s=%q: want TRACE, DEBUG, INFO, WARN, ERROR or FATAL", name, v)
		}
		s.Level, s.Source = l, name
	}
	switch f := strings.TrimSpace(getenv(config.EnvLambdaLogFormat)); {
	case f == "" || strings.EqualFold(f, FormatJSON):
	case strings.EqualFold(f, FormatText):
		s.Format = FormatText
	default:
		return s, fmt.Errorf("%s=%q: want JSON or Text", config.EnvLambdaLogFormat, f)
	}
	return s, nil
}

func parseLevel(v string) (slog.Level, bool) {
	switch strings.ToUpper(v) {
	case "TRACE":
		return LevelTrace, true
	case "DEBUG":
		return slog.LevelDebug, true
	case "INFO":
		return slog.LevelInfo, true
	case "WARN":
		return slog.LevelWarn, true
	case "ERROR":
		return slog.LevelError, true
	case "FATAL":
		return LevelFatal, true
	}
	return 0, false
}

// levelName writes TRACE and FATAL instead of slog's DEBUG-4 and ERROR+4,
// so that Lambda's log-level filtering, which reads the "level" key of a
// JSON line, recognises every level rotor writes.
func levelName(_ []string, a slog.Attr) slog.Attr {
	if a.Key != slog.LevelKey {
		return a
	}
	switch a.Value.Any().(slog.Level) {
	case LevelTrace:
		a.Value = slog.StringValue("TRACE")
	case LevelFatal:
		a.Value = slog.StringValue("FATAL")
	}
	return a
}

// NewLogger returns a logger on w (stderr in a function) with settings s.
func NewLogger(w io.Writer, s LogSettings) *slog.Logger {
	opts := &slog.HandlerOptions{Level: s.Level, ReplaceAttr: levelName}
	if s.Format == FormatText {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// Boot is a function's first call: it builds the logger from the
// environment, logs once that the function starts, with its name and the
// release version stamped into the binary, and returns the logger. Invalid
// log settings are fatal, logged at INFO in JSON so the reason is seen.
func Boot(function string, getenv func(string) string) *slog.Logger {
	s, err := LoadLogSettings(getenv)
	log := NewLogger(os.Stderr, s)
	if err != nil {
		Fatal(NewLogger(os.Stderr, LogSettings{Level: slog.LevelInfo, Format: FormatJSON}), "invalid settings", err)
	}
	log.Info("starting", "function", function, "version", version.String())
	if s.Ignored != "" {
		log.Warn("log level from "+config.EnvLambdaLogLevel+" (the function's logging configuration) overrides "+s.Ignored,
			"level", getenv(config.EnvLambdaLogLevel))
	}
	return log
}

// AWSConfig builds the SDK configuration from the environment Lambda gives
// a function: the region (AWS_REGION, else AWS_DEFAULT_REGION), the
// execution role's credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN) and the standard endpoint settings (AWS_ENDPOINT_URL;
// per service AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL_RDS, ...;
// AWS_USE_FIPS_ENDPOINT and AWS_USE_DUALSTACK_ENDPOINT, true or false).
//
// It uses the SDK's own packages (aws, credentials) but not the shared
// configuration loader (config.LoadDefaultConfig): that loader links a
// client for every credential source it might meet (STS, SSO, SSO-OIDC,
// sign-in, IMDS, processes), whose package initialisation runs on every
// cold start though a Lambda function only ever has the environment's
// credentials (docs/performance.md has the figures). A missing variable is
// an error naming it.
func AWSConfig(getenv func(string) string) (aws.Config, error) {
	region := getenv("AWS_REGION")
	if region == "" {
		region = getenv("AWS_DEFAULT_REGION")
	}
	if region == "" {
		return aws.Config{}, errors.New("AWS configuration: AWS_REGION is not set (Lambda sets it)")
	}
	id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	if id == "" || secret == "" {
		return aws.Config{}, errors.New("AWS configuration: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set (Lambda sets them from the execution role)")
	}
	for _, name := range []string{"AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT"} {
		on, _, err := envEndpoints(getenv).flag(name)
		if err != nil {
			return aws.Config{}, fmt.Errorf("AWS configuration: %w", err)
		}
		// The SDK refuses every call that has both (at run time, not at
		// start): say so now, naming both.
		for _, url := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL_RDS"} {
			if on && getenv(url) != "" {
				return aws.Config{}, fmt.Errorf("AWS configuration: %s=true cannot be combined with %s (the SDK refuses a custom endpoint with FIPS or dual-stack endpoints): put the FIPS or dual-stack endpoint's own URL in %s and unset %s", name, url, url, name)
			}
		}
	}
	cfg := aws.Config{
		Region:        region,
		Credentials:   aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(id, secret, getenv("AWS_SESSION_TOKEN"))),
		ConfigSources: []any{envEndpoints(getenv)},
	}
	if u := getenv("AWS_ENDPOINT_URL"); u != "" {
		cfg.BaseEndpoint = aws.String(u)
	}
	return cfg, nil
}

// envEndpoints answers the SDK clients' question "is there a base endpoint
// for this service?" from AWS_ENDPOINT_URL_<SERVICE ID> (upper case,
// spaces as underscores), as the shared configuration loader does.
type envEndpoints func(string) string

// GetServiceBaseEndpoint implements the SDK's ServiceBaseEndpointProvider.
func (e envEndpoints) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	v := e("AWS_ENDPOINT_URL_" + strings.ToUpper(strings.ReplaceAll(sdkID, " ", "_")))
	return v, v != "", nil
}

// GetUseFIPSEndpoint implements the SDK's FIPS endpoint setting from
// AWS_USE_FIPS_ENDPOINT ("true" or "false").
func (e envEndpoints) GetUseFIPSEndpoint(context.Context) (aws.FIPSEndpointState, bool, error) {
	on, found, err := e.flag("AWS_USE_FIPS_ENDPOINT")
	if !found || err != nil {
		return aws.FIPSEndpointStateUnset, found, err
	}
	if on {
		return aws.FIPSEndpointStateEnabled, true, nil
	}
	return aws.FIPSEndpointStateDisabled, true, nil
}

// GetUseDualStackEndpoint implements the SDK's dual-stack endpoint setting
// from AWS_USE_DUALSTACK_ENDPOINT ("true" or "false").
func (e envEndpoints) GetUseDualStackEndpoint(context.Context) (aws.DualStackEndpointState, bool, error) {
	on, found, err := e.flag("AWS_USE_DUALSTACK_ENDPOINT")
	if !found || err != nil {
		return aws.DualStackEndpointStateUnset, found, err
	}
	if on {
		return aws.DualStackEndpointStateEnabled, true, nil
	}
	return aws.DualStackEndpointStateDisabled, true, nil
}

// flag reads a true/false variable (any case); unset is not found.
func (e envEndpoints) flag(name string) (on, found bool, err error) {
	switch v := strings.ToLower(strings.TrimSpace(e(name))); v {
	case "":
		return false, false, nil
	case "true":
		return true, true, nil
	case "false":
		return false, true, nil
	}
	return false, false, fmt.Errorf("%s must be true or false", name)
}

// SecretsManager returns a client; a non-empty endpoint (AWS's templates'
// SECRETS_MANAGER_ENDPOINT) takes precedence over the SDK's settings and
// is used as given: the FIPS and dual-stack settings, which the SDK would
// refuse alongside a custom endpoint, do not apply to it (name a FIPS VPC
// endpoint's own URL there).
func SecretsManager(cfg aws.Config, endpoint string) *secretsmanager.Client {
	return secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
			o.EndpointOptions.UseFIPSEndpoint = aws.FIPSEndpointStateDisabled
			o.EndpointOptions.UseDualStackEndpoint = aws.DualStackEndpointStateDisabled
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
	log.Log(context.Background(), LevelFatal, msg, "error", err.Error())
	os.Exit(1)
}

// RawHandler is a Lambda handler that takes the invocation's payload as it
// arrives, so the function decodes it itself (the runtime's own decoding
// would accept a key given twice and answer a malformed payload before the
// function could name the problem). lambda.Start takes it as a
// lambda.Handler; a successful invocation answers null.
type RawHandler func(ctx context.Context, payload []byte) error

// Invoke implements lambda.Handler.
func (h RawHandler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	if err := h(ctx, payload); err != nil {
		return nil, err
	}
	return []byte("null"), nil
}
