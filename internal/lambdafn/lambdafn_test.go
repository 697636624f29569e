package lambdafn

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda/messages"
)

func TestNewLoggerRefusesUnknownLevels(t *testing.T) {
	for _, ok := range []string{"", "info", "DEBUG", " warn ", "error"} {
		if _, err := NewLogger(ok); err != nil {
			t.Errorf("NewLogger(%q): %v", ok, err)
		}
	}
	l, err := NewLogger("verbose")
	if err == nil || !strings.Contains(err.Error(), "LOG_LEVEL") || l == nil {
		t.Fatalf("NewLogger(verbose) = %v, %v; want a logger and an error naming LOG_LEVEL", l, err)
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
