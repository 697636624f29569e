package events

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	lambdaevents "github.com/aws/aws-lambda-go/events"
)

// Step is one of the four rotation steps Secrets Manager asks a rotation
// function to perform, in this order.
type Step string

// The four steps, with the camelCase wire names Secrets Manager sends.
const (
	StepCreateSecret Step = "createSecret"
	StepSetSecret    Step = "setSecret"
	StepTestSecret   Step = "testSecret"
	StepFinishSecret Step = "finishSecret"
)

// Steps lists the steps in the order Secrets Manager invokes them.
var Steps = []Step{StepCreateSecret, StepSetSecret, StepTestSecret, StepFinishSecret}

// Valid reports whether s is one of the four steps.
func (s Step) Valid() bool {
	switch s {
	case StepCreateSecret, StepSetSecret, StepTestSecret, StepFinishSecret:
		return true
	}
	return false
}

// RotationEvent is the event Secrets Manager sends for each step. It is
// aws-lambda-go's type, so rotor reads exactly what the Lambda runtime hands
// over, RotationToken included.
type RotationEvent = lambdaevents.SecretsManagerSecretRotationEvent

// ParseRotationEvent decodes and validates a rotation event. Unknown fields
// are ignored (the service may add some); a missing or unknown step, secret
// ID or token is an error naming the field.
func ParseRotationEvent(data []byte) (RotationEvent, error) {
	e, err := DecodeRotationEvent(data)
	if err != nil {
		return RotationEvent{}, err
	}
	return e, ValidateRotationEvent(e)
}

// DecodeRotationEvent decodes a rotation event as a Lambda invocation's
// payload carries it, without validating it. Besides what encoding/json
// refuses, a key that appears twice (also in another case: encoding/json
// matches field names case-insensitively, so "Step" and "step" are one
// field) is refused, as in a secret document. Errors are *FieldError
// naming the field, or "event" for the payload as a whole; they quote no
// value.
func DecodeRotationEvent(data []byte) (RotationEvent, error) {
	if _, err := decodeObject(string(data), "event", true); err != nil {
		return RotationEvent{}, err
	}
	var e RotationEvent
	if err := json.Unmarshal(data, &e); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return RotationEvent{}, &FieldError{Field: truncate(te.Field, 40), Reason: "must be a " + te.Type.String()}
		}
		return RotationEvent{}, &FieldError{Field: "event", Reason: "not a rotation event"}
	}
	return e, nil
}

// MaxSecretIDLength is the longest SecretId Secrets Manager accepts (its API
// model's SecretIdType).
const MaxSecretIDLength = 2048

// ValidateRotationEvent checks the fields every step needs.
func ValidateRotationEvent(e RotationEvent) error {
	if e.Step == "" {
		return &FieldError{Field: "Step", Reason: "missing"}
	}
	if !Step(e.Step).Valid() {
		return &FieldError{Field: "Step", Reason: fmt.Sprintf("unknown step %q (want createSecret, setSecret, testSecret or finishSecret)", truncate(e.Step, 40))}
	}
	if e.SecretID == "" {
		return &FieldError{Field: "SecretId", Reason: "missing"}
	}
	if n := len(e.SecretID); n > MaxSecretIDLength {
		return &FieldError{Field: "SecretId", Reason: fmt.Sprintf("length %d, longer than %d characters", n, MaxSecretIDLength)}
	}
	if strings.ContainsRune(e.SecretID, 0) {
		return &FieldError{Field: "SecretId", Reason: "contains a NUL byte"}
	}
	if e.ClientRequestToken == "" {
		return &FieldError{Field: "ClientRequestToken", Reason: "missing"}
	}
	if n := len(e.ClientRequestToken); n < 32 || n > 64 {
		return &FieldError{Field: "ClientRequestToken", Reason: fmt.Sprintf("length %d, want 32 to 64 characters", n)}
	}
	if strings.ContainsRune(e.ClientRequestToken, 0) {
		return &FieldError{Field: "ClientRequestToken", Reason: "contains a NUL byte"}
	}
	return nil
}

// FieldError reports one bad field of an event or a secret document. Its text
// names the field and the rule it broke, never the field's value when the
// field may hold a secret.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return fmt.Sprintf("field %q: %s", e.Field, e.Reason) }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
