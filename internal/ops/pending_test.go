package ops_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/ops"
	"github.com/rotorhq/rotor/internal/ops/opstest"
	"github.com/rotorhq/rotor/rotation"
	"github.com/rotorhq/rotor/strategies"
	"github.com/rotorhq/rotor/strategies/builtin"
)

// failTestSecret makes every testSecret fail, after setSecret succeeded.
func failTestSecret(_ context.Context, step events.Step) error {
	if step == events.StepTestSecret {
		return errors.New("injected testSecret failure")
	}
	return nil
}

// strandAfterSetSecret runs a real single-user rotation whose testSecret
// fails on every attempt: the database keeps the pending password and
// AWSPENDING stays on the rotation's version. It returns the pending and
// current versions.
func strandAfterSetSecret(t *testing.T, e *opstest.Env, arn string) (pending, current string) {
	t.Helper()
	current = versionWith(e.Stages(arn), rotation.LabelCurrent)
	e.HookSteps(failTestSecret)
	defer e.HookSteps(nil)
	if _, err := e.SM.RotateSecret(context.Background(), &secretsmanager.RotateSecretInput{SecretId: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	r := e.Wait(arn)
	if r.Succeeded || r.Step != events.StepTestSecret {
		t.Fatalf("rotation %+v, want a failure at testSecret", r)
	}
	return r.VersionID, current
}

func versionWith(stages map[string][]string, label string) string {
	for id, st := range stages {
		if slices.Contains(st, label) {
			return id
		}
	}
	return ""
}

// A single-user rotation that stopped after setSecret leaves the only
// working password on the pending version: rotor must advise completing
// the rotation, never clearing AWSPENDING, and following that advice must
// leave a working AWSCURRENT that rotates again.
func TestUnfinishedSingleUserAfterSetSecret(t *testing.T) {
	t.Parallel()
	e := opstest.New(t)
	arn, first := singleUser(t, e)
	pending, current := strandAfterSetSecret(t, e, arn)
	if err := e.CanLogin(first); err == nil {
		t.Fatal("AWSCURRENT's password still logs in: setSecret did not run")
	}
	finish := ops.FinishPendingCommand(arn, pending, current)
	clear := ops.ClearPendingCommand(arn, pending)
	if !strings.Contains(finish, "--version-stage AWSCURRENT --move-to-version-id "+pending+" --remove-from-version-id "+current) {
		t.Fatalf("finish command %q", finish)
	}

	// Without database access: a warning and a pointer to rotor check, no
	// command to run blindly.
	st, err := ops.GetStatus(context.Background(), e.SM, arn)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.LeftBehind) != 1 {
		t.Fatalf("left behind %+v", st.LeftBehind)
	}
	l := st.LeftBehind[0]
	if l.Verdict != ops.PendingUnchecked || l.Fix != "" || l.Current != nil || !strings.Contains(l.Advice, "rotor check "+arn) || !strings.Contains(l.Advice, "single-user") {
		t.Fatalf("unchecked leftover %+v", l)
	}
	res := ops.RotateNow(context.Background(), fast(e, true), []string{arn})
	if r := res[0]; r.Status != events.StatusRefused || !strings.Contains(r.Reason, "rotor check "+arn) || !strings.Contains(r.Reason, "single-user") {
		t.Fatalf("rotate-now refusal %+v, want the warning and rotor check", r)
	}

	// With database access: complete the rotation.
	ops.CheckLeftovers(context.Background(), e.SM, e.DBOptions, &st)
	l = st.LeftBehind[0]
	if l.Verdict != ops.PendingFinish || l.Fix != finish || l.Current.State != ops.LoginRefused || l.Pending.State != ops.LoginOK || strings.Contains(l.Advice, clear) {
		t.Fatalf("checked leftover %+v, want verdict finish with %q", l, finish)
	}
	got := checks(t, e, ops.CheckOptions{}, arn)
	wantChecks(t, got, map[string]ops.CheckStatus{ops.CheckUnfinished: ops.CheckFail, ops.CheckCurrentLogin: ops.CheckFail})
	if h := got[ops.CheckUnfinished].Hint; !strings.Contains(h, finish) || strings.Contains(h, clear) {
		t.Fatalf("unfinished-rotation hint %q, want the finish command only", h)
	}
	if h := got[ops.CheckCurrentLogin].Hint; !strings.Contains(h, finish) || strings.Contains(h, "rollback") {
		t.Fatalf("current-login hint %q, want the finish command", h)
	}
	for _, c := range got {
		if strings.Contains(c.Detail+c.Hint, fmt.Sprint(first["password"])) {
			t.Fatalf("check %s quotes a password", c.Name)
		}
	}

	// Following the advice: AWSCURRENT logs in, and the next rotation
	// starts and succeeds.
	fin, err := ops.Finish(context.Background(), ops.FinishOptions{Secrets: e.SM, DB: e.DBOptions}, arn)
	if err != nil || fin.ToVersion != pending || fin.FromVersion != current {
		t.Fatalf("finish: %+v, %v", fin, err)
	}
	if st := e.Stages(arn); !slices.Equal(st[pending], []string{rotation.LabelCurrent}) || !slices.Contains(st[current], rotation.LabelPrevious) || fin.PendingLabelLeft {
		t.Fatalf("labels after finish: %v (pending label left: %v); want the completed version to carry AWSCURRENT only", st, fin.PendingLabelLeft)
	}
	if err := e.CanLogin(e.Value(arn, rotation.LabelCurrent)); err != nil {
		t.Fatalf("AWSCURRENT does not log in after completing the rotation: %v", err)
	}
	wantChecks(t, checks(t, e, ops.CheckOptions{}, arn), map[string]ops.CheckStatus{ops.CheckUnfinished: ops.CheckPass, ops.CheckCurrentLogin: ops.CheckPass})
	res = ops.RotateNow(context.Background(), fast(e, true), []string{arn})
	if res[0].Status != events.StatusSucceeded {
		t.Fatalf("rotation after completing: %+v", res[0])
	}
	if err := e.CanLogin(e.Value(arn, rotation.LabelCurrent)); err != nil {
		t.Fatalf("AWSCURRENT does not log in after the next rotation: %v", err)
	}
}

func TestUnfinishedRotationVerdicts(t *testing.T) {
	t.Parallel()
	e := opstest.New(t)

	t.Run("current logs in: clear", func(t *testing.T) {
		arn, doc := singleUser(t, e)
		never := maps(doc, "password", "never-set-password-1")
		pending := e.StrandPending(arn, never)
		current := versionWith(e.Stages(arn), rotation.LabelCurrent)
		pc := ops.CheckPending(context.Background(), e.SM, e.DBOptions, arn, current, pending)
		if pc.Verdict != ops.PendingClear || pc.Fix != ops.ClearPendingCommand(arn, pending) || pc.Current.State != ops.LoginOK || pc.Pending.State != ops.LoginRefused {
			t.Fatalf("%+v", pc)
		}
		// rotor finish refuses: AWSCURRENT works, nothing to complete.
		before := fmt.Sprint(e.Stages(arn))
		if _, err := ops.Finish(context.Background(), ops.FinishOptions{Secrets: e.SM, DB: e.DBOptions}, arn); !isRefused(err) || !strings.Contains(err.Error(), "clear") {
			t.Fatalf("finish with verdict clear: %v, want a refusal with the clear advice", err)
		}
		if after := fmt.Sprint(e.Stages(arn)); after != before {
			t.Fatalf("a refused finish moved labels: %s -> %s", before, after)
		}
		// Following it: the label goes, the next rotation succeeds.
		_, err := e.SM.UpdateSecretVersionStage(context.Background(), &secretsmanager.UpdateSecretVersionStageInput{
			SecretId: aws.String(arn), VersionStage: aws.String(rotation.LabelPending), RemoveFromVersionId: aws.String(pending),
		})
		if err != nil {
			t.Fatal(err)
		}
		if r := ops.RotateNow(context.Background(), fast(e, true), []string{arn}); r[0].Status != events.StatusSucceeded {
			t.Fatalf("rotation after clearing: %+v", r[0])
		}
	})
	t.Run("alternating after setSecret: clear", func(t *testing.T) {
		arn, _ := alternating(t, e, "admin-password-1")
		pending, current := strandAfterSetSecret(t, e, arn)
		pc := ops.CheckPending(context.Background(), e.SM, e.DBOptions, arn, current, pending)
		if pc.Verdict != ops.PendingClear || pc.Current.State != ops.LoginOK || pc.Pending.State != ops.LoginOK {
			t.Fatalf("%+v", pc)
		}
	})
	t.Run("neither logs in", func(t *testing.T) {
		arn, doc := singleUser(t, e)
		pending := e.StrandPending(arn, maps(doc, "password", "never-set-password-2"))
		current := versionWith(e.Stages(arn), rotation.LabelCurrent)
		if _, err := e.PG.Admin(t).Exec(context.Background(), fmt.Sprintf(`ALTER ROLE %q PASSWORD NULL`, doc["username"])); err != nil {
			t.Fatal(err)
		}
		pc := ops.CheckPending(context.Background(), e.SM, e.DBOptions, arn, current, pending)
		if pc.Verdict != ops.PendingNeither || pc.Fix != "" || !strings.Contains(pc.Advice, "neither") {
			t.Fatalf("%+v", pc)
		}
	})
	t.Run("database unreachable: unknown", func(t *testing.T) {
		arn, doc := singleUser(t, e)
		pending := e.StrandPending(arn, doc)
		current := versionWith(e.Stages(arn), rotation.LabelCurrent)
		// The system roots do not verify the test server's certificate.
		pc := ops.CheckPending(context.Background(), e.SM, strategies.Options{Engines: builtin.Engines()}, arn, current, pending)
		if pc.Verdict != ops.PendingUnknown || pc.Fix != "" || pc.Current.State != ops.LoginUnknown {
			t.Fatalf("%+v", pc)
		}
	})
}

// maps returns a copy of doc with key set to value.
func maps(doc map[string]any, key string, value any) map[string]any {
	out := make(map[string]any, len(doc))
	for k, v := range doc {
		out[k] = v
	}
	out[key] = value
	return out
}
