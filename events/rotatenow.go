package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// RotateNowRequest is the input of the rotatenow function: which secrets to
// rotate now, and whether to wait for the outcome.
//
// Exactly one of SecretIDs and Filters names the secrets. Zero values of the
// numeric fields mean the function's defaults (ROTATE_NOW_TIMEOUT_SECONDS,
// ROTATE_NOW_CONCURRENCY).
type RotateNowRequest struct {
	// SecretIDs are names, full ARNs or partial ARNs.
	SecretIDs []string `json:"secretIds,omitempty"`
	// Filters select secrets as ListSecrets does (every filter must match).
	Filters []SecretFilter `json:"filters,omitempty"`
	// Wait follows each rotation until it succeeds, fails or times out.
	// Without it the function returns once every rotation was requested.
	Wait bool `json:"wait,omitempty"`
	// TimeoutSeconds bounds the whole request, waiting included.
	TimeoutSeconds int `json:"timeoutSeconds,omitempty"`
	// Concurrency bounds how many secrets are handled at once.
	Concurrency int `json:"concurrency,omitempty"`
	// WritesPerSecond is the per-region write budget rotate-now paces the
	// rotations it starts against: the PutSecretValue and
	// UpdateSecretVersionStage calls they cause (WritesPerRotation each),
	// which share Secrets Manager's WriteQuotaPerSecond. Zero means the
	// function's default (ROTATE_NOW_WRITES_PER_SECOND, else
	// DefaultWritesPerSecond).
	WritesPerSecond float64 `json:"writesPerSecond,omitempty"`
	// FailureGraceSeconds is how long a waiting request keeps following a
	// rotation after the rotator recorded a failed attempt, for Secrets
	// Manager's retry to succeed; zero means the function's default.
	FailureGraceSeconds int `json:"failureGraceSeconds,omitempty"`
}

// SecretFilter is one ListSecrets filter.
type SecretFilter struct {
	// Key is one of FilterKeys.
	Key string `json:"key"`
	// Values are prefixes; a leading "!" negates one, as in ListSecrets.
	Values []string `json:"values"`
}

// FilterKeys are the filter keys ListSecrets accepts.
var FilterKeys = []string{"description", "name", "tag-key", "tag-value", "primary-region", "owning-service", "all"}

// Limits of a ListSecrets filter (the Secrets Manager API model): 1–10
// values, each at most 512 characters matching FilterValuePattern.
const (
	MaxFilterValues   = 10
	MaxFilterValueLen = 512
	// FilterValuePattern is the API model's pattern for a filter value:
	// an optional leading "!", then letters, digits, spaces and
	// :_@/+=.-! only.
	FilterValuePattern = `^\!?[a-zA-Z0-9 :_@\/\+\=\.\-\!]*$`
)

var filterValueRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(FilterValuePattern) })

// Validate checks one filter by the ListSecrets API model, the rule the
// service applies (and the local stand-in with it): a known key, 1–10
// values, each at most 512 characters of FilterValuePattern. The
// *FieldError names "key" or "values".
func (f SecretFilter) Validate() error {
	if !slices.Contains(FilterKeys, f.Key) {
		return &FieldError{Field: "key", Reason: fmt.Sprintf("%q is not one of %s", f.Key, strings.Join(FilterKeys, ", "))}
	}
	if len(f.Values) < 1 || len(f.Values) > MaxFilterValues {
		return &FieldError{Field: "values", Reason: fmt.Sprintf("give 1 to %d values, not %d", MaxFilterValues, len(f.Values))}
	}
	for _, v := range f.Values {
		if len(v) > MaxFilterValueLen {
			return &FieldError{Field: "values", Reason: fmt.Sprintf("a value is longer than %d characters", MaxFilterValueLen)}
		}
		if !filterValueRE().MatchString(v) {
			return &FieldError{Field: "values", Reason: fmt.Sprintf("%q has characters a filter value can't hold (letters, digits, spaces and :_@/+=.-! only, \"!\" first to negate)", v)}
		}
	}
	return nil
}

// Limits on a RotateNowRequest.
const (
	// MaxRotateNowTimeoutSeconds is Lambda's longest invocation.
	MaxRotateNowTimeoutSeconds = 900
	MaxRotateNowConcurrency    = 100
	// WriteQuotaPerSecond is Secrets Manager's quota, per account and
	// region, shared by PutSecretValue, UpdateSecret and
	// UpdateSecretVersionStage (not adjustable).
	WriteQuotaPerSecond = 50
	// WritesPerRotation is how many of those calls one rotation by rotor's
	// rotator makes: createSecret's PutSecretValue and finishSecret's
	// UpdateSecretVersionStage (TestFleetStaysWithinTheWriteBudget counts
	// them). Its TagResource calls have a quota of their own.
	WritesPerRotation = 2
	// DefaultWritesPerSecond is 80% of the quota: the rest is headroom for
	// the writes rotate-now does not pace (scheduled rotations, other
	// tools) and for rotations whose writes land later than their turn.
	DefaultWritesPerSecond = WriteQuotaPerSecond * 4 / 5
	// MinWritesPerSecond is one rotation's writes: a smaller budget would
	// be exceeded by a single rotation.
	MinWritesPerSecond = WritesPerRotation
)

// ValidateWritesPerSecond checks a write budget: from MinWritesPerSecond to
// WriteQuotaPerSecond.
func ValidateWritesPerSecond(v float64) error {
	if !(v >= MinWritesPerSecond && v <= WriteQuotaPerSecond) { // NaN fails too
		return fmt.Errorf("%g is outside %d..%d writes per second (Secrets Manager allows %d PutSecretValue + UpdateSecretVersionStage calls per second per region; one rotation makes %d)", v, MinWritesPerSecond, WriteQuotaPerSecond, WriteQuotaPerSecond, WritesPerRotation)
	}
	return nil
}

// ParseRotateNowRequest decodes and validates a request. Unknown fields are
// an error, so a misspelt option ("secretId", "timeout") is not silently
// ignored; so are a key given twice (in any case: encoding/json would take
// the last) and anything after the request's JSON object.
func ParseRotateNowRequest(data []byte) (RotateNowRequest, error) {
	var r RotateNowRequest
	if _, err := decodeObject(string(data), "request", true); err != nil {
		return r, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return r, fmt.Errorf("decode rotate-now request: %w", err)
	}
	return r, r.Validate()
}

// Validate checks the request as a whole. Problems with one entry of
// SecretIDs (an empty or repeated name) are not errors here: rotate-now
// refuses that entry and handles the rest.
func (r RotateNowRequest) Validate() error {
	switch {
	case len(r.SecretIDs) == 0 && len(r.Filters) == 0:
		return &FieldError{Field: "secretIds", Reason: "name at least one secret, or give filters"}
	case len(r.SecretIDs) > 0 && len(r.Filters) > 0:
		return &FieldError{Field: "filters", Reason: "give either secretIds or filters, not both"}
	case r.TimeoutSeconds < 0 || r.TimeoutSeconds > MaxRotateNowTimeoutSeconds:
		return &FieldError{Field: "timeoutSeconds", Reason: fmt.Sprintf("%d is outside 0..%d", r.TimeoutSeconds, MaxRotateNowTimeoutSeconds)}
	case r.Concurrency < 0 || r.Concurrency > MaxRotateNowConcurrency:
		return &FieldError{Field: "concurrency", Reason: fmt.Sprintf("%d is outside 0..%d", r.Concurrency, MaxRotateNowConcurrency)}
	case r.FailureGraceSeconds < 0 || r.FailureGraceSeconds > MaxRotateNowTimeoutSeconds:
		return &FieldError{Field: "failureGraceSeconds", Reason: fmt.Sprintf("%d is outside 0..%d", r.FailureGraceSeconds, MaxRotateNowTimeoutSeconds)}
	case r.WritesPerSecond != 0 && ValidateWritesPerSecond(r.WritesPerSecond) != nil:
		return &FieldError{Field: "writesPerSecond", Reason: ValidateWritesPerSecond(r.WritesPerSecond).Error()}
	}
	for i, f := range r.Filters {
		field := fmt.Sprintf("filters[%d]", i)
		var fe *FieldError
		if err := f.Validate(); errors.As(err, &fe) {
			return &FieldError{Field: field + "." + fe.Field, Reason: fe.Reason}
		}
		// rotor's own rule on top of the service's: an empty value would
		// select every secret.
		for _, v := range f.Values {
			if strings.TrimPrefix(v, "!") == "" {
				return &FieldError{Field: field + ".values", Reason: "empty value"}
			}
		}
	}
	return nil
}

// RotateNowStatus is the outcome of one secret's rotate-now.
type RotateNowStatus string

// The statuses of a RotateNowResult.
const (
	// StatusSucceeded: the rotation's version became AWSCURRENT.
	StatusSucceeded RotateNowStatus = "succeeded"
	// StatusFailed: a step failed (FailedStep, Reason), or the rotation was
	// abandoned (its version lost AWSPENDING without becoming AWSCURRENT).
	// Secrets Manager retries failed rotations on its own.
	StatusFailed RotateNowStatus = "failed"
	// StatusTimedOut: no outcome before the deadline; the rotation may
	// still finish.
	StatusTimedOut RotateNowStatus = "timed_out"
	// StatusRefused: no rotation was started (unknown secret, rotation not
	// configured, an unfinished earlier rotation, a bad entry).
	StatusRefused RotateNowStatus = "refused"
	// StatusStarted: the rotation was requested and not waited for.
	StatusStarted RotateNowStatus = "started"
)

// OK reports whether the status is a success for the caller: succeeded, or
// started when the caller did not wait.
func (s RotateNowStatus) OK() bool { return s == StatusSucceeded || s == StatusStarted }

// RotateNowResult is the outcome for one secret.
type RotateNowResult struct {
	// SecretID is the secret as the request named it (or its ARN when
	// selected by filters).
	SecretID string `json:"secretId"`
	// ARN is the secret's full ARN when it is known.
	ARN    string          `json:"arn,omitempty"`
	Status RotateNowStatus `json:"status"`
	// VersionID is the rotation's version (its ClientRequestToken), set
	// whenever a rotation was requested.
	VersionID string `json:"versionId,omitempty"`
	// DurationMs runs from the RotateSecret call to the outcome.
	DurationMs int64 `json:"durationMs"`
	// FailedStep is the step that failed (createSecret, setSecret,
	// testSecret, finishSecret), when the rotator recorded one.
	FailedStep string `json:"failedStep,omitempty"`
	// Reason explains any status but started; on succeeded it is set only
	// to note a failed attempt that Secrets Manager retried. It never holds
	// a secret value.
	Reason string `json:"reason,omitempty"`
}

// RotateNowResponse lists one result per secret, in request order (filter
// matches in ListSecrets order).
type RotateNowResponse struct {
	Results []RotateNowResult `json:"results"`
	// Counts holds the number of results per status.
	Counts map[RotateNowStatus]int `json:"counts"`
}

// NewRotateNowResponse builds a response with its counts.
func NewRotateNowResponse(results []RotateNowResult) RotateNowResponse {
	resp := RotateNowResponse{Results: results, Counts: map[RotateNowStatus]int{}}
	if resp.Results == nil {
		resp.Results = []RotateNowResult{}
	}
	for _, r := range results {
		resp.Counts[r.Status]++
	}
	return resp
}

// OK reports whether every result is OK.
func (r RotateNowResponse) OK() bool {
	for _, res := range r.Results {
		if !res.Status.OK() {
			return false
		}
	}
	return true
}
