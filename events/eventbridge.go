package events

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sync"
	"time"
)

// Secrets Manager's rotation events reach EventBridge through CloudTrail.
// Their shape, as recorded from the real service (RotationFailed events
// quoted in public alerting code, and AWS's own event-pattern examples that
// filter on them):
//
//	{"version":"0","id":"<uuid>","detail-type":"AWS Service Event via CloudTrail",
//	 "source":"aws.secretsmanager","account":"<acct>","time":"<RFC 3339>",
//	 "region":"<region>","resources":[],
//	 "detail":{"eventVersion":"1.08","userIdentity":{"accountId":"<acct>",
//	   "invokedBy":"secretsmanager.amazonaws.com"},"eventTime":"...",
//	   "eventSource":"secretsmanager.amazonaws.com","eventName":"RotationFailed",
//	   "awsRegion":"<region>","sourceIPAddress":"secretsmanager.amazonaws.com",
//	   "userAgent":"secretsmanager.amazonaws.com",
//	   "errorMessage":"Error when executing lambda <function ARN> during createSecret step",
//	   "requestParameters":null,"responseElements":null,
//	   "additionalEventData":{"SecretId":"<secret ARN>"},
//	   "requestID":"Rotation-<...>","eventID":"<uuid>","readOnly":false,
//	   "eventType":"AwsServiceEvent","managementEvent":true,
//	   "recipientAccountId":"<acct>","eventCategory":"Management"}}
//
// Rotation events are service events ("AWS Service Event via CloudTrail",
// eventType AwsServiceEvent), not API calls: the secret's ARN is in
// detail.additionalEventData.SecretId and "resources" is empty. API calls
// ("AWS API Call via CloudTrail") carry it in requestParameters.secretId
// instead. rotor reads both, so a rule that forwards either kind works.

// EventBridge envelope values for Secrets Manager events.
const (
	SourceSecretsManager      = "aws.secretsmanager"
	EventSourceSecretsManager = "secretsmanager.amazonaws.com"
	DetailTypeServiceEvent    = "AWS Service Event via CloudTrail"
	DetailTypeAPICall         = "AWS API Call via CloudTrail"
)

// RotationEventName is the CloudTrail eventName of a rotation event.
type RotationEventName string

// The rotation events Secrets Manager writes to CloudTrail.
const (
	RotationStarted   RotationEventName = "RotationStarted"
	RotationSucceeded RotationEventName = "RotationSucceeded"
	// RotationFailed: a step of the rotation function returned an error
	// (or could not be invoked). Secrets Manager retries the rotation.
	RotationFailed RotationEventName = "RotationFailed"
	// RotationAbandoned: a new value was written while a rotation was in
	// progress (PutSecretValue or UpdateSecret without staging labels), so
	// Secrets Manager removed AWSPENDING from the unfinished version.
	RotationAbandoned RotationEventName = "RotationAbandoned"
	// TestRotationFailed: RotateSecret with RotateImmediately=false ran
	// testSecret against the current value and it failed.
	TestRotationFailed RotationEventName = "TestRotationFailed"
)

// RotationEventNames lists the rotation event names rotor understands.
var RotationEventNames = []RotationEventName{RotationStarted, RotationSucceeded, RotationFailed, RotationAbandoned, TestRotationFailed}

// Failure reports whether the event means a rotation did not complete.
func (n RotationEventName) Failure() bool {
	return n == RotationFailed || n == RotationAbandoned || n == TestRotationFailed
}

// SecretsManagerEvent is an EventBridge event from source aws.secretsmanager
// delivered through CloudTrail: a rotation service event or an API call.
// It carries no secret value: rotation events hold ARNs, names and times.
type SecretsManagerEvent struct {
	Version    string           `json:"version"`
	ID         string           `json:"id"`
	DetailType string           `json:"detail-type"`
	Source     string           `json:"source"`
	Account    string           `json:"account"`
	Time       time.Time        `json:"time"`
	Region     string           `json:"region"`
	Resources  []string         `json:"resources"`
	Detail     CloudTrailDetail `json:"detail"`
}

// CloudTrailDetail is the CloudTrail record in an event's "detail". Fields
// rotor does not interpret are kept as raw JSON so a round trip is lossless
// for the fields listed here.
type CloudTrailDetail struct {
	EventVersion        string               `json:"eventVersion,omitempty"`
	UserIdentity        *UserIdentity        `json:"userIdentity,omitempty"`
	EventTime           time.Time            `json:"eventTime"`
	EventSource         string               `json:"eventSource"`
	EventName           RotationEventName    `json:"eventName"`
	AWSRegion           string               `json:"awsRegion,omitempty"`
	SourceIPAddress     string               `json:"sourceIPAddress,omitempty"`
	UserAgent           string               `json:"userAgent,omitempty"`
	ErrorCode           string               `json:"errorCode,omitempty"`
	ErrorMessage        string               `json:"errorMessage,omitempty"`
	RequestParameters   json.RawMessage      `json:"requestParameters,omitempty"`
	ResponseElements    json.RawMessage      `json:"responseElements,omitempty"`
	AdditionalEventData *AdditionalData      `json:"additionalEventData,omitempty"`
	RequestID           string               `json:"requestID,omitempty"`
	EventID             string               `json:"eventID,omitempty"`
	ReadOnly            bool                 `json:"readOnly"`
	EventType           string               `json:"eventType,omitempty"`
	ManagementEvent     bool                 `json:"managementEvent"`
	RecipientAccountID  string               `json:"recipientAccountId,omitempty"`
	EventCategory       string               `json:"eventCategory,omitempty"`
	Resources           []CloudTrailResource `json:"resources,omitempty"`
}

// UserIdentity is who caused the event; for rotation events the service
// itself (InvokedBy secretsmanager.amazonaws.com).
type UserIdentity struct {
	Type        string `json:"type,omitempty"`
	PrincipalID string `json:"principalId,omitempty"`
	ARN         string `json:"arn,omitempty"`
	AccountID   string `json:"accountId,omitempty"`
	InvokedBy   string `json:"invokedBy,omitempty"`
}

// AdditionalData is detail.additionalEventData of a rotation event.
type AdditionalData struct {
	SecretID string `json:"SecretId,omitempty"`
}

// CloudTrailResource is one entry of detail.resources.
type CloudTrailResource struct {
	AccountID string `json:"accountId,omitempty"`
	Type      string `json:"type,omitempty"`
	ARN       string `json:"ARN,omitempty"`
}

// ParseSecretsManagerEvent decodes and validates an event. Unknown fields
// are ignored (CloudTrail adds some over time); a wrong source, a missing id
// or a missing secret is an error naming the field.
func ParseSecretsManagerEvent(data []byte) (SecretsManagerEvent, error) {
	var e SecretsManagerEvent
	if err := json.Unmarshal(data, &e); err != nil {
		return SecretsManagerEvent{}, fmt.Errorf("secrets manager event: %w", err)
	}
	return e, e.Validate()
}

// Validate checks what the notifier relies on: the event comes from Secrets
// Manager, has an id, and names a secret.
func (e SecretsManagerEvent) Validate() error {
	switch {
	case e.Source != SourceSecretsManager:
		return &FieldError{Field: "source", Reason: fmt.Sprintf("%q, want %q", truncate(e.Source, 40), SourceSecretsManager)}
	case e.ID == "":
		return &FieldError{Field: "id", Reason: "missing"}
	case e.Detail.EventName == "":
		return &FieldError{Field: "detail.eventName", Reason: "missing"}
	case e.SecretID() == "":
		return &FieldError{Field: "detail.additionalEventData.SecretId", Reason: "missing (and no requestParameters.secretId)"}
	}
	return nil
}

// SecretID is the secret the event is about: additionalEventData.SecretId
// for rotation events, requestParameters.secretId for API calls, else the
// first resource ARN.
func (e SecretsManagerEvent) SecretID() string {
	if d := e.Detail.AdditionalEventData; d != nil && d.SecretID != "" {
		return d.SecretID
	}
	if len(e.Detail.RequestParameters) > 0 {
		var p struct {
			SecretID string `json:"secretId"`
		}
		if json.Unmarshal(e.Detail.RequestParameters, &p) == nil && p.SecretID != "" {
			return p.SecretID
		}
	}
	for _, r := range e.Detail.Resources {
		if r.ARN != "" {
			return r.ARN
		}
	}
	if len(e.Resources) > 0 {
		return e.Resources[0]
	}
	return ""
}

// OccurredAt is when the event happened: detail.eventTime, else the
// envelope's time.
func (e SecretsManagerEvent) OccurredAt() time.Time {
	if !e.Detail.EventTime.IsZero() {
		return e.Detail.EventTime
	}
	return e.Time
}

var stepInMessage = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`during (createSecret|setSecret|testSecret|finishSecret) step`)
})

// ReportedStep is the step Secrets Manager names in a RotationFailed
// errorMessage ("... during setSecret step"), or "" when it names none.
func (e SecretsManagerEvent) ReportedStep() Step {
	m := stepInMessage().FindStringSubmatch(e.Detail.ErrorMessage)
	if m == nil {
		return ""
	}
	return Step(m[1])
}
