package ops_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/local/awslocal"
	"github.com/rotorhq/rotor/internal/local/dbtest"
	"github.com/rotorhq/rotor/internal/ops"
	"github.com/rotorhq/rotor/internal/ops/opstest"
	"github.com/rotorhq/rotor/rotation"
	"github.com/rotorhq/rotor/strategies"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// fast are options that poll every few milliseconds.
func fast(e *opstest.Env, wait bool) ops.RotateNowOptions {
	return ops.RotateNowOptions{Secrets: e.SM, Wait: wait, Timeout: time.Minute, PollInterval: 5 * time.Millisecond, MaxPollInterval: 20 * time.Millisecond, StartJitter: -1, WritesPerSecond: events.WriteQuotaPerSecond, FailureGrace: 20 * time.Millisecond}
}

// singleUser is a healthy single-user secret with rotation configured.
func singleUser(t *testing.T, e *opstest.Env) (arn string, doc map[string]any) {
	t.Helper()
	user := e.Role("su", "first-password-1")
	doc = e.Doc(user, "first-password-1")
	arn = e.Secret(doc, nil)
	e.EnableRotation(arn)
	return arn, doc
}

// alternating is an alternating-users secret whose admin secret holds
// adminPassword (the admin's real one is "admin-password-1").
func alternating(t *testing.T, e *opstest.Env, adminPassword string, adminAttrs ...string) (arn string, doc map[string]any) {
	t.Helper()
	if adminAttrs == nil {
		adminAttrs = []string{"CREATEROLE"}
	}
	admin := e.Role("adm", "admin-password-1", adminAttrs...)
	adminARN := e.AdminSecret(e.Doc(admin, adminPassword))
	user := e.Role("au", "app-password-1")
	doc = e.Doc(user, "app-password-1")
	doc["masterarn"] = adminARN
	arn = e.Secret(doc, map[string]string{rotation.TagStrategy: strategies.NameAlternatingUsers})
	e.EnableRotation(arn)
	return arn, doc
}

func TestRotateNowSucceeds(t *testing.T) {
	t.Parallel()
	e := opstest.New(t)
	arn, doc := singleUser(t, e)
	e.Srv.ResetStats()
	var requested, done, untagged int
	opts := fast(e, true)
	opts.Progress = func(p ops.Progress) {
		switch p.Kind {
		case ops.ProgressRequested:
			requested++
		case ops.ProgressDone:
			done++
		case ops.ProgressNoOutcomeTags:
			untagged++
		}
	}
	res := ops.RotateNow(context.Background(), opts, []string{arn})
	if len(res) != 1 || res[0].Status != events.StatusSucceeded || res[0].VersionID == "" || res[0].ARN != arn {
		t.Fatalf("results %+v", res)
	}
	if !slices.Contains(e.Stages(arn)[res[0].VersionID], rotation.LabelCurrent) {
		t.Fatalf("version %s is not AWSCURRENT: %v", res[0].VersionID, e.Stages(arn))
	}
	if err := e.CanLogin(e.Value(arn, rotation.LabelCurrent)); err != nil {
		t.Fatalf("new password does not log in: %v", err)
	}
	if err := e.CanLogin(doc); err == nil {
		t.Fatal("old password still logs in after a single-user rotation")
	}
	if n := e.Srv.Stats()["RotateSecret"]; n != 1 || requested != 1 || done != 1 {
		t.Fatalf("RotateSecret calls %d, requested %d, done %d; want 1 each", n, requested, done)
	}
	// The secret had never finished a rotation, so it carried no outcome
	// tag and the caller was told how the wait would be judged; now it has
	// one, and the next rotation says nothing of it.
	if untagged != 1 {
		t.Fatalf("%d no-outcome-tags notices before the first rotation, want 1", untagged)
	}
	if res := ops.RotateNow(context.Background(), opts, []string{arn}); res[0].Status != events.StatusSucceeded || untagged != 1 {
		t.Fatalf("second rotation %+v, notices %d; want succeeded and no new notice", res[0], untagged)
	}
}

func TestRotateNowReportsTheFailedStep(t *testing.T) {
	t.Parallel()
	e := opstest.New(t)
	arn, _ := alternating(t, e, "wrong-admin-password")
	res := ops.RotateNow(context.Background(), fast(e, true), []string{arn})
	r := res[0]
	if r.Status != events.StatusFailed || r.FailedStep != string(events.StepSetSecret) || !strings.Contains(r.Reason, "admin login") || r.VersionID == "" {
		t.Fatalf("result %+v, want failed at setSecret with the admin login named", r)
	}
	if strings.Contains(r.Reason, "wrong-admin-password") {
		t.Fatal("the reason quotes the admin password")
	}
}

func TestRotateNowWithoutWaitStarts(t *testing.T) {
	t.Parallel()
	e := opstest.New(t)
	arn, _ := singleUser(t, e)
	res := ops.RotateNow(context.Background(), fast(e, false), []string{arn})
	if res[0].Status != events.StatusStarted || res[0].VersionID == "" {
		t.Fatalf("result %+v", res[0])
	}
	if r := e.Wait(arn); !r.Succeeded || r.VersionID != res[0].VersionID {
		t.Fatalf("rotation %+v, want version %s to succeed", r, res[0].VersionID)
	}
}

func TestRotateNowRefuses(t *testing.T) {
	t.Parallel()
	e := opstest.New(t)
	healthy, _ := singleUser(t, e)
	user := e.Role("nr", "pw-norot-1")
	noRotation := e.Secret(e.Doc(user, "pw-norot-1"), nil)
	unfinished, udoc := singleUser(t, e)
	stranded := e.StrandPending(unfinished, udoc)
	e.Srv.ResetStats()

	ids := []string{"no-such-secret", noRotation, unfinished, "", healthy, healthy}
	res := ops.RotateNow(context.Background(), fast(e, true), ids)
	want := []struct {
		status events.RotateNowStatus
		reason []string
	}{
		{events.StatusRefused, []string{"not found"}},
		{events.StatusRefused, []string{"rotation is not configured"}},
		{events.StatusRefused, []string{"unfinished", stranded, "update-secret-version-stage", "--remove-from-version-id " + stranded}},
		{events.StatusRefused, []string{"empty secret id"}},
		{events.StatusSucceeded, nil},
		{events.StatusRefused, []string{"named twice"}},
	}
	for i, w := range want {
		if res[i].SecretID != ids[i] || res[i].Status != w.status {
			t.Errorf("result %d = %+v, want status %s", i, res[i], w.status)
		}
		for _, s := range w.reason {
			if !strings.Contains(res[i].Reason, s) {
				t.Errorf("result %d reason %q does not contain %q", i, res[i].Reason, s)
			}
		}
	}
	if n := e.Srv.Stats()["RotateSecret"]; n != 1 {
		t.Fatalf("RotateSecret calls %d, want 1 (refused secrets are never rotated)", n)
	}
}

// blocked registers a rotation function that never finishes a step until
// the test ends, and a secret rotated by it.
func blocked(t *testing.T, e *opstest.Env) string {
	t.Helper()
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	fn := e.Srv.FunctionARN("blocked")
	e.Srv.SetFunction(fn, awslocal.FuncInvoker(func(ctx context.Context, ev events.RotationEvent) error {
		if ev.Step == string(events.StepTestSecret) && strings.HasPrefix(ev.ClientRequestToken, "check-") {
			return nil
		}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return errors.New("released")
	}))
	user := e.Role("bl", "pw-blocked-1")
	arn := e.Secret(e.Doc(user, "pw-blocked-1"), nil)
	_, err := e.SM.RotateSecret(context.Background(), &secretsmanager.RotateSecretInput{
		SecretId: aws.String(arn), RotationLambdaARN: aws.String(fn), RotateImmediately: aws.Bool(false),
		ClientRequestToken: aws.String("check-" + strings.Repeat("0", 32)),
	})
	if err != nil {
		t.Fatal(err)
	}
	e.Wait(arn)
	return arn
}

// The deadline is the test's to choose: the context ends once a poll has
// seen the rotation running, so the rotation was certainly requested and
// no wall-clock budget can be missed under load.
func TestRotateNowTimesOut(t *testing.T) {
	t.Parallel()
	e := opstest.New(t)
	arn := blocked(t, e)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := fast(e, true)
	var waiting atomic.Int32
	opts.Progress = func(p ops.Progress) {
		if p.Kind == ops.ProgressWaiting && waiting.Add(1) == 1 {
			cancel()
		}
	}
	res := ops.RotateNow(ctx, opts, []string{arn})
	r := res[0]
	if r.Status != events.StatusTimedOut || r.VersionID == "" || !strings.Contains(r.Reason, "may still be running") ||
		!strings.Contains(r.Reason, "recorded nothing") || !strings.Contains(r.Reason, "function's logs") {
		t.Fatalf("result %+v, want timed_out with the version and the advice to read the function's logs", r)
	}
	if n := waiting.Load(); n != 1 {
		t.Fatalf("%d waiting polls, want 1 (the context ended after the first)", n)
	}
}

// retryHook fails the first setSecret, and lets the retry's setSecret run
// only once the follower has seen the failure, so the test knows the
// failure was observed before the success.
func retryHook(t *testing.T, seen <-chan struct{}) (opstest.StepHook, *atomic.Int32) {
	var calls atomic.Int32
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	return func(ctx context.Context, step events.Step) error {
		if step != events.StepSetSecret {
			return nil
		}
		if calls.Add(1) == 1 {
			return errors.New("injected transient failure")
		}
		select {
		case <-seen:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-stop:
			return errors.New("test ended")
		}
	}, &calls
}

func TestRotateNowSucceedsAfterARetry(t *testing.T) {
	t.Parallel()
	e := opstest.New(t)
	arn, _ := singleUser(t, e)
	seen := make(chan struct{})
	hook, calls := retryHook(t, seen)
	e.HookSteps(hook)
	opts := fast(e, true)
	opts.FailureGrace = time.Hour // only the retry's success may end it
	var failedAttempts atomic.Int32
	opts.Progress = func(p ops.Progress) {
		if p.Kind == ops.ProgressAttemptFailed {
			if failedAttempts.Add(1) == 1 {
				if p.Step != string(events.StepSetSecret) || !strings.Contains(p.Reason, "injected transient failure") {
					t.Errorf("attempt-failed progress %+v", p)
				}
				close(seen)
			}
		}
	}
	res := ops.RotateNow(context.Background(), opts, []string{arn})
	r := res[0]
	if r.Status != events.StatusSucceeded || r.FailedStep != "" || !strings.Contains(r.Reason, "retried") || !strings.Contains(r.Reason, "setSecret") || !strings.Contains(r.Reason, "injected transient failure") {
		t.Fatalf("result %+v, want succeeded noting the retried setSecret failure", r)
	}
	if n := failedAttempts.Load(); n != 1 {
		t.Fatalf("%d attempt-failed progress events, want 1", n)
	}
	if run := e.Wait(arn); !run.Succeeded || run.Attempts != 2 || calls.Load() != 2 {
		t.Fatalf("rotation %+v after %d setSecret calls, want success on the second attempt", run, calls.Load())
	}
	if err := e.CanLogin(e.Value(arn, rotation.LabelCurrent)); err != nil {
		t.Fatalf("AWSCURRENT does not log in: %v", err)
	}
}

func alwaysFailSetSecret(_ context.Context, step events.Step) error {
	if step == events.StepSetSecret {
		return errors.New("injected permanent failure")
	}
	return nil
}

func TestRotateNowFailsWhenTheGraceEnds(t *testing.T) {
	t.Parallel()
	e := opstest.New(t)
	arn, doc := singleUser(t, e)
	e.HookSteps(alwaysFailSetSecret)
	opts := fast(e, true)
	var failedAttempts atomic.Int32
	opts.Progress = func(p ops.Progress) {
		if p.Kind == ops.ProgressAttemptFailed {
			failedAttempts.Add(1)
		}
	}
	res := ops.RotateNow(context.Background(), opts, []string{arn})
	r := res[0]
	if r.Status != events.StatusFailed || r.FailedStep != string(events.StepSetSecret) || !strings.Contains(r.Reason, "injected permanent failure") || !strings.Contains(r.Reason, "no successful retry") {
		t.Fatalf("result %+v, want failed at setSecret after the grace", r)
	}
	if n := failedAttempts.Load(); n != 1 {
		t.Fatalf("%d attempt-failed progress events, want 1", n)
	}
	if run := e.Wait(arn); run.Succeeded {
		t.Fatalf("rotation %+v succeeded", run)
	}
	if err := e.CanLogin(doc); err != nil {
		t.Fatalf("a failed setSecret changed the password: %v", err)
	}
}

// A deadline inside the grace reports the recorded failure, saying the
// service may still retry.
func TestRotateNowDeadlineWithinTheGrace(t *testing.T) {
	t.Parallel()
	e := opstest.New(t)
	arn, _ := singleUser(t, e)
	e.HookSteps(alwaysFailSetSecret)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := fast(e, true)
	opts.FailureGrace = time.Hour
	opts.Progress = func(p ops.Progress) {
		if p.Kind == ops.ProgressAttemptFailed {
			cancel()
		}
	}
	res := ops.RotateNow(ctx, opts, []string{arn})
	if r := res[0]; r.Status != events.StatusFailed || r.FailedStep != string(events.StepSetSecret) || !strings.Contains(r.Reason, "may still retry") {
		t.Fatalf("result %+v, want failed at setSecret, within the grace", r)
	}
	e.Wait(arn)
}

func TestRotateNowDetectsAnAbandonedRotation(t *testing.T) {
	t.Parallel()
	e := opstest.New(t)
	arn := blocked(t, e)
	token := ops.NewToken()
	opts := fast(e, true)
	opts.NewToken = func() string { return token }
	opts.Progress = func(p ops.Progress) {
		if p.Kind == ops.ProgressRequested {
			// An operator clears the pending label while the rotation runs.
			_, err := e.SM.UpdateSecretVersionStage(context.Background(), &secretsmanager.UpdateSecretVersionStageInput{
				SecretId: aws.String(arn), VersionStage: aws.String(rotation.LabelPending), RemoveFromVersionId: aws.String(token),
			})
			if err != nil {
				t.Errorf("remove AWSPENDING: %v", err)
			}
		}
	}
	res := ops.RotateNow(context.Background(), opts, []string{arn})
	if r := res[0]; r.Status != events.StatusFailed || r.VersionID != token || !strings.Contains(r.Reason, "abandoned") {
		t.Fatalf("result %+v, want failed (abandoned)", r)
	}
}

func TestRotateNowFunction(t *testing.T) {
	t.Parallel()
	e := opstest.New(t)
	good, _ := singleUser(t, e)
	bad, _ := alternating(t, e, "wrong-admin-password")
	defaults := fast(e, false)
	fn := &ops.RotateNowFunction{Defaults: defaults}

	t.Run("failure is an error listing the secret", func(t *testing.T) {
		payload, _ := json.Marshal(events.RotateNowRequest{SecretIDs: []string{good, bad}, Wait: true})
		resp, err := fn.Handle(context.Background(), payload)
		var rnErr *ops.RotateNowError
		if !errors.As(err, &rnErr) || rnErr.ErrorType() != "RotateNowFailed" {
			t.Fatalf("err %v, want a *RotateNowError", err)
		}
		if resp.Counts[events.StatusSucceeded] != 1 || resp.Counts[events.StatusFailed] != 1 {
			t.Fatalf("counts %v", resp.Counts)
		}
		msg := err.Error()
		if !strings.Contains(msg, bad) || !strings.Contains(msg, "setSecret") || !strings.Contains(msg, "admin login") || strings.Contains(msg, good+": succeeded") {
			t.Fatalf("error message does not name the failed secret, step and reason (only):\n%s", msg)
		}
	})
	t.Run("filters", func(t *testing.T) {
		tag := dbtest.UniqueName("fleet")
		user := e.Role("fl", "pw-fleet-1")
		tagged := e.Secret(e.Doc(user, "pw-fleet-1"), map[string]string{tag: "yes"})
		e.EnableRotation(tagged)
		payload, _ := json.Marshal(events.RotateNowRequest{Filters: []events.SecretFilter{{Key: "tag-key", Values: []string{tag}}}})
		resp, err := fn.Handle(context.Background(), payload)
		if err != nil {
			t.Fatalf("without wait a started rotation is a success: %v", err)
		}
		if len(resp.Results) != 1 || resp.Results[0].SecretID != tagged || resp.Results[0].Status != events.StatusStarted {
			t.Fatalf("results %+v, want the one tagged secret started", resp.Results)
		}
		if r := e.Wait(tagged); !r.Succeeded {
			t.Fatalf("rotation %+v", r)
		}
	})
	t.Run("malformed request", func(t *testing.T) {
		_, err := fn.Handle(context.Background(), json.RawMessage(`{"secretIds":[],"wait":true}`))
		if err == nil || !strings.Contains(err.Error(), "secretIds") {
			t.Fatalf("err %v, want one naming secretIds", err)
		}
	})
}

func TestLoadRotateNowDefaults(t *testing.T) {
	t.Parallel()
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	o, err := ops.LoadRotateNowDefaults(env(map[string]string{"ROTATE_NOW_CONCURRENCY": "4", "ROTATE_NOW_TIMEOUT_SECONDS": "120"}))
	if err != nil || o.Concurrency != 4 || o.Timeout != 2*time.Minute {
		t.Fatalf("got %+v, %v", o, err)
	}
	if o, err := ops.LoadRotateNowDefaults(env(map[string]string{"ROTATE_NOW_WRITES_PER_SECOND": "25"})); err != nil || o.WritesPerSecond != 25 {
		t.Fatalf("write budget: got %+v, %v", o, err)
	}
	for _, bad := range []map[string]string{{"ROTATE_NOW_CONCURRENCY": "0"}, {"ROTATE_NOW_TIMEOUT_SECONDS": "901"}, {"ROTATE_NOW_TIMEOUT_SECONDS": "5m"},
		{"ROTATE_NOW_WRITES_PER_SECOND": "1"}, {"ROTATE_NOW_WRITES_PER_SECOND": "51"}, {"ROTATE_NOW_WRITES_PER_SECOND": "fast"}, {"ROTATE_NOW_WRITES_PER_SECOND": "NaN"}} {
		if _, err := ops.LoadRotateNowDefaults(env(bad)); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
