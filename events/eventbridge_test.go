package events

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestSecretsManagerEventRoundTrip(t *testing.T) {
	const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app/db-AbCdEf"
	cases := map[string]struct {
		name       RotationEventName
		detailType string
		failure    bool
		secretID   string
		step       Step
	}{
		"eventbridge_rotation_started.json":       {RotationStarted, DetailTypeServiceEvent, false, arn, ""},
		"eventbridge_rotation_succeeded.json":     {RotationSucceeded, DetailTypeServiceEvent, false, arn, ""},
		"eventbridge_rotation_failed.json":        {RotationFailed, DetailTypeServiceEvent, true, arn, StepSetSecret},
		"eventbridge_rotation_abandoned.json":     {RotationAbandoned, DetailTypeServiceEvent, true, arn, ""},
		"eventbridge_api_call_rotate_secret.json": {"RotateSecret", DetailTypeAPICall, false, "prod/app/db", ""},
	}
	for file, want := range cases {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			raw := readFixture(t, file)
			ev, err := ParseSecretsManagerEvent(raw)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if ev.Detail.EventName != want.name || ev.DetailType != want.detailType {
				t.Fatalf("eventName %q detail-type %q, want %q %q", ev.Detail.EventName, ev.DetailType, want.name, want.detailType)
			}
			if got := ev.Detail.EventName.Failure(); got != want.failure {
				t.Errorf("Failure() = %v, want %v", got, want.failure)
			}
			if got := ev.SecretID(); got != want.secretID {
				t.Errorf("SecretID() = %q, want %q", got, want.secretID)
			}
			if got := ev.ReportedStep(); got != want.step {
				t.Errorf("ReportedStep() = %q, want %q", got, want.step)
			}
			if ev.OccurredAt().IsZero() || ev.ID == "" {
				t.Errorf("time %v id %q", ev.OccurredAt(), ev.ID)
			}
			out, err := json.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			if !jsonEqual(t, raw, out) {
				t.Fatalf("round trip changed the event:\n%s\n%s", raw, out)
			}
		})
	}
}

func TestSecretsManagerEventValidation(t *testing.T) {
	base, err := ParseSecretsManagerEvent(readFixture(t, "eventbridge_rotation_failed.json"))
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		tweak func(*SecretsManagerEvent)
		field string
	}{
		"valid":           {func(*SecretsManagerEvent) {}, ""},
		"other source":    {func(e *SecretsManagerEvent) { e.Source = "aws.kms" }, "source"},
		"no id":           {func(e *SecretsManagerEvent) { e.ID = "" }, "id"},
		"no event name":   {func(e *SecretsManagerEvent) { e.Detail.EventName = "" }, "detail.eventName"},
		"no secret":       {func(e *SecretsManagerEvent) { e.Detail.AdditionalEventData = nil }, "detail.additionalEventData.SecretId"},
		"resource ARN":    {func(e *SecretsManagerEvent) { e.Detail.AdditionalEventData = nil; e.Resources = []string{"arn:x"} }, ""},
		"no event time":   {func(e *SecretsManagerEvent) { e.Detail.EventTime = time.Time{} }, ""},
		"no errorMessage": {func(e *SecretsManagerEvent) { e.Detail.ErrorMessage = "" }, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := base
			d := *base.Detail.AdditionalEventData
			e.Detail.AdditionalEventData = &d
			tc.tweak(&e)
			checkField(t, e.Validate(), tc.field)
		})
	}
}

func TestSecretsManagerEventNotJSON(t *testing.T) {
	if _, err := ParseSecretsManagerEvent([]byte(`{"source":`)); err == nil {
		t.Fatal("truncated JSON accepted")
	}
}

func TestReportedStepNeedsAStepName(t *testing.T) {
	cases := map[string]Step{
		"Error when executing lambda arn:aws:lambda:us-east-1:1:function:f during finishSecret step": StepFinishSecret,
		"Error when executing lambda arn:aws:lambda:us-east-1:1:function:f during dropTable step":    "",
		"Lambda function not found": "",
		"":                          "",
	}
	for msg, want := range cases {
		e := SecretsManagerEvent{Detail: CloudTrailDetail{ErrorMessage: msg}}
		if got := e.ReportedStep(); got != want {
			t.Errorf("%q: step %q, want %q", msg, got, want)
		}
	}
}

func TestAlertRoundTrip(t *testing.T) {
	for _, file := range []string{"alert_rotation_failed.json", "alert_rotation_overdue.json"} {
		t.Run(file, func(t *testing.T) {
			raw := readFixture(t, file)
			var a Alert
			if err := json.Unmarshal(raw, &a); err != nil {
				t.Fatal(err)
			}
			if err := a.Validate(); err != nil {
				t.Fatalf("validate: %v", err)
			}
			out, err := json.Marshal(a)
			if err != nil {
				t.Fatal(err)
			}
			if !jsonEqual(t, raw, out) {
				t.Fatalf("round trip changed the alert:\n%s\n%s", raw, out)
			}
		})
	}
}

func TestAlertKindWireNames(t *testing.T) {
	want := "rotation-failed rotation-abandoned rotation-overdue rotation-stuck last-rotation-failed rotation-function-missing"
	var got []string
	for _, k := range AlertKinds {
		got = append(got, string(k))
	}
	if strings.Join(got, " ") != want {
		t.Fatalf("kinds %v", got)
	}
}

func TestAlertValidation(t *testing.T) {
	valid := Alert{Kind: AlertStuck, SecretARN: "arn:x", DetectedAt: time.Unix(1, 0)}
	cases := map[string]struct {
		tweak func(*Alert)
		field string
	}{
		"valid":        {func(*Alert) {}, ""},
		"unknown kind": {func(a *Alert) { a.Kind = "meh" }, "kind"},
		"no secret":    {func(a *Alert) { a.SecretARN = "" }, "secretArn"},
		"no time":      {func(a *Alert) { a.DetectedAt = time.Time{} }, "detectedAt"},
		"bad step":     {func(a *Alert) { a.FailedStep = "x" }, "failedStep"},
		"good step":    {func(a *Alert) { a.FailedStep = StepTestSecret }, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			a := valid
			tc.tweak(&a)
			checkField(t, a.Validate(), tc.field)
		})
	}
}
