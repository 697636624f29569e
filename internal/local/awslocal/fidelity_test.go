package awslocal_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/local/awslocal"
	"github.com/rotorhq/rotor/internal/local/awslocal/awslocaltest"
	"github.com/rotorhq/rotor/internal/ops"
)

// The tests in this file each check one row of docs/secrets-manager-fidelity.md.

// Row "RotationAbandoned": only a put that takes AWSPENDING off an
// unfinished rotation's version records it.
func TestRotationAbandonedOnlyWhenAbandoned(t *testing.T) {
	t.Parallel()
	srv, sm := setup(t)
	ctx := ctxT(t)
	create(t, sm, "abandon/app", "v1")

	// AWSPENDING on the AWSCURRENT version (what a finished rotation may
	// leave): a manual put moves AWSCURRENT and abandons nothing.
	put(t, sm, "abandon/app", token(1), "v1", "AWSCURRENT", "AWSPENDING")
	put(t, sm, "abandon/app", token(2), "v2")
	if got := eventNames(srv); len(got) != 0 {
		t.Fatalf("events after a put over a finished rotation = %v, want none", got)
	}
	wantLabels(t, sm, "abandon/app", map[string][]string{token(1): {"AWSPREVIOUS"}, token(2): {"AWSCURRENT"}})

	// AWSPENDING on another version: an unfinished rotation, abandoned.
	put(t, sm, "abandon/app", token(3), "v3", "AWSPENDING")
	put(t, sm, "abandon/app", token(4), "v4")
	evs := srv.Events()
	if len(evs) != 1 || evs[0].Name != string(events.RotationAbandoned) || evs[0].VersionID != token(3) {
		t.Fatalf("events = %+v, want one RotationAbandoned for %s", evs, token(3))
	}
	wantLabels(t, sm, "abandon/app", map[string][]string{token(2): {"AWSPREVIOUS"}, token(4): {"AWSCURRENT"}})

	// A put without stages that fills the pending version itself makes it
	// current: finished, not abandoned.
	put(t, sm, "abandon/app", token(5), "v5", "AWSPENDING")
	if _, err := sm.UpdateSecret(ctx, &secretsmanager.UpdateSecretInput{SecretId: aws.String("abandon/app"), SecretString: aws.String("v5"), ClientRequestToken: aws.String(token(5))}); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Events()); n != 1 {
		t.Fatalf("events = %v, want still the one RotationAbandoned", eventNames(srv))
	}
}

// Row "RotateImmediately=false": a failing testSecret is recorded and
// pushed as TestRotationFailed, never RotationFailed.
func TestCheckOnlyFailureIsTestRotationFailed(t *testing.T) {
	t.Parallel()
	srv, sm := setup(t)
	ctx := ctxT(t)
	target := &syncRecorder{}
	// The alerts module's rule.
	srv.SetEventTarget(target, events.RotationFailed, events.RotationAbandoned, events.TestRotationFailed)
	srv.SetFunction(fnARN, awslocal.FuncInvoker(func(_ context.Context, e events.RotationEvent) error {
		return errors.New("testSecret: cannot log in")
	}))
	create(t, sm, "check/app", "v1")
	if _, err := sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String("check/app"), RotationLambdaARN: aws.String(fnARN),
		RotateImmediately: aws.Bool(false), RotationRules: &smtypes.RotationRulesType{ScheduleExpression: aws.String("rate(10 days)")}}); err != nil {
		t.Fatal(err)
	}
	res, err := srv.WaitRotation(ctx, "check/app")
	if err != nil || res.Succeeded || !res.CheckOnly || res.Step != events.StepTestSecret {
		t.Fatalf("result = %+v %v, want a failed check at testSecret", res, err)
	}
	if got, want := eventNames(srv), []string{"TestRotationStarted", "TestRotationFailed"}; !slices.Equal(got, want) {
		t.Fatalf("events = %v, want %v", got, want)
	}
	if err := srv.WaitEventDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
	got := target.got()
	if len(got) != 1 {
		t.Fatalf("%d events pushed, want the one TestRotationFailed", len(got))
	}
	env := srv.EventBridgeEvent(srv.Events()[1], 1)
	if env.Detail.EventName != events.TestRotationFailed || env.ReportedStep() != events.StepTestSecret {
		t.Fatalf("envelope = %+v, want TestRotationFailed reporting testSecret", env.Detail)
	}
}

// Row "NextRotationDate after a failed rotation": a scheduled rotation
// that fails leaves NextRotationDate in the past (docs: "If rotation is
// unsuccessful, this date may be in the past"); the stand-in tries again at
// the next window.
func TestNextRotationDateStaysPastAfterFailure(t *testing.T) {
	t.Parallel()
	clock := awslocal.NewFakeClock(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	srv, cfg := awslocaltest.NewWith(t, awslocal.Options{Clock: clock})
	sm := secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) { o.RetryMaxAttempts = 1 })
	ctx := ctxT(t)
	var failing atomic.Bool
	srv.SetFunction(fnARN, rotator(sm, func(context.Context, events.RotationEvent) error {
		if failing.Load() {
			return errors.New("database unreachable")
		}
		return nil
	}))
	create(t, sm, "next/app", "v1")
	rotate(t, sm, "next/app", token(2), &smtypes.RotationRulesType{ScheduleExpression: aws.String("rate(1 day)")})
	if res, _ := srv.WaitRotation(ctx, "next/app"); !res.Succeeded {
		t.Fatalf("first rotation: %+v", res)
	}
	describe := func() *secretsmanager.DescribeSecretOutput {
		t.Helper()
		d, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("next/app")})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	due := aws.ToTime(describe().NextRotationDate)
	if want := time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC); !due.Equal(want) {
		t.Fatalf("NextRotationDate = %v, want %v", due, want)
	}
	failing.Store(true)
	if got := srv.Advance(15 * time.Hour); len(got) != 1 { // 2026-03-03 01:00
		t.Fatalf("scheduled rotations started = %v, want 1", got)
	}
	if res, _ := srv.WaitRotation(ctx, "next/app"); res.Succeeded || !res.Scheduled {
		t.Fatalf("scheduled rotation = %+v, want a failure", res)
	}
	if got := aws.ToTime(describe().NextRotationDate); !got.Equal(due) || !got.Before(clock.Now()) {
		t.Fatalf("NextRotationDate after the failure = %v, want it left at %v (in the past)", got, due)
	}
	// The failed rotation is tried again at the next window, not at every
	// tick; the date stays in the past until a rotation succeeds.
	if got := srv.Advance(12 * time.Hour); len(got) != 0 {
		t.Fatalf("rotation started again inside the failed day: %v", got)
	}
	failing.Store(false)
	if got := srv.Advance(12 * time.Hour); len(got) != 1 { // 2026-03-04 01:00
		t.Fatalf("rotations at the next window = %v, want 1", got)
	}
	if res, _ := srv.WaitRotation(ctx, "next/app"); !res.Succeeded {
		t.Fatalf("retry at the next window: %+v", res)
	}
	if got, want := aws.ToTime(describe().NextRotationDate), time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("NextRotationDate after success = %v, want %v", got, want)
	}
}

// Row "LastRotatedDate after CancelRotateSecret": gone once rotation is
// disabled (docs: null "if rotation has been disabled"), in DescribeSecret
// and ListSecrets alike.
func TestLastRotatedDateGoneAfterCancel(t *testing.T) {
	t.Parallel()
	srv, sm := setup(t)
	ctx := ctxT(t)
	srv.SetFunction(fnARN, rotator(sm, nil))
	create(t, sm, "cancel/app", "v1")
	rotate(t, sm, "cancel/app", token(2), &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)})
	if res, _ := srv.WaitRotation(ctx, "cancel/app"); !res.Succeeded {
		t.Fatalf("rotation: %+v", res)
	}
	d, _ := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("cancel/app")})
	if d.LastRotatedDate == nil || d.NextRotationDate == nil {
		t.Fatalf("after rotation: LastRotatedDate %v NextRotationDate %v, want both", d.LastRotatedDate, d.NextRotationDate)
	}
	if _, err := sm.CancelRotateSecret(ctx, &secretsmanager.CancelRotateSecretInput{SecretId: aws.String("cancel/app")}); err != nil {
		t.Fatal(err)
	}
	d, _ = sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("cancel/app")})
	if aws.ToBool(d.RotationEnabled) || d.LastRotatedDate != nil || d.NextRotationDate != nil {
		t.Fatalf("after cancel: RotationEnabled %v LastRotatedDate %v NextRotationDate %v, want false and neither date", aws.ToBool(d.RotationEnabled), d.LastRotatedDate, d.NextRotationDate)
	}
	l, err := sm.ListSecrets(ctx, &secretsmanager.ListSecretsInput{})
	if err != nil || len(l.SecretList) != 1 || l.SecretList[0].LastRotatedDate != nil {
		t.Fatalf("ListSecrets after cancel: %+v %v", l, err)
	}
}

// Row "RotationRules normalised": with a ScheduleExpression the service
// also returns AutomaticallyAfterDays, its own count of days between
// rotations; AutomaticallyAfterDays alone comes back as given.
func TestRotationRulesNormalised(t *testing.T) {
	t.Parallel()
	srv, sm := setup(t)
	ctx := ctxT(t)
	srv.SetFunction(fnARN, rotator(sm, nil))
	for i, tc := range []struct {
		rules    smtypes.RotationRulesType
		wantDays int64
	}{
		{smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)}, 30},
		{smtypes.RotationRulesType{ScheduleExpression: aws.String("rate(10 days)")}, 10},
		{smtypes.RotationRulesType{ScheduleExpression: aws.String("rate(6 hours)"), Duration: aws.String("2h")}, 1},
		{smtypes.RotationRulesType{ScheduleExpression: aws.String("cron(0 8 ? * MON *)"), Duration: aws.String("3h")}, 7},
	} {
		name := fmt.Sprintf("rules/%d", i)
		create(t, sm, name, "v1")
		if _, err := sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String(name), RotationLambdaARN: aws.String(fnARN), RotateImmediately: aws.Bool(false), RotationRules: &tc.rules}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		d, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		r := d.RotationRules
		if aws.ToInt64(r.AutomaticallyAfterDays) != tc.wantDays || aws.ToString(r.ScheduleExpression) != aws.ToString(tc.rules.ScheduleExpression) || aws.ToString(r.Duration) != aws.ToString(tc.rules.Duration) {
			t.Fatalf("%s: RotationRules = {%d %q %q}, want {%d %q %q}", name, aws.ToInt64(r.AutomaticallyAfterDays), aws.ToString(r.ScheduleExpression), aws.ToString(r.Duration),
				tc.wantDays, aws.ToString(tc.rules.ScheduleExpression), aws.ToString(tc.rules.Duration))
		}
	}
	_ = srv.WaitRotations(ctx)
}

// Row "staging labels quota": 20 labels across all versions of a secret,
// not per version; the refused change changes nothing.
func TestStagingLabelQuotaAcrossVersions(t *testing.T) {
	t.Parallel()
	srv, sm := setup(t)
	ctx := ctxT(t)
	create(t, sm, "labels/app", "v1") // AWSCURRENT
	// 18 custom labels spread over 9 versions: 19 in all.
	for i := range 9 {
		put(t, sm, "labels/app", token(10+i), fmt.Sprintf("v%d", i), fmt.Sprintf("l%da", i), fmt.Sprintf("l%db", i))
	}
	// The 20th fits, on a version with only two labels.
	put(t, sm, "labels/app", token(30), "v30", "twentieth")
	before := srv.Versions("labels/app")
	_, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("labels/app"), ClientRequestToken: aws.String(token(31)), SecretString: aws.String("v31"), VersionStages: []string{"twenty-first"}})
	wantAPIError(t, err, "LimitExceededException", "")
	_, err = sm.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String("labels/app"), VersionStage: aws.String("twenty-first"), MoveToVersionId: aws.String(token(30))})
	wantAPIError(t, err, "LimitExceededException", "")
	// A put without stages moves AWSCURRENT and adds AWSPREVIOUS: 21.
	_, err = sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("labels/app"), ClientRequestToken: aws.String(token(32)), SecretString: aws.String("v32")})
	wantAPIError(t, err, "LimitExceededException", "")
	if after := srv.Versions("labels/app"); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("refused changes changed the versions:\n%v\n%v", before, after)
	}
	// Moving an existing label is not a new one.
	if _, err := sm.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String("labels/app"), VersionStage: aws.String("twentieth"), RemoveFromVersionId: aws.String(token(30)), MoveToVersionId: aws.String(token(10))}); err != nil {
		t.Fatalf("moving a label at the quota: %v", err)
	}
}

// Row "tag quotas": 50 tags, 128-character keys, 256-character values,
// aws: reserved; the refused call changes nothing.
func TestTagQuotas(t *testing.T) {
	t.Parallel()
	srv, sm := setup(t)
	ctx := ctxT(t)
	create(t, sm, "tags/app", "v1")
	tag := func(tags ...smtypes.Tag) error {
		_, err := sm.TagResource(ctx, &secretsmanager.TagResourceInput{SecretId: aws.String("tags/app"), Tags: tags})
		return err
	}
	kv := func(k, v string) smtypes.Tag { return smtypes.Tag{Key: aws.String(k), Value: aws.String(v)} }
	var fifty []smtypes.Tag
	for i := range 50 {
		fifty = append(fifty, kv(fmt.Sprintf("k%02d", i), "v"))
	}
	if err := tag(fifty...); err != nil {
		t.Fatalf("50 tags: %v", err)
	}
	if err := tag(kv("k00", "replaced")); err != nil {
		t.Fatalf("replacing a value at 50 tags: %v", err)
	}
	wantAPIError(t, tag(kv("k50", "v")), "LimitExceededException", "")
	long := func(n int) string { return strings.Repeat("x", n) }
	for name, tc := range map[string]struct {
		tag  smtypes.Tag
		code string
		msg  string
	}{
		"key 129":    {kv(long(129), "v"), "ValidationException", "1 validation error detected: Value at 'tags.1.member.key' failed to satisfy constraint: Member must have length less than or equal to 128"},
		"empty key":  {kv("", "v"), "ValidationException", "1 validation error detected: Value at 'tags.1.member.key' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		"value 257":  {kv("k00", long(257)), "ValidationException", "1 validation error detected: Value at 'tags.1.member.value' failed to satisfy constraint: Member must have length less than or equal to 256"},
		"aws prefix": {kv("aws:owner", "v"), "InvalidParameterException", ""},
		"AWS prefix": {kv("AWS:owner", "v"), "InvalidParameterException", ""},
	} {
		t.Run(name, func(t *testing.T) { wantAPIError(t, tag(tc.tag), tc.code, tc.msg) })
	}
	if err := tag(kv(long(128), "")); err == nil {
		t.Fatal("a 51st tag with a 128-character key was accepted")
	}
	_, err := sm.UntagResource(ctx, &secretsmanager.UntagResourceInput{SecretId: aws.String("tags/app"), TagKeys: []string{"aws:cloudformation:stack-name"}})
	wantAPIError(t, err, "InvalidParameterException", "")
	d, _ := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("tags/app")})
	if len(d.Tags) != 50 {
		t.Fatalf("%d tags after the refusals, want 50", len(d.Tags))
	}
	// An AWS service (RDS) may set aws: tags on the secrets it manages; the
	// Go API does it for tests, the quota still applies.
	if err := srv.SetServiceTags("tags/app", awslocal.Tag{Key: "aws:rds:primarydbinstancearn", Value: "arn:aws:rds:us-east-1:123456789012:db:x"}); err == nil {
		t.Fatal("SetServiceTags went past 50 tags")
	}
	if _, err := sm.UntagResource(ctx, &secretsmanager.UntagResourceInput{SecretId: aws.String("tags/app"), TagKeys: []string{"k49"}}); err != nil {
		t.Fatal(err)
	}
	if err := srv.SetServiceTags("tags/app", awslocal.Tag{Key: "aws:rds:primarydbinstancearn", Value: "arn:aws:rds:us-east-1:123456789012:db:x"}); err != nil {
		t.Fatalf("SetServiceTags: %v", err)
	}
	// CreateSecret checks the same rules.
	_, err = sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("tags/new"), SecretString: aws.String("v"), Tags: append(fifty, kv("k50", "v"))})
	wantAPIError(t, err, "LimitExceededException", "")
	_, err = sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("tags/new"), SecretString: aws.String("v"), Tags: []smtypes.Tag{kv("aws:x", "v")}})
	wantAPIError(t, err, "InvalidParameterException", "")
	if _, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("tags/new")}); err == nil {
		t.Fatal("a refused CreateSecret created the secret")
	}
}

// Rows "ListSecrets filters" and "BatchGetSecretValue MaxResults": the
// documented matching per key, the API model's value pattern, and
// `rotor rotate --filter` (ops.ListSecretIDs, events.SecretFilter) selecting
// and refusing by the same rules.
func TestListSecretsFilterRules(t *testing.T) {
	t.Parallel()
	_, sm := setup(t)
	ctx := ctxT(t)
	for _, s := range []struct{ name, desc, team string }{
		{"prod/db", "Production Database for billing", "payments"},
		{"prod/api", "API key", "web"},
		{"dev/db", "dev database", "Payments"},
	} {
		if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(s.name), Description: aws.String(s.desc), SecretString: aws.String("x"),
			Tags: []smtypes.Tag{{Key: aws.String("team"), Value: aws.String(s.team)}}}); err != nil {
			t.Fatal(err)
		}
	}
	for name, tc := range map[string]struct {
		filter events.SecretFilter
		want   []string
	}{
		"description, any case":      {events.SecretFilter{Key: "description", Values: []string{"production data"}}, []string{"prod/db"}},
		"description negated":        {events.SecretFilter{Key: "description", Values: []string{"!DEV"}}, []string{"prod/db", "prod/api"}},
		"tag-value case-sensitive":   {events.SecretFilter{Key: "tag-value", Values: []string{"Pay"}}, []string{"dev/db"}},
		"name case-sensitive":        {events.SecretFilter{Key: "name", Values: []string{"PROD"}}, nil},
		"all: any word, any field":   {events.SecretFilter{Key: "all", Values: []string{"nothing WEB"}}, []string{"prod/api"}},
		"all: word inside a field":   {events.SecretFilter{Key: "all", Values: []string{"billing"}}, []string{"prod/db"}},
		"all: tag key":               {events.SecretFilter{Key: "all", Values: []string{"TEAM"}}, []string{"prod/db", "prod/api", "dev/db"}},
		"all: name prefix, any case": {events.SecretFilter{Key: "all", Values: []string{"DEV/"}}, []string{"dev/db"}},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := sm.ListSecrets(ctx, &secretsmanager.ListSecretsInput{Filters: []smtypes.Filter{{Key: smtypes.FilterNameStringType(tc.filter.Key), Values: tc.filter.Values}}})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range out.SecretList {
				got = append(got, aws.ToString(e.Name))
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("ListSecrets: %v, want %v", got, tc.want)
			}
			// rotor rotate --filter selects the same secrets.
			ids, err := ops.ListSecretIDs(ctx, sm, []events.SecretFilter{tc.filter})
			if err != nil || len(ids) != len(tc.want) {
				t.Fatalf("ops.ListSecretIDs: %v %v, want %d secrets", ids, err, len(tc.want))
			}
		})
	}
	// A value outside the model's pattern: the service refuses it, and so
	// does rotor before calling (the same rule, events.SecretFilter).
	for _, bad := range []events.SecretFilter{
		{Key: "name", Values: []string{"prod/*"}},
		{Key: "all", Values: []string{"a;b"}},
		{Key: "name", Values: []string{strings.Repeat("a", 513)}},
		{Key: "name", Values: []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"}},
		{Key: "colour", Values: []string{"red"}},
	} {
		_, err := sm.ListSecrets(ctx, &secretsmanager.ListSecretsInput{Filters: []smtypes.Filter{{Key: smtypes.FilterNameStringType(bad.Key), Values: bad.Values}}})
		wantAPIError(t, err, "ValidationException", "")
		var fe *events.FieldError
		if err := (events.RotateNowRequest{Filters: []events.SecretFilter{bad}}).Validate(); !errors.As(err, &fe) || !strings.HasPrefix(fe.Field, "filters[0].") {
			t.Fatalf("rotor's check of %v = %v, want a FieldError on filters[0]", bad.Key, err)
		}
	}
	_, err := sm.ListSecrets(ctx, &secretsmanager.ListSecretsInput{Filters: []smtypes.Filter{{Key: "name", Values: []string{"prod/*"}}}})
	wantAPIError(t, err, "ValidationException", `1 validation error detected: Value '[prod/*]' at 'filters.1.member.values' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 512, Member must have length greater than or equal to 0, Member must satisfy regular expression pattern: ^\!?[a-zA-Z0-9 :_@\/\+\=\.\-\!]*$]`)

	// BatchGetSecretValue: MaxResults only with Filters.
	_, err = sm.BatchGetSecretValue(ctx, &secretsmanager.BatchGetSecretValueInput{SecretIdList: []string{"prod/db"}, MaxResults: aws.Int32(5)})
	wantAPIError(t, err, "InvalidParameterException", "")
	b, err := sm.BatchGetSecretValue(ctx, &secretsmanager.BatchGetSecretValueInput{Filters: []smtypes.Filter{{Key: "all", Values: []string{"database"}}}, MaxResults: aws.Int32(1)})
	if err != nil || len(b.SecretValues) != 1 || b.NextToken == nil {
		t.Fatalf("BatchGetSecretValue with Filters and MaxResults: %+v %v", b, err)
	}
}

// Row "rotation windows": a Duration running into the next window or past
// the UTC day is refused and nothing is stored; rate(N hours) windows open
// at midnight UTC and every N hours after it, not N hours after the last
// rotation.
func TestRotationWindows(t *testing.T) {
	t.Parallel()
	clock := awslocal.NewFakeClock(time.Date(2026, 3, 2, 10, 30, 0, 0, time.UTC))
	srv, cfg := awslocaltest.NewWith(t, awslocal.Options{Clock: clock})
	sm := secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) { o.RetryMaxAttempts = 1 })
	ctx := ctxT(t)
	srv.SetFunction(fnARN, rotator(sm, nil))
	create(t, sm, "window/app", "v1")
	for _, r := range []smtypes.RotationRulesType{
		{ScheduleExpression: aws.String("rate(4 hours)"), Duration: aws.String("5h")},
		{ScheduleExpression: aws.String("cron(0 20 * * ? *)"), Duration: aws.String("6h")},
		{ScheduleExpression: aws.String("rate(5 hours)"), Duration: aws.String("5h")},
	} {
		_, err := sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String("window/app"), RotationLambdaARN: aws.String(fnARN), RotationRules: &r})
		wantAPIError(t, err, "InvalidParameterException", "")
	}
	d, _ := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("window/app")})
	if d.RotationEnabled != nil || d.RotationRules != nil || len(srv.Versions("window/app")) != 1 {
		t.Fatalf("refused rules were stored: %+v", d)
	}
	// rate(6 hours) configured at 10:30: the next window opens at 12:00.
	if _, err := sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String("window/app"), RotationLambdaARN: aws.String(fnARN), RotateImmediately: aws.Bool(false),
		RotationRules: &smtypes.RotationRulesType{ScheduleExpression: aws.String("rate(6 hours)"), Duration: aws.String("2h")}}); err != nil {
		t.Fatal(err)
	}
	_ = srv.WaitRotations(ctx)
	next := func() time.Time {
		d, _ := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("window/app")})
		return aws.ToTime(d.NextRotationDate)
	}
	if got, want := next(), time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("NextRotationDate = %v, want %v", got, want)
	}
	// The scheduled rotation runs inside the 12:00 window, at 12:45; the
	// next window is 18:00, not 18:45.
	if got := srv.Advance(135 * time.Minute); len(got) != 1 {
		t.Fatalf("rotations at 12:45 = %v, want 1", got)
	}
	if res, _ := srv.WaitRotation(ctx, "window/app"); !res.Succeeded {
		t.Fatalf("scheduled rotation: %+v", res)
	}
	if got, want := next(), time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("NextRotationDate after the 12:45 rotation = %v, want %v", got, want)
	}
}

// The fidelity table (docs/secrets-manager-fidelity.md) names, for each
// row, the tests that check it: every row names at least one, each named
// test exists, and each row's stand-in column is marked.
func TestFidelityTableNamesRealTests(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..", "..")
	doc, err := os.ReadFile(filepath.Join(root, "docs", "secrets-manager-fidelity.md"))
	if err != nil {
		t.Fatal(err)
	}
	ref := regexp.MustCompile("`([a-z][a-z/]*):(Test[A-Za-z0-9_]+)`")
	sources := map[string]string{} // package dir → its test sources
	rows := 0
	for _, line := range strings.Split(string(doc), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 7 || strings.TrimSpace(cells[1]) == "#" || strings.HasPrefix(strings.TrimSpace(cells[1]), "---") {
			continue
		}
		rows++
		row := strings.TrimSpace(cells[1])
		if m := strings.TrimSpace(cells[4]); !strings.HasPrefix(m, "Same") && !strings.HasPrefix(m, "Choice") && !strings.HasPrefix(m, "Removed") {
			t.Errorf("row %s: stand-in column %q is not marked Same or Choice", row, m)
		}
		refs := ref.FindAllStringSubmatch(cells[5], -1)
		if len(refs) == 0 {
			t.Errorf("row %s names no test", row)
		}
		for _, r := range refs {
			src, ok := sources[r[1]]
			if !ok {
				files, _ := filepath.Glob(filepath.Join(root, r[1], "*_test.go"))
				var b strings.Builder
				for _, f := range files {
					data, err := os.ReadFile(f)
					if err != nil {
						t.Fatal(err)
					}
					b.Write(data)
				}
				src, sources[r[1]] = b.String(), b.String()
			}
			if !strings.Contains(src, "func "+r[2]+"(t *testing.T)") {
				t.Errorf("row %s names %s:%s, which does not exist", row, r[1], r[2])
			}
		}
	}
	if rows < 20 {
		t.Fatalf("read %d rows from the fidelity table; is the table still there?", rows)
	}
}
