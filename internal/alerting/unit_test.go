package alerting

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/rotorhq/rotor/events"
)

func TestAlreadyAlerted(t *testing.T) {
	t0 := time.Date(2026, 11, 2, 4, 17, 9, 0, time.UTC)
	prev := alertMark(t0, "ev-1", "setSecret", "v-1").String()
	cases := map[string]struct {
		prev string
		next mark
		want bool
	}{
		"same event":                    {prev, alertMark(t0, "ev-1", "setSecret", "v-1"), true},
		"same event, later delivery":    {prev, alertMark(t0, "ev-1", "setSecret", "v-1"), true},
		"older event":                   {prev, alertMark(t0.Add(-time.Minute), "ev-0", "createSecret", "v-0"), true},
		"retry of the same rotation":    {prev, alertMark(t0.Add(time.Minute), "ev-2", "setSecret", "v-1"), true},
		"same rotation, other step":     {prev, alertMark(t0.Add(time.Minute), "ev-2", "testSecret", "v-1"), false},
		"new rotation, same step":       {prev, alertMark(t0.Add(time.Hour), "ev-3", "setSecret", "v-2"), false},
		"unknown version never matches": {alertMark(t0, "ev-1", "unknown", "").String(), alertMark(t0.Add(time.Minute), "ev-2", "unknown", ""), false},
		"unparsable tag":                {"garbage", alertMark(t0, "ev-1", "setSecret", "v-1"), false},
		"version with a slash":          {alertMark(t0, "ev-1", "setSecret", "a/b").String(), alertMark(t0.Add(time.Minute), "ev-2", "setSecret", "a/b"), true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := alreadyAlerted(tc.prev, tc.next); got != tc.want {
				t.Fatalf("alreadyAlerted(%q, %+v) = %v, want %v", tc.prev, tc.next, got, tc.want)
			}
		})
	}
}

func TestMarkFitsATag(t *testing.T) {
	m := alertMark(time.Now(), "0f6a3c1e-2b4d-4e8f-9a1b-5c7d9e0f1a23", "finishSecret", strings.Repeat("v", 64)).String()
	if len(m) > 256 {
		t.Fatalf("mark is %d characters, tags hold 256", len(m))
	}
	if _, ok := parseMark(m); !ok {
		t.Fatalf("mark %q does not parse", m)
	}
}

func TestRotationDeadline(t *testing.T) {
	next := time.Date(2026, 11, 2, 4, 0, 0, 0, time.UTC)
	endOfDay := time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)
	days := int64(30)
	cases := map[string]struct {
		rules *smtypes.RotationRulesType
		want  time.Time
		err   bool
	}{
		"no rules":               {nil, time.Time{}, true},
		"days":                   {&smtypes.RotationRulesType{AutomaticallyAfterDays: &days}, endOfDay, false},
		"days with window":       {&smtypes.RotationRulesType{AutomaticallyAfterDays: &days, Duration: aws.String("3h")}, next.Add(3 * time.Hour), false},
		"hourly rate":            {&smtypes.RotationRulesType{ScheduleExpression: aws.String("rate(4 hours)")}, next.Add(time.Hour), false},
		"daily rate":             {&smtypes.RotationRulesType{ScheduleExpression: aws.String("rate(10 days)")}, endOfDay, false},
		"daily rate, normalised": {&smtypes.RotationRulesType{ScheduleExpression: aws.String("rate(10 days)"), AutomaticallyAfterDays: aws.Int64(10)}, endOfDay, false},
		"cron at one hour":       {&smtypes.RotationRulesType{ScheduleExpression: aws.String("cron(0 4 ? * MON *)")}, endOfDay, false},
		"cron at several hours":  {&smtypes.RotationRulesType{ScheduleExpression: aws.String("cron(0 4,16 * * ? *)")}, next.Add(time.Hour), false},
		"window beats schedule":  {&smtypes.RotationRulesType{ScheduleExpression: aws.String("rate(4 hours)"), Duration: aws.String("2h")}, next.Add(2 * time.Hour), false},
		"bad window":             {&smtypes.RotationRulesType{AutomaticallyAfterDays: &days, Duration: aws.String("2d")}, time.Time{}, true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := RotationDeadline(next, tc.rules)
			if (err != nil) != tc.err {
				t.Fatalf("err = %v, want error %v", err, tc.err)
			}
			if !got.Equal(tc.want) {
				t.Fatalf("deadline %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRenderEveryKind(t *testing.T) {
	t0 := time.Date(2026, 11, 4, 6, 0, 0, 0, time.UTC)
	last := t0.Add(-32 * 24 * time.Hour)
	for _, k := range events.AlertKinds {
		t.Run(string(k), func(t *testing.T) {
			a := events.Alert{
				Kind: k, SecretARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app/db-AbCdEf",
				DetectedAt: t0, LastRotated: &last, FailedStep: events.StepSetSecret, VersionID: "v-1",
				Reason: "set password for \"app\": connect: connection refused\nsecond line",
			}
			a.Actions = actions(a)
			m := Render(a)
			if len(m.Subject) > maxSubject || strings.ContainsAny(m.Subject, "\r\n") {
				t.Errorf("subject %q breaks SNS's rules", m.Subject)
			}
			for _, want := range []string{"prod/app/db", "What to do:", "Last success:", "32 days ago"} {
				if !strings.Contains(m.Body, want) {
					t.Errorf("body lacks %q:\n%s", want, m.Body)
				}
			}
			if m.Attributes[AttrKind] != string(k) || m.Attributes[AttrSecret] != "prod/app/db" {
				t.Errorf("attributes %v", m.Attributes)
			}
			if explain(a) == "" {
				t.Errorf("no explanation for %s", k)
			}
		})
	}
}

func TestSecretNameFromARN(t *testing.T) {
	cases := map[string]string{
		"arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app/db-AbCdEf": "prod/app/db",
		"arn:aws:secretsmanager:us-east-1:123456789012:secret:plain-AbCdEf":       "plain",
		"prod/app/db": "prod/app/db",
	}
	for in, want := range cases {
		if got := secretNameFromARN(in); got != want {
			t.Errorf("%s: %q, want %q", in, got, want)
		}
	}
}

func TestOverdueReadings(t *testing.T) {
	now := time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC)
	future := now.Add(12 * time.Hour)
	longAgo := now.Add(-10 * 24 * time.Hour)
	recent := now.Add(-2 * time.Hour)
	days := func(n int64) *smtypes.RotationRulesType {
		return &smtypes.RotationRulesType{AutomaticallyAfterDays: &n}
	}
	expr := func(e string) *smtypes.RotationRulesType {
		return &smtypes.RotationRulesType{ScheduleExpression: &e}
	}
	failed := []smtypes.Tag{{Key: aws.String(events.TagLastRotation), Value: aws.String(events.OutcomeFailed)}}
	cases := map[string]struct {
		entry smtypes.SecretListEntry
		late  bool
	}{
		"next date passed":                     {smtypes.SecretListEntry{NextRotationDate: &longAgo, RotationRules: days(1)}, true},
		"next date moved on, last success old": {smtypes.SecretListEntry{NextRotationDate: &future, LastRotatedDate: &longAgo, RotationRules: days(1), Tags: failed}, true},
		"schedule restarted, not failing":      {smtypes.SecretListEntry{NextRotationDate: &future, LastRotatedDate: &longAgo, RotationRules: days(1)}, false},
		"next date moved on, recent success":   {smtypes.SecretListEntry{NextRotationDate: &future, LastRotatedDate: &recent, RotationRules: days(1)}, false},
		"never rotated, created long ago":      {smtypes.SecretListEntry{NextRotationDate: &future, CreatedDate: &longAgo, RotationRules: expr("rate(2 days)"), Tags: failed}, true},
		"rotation enabled today on an old one": {smtypes.SecretListEntry{NextRotationDate: &future, CreatedDate: &longAgo, RotationRules: expr("rate(2 days)")}, false},
		"hourly rate, last success old":        {smtypes.SecretListEntry{NextRotationDate: &future, LastRotatedDate: &longAgo, RotationRules: expr("rate(4 hours)"), Tags: failed}, true},
		"cron reads NextRotationDate only":     {smtypes.SecretListEntry{NextRotationDate: &future, LastRotatedDate: &longAgo, RotationRules: expr("cron(0 4 * * ? *)"), Tags: failed}, false},
		"interval not yet over":                {smtypes.SecretListEntry{LastRotatedDate: &longAgo, RotationRules: days(30)}, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, late, err := overdue(now, tc.entry)
			if err != nil || late != tc.late {
				t.Fatalf("late %v (err %v), want %v", late, err, tc.late)
			}
		})
	}
}
