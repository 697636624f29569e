package events

import (
	"fmt"
	"time"
)

// AlertKind says what an Alert reports. The values are wire names: they
// appear in the alert's JSON, in the SNS message attribute "kind" (so a
// subscription can filter on them) and in docs/alerting.md.
type AlertKind string

// The alerts rotor sends. The first two come from the notifier (one per
// Secrets Manager event), the rest from the auditor (one per finding per
// run).
const (
	// AlertRotationFailed: Secrets Manager reported RotationFailed (or
	// TestRotationFailed) for the secret.
	AlertRotationFailed AlertKind = "rotation-failed"
	// AlertRotationAbandoned: a value was written while a rotation was in
	// progress and Secrets Manager abandoned the rotation.
	AlertRotationAbandoned AlertKind = "rotation-abandoned"
	// AlertOverdue: the rotation window after NextRotationDate has passed
	// without a rotation.
	AlertOverdue AlertKind = "rotation-overdue"
	// AlertStuck: AWSPENDING sits on a version that is not AWSCURRENT and
	// is older than the auditor's threshold, which blocks RotateSecret.
	AlertStuck AlertKind = "rotation-stuck"
	// AlertLastRotationFailed: the outcome tag rotor:last-rotation says
	// failed.
	AlertLastRotationFailed AlertKind = "last-rotation-failed"
	// AlertFunctionMissing: the secret's rotation function does not exist
	// or cannot be invoked.
	AlertFunctionMissing AlertKind = "rotation-function-missing"
)

// AlertKinds lists every kind.
var AlertKinds = []AlertKind{AlertRotationFailed, AlertRotationAbandoned, AlertOverdue, AlertStuck, AlertLastRotationFailed, AlertFunctionMissing}

// Valid reports whether k is one of AlertKinds.
func (k AlertKind) Valid() bool {
	for _, v := range AlertKinds {
		if k == v {
			return true
		}
	}
	return false
}

// Alert is rotor's own outcome event: what went wrong with one secret's
// rotation, as the notifier and the auditor report it. It is built from
// Secrets Manager's metadata and rotor's outcome tags only, so it never
// holds a secret value; Reason is the redacted text rotor wrote in the
// rotor:last-error tag, or Secrets Manager's own error message.
type Alert struct {
	Kind AlertKind `json:"kind"`
	// SecretARN and SecretName identify the secret.
	SecretARN  string `json:"secretArn"`
	SecretName string `json:"secretName,omitempty"`
	// Region and Account locate the secret.
	Region  string `json:"region,omitempty"`
	Account string `json:"account,omitempty"`
	// DetectedAt is the Secrets Manager event's time for the notifier and
	// the audit's time for the auditor.
	DetectedAt time.Time `json:"detectedAt"`
	// EventID is the EventBridge event that caused a notifier alert.
	EventID string `json:"eventId,omitempty"`
	// FailedStep is the step that failed, when known.
	FailedStep Step `json:"failedStep,omitempty"`
	// Reason says why, redacted; never a secret value.
	Reason string `json:"reason,omitempty"`
	// VersionID is the rotation's version (its token), when known.
	VersionID string `json:"versionId,omitempty"`
	// LastRotated is Secrets Manager's LastRotatedDate: the last success.
	LastRotated *time.Time `json:"lastRotated,omitempty"`
	// NextRotation is Secrets Manager's NextRotationDate.
	NextRotation *time.Time `json:"nextRotation,omitempty"`
	// Deadline is when an overdue rotation's window closed.
	Deadline *time.Time `json:"deadline,omitempty"`
	// FunctionARN is the secret's rotation function.
	FunctionARN string `json:"functionArn,omitempty"`
	// Actions are the commands and steps the operator should take, in
	// order.
	Actions []string `json:"actions"`
}

// Validate checks the fields every alert needs.
func (a Alert) Validate() error {
	switch {
	case !a.Kind.Valid():
		return &FieldError{Field: "kind", Reason: fmt.Sprintf("unknown kind %q", truncate(string(a.Kind), 40))}
	case a.SecretARN == "":
		return &FieldError{Field: "secretArn", Reason: "missing"}
	case a.DetectedAt.IsZero():
		return &FieldError{Field: "detectedAt", Reason: "missing"}
	case a.FailedStep != "" && !a.FailedStep.Valid():
		return &FieldError{Field: "failedStep", Reason: fmt.Sprintf("unknown step %q", truncate(string(a.FailedStep), 40))}
	}
	return nil
}
