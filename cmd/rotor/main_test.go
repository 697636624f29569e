package main

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"strings"
	"sync"
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
// stdout and stderr. It keeps both for the leak sweep of the test's world
// (newWorld).
func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	cliOutputs.add(t.Name(), args, out.String(), errOut.String())
	return code, out.String(), errOut.String()
}

// cliOutputs keeps what every cli call printed, by test name.
var cliOutputs outputLog

type outputLog struct {
	mu sync.Mutex
	m  map[string]map[string]string // test name -> output name -> text
}

func (l *outputLog) add(test string, args []string, stdout, stderr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[string]map[string]string{}
	}
	if l.m[test] == nil {
		l.m[test] = map[string]string{}
	}
	name := fmt.Sprintf("the output of `rotor %s` (call %d)", strings.Join(args, " "), len(l.m[test])/2+1)
	l.m[test][name+" on stdout"] = stdout
	l.m[test][name+" on stderr"] = stderr
}

// of returns, and forgets, the outputs of test and its subtests.
func (l *outputLog) of(test string) map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	all := map[string]string{}
	for name, outs := range l.m {
		if name == test || strings.HasPrefix(name, test+"/") {
			maps.Copy(all, outs)
			delete(l.m, name)
		}
	}
	return all
}
