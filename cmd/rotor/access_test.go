package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/smithy-go"
)

// TestNoCredentialsIsOneActionableLine runs the built CLI with no AWS
// credentials anywhere (a clean environment, instance metadata off): one
// line saying what to set, exit 4, and none of the SDK's own warnings or
// error chain.
func TestNoCredentialsIsOneActionableLine(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "rotor")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/rotor: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "status", "prod/app")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true"}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitAWSAccess {
		t.Fatalf("exit %v, want %d\n%s", err, exitAWSAccess, out)
	}
	text := strings.TrimSpace(string(out))
	if strings.Count(text, "\n") != 0 || !strings.Contains(text, "no AWS credentials found: set AWS_PROFILE") || strings.Contains(text, "SDK") || strings.Contains(text, "operation error") {
		t.Fatalf("output %q, want one actionable line", text)
	}
}

// TestAWSRefusalsAreNamed: expired and refused credentials and denied
// requests each get their own line (and exit 4 through fail); anything
// else is left as it was.
func TestAWSRefusalsAreNamed(t *testing.T) {
	t.Parallel()
	for code, want := range map[string]string{
		"ExpiredTokenException":       "have expired",
		"AccessDeniedException":       "AWS denied the request: not allowed here",
		"UnrecognizedClientException": "does not accept these credentials",
	} {
		err := fmt.Errorf("describe secret: %w", &smithy.GenericAPIError{Code: code, Message: "not allowed here"})
		if line, ok := awsAccessProblem(err); !ok || !strings.Contains(line, want) {
			t.Errorf("%s: %q, %v; want a line with %q", code, line, ok, want)
		}
	}
	if _, ok := awsAccessProblem(errors.New("ResourceNotFoundException: no such secret")); ok {
		t.Error("a missing secret was taken for an access problem")
	}
	var sb strings.Builder
	if code := fail(&sb, "status", &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "x"}); code != exitAWSAccess {
		t.Errorf("fail returned %d for a denied request, want %d", code, exitAWSAccess)
	}
}
