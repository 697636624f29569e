package rotation

import (
	"fmt"
	"sort"
	"strings"

	"github.com/rotorhq/rotor/events"
)

// StepError is the error every step returns. Op names the call that failed
// ("put pending version", "set password"). Its text has every secret value
// the invocation saw replaced by [REDACTED]; errors.Is and errors.As still
// reach the cause.
type StepError struct {
	SecretID string
	Step     events.Step
	Op       string
	Err      error

	secrets []string
}

func (e *StepError) Error() string {
	msg := fmt.Sprintf("%s: %s: %v", e.Step, e.Op, e.Err)
	if e.Step == "" {
		msg = fmt.Sprintf("%s: %v", e.Op, e.Err)
	}
	return redact(msg, e.secrets)
}

func (e *StepError) Unwrap() error { return e.Err }

// ErrorType is the name Lambda reports as errorType for this error, e.g.
// "SetSecretFailed", so a failed invocation names its step.
func (e *StepError) ErrorType() string {
	if !e.Step.Valid() {
		return "InvalidRotationEvent"
	}
	s := string(e.Step)
	return strings.ToUpper(s[:1]) + s[1:] + "Failed"
}

// Reason is the redacted cause without the step prefix, as the outcome tag
// records it.
func (e *StepError) Reason() string {
	return redact(fmt.Sprintf("%s: %v", e.Op, e.Err), e.secrets)
}

// redact replaces each secret in s, longest first so a secret that contains
// another is removed whole.
func redact(s string, secrets []string) string {
	if len(secrets) == 0 {
		return s
	}
	sorted := append([]string(nil), secrets...)
	sort.Slice(sorted, func(i, j int) bool { return len(sorted[i]) > len(sorted[j]) })
	for _, v := range sorted {
		if len(v) < 4 {
			// Too short to be a generated secret; replacing it would
			// mangle ordinary words.
			continue
		}
		s = strings.ReplaceAll(s, v, "[REDACTED]")
	}
	return s
}
