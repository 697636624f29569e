package lambdafn

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda/messages"
)

func TestLogSettingsFollowLambdasLoggingControls(t *testing.T) {
	cases := map[string]struct {
		env     map[string]string
		level   slog.Level
		format  string
		ignored string
		wantErr string
	}{
		"defaults":                   {env: nil, level: slog.LevelInfo, format: FormatJSON},
		"alias":                      {env: map[string]string{"LOG_LEVEL": "debug"}, level: slog.LevelDebug, format: FormatJSON},
		"lambda level":               {env: map[string]string{"AWS_LAMBDA_LOG_LEVEL": "WARN"}, level: slog.LevelWarn, format: FormatJSON},
		"lambda level wins":          {env: map[string]string{"AWS_LAMBDA_LOG_LEVEL": "ERROR", "LOG_LEVEL": "debug"}, level: slog.LevelError, format: FormatJSON, ignored: "LOG_LEVEL=debug"},
		"same level twice":           {env: map[string]string{"AWS_LAMBDA_LOG_LEVEL": "DEBUG", "LOG_LEVEL": "debug"}, level: slog.LevelDebug, format: FormatJSON},
		"trace":                      {env: map[string]string{"AWS_LAMBDA_LOG_LEVEL": "TRACE"}, level: LevelTrace, format: FormatJSON},
		"fatal":                      {env: map[string]string{"LOG_LEVEL": " fatal "}, level: LevelFatal, format: FormatJSON},
		"text":                       {env: map[string]string{"AWS_LAMBDA_LOG_FORMAT": "Text"}, level: slog.LevelInfo, format: FormatText},
		"TEXT":                       {env: map[string]string{"AWS_LAMBDA_LOG_FORMAT": "TEXT"}, level: slog.LevelInfo, format: FormatText},
		"json":                       {env: map[string]string{"AWS_LAMBDA_LOG_FORMAT": "JSON"}, level: slog.LevelInfo, format: FormatJSON},
		"bad alias":                  {env: map[string]string{"LOG_LEVEL": "verbose"}, wantErr: `LOG_LEVEL="verbose"`},
		"bad lambda level":           {env: map[string]string{"AWS_LAMBDA_LOG_LEVEL": "loud"}, wantErr: `AWS_LAMBDA_LOG_LEVEL="loud"`},
		"bad format":                 {env: map[string]string{"AWS_LAMBDA_LOG_FORMAT": "xml"}, wantErr: `AWS_LAMBDA_LOG_FORMAT="xml"`},
		"bad alias under a good one": {env: map[string]string{"AWS_LAMBDA_LOG_LEVEL": "INFO", "LOG_LEVEL": "verbose"}, level: slog.LevelInfo, format: FormatJSON, ignored: "LOG_LEVEL=verbose"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s, err := LoadLogSettings(func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want one containing %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Level != tc.level || s.Format != tc.format || s.Ignored != tc.ignored {
				t.Fatalf("settings %+v, want level %v format %s ignored %q", s, tc.level, tc.format, tc.ignored)
			}
		})
	}
}

// TestLoggerWritesLevelsLambdaFilters checks what Lambda's log-level
// filtering reads: a JSON line per record with a "level" key whose value is
// one of Lambda's level names, records below the level dropped, and the
// Text format writing key=value lines instead.
func TestLoggerWritesLevelsLambdaFilters(t *testing.T) {
	var buf bytes.Buffer
	log := NewLogger(&buf, LogSettings{Level: LevelTrace, Format: FormatJSON})
	ctx := context.Background()
	log.Log(ctx, LevelTrace, "t")
	log.Debug("d")
	log.Log(ctx, LevelFatal, "f")
	var levels []string
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		levels = append(levels, rec["level"].(string)+":"+rec["msg"].(string))
	}
	if got := strings.Join(levels, ","); got != "TRACE:t,DEBUG:d,FATAL:f" {
		t.Fatalf("levels %s", got)
	}

	buf.Reset()
	log = NewLogger(&buf, LogSettings{Level: slog.LevelWarn, Format: FormatText})
	log.Info("dropped")
	log.Warn("kept")
	if got := buf.String(); strings.Contains(got, "dropped") || !strings.Contains(got, "level=WARN msg=kept") {
		t.Fatalf("text output %q", got)
	}
}

type stepFailed struct{}

func (stepFailed) Error() string     { return "setSecret: boom" }
func (stepFailed) ErrorType() string { return "SetSecretFailed" }

func TestLambdaErrorKeepsTheNamedType(t *testing.T) {
	err := LambdaError(stepFailed{})
	var ire messages.InvokeResponse_Error
	if !errors.As(err, &ire) || ire.Type != "SetSecretFailed" || ire.Message != "setSecret: boom" {
		t.Fatalf("LambdaError = %#v", err)
	}
	plain := errors.New("plain")
	if LambdaError(plain) != plain || LambdaError(nil) != nil {
		t.Fatal("errors without a type must pass through unchanged")
	}
}

func TestAWSConfigFromLambdaEnvironment(t *testing.T) {
	env := map[string]string{
		"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "example-secret-key",
		"AWS_SESSION_TOKEN": "example-token", "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://127.0.0.1:4567",
	}
	getenv := func(k string) string { return env[k] }
	cfg, err := AWSConfig(getenv)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || creds.AccessKeyID != "AKIDEXAMPLE" || creds.SecretAccessKey != "example-secret-key" || creds.SessionToken != "example-token" {
		t.Fatalf("credentials %+v, %v", creds, err)
	}
	if cfg.Region != "eu-west-1" || cfg.BaseEndpoint == nil || *cfg.BaseEndpoint != "http://127.0.0.1:4566" {
		t.Fatalf("region %q, base endpoint %v", cfg.Region, cfg.BaseEndpoint)
	}
	ep := cfg.ConfigSources[0].(interface {
		GetServiceBaseEndpoint(context.Context, string) (string, bool, error)
	})
	if v, ok, _ := ep.GetServiceBaseEndpoint(context.Background(), "Secrets Manager"); !ok || v != "http://127.0.0.1:4567" {
		t.Fatalf("Secrets Manager endpoint %q %v", v, ok)
	}
	if _, ok, _ := ep.GetServiceBaseEndpoint(context.Background(), "RDS"); ok {
		t.Fatal("an RDS endpoint from nowhere")
	}
	for _, missing := range []string{"AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		saved := env[missing]
		delete(env, missing)
		if _, err := AWSConfig(getenv); err == nil || !strings.Contains(err.Error(), missing) {
			t.Errorf("without %s: err %v, want one naming it", missing, err)
		}
		env[missing] = saved
	}
}

// TestFIPSAndDualStackReachTheSecretsManagerClient: the SDK's Secrets
// Manager client built from AWSConfig sends to the FIPS or dual-stack
// endpoint when the environment asks for it.
func TestFIPSAndDualStackReachTheSecretsManagerClient(t *testing.T) {
	// Secrets Manager's regular endpoints in the aws partition are dual
	// stack already, so the dual-stack case uses a partition where the
	// names differ.
	cases := []struct{ region, setting, want string }{
		{"us-east-2", "", "https://secretsmanager.us-east-2.amazonaws.com"},
		{"us-east-2", "AWS_USE_FIPS_ENDPOINT=true", "https://secretsmanager-fips.us-east-2.amazonaws.com"},
		{"us-east-2", "AWS_USE_FIPS_ENDPOINT=false", "https://secretsmanager.us-east-2.amazonaws.com"},
		{"eusc-de-east-1", "", "https://secretsmanager.eusc-de-east-1.amazonaws.eu"},
		{"eusc-de-east-1", "AWS_USE_DUALSTACK_ENDPOINT=TRUE", "https://secretsmanager.eusc-de-east-1.api.amazonwebservices.eu"},
	}
	for _, c := range cases {
		setting, want := c.setting, c.want
		env := map[string]string{"AWS_REGION": c.region, "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "example-secret-key"}
		if k, v, ok := strings.Cut(setting, "="); ok {
			env[k] = v
		}
		cfg, err := AWSConfig(func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		cfg.RetryMaxAttempts = 1
		cfg.HTTPClient = urlRecorder{}
		_, err = SecretsManager(cfg, "").GetRandomPassword(context.Background(), nil)
		var u urlErr
		if !errors.As(err, &u) || string(u) != want {
			t.Errorf("%q: request went to %v, want %s", setting, err, want)
		}
	}
	// An explicit endpoint (SECRETS_MANAGER_ENDPOINT, e.g. a VPC
	// endpoint's name) is used as given, FIPS or not.
	fipsEnv := map[string]string{"AWS_REGION": "us-east-2", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "example-secret-key", "AWS_USE_FIPS_ENDPOINT": "true"}
	cfg, err := AWSConfig(func(k string) string { return fipsEnv[k] })
	if err != nil {
		t.Fatal(err)
	}
	cfg.RetryMaxAttempts = 1
	cfg.HTTPClient = urlRecorder{}
	_, err = SecretsManager(cfg, "https://vpce-0abc.secretsmanager.us-east-2.vpce.amazonaws.com").GetRandomPassword(context.Background(), nil)
	if u := urlErr(""); !errors.As(err, &u) || string(u) != "https://vpce-0abc.secretsmanager.us-east-2.vpce.amazonaws.com" {
		t.Errorf("FIPS with SECRETS_MANAGER_ENDPOINT: %v", err)
	}
	// The SDK's own endpoint variables with FIPS: refused at start.
	for _, url := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL_RDS"} {
		fipsEnv[url] = "https://example.invalid"
		if _, err := AWSConfig(func(k string) string { return fipsEnv[k] }); err == nil || !strings.Contains(err.Error(), url) || !strings.Contains(err.Error(), "AWS_USE_FIPS_ENDPOINT") {
			t.Errorf("FIPS with %s: %v, want a refusal naming both", url, err)
		}
		delete(fipsEnv, url)
	}
	env := map[string]string{"AWS_REGION": "us-east-2", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "example-secret-key", "AWS_USE_DUALSTACK_ENDPOINT": "yes"}
	if _, err := AWSConfig(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "AWS_USE_DUALSTACK_ENDPOINT") {
		t.Errorf("AWS_USE_DUALSTACK_ENDPOINT=yes: %v", err)
	}
}

// urlRecorder is an HTTP client that sends nothing and fails with the
// scheme and host the request was for.
type urlRecorder struct{}

type urlErr string

func (u urlErr) Error() string { return "would have sent to " + string(u) }

func (urlRecorder) Do(r *http.Request) (*http.Response, error) {
	return nil, urlErr(r.URL.Scheme + "://" + r.URL.Host)
}
