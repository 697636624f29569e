package awslocal_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/local/awslocal"
	"github.com/rotorhq/rotor/internal/local/awslocal/awslocaltest"
)

const fnARN = "arn:aws:lambda:us-east-1:123456789012:function:rotate"

func eventNames(srv *awslocal.Server) []string {
	var out []string
	for _, e := range srv.Events() {
		out = append(out, e.Name)
	}
	return out
}

func rotate(t *testing.T, sm *secretsmanager.Client, id string, tok string, rules *smtypes.RotationRulesType) {
	t.Helper()
	out, err := sm.RotateSecret(ctxT(t), &secretsmanager.RotateSecretInput{SecretId: aws.String(id), RotationLambdaARN: aws.String(fnARN), ClientRequestToken: aws.String(tok), RotationRules: rules})
	if err != nil {
		t.Fatalf("RotateSecret: %v", err)
	}
	if aws.ToString(out.VersionId) != tok {
		t.Fatalf("RotateSecret VersionId = %s, want the token %s", aws.ToString(out.VersionId), tok)
	}
}

func TestRotateHappyPath(t *testing.T) {
	t.Parallel()
	srv, sm := setup(t)
	srv.SetFunction(fnARN, rotator(sm, nil))
	c := create(t, sm, "app/db", "v1")
	rotate(t, sm, "app/db", token(2), &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(7)})
	res, err := srv.WaitRotation(ctxT(t), "app/db")
	if err != nil || !res.Succeeded || res.Attempts != 1 {
		t.Fatalf("WaitRotation = %+v, %v; want success in 1 attempt", res, err)
	}
	wantLabels(t, sm, "app/db", map[string][]string{token(1): {"AWSPREVIOUS"}, token(2): {"AWSCURRENT"}})
	d, _ := sm.DescribeSecret(ctxT(t), &secretsmanager.DescribeSecretInput{SecretId: c.ARN})
	if d.LastRotatedDate == nil || d.NextRotationDate == nil || !aws.ToBool(d.RotationEnabled) || aws.ToString(d.RotationLambdaARN) != fnARN {
		t.Fatalf("DescribeSecret after rotation = %+v", d)
	}
	now := srv.Clock().Now()
	if want := now.Truncate(24*time.Hour).AddDate(0, 0, 7); !d.NextRotationDate.Equal(want) {
		t.Fatalf("NextRotationDate = %v, want %v", d.NextRotationDate, want)
	}
	var tokenSeen string
	for _, v := range srv.Versions("app/db") {
		if v.VersionID == token(2) {
			tokenSeen = v.RotationToken
		}
	}
	if tokenSeen == "" || tokenSeen != srv.LastRotationToken("app/db") {
		t.Fatalf("RotationToken stored = %q, sent = %q", tokenSeen, srv.LastRotationToken("app/db"))
	}
	if got := eventNames(srv); !slices.Equal(got, []string{"RotationStarted", "RotationSucceeded"}) {
		t.Fatalf("events = %v", got)
	}
	if ev := srv.Events()[1]; ev.SecretARN != aws.ToString(c.ARN) || ev.VersionID != token(2) {
		t.Fatalf("event = %+v", ev)
	}
}

func TestRotatePlaceholderBeforeCreateSecret(t *testing.T) {
	t.Parallel()
	srv, sm := setup(t)
	var once sync.Once
	var seen map[string][]string
	var getErr, getByIDErr error
	var event events.RotationEvent
	srv.SetFunction(fnARN, rotator(sm, func(ctx context.Context, e events.RotationEvent) error {
		once.Do(func() {
			event = e
			d, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(e.SecretID)})
			if err == nil {
				seen = d.VersionIdsToStages
			}
			_, getErr = sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(e.SecretID), VersionStage: aws.String("AWSPENDING")})
			_, getByIDErr = sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(e.SecretID), VersionId: aws.String(e.ClientRequestToken)})
		})
		return nil
	}))
	c := create(t, sm, "placeholder", "v1")
	rotate(t, sm, "placeholder", token(2), nil)
	if _, err := srv.WaitRotation(ctxT(t), "placeholder"); err != nil {
		t.Fatal(err)
	}
	if event.Step != "createSecret" || event.SecretID != aws.ToString(c.ARN) || event.ClientRequestToken != token(2) || event.RotationToken == "" {
		t.Fatalf("first event = %+v", event)
	}
	if !slices.Equal(seen[token(2)], []string{"AWSPENDING"}) {
		t.Fatalf("VersionIdsToStages at createSecret = %v, want the placeholder as [AWSPENDING]", seen)
	}
	wantAPIError(t, getErr, "ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: AWSPENDING")
	wantAPIError(t, getByIDErr, "ResourceNotFoundException", "Secrets Manager can't find the specified secret value for VersionId: "+token(2))
}

func TestRotateStepOrderAndRetry(t *testing.T) {
	t.Parallel()
	srv, sm := setup(t)
	var mu sync.Mutex
	var steps []string
	failed := false
	srv.SetFunction(fnARN, rotator(sm, func(ctx context.Context, e events.RotationEvent) error {
		mu.Lock()
		defer mu.Unlock()
		steps = append(steps, e.Step)
		if e.Step == "setSecret" && !failed {
			failed = true
			return errors.New("database unreachable")
		}
		return nil
	}))
	create(t, sm, "retry", "v1")
	rotate(t, sm, "retry", token(2), nil)
	res, err := srv.WaitRotation(ctxT(t), "retry")
	if err != nil || !res.Succeeded || res.Attempts != 2 {
		t.Fatalf("WaitRotation = %+v, %v; want success after 2 passes", res, err)
	}
	want := []string{"createSecret", "setSecret", "createSecret", "setSecret", "testSecret", "finishSecret"}
	if !slices.Equal(steps, want) {
		t.Fatalf("steps = %v, want %v", steps, want)
	}
	if got := eventNames(srv); !slices.Equal(got, []string{"RotationStarted", "RotationFailed", "RotationStarted", "RotationSucceeded"}) {
		t.Fatalf("events = %v", got)
	}
	f := srv.Events()[1]
	if f.Step != "setSecret" || f.ErrorMessage != "database unreachable" || f.ErrorType == "" || f.Attempt != 1 {
		t.Fatalf("RotationFailed event = %+v", f)
	}
	wantLabels(t, sm, "retry", map[string][]string{token(1): {"AWSPREVIOUS"}, token(2): {"AWSCURRENT"}})
}

func TestRotateFailsAfterAllAttempts(t *testing.T) {
	t.Parallel()
	srv, sm := setup(t)
	srv.SetFunction(fnARN, rotator(sm, func(ctx context.Context, e events.RotationEvent) error {
		if e.Step == "testSecret" {
			return errors.New("login failed")
		}
		return nil
	}))
	create(t, sm, "broken", "v1")
	rotate(t, sm, "broken", token(2), nil)
	res, err := srv.WaitRotation(ctxT(t), "broken")
	if err != nil || res.Succeeded || res.Attempts != awslocal.DefaultRotationAttempts || res.Step != events.StepTestSecret {
		t.Fatalf("WaitRotation = %+v, %v", res, err)
	}
	var fe *awslocal.FunctionError
	if !errors.As(res.Err, &fe) || fe.Message != "login failed" {
		t.Fatalf("result error = %v", res.Err)
	}
	// AWSPENDING stays behind and blocks the next rotation.
	wantLabels(t, sm, "broken", map[string][]string{token(1): {"AWSCURRENT"}, token(2): {"AWSPENDING"}})
	_, err = sm.RotateSecret(ctxT(t), &secretsmanager.RotateSecretInput{SecretId: aws.String("broken"), ClientRequestToken: aws.String(token(3))})
	wantAPIError(t, err, "InvalidRequestException", "A previous rotation isn't complete. That rotation will be reattempted.")
	// Cancel: rotation off, labels untouched.
	cr, err := sm.CancelRotateSecret(ctxT(t), &secretsmanager.CancelRotateSecretInput{SecretId: aws.String("broken")})
	if err != nil || aws.ToString(cr.VersionId) != token(2) {
		t.Fatalf("CancelRotateSecret = %+v, %v", cr, err)
	}
	d, _ := sm.DescribeSecret(ctxT(t), &secretsmanager.DescribeSecretInput{SecretId: aws.String("broken")})
	if aws.ToBool(d.RotationEnabled) || d.RotationEnabled == nil || d.NextRotationDate != nil {
		t.Fatalf("after cancel: RotationEnabled=%v NextRotationDate=%v", d.RotationEnabled, d.NextRotationDate)
	}
	wantLabels(t, sm, "broken", map[string][]string{token(1): {"AWSCURRENT"}, token(2): {"AWSPENDING"}})
	// Removing AWSPENDING unblocks it.
	if _, err := sm.UpdateSecretVersionStage(ctxT(t), &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String("broken"), VersionStage: aws.String("AWSPENDING"), RemoveFromVersionId: aws.String(token(2))}); err != nil {
		t.Fatal(err)
	}
	srv.SetFunction(fnARN, rotator(sm, nil))
	rotate(t, sm, "broken", token(3), nil)
	if res, _ := srv.WaitRotation(ctxT(t), "broken"); !res.Succeeded {
		t.Fatalf("second rotation = %+v", res)
	}
}

func TestRotateRefusals(t *testing.T) {
	t.Parallel()
	srv, sm := setup(t)
	create(t, sm, "refuse", "v1")
	_, err := sm.RotateSecret(ctxT(t), &secretsmanager.RotateSecretInput{SecretId: aws.String("refuse")})
	wantAPIError(t, err, "InvalidRequestException", "No Lambda rotation function ARN is associated with this secret.")
	_, err = sm.RotateSecret(ctxT(t), &secretsmanager.RotateSecretInput{SecretId: aws.String("refuse"), RotationLambdaARN: aws.String(fnARN + "-missing")})
	wantAPIError(t, err, "AccessDeniedException", "")
	_, err = sm.RotateSecret(ctxT(t), &secretsmanager.RotateSecretInput{SecretId: aws.String("nope"), RotationLambdaARN: aws.String(fnARN)})
	wantAPIError(t, err, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
	d, _ := sm.DescribeSecret(ctxT(t), &secretsmanager.DescribeSecretInput{SecretId: aws.String("refuse")})
	if d.RotationEnabled != nil || d.RotationLambdaARN != nil || d.RotationRules != nil {
		t.Fatalf("refused RotateSecret stored configuration: %+v", d)
	}
	wantLabels(t, sm, "refuse", map[string][]string{token(1): {"AWSCURRENT"}})
	srv.SetFunction(fnARN, rotator(sm, nil))
	for name, rules := range map[string]*smtypes.RotationRulesType{
		"too often":   {ScheduleExpression: aws.String("rate(2 hours)")},
		"both":        {ScheduleExpression: aws.String("rate(2 days)"), AutomaticallyAfterDays: aws.Int64(2)},
		"bad cron":    {ScheduleExpression: aws.String("cron(5 4 * * ? *)")},
		"bad window":  {ScheduleExpression: aws.String("rate(2 days)"), Duration: aws.String("90m")},
		"days > 1000": {AutomaticallyAfterDays: aws.Int64(1001)},
	} {
		_, err := sm.RotateSecret(ctxT(t), &secretsmanager.RotateSecretInput{SecretId: aws.String("refuse"), RotationLambdaARN: aws.String(fnARN), RotationRules: rules})
		if err == nil {
			t.Fatalf("%s: RotateSecret accepted %+v", name, rules)
		}
		wantAPIError(t, err, "InvalidParameterException", "")
	}
	// AWSPENDING on the current version is not an unfinished rotation.
	if _, err := sm.UpdateSecretVersionStage(ctxT(t), &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String("refuse"), VersionStage: aws.String("AWSPENDING"), MoveToVersionId: aws.String(token(1))}); err != nil {
		t.Fatal(err)
	}
	rotate(t, sm, "refuse", token(2), nil)
	if res, _ := srv.WaitRotation(ctxT(t), "refuse"); !res.Succeeded {
		t.Fatalf("rotation = %+v", res)
	}
	wantLabels(t, sm, "refuse", map[string][]string{token(1): {"AWSPREVIOUS"}, token(2): {"AWSCURRENT"}})
}

func TestRotateNotPromotedIsFailure(t *testing.T) {
	t.Parallel()
	srv, sm := setup(t)
	srv.SetFunction(fnARN, awslocal.FuncInvoker(func(ctx context.Context, e events.RotationEvent) error { return nil }))
	create(t, sm, "lazy", "v1")
	rotate(t, sm, "lazy", token(2), nil)
	res, _ := srv.WaitRotation(ctxT(t), "lazy")
	if res.Succeeded || res.Step != events.StepFinishSecret {
		t.Fatalf("result = %+v, want failure at finishSecret", res)
	}
}

func TestRotateImmediatelyFalse(t *testing.T) {
	t.Parallel()
	srv, sm := setup(t)
	var mu sync.Mutex
	var steps []string
	var pendingValue string
	srv.SetFunction(fnARN, awslocal.FuncInvoker(func(ctx context.Context, e events.RotationEvent) error {
		mu.Lock()
		defer mu.Unlock()
		steps = append(steps, e.Step)
		v, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(e.SecretID), VersionStage: aws.String("AWSPENDING")})
		if err != nil {
			return err
		}
		pendingValue = aws.ToString(v.SecretString)
		return nil
	}))
	create(t, sm, "later", "v1")
	_, err := sm.RotateSecret(ctxT(t), &secretsmanager.RotateSecretInput{SecretId: aws.String("later"), RotationLambdaARN: aws.String(fnARN),
		RotateImmediately: aws.Bool(false), RotationRules: &smtypes.RotationRulesType{ScheduleExpression: aws.String("rate(10 days)")}})
	if err != nil {
		t.Fatal(err)
	}
	res, _ := srv.WaitRotation(ctxT(t), "later")
	if !res.Succeeded || !res.CheckOnly {
		t.Fatalf("result = %+v", res)
	}
	if !slices.Equal(steps, []string{"testSecret"}) || pendingValue != "v1" {
		t.Fatalf("steps = %v, pending value matched current: %v", steps, pendingValue == "v1")
	}
	wantLabels(t, sm, "later", map[string][]string{token(1): {"AWSCURRENT"}})
	if n := len(srv.Versions("later")); n != 1 {
		t.Fatalf("%d versions after the check, want the temporary one removed", n)
	}
	d, _ := sm.DescribeSecret(ctxT(t), &secretsmanager.DescribeSecretInput{SecretId: aws.String("later")})
	if !aws.ToBool(d.RotationEnabled) || d.LastRotatedDate != nil || aws.ToString(d.RotationRules.ScheduleExpression) != "rate(10 days)" {
		t.Fatalf("DescribeSecret = %+v", d)
	}
}

func TestSchedules(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		rules       smtypes.RotationRulesType
		start       time.Time
		quiet, fire time.Duration // advance by quiet: no rotation; then by fire: one rotation
	}{
		"AutomaticallyAfterDays": {smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(7)}, time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC), 6 * 24 * time.Hour, 14 * time.Hour},
		"rate days":              {smtypes.RotationRulesType{ScheduleExpression: aws.String("rate(2 days)")}, time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC), 37 * time.Hour, time.Hour},
		"rate hours":             {smtypes.RotationRulesType{ScheduleExpression: aws.String("rate(6 hours)"), Duration: aws.String("2h")}, time.Date(2025, 3, 1, 10, 30, 0, 0, time.UTC), time.Hour, time.Hour}, // windows at 00, 06, 12, 18
		"cron":                   {smtypes.RotationRulesType{ScheduleExpression: aws.String("cron(0 16 ? * MON *)")}, time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC), 53 * time.Hour, 3 * time.Hour},              // Sat 10:00 → Mon 16:00
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			clock := awslocal.NewFakeClock(tc.start)
			srv, cfg := awslocaltest.NewWith(t, awslocal.Options{Clock: clock})
			sm := secretsmanager.NewFromConfig(cfg)
			srv.SetFunction(fnARN, rotator(sm, nil))
			create(t, sm, "sched", "v1")
			_, err := sm.RotateSecret(ctxT(t), &secretsmanager.RotateSecretInput{SecretId: aws.String("sched"), RotationLambdaARN: aws.String(fnARN), RotateImmediately: aws.Bool(false), RotationRules: &tc.rules})
			if err != nil {
				t.Fatal(err)
			}
			if err := srv.WaitRotations(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			if got := srv.Advance(tc.quiet); len(got) != 0 {
				t.Fatalf("rotation started %v after %v", got, tc.quiet)
			}
			if got := srv.Advance(tc.fire); len(got) != 1 {
				t.Fatalf("rotations started after another %v: %v, want 1", tc.fire, got)
			}
			res, _ := srv.WaitRotation(ctxT(t), "sched")
			if !res.Succeeded || !res.Scheduled {
				t.Fatalf("scheduled rotation = %+v", res)
			}
			if got := srv.Tick(); len(got) != 0 {
				t.Fatalf("second Tick started %v", got)
			}
		})
	}
}

func TestManualChangeCountsAsRotation(t *testing.T) {
	t.Parallel()
	srv, sm := setup(t)
	srv.SetFunction(fnARN, rotator(sm, nil))
	create(t, sm, "manual", "v1")
	_, err := sm.RotateSecret(ctxT(t), &secretsmanager.RotateSecretInput{SecretId: aws.String("manual"), RotationLambdaARN: aws.String(fnARN), RotateImmediately: aws.Bool(false),
		RotationRules: &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(3)}})
	if err != nil {
		t.Fatal(err)
	}
	_ = srv.WaitRotations(ctxT(t))
	srv.Advance(2 * 24 * time.Hour)
	put(t, sm, "manual", token(5), "v2")
	if got := srv.Advance(2 * 24 * time.Hour); len(got) != 0 {
		t.Fatalf("rotation started although the value changed 2 days ago: %v", got)
	}
	if got := srv.Advance(2 * 24 * time.Hour); len(got) != 1 {
		t.Fatalf("rotations started = %v, want 1", got)
	}
	_ = srv.WaitRotations(ctxT(t))
}
