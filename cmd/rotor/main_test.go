package main

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/rotorhq/rotor/internal/local/dbtest"
)

// TestMain gives the CLI static credentials and no shared AWS files, so
// commands under test build their client the way they do for users (the
// SDK's default chain) and reach only the stand-in named by --endpoint-url.
func TestMain(m *testing.M) {
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           "AKIDROTORTEST",
		"AWS_SECRET_ACCESS_KEY":       "rotor-test-secret",
		"AWS_CONFIG_FILE":             os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
		"AWS_EC2_METADATA_DISABLED":   "true",
	} {
		os.Setenv(k, v)
	}
	for _, k := range []string{"AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SECRETS_MANAGER", "SECRETS_MANAGER_ENDPOINT", "AWS_SESSION_TOKEN", "DB_TLS", "DB_CA_BUNDLE"} {
		os.Unsetenv(k)
	}
	dbtest.Main(m)
}

// cli runs the rotor command line in-process and returns its exit code,
// stdout and stderr.
func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}
