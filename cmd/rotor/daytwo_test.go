package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/local/dbtest"
	"github.com/rotorhq/rotor/internal/ops"
	"github.com/rotorhq/rotor/internal/ops/opstest"
	"github.com/rotorhq/rotor/rotation"
	"github.com/rotorhq/rotor/strategies"
)

type world struct {
	*opstest.Env
	caFile string
}

// newWorld builds the test's world. When the test ends (and passed), it
// runs `rotor status --check-db` on every secret in text and JSON and hands
// everything the CLI printed during the test to opstest's leak sweep.
func newWorld(t *testing.T) *world {
	w := &world{Env: opstest.New(t), caFile: dbtest.Postgres(t).CAFile}
	t.Cleanup(func() {
		if t.Failed() {
			return
		}
		w.Srv.ClearFaults()
		out, err := w.SM.ListSecrets(context.Background(), &secretsmanager.ListSecretsInput{})
		if err != nil {
			t.Errorf("leak sweep: list secrets: %v", err)
			return
		}
		for _, sec := range out.SecretList {
			for _, format := range []string{"text", "json"} {
				cli(t, w.db("status", aws.ToString(sec.ARN), "--check-db", "--output", format)...)
			}
		}
		for name, text := range cliOutputs.of(t.Name()) {
			w.AddLeakOutput(name, text)
		}
	})
	return w
}

// aws are the flags that point a command at the test's stand-in.
func (w *world) aws(args ...string) []string {
	return append(args, "--endpoint-url", w.Srv.URL(), "--region", w.Srv.Region())
}

// db adds the database flags: verify-full against the test server's CA.
func (w *world) db(args ...string) []string {
	return append(w.aws(args...), "--db-tls", "verify-full", "--db-ca-bundle", w.caFile)
}

// check is "rotor check" with the world's database flags and the admin
// secrets its rotator may use.
func (w *world) check(args ...string) []string {
	return w.db(append([]string{"check", "--admin-secret-arns", strings.Join(w.AdminARNs, ",")}, args...)...)
}

func (w *world) singleUser(t *testing.T) (string, map[string]any) {
	t.Helper()
	user := w.Role("cs", "first-password-1")
	doc := w.Doc(user, "first-password-1")
	arn := w.Secret(doc, nil)
	w.EnableRotation(arn)
	return arn, doc
}

func (w *world) alternating(t *testing.T, adminPassword string, adminAttrs ...string) string {
	t.Helper()
	admin := w.Role("ca", "admin-password-1", adminAttrs...)
	user := w.Role("cu", "app-password-1")
	doc := w.Doc(user, "app-password-1")
	doc["masterarn"] = w.AdminSecret(w.Doc(admin, adminPassword))
	arn := w.Secret(doc, map[string]string{rotation.TagStrategy: strategies.NameAlternatingUsers})
	w.EnableRotation(arn)
	return arn
}

func TestRotateWaitSucceeds(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	arn, doc := w.singleUser(t)
	code, out, errOut := cli(t, w.aws("rotate", arn, "--wait", "--poll-interval", "5ms")...)
	if code != 0 || !strings.Contains(out, arn+": succeeded") || !strings.Contains(out, "1 succeeded") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "rotation requested") {
		t.Errorf("no progress line on stderr:\n%s", errOut)
	}
	if strings.Contains(out+errOut, fmt.Sprint(doc["password"])) || strings.Contains(out+errOut, fmt.Sprint(w.Value(arn, rotation.LabelCurrent)["password"])) {
		t.Fatal("a password was printed")
	}

	// On a terminal the progress is one line redrawn in place, erased
	// before the results; the outcome stays as a line of its own.
	var termOut, termErr bytes.Buffer
	onTerminal := &streams{stdout: &termOut, stderr: &termErr, isTerminal: func(w io.Writer) bool { return w == &termErr }}
	code = runCLI(context.Background(), onTerminal, w.aws("rotate", arn, "--wait", "--poll-interval", "5ms"))
	w.AddLeakOutput("rotate --wait on a terminal, stdout", termOut.String())
	w.AddLeakOutput("rotate --wait on a terminal, stderr", termErr.String())
	progress := termErr.String()
	if code != 0 || !strings.Contains(termOut.String(), arn+": succeeded") || !strings.HasPrefix(progress, "\rrotating ") ||
		!strings.Contains(progress, "\r\x1b[K"+arn+": succeeded\n") || !strings.HasSuffix(progress, "\r\x1b[K") || strings.Contains(progress, "rotation requested (version") {
		t.Fatalf("on a terminal: exit %d\nstdout:\n%s\nstderr:\n%q", code, termOut.String(), progress)
	}
}

func TestRotateWaitReportsSetSecretFailure(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	arn := w.alternating(t, "wrong-admin-password", "CREATEROLE")
	code, out, errOut := cli(t, w.aws("rotate", "--wait", "--poll-interval", "5ms", "--failure-grace", "20ms", arn)...)
	if code != 1 || !strings.Contains(out, arn+": failed at setSecret") || !strings.Contains(out, "admin login") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if n := strings.Count(errOut, "attempt failed at setSecret"); n != 1 {
		t.Fatalf("%d attempt-failed lines on stderr, want 1:\n%s", n, errOut)
	}
	w.Wait(arn)

	// The failed rotation left AWSPENDING behind: status shows the outcome
	// and the command that clears it, and a new rotate is refused.
	code, out, _ = cli(t, w.aws("status", arn)...)
	if code != 0 || !strings.Contains(out, "failed at setSecret") || !strings.Contains(out, "update-secret-version-stage") {
		t.Fatalf("status exit %d:\n%s", code, out)
	}
	code, out, _ = cli(t, w.aws("rotate", arn, "--output", "json")...)
	var resp events.RotateNowResponse
	if err := json.Unmarshal([]byte(out), &resp); err != nil {
		t.Fatalf("rotate --output json: %v\n%s", err, out)
	}
	if code != 1 || resp.Results[0].Status != events.StatusRefused || !strings.Contains(resp.Results[0].Reason, "--remove-from-version-id") {
		t.Fatalf("exit %d, %+v", code, resp)
	}
}

func TestRotateRefusals(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	user := w.Role("nr", "pw-norot-1")
	noRotation := w.Secret(w.Doc(user, "pw-norot-1"), nil)
	w.Srv.ResetStats()
	code, out, errOut := cli(t, w.aws("rotate", "--wait", "--output", "json", "no-such-secret", noRotation)...)
	var resp events.RotateNowResponse
	if err := json.Unmarshal([]byte(out), &resp); err != nil {
		t.Fatalf("%v\n%s\n%s", err, out, errOut)
	}
	if code != 1 || resp.Counts[events.StatusRefused] != 2 || !strings.Contains(resp.Results[1].Reason, "not configured") {
		t.Fatalf("exit %d, %+v", code, resp)
	}
	if n := w.Srv.Stats()["RotateSecret"]; n != 0 {
		t.Fatalf("%d RotateSecret calls for refused secrets", n)
	}
	if code, _, _ := cli(t, "rotate"); code != 2 {
		t.Fatalf("rotate without secrets: exit %d, want 2", code)
	}
	if code, _, _ := cli(t, w.aws("rotate", "x", "--output", "yaml")...); code != 2 {
		t.Fatalf("bad --output: exit %d, want 2", code)
	}
}

func TestRollbackCommand(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	arn, first := w.singleUser(t)

	code, _, errOut := cli(t, w.db("rollback", arn)...)
	if code != 1 || !strings.Contains(errOut, "refused, nothing changed") || !strings.Contains(errOut, "AWSPREVIOUS") {
		t.Fatalf("rollback without AWSPREVIOUS: exit %d\n%s", code, errOut)
	}
	if err := w.CanLogin(first); err != nil {
		t.Fatalf("refused rollback changed the password: %v", err)
	}

	w.Rotate(arn)
	rotated := w.Value(arn, rotation.LabelCurrent)
	code, out, errOut := cli(t, w.db("rollback", arn, "--output", "json")...)
	var res struct {
		ops.RollbackResult
		OK bool `json:"ok"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s\n%s", err, out, errOut)
	}
	if code != 0 || !res.OK || !res.PasswordRestored {
		t.Fatalf("exit %d, %+v\n%s", code, res, errOut)
	}
	if err := w.CanLogin(first); err != nil {
		t.Fatalf("restored password does not log in: %v", err)
	}
	if err := w.CanLogin(rotated); err == nil {
		t.Fatal("rolled-back password still logs in")
	}
}

func TestCheckCommand(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	healthy := w.alternating(t, "admin-password-1", "CREATEROLE")
	weak := w.alternating(t, "admin-password-1", "CREATEDB")

	code, out, errOut := cli(t, w.check(healthy)...)
	if code != 0 || !strings.Contains(out, "preflight passed") || strings.Contains(out, "FAIL") {
		t.Fatalf("healthy: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = cli(t, w.check(weak, "--output", "json")...)
	var res struct {
		OK     bool        `json:"ok"`
		Checks []ops.Check `json:"checks"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	failed := map[string]bool{}
	for _, c := range res.Checks {
		if c.Status == ops.CheckFail {
			failed[c.Name] = true
		}
	}
	if code != 1 || res.OK || len(failed) != 1 || !failed[ops.CheckAdminPrivileges] {
		t.Fatalf("admin without CREATEROLE: exit %d, %+v", code, res)
	}

	if code, _, errOut := cli(t, w.check(healthy, "--previous-user-sessions", "sometimes")...); code != 2 || !strings.Contains(errOut, "want warn or fail") {
		t.Fatalf("bad --previous-user-sessions: exit %d\n%s", code, errOut)
	}

	// Without the CA bundle the server's certificate does not verify.
	code, out, _ = cli(t, w.aws("check", healthy, "--db-tls", "verify-full")...)
	if code != 1 || !strings.Contains(out, "FAIL  connection") || !strings.Contains(out, "DB_CA_BUNDLE") {
		t.Fatalf("unverifiable certificate: exit %d\n%s", code, out)
	}
}

// A single-user rotation that failed after setSecret: status without the
// database warns and points to rotor check; status --check-db and check
// give the command that completes the rotation, never the one that clears
// AWSPENDING.
func TestUnfinishedAfterSetSecretAdvice(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	arn, _ := w.singleUser(t)
	current := ""
	for id, st := range w.Stages(arn) {
		if slices.Contains(st, rotation.LabelCurrent) {
			current = id
		}
	}
	w.HookSteps(func(_ context.Context, step events.Step) error {
		if step == events.StepTestSecret {
			return errors.New("injected testSecret failure")
		}
		return nil
	})
	if _, err := w.SM.RotateSecret(context.Background(), &secretsmanager.RotateSecretInput{SecretId: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	r := w.Wait(arn)
	w.HookSteps(nil)
	if r.Succeeded {
		t.Fatal("the rotation succeeded")
	}
	finish := ops.FinishPendingCommand(arn, r.VersionID, current)
	clear := ops.ClearPendingCommand(arn, r.VersionID)

	code, out, errOut := cli(t, w.aws("status", arn)...)
	if code != 0 || !strings.Contains(out, "rotor check "+arn) || !strings.Contains(out, "single-user") || strings.Contains(out, finish) {
		t.Fatalf("status: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = cli(t, w.db("status", arn, "--check-db")...)
	if code != 0 || !strings.Contains(out, "what to do (finish)") || !strings.Contains(out, finish) || strings.Contains(out, clear) {
		t.Fatalf("status --check-db: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = cli(t, w.check(arn)...)
	if code != 1 || !strings.Contains(out, finish) || strings.Contains(out, clear) {
		t.Fatalf("check: exit %d\n%s\n%s", code, out, errOut)
	}
	// The advice works: rotor finish moves the label (the aws command does
	// the same, as the ops tests show), and AWSCURRENT logs in.
	code, out, errOut = cli(t, w.db("finish", arn)...)
	if code != 0 || !strings.Contains(out, "rotation completed") || !strings.Contains(out, r.VersionID) {
		t.Fatalf("finish: exit %d\n%s\n%s", code, out, errOut)
	}
	code, _, errOut = cli(t, w.db("finish", arn)...)
	if code != 1 || !strings.Contains(errOut, "refused, nothing changed") || !strings.Contains(errOut, "no rotation") {
		t.Fatalf("second finish: exit %d\n%s", code, errOut)
	}
	if err := w.CanLogin(w.Value(arn, rotation.LabelCurrent)); err != nil {
		t.Fatalf("AWSCURRENT does not log in: %v", err)
	}
	code, out, _ = cli(t, w.check(arn)...)
	if code != 0 || !strings.Contains(out, "preflight passed") {
		t.Fatalf("check after completing: exit %d\n%s", code, out)
	}
}
