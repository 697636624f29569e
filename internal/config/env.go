package config

// Environment variable names. The password-policy names and
// SECRETS_MANAGER_ENDPOINT are the ones AWS's rotation templates read, so an
// existing deployment's settings carry over.
const (
	EnvRotationStrategy        = "ROTATION_STRATEGY"
	EnvPasswordLength          = "PASSWORD_LENGTH"
	EnvExcludeCharacters       = "EXCLUDE_CHARACTERS"
	EnvExcludeNumbers          = "EXCLUDE_NUMBERS"
	EnvExcludePunctuation      = "EXCLUDE_PUNCTUATION"
	EnvExcludeUppercase        = "EXCLUDE_UPPERCASE"
	EnvExcludeLowercase        = "EXCLUDE_LOWERCASE"
	EnvRequireEachIncludedType = "REQUIRE_EACH_INCLUDED_TYPE"
	EnvSecretsManagerEndpoint  = "SECRETS_MANAGER_ENDPOINT"
	EnvDBTLS                   = "DB_TLS"
	EnvDBCABundle              = "DB_CA_BUNDLE"
	EnvDBConnectTimeout        = "DB_CONNECT_TIMEOUT"
	EnvPreviousUserSessions    = "PREVIOUS_USER_SESSIONS"
	// EnvAdminSecretARNs lists, comma-separated, the ARNs of the admin
	// secrets alternating-users may log in with (a rotated secret's
	// masterarn must be one of them).
	EnvAdminSecretARNs = "ADMIN_SECRET_ARNS"
	// EnvLogLevel is rotor's own name for the log level, kept as an alias
	// of EnvLambdaLogLevel, which takes precedence.
	EnvLogLevel = "LOG_LEVEL"
	// EnvLambdaLogLevel and EnvLambdaLogFormat are set by Lambda itself
	// from the function's logging configuration (advanced logging
	// controls); a deployment never sets them in its environment block.
	EnvLambdaLogLevel  = "AWS_LAMBDA_LOG_LEVEL"
	EnvLambdaLogFormat = "AWS_LAMBDA_LOG_FORMAT"

	EnvRotateNowConcurrency    = "ROTATE_NOW_CONCURRENCY"
	EnvRotateNowTimeoutSeconds = "ROTATE_NOW_TIMEOUT_SECONDS"
	// EnvRotateNowWritesPerSecond is rotate-now's per-region write budget
	// (events.ValidateWritesPerSecond; default
	// events.DefaultWritesPerSecond).
	EnvRotateNowWritesPerSecond = "ROTATE_NOW_WRITES_PER_SECOND"

	// EnvLeaseRoles is the JSON array of lease role definitions the issuer
	// and reaper serve (docs/leases.md).
	EnvLeaseRoles = "LEASE_ROLES"

	EnvSNSTopicARN      = "SNS_TOPIC_ARN"
	EnvMetricsNamespace = "METRICS_NAMESPACE"
)

// FunctionEnv lists, for each function under functions/, the environment
// variables it reads. It is the single source of truth the Terraform checks
// compare the modules against.
var FunctionEnv = map[string][]string{
	"rotator": {
		EnvRotationStrategy, EnvPasswordLength, EnvExcludeCharacters,
		EnvExcludeNumbers, EnvExcludePunctuation, EnvExcludeUppercase,
		EnvExcludeLowercase, EnvRequireEachIncludedType,
		EnvSecretsManagerEndpoint, EnvDBTLS, EnvDBCABundle, EnvDBConnectTimeout,
		EnvPreviousUserSessions, EnvAdminSecretARNs, EnvLogLevel, EnvLambdaLogLevel, EnvLambdaLogFormat, EnvMetricsNamespace,
	},
	"rotatenow": {
		EnvSecretsManagerEndpoint, EnvRotateNowConcurrency,
		EnvRotateNowTimeoutSeconds, EnvRotateNowWritesPerSecond, EnvLogLevel, EnvLambdaLogLevel, EnvLambdaLogFormat,
	},
	"issuer": {
		EnvLeaseRoles, EnvAdminSecretARNs, EnvSecretsManagerEndpoint, EnvDBTLS, EnvDBCABundle, EnvDBConnectTimeout,
		EnvMetricsNamespace, EnvLogLevel, EnvLambdaLogLevel, EnvLambdaLogFormat,
	},
	"reaper": {
		EnvLeaseRoles, EnvAdminSecretARNs, EnvSecretsManagerEndpoint, EnvDBTLS, EnvDBCABundle, EnvDBConnectTimeout,
		EnvMetricsNamespace, EnvLogLevel, EnvLambdaLogLevel, EnvLambdaLogFormat,
	},
	"notifier": {
		EnvSecretsManagerEndpoint, EnvSNSTopicARN, EnvLogLevel, EnvLambdaLogLevel, EnvLambdaLogFormat,
	},
	"auditor": {
		EnvSecretsManagerEndpoint, EnvSNSTopicARN, EnvMetricsNamespace, EnvLogLevel, EnvLambdaLogLevel, EnvLambdaLogFormat,
	},
}

// DefaultMetricsNamespace is the CloudWatch namespace of rotor's metrics.
const DefaultMetricsNamespace = "Rotor"
