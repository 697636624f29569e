package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/local/awslocal"
)

func tok(n int) string { return fmt.Sprintf("11111111-2222-4333-8444-%012d", n) }

// cliFunction is the rotation function of the CLI test, served in the Lambda
// Invoke shape. It blocks at the first createSecret until release closes,
// fails the first setSecret with an errorMessage body, and otherwise
// rotates for real through the SDK.
type cliFunction struct {
	endpoint string // the stand-in, set once it listens
	atCreate chan struct{}
	release  chan struct{}

	mu         sync.Mutex
	steps      []string
	blocked    bool
	failedOnce bool
}

func (f *cliFunction) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var e events.RotationEvent
	if err := json.NewDecoder(r.Body).Decode(&e); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.steps = append(f.steps, e.Step)
	block := e.Step == "createSecret" && !f.blocked
	fail := e.Step == "setSecret" && !f.failedOnce
	f.blocked = f.blocked || block
	f.failedOnce = f.failedOnce || fail
	f.mu.Unlock()
	if block {
		close(f.atCreate)
		<-f.release
	}
	if fail {
		_ = json.NewEncoder(w).Encode(map[string]string{"errorType": "StepError", "errorMessage": "setSecret: database not reachable"})
		return
	}
	if err := f.rotate(r.Context(), e); err != nil {
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		_ = json.NewEncoder(w).Encode(map[string]string{"errorType": "StepError", "errorMessage": err.Error()})
		return
	}
	_, _ = io.WriteString(w, "null")
}

func (f *cliFunction) rotate(ctx context.Context, e events.RotationEvent) error {
	sm := secretsmanager.New(secretsmanager.Options{Region: "us-east-1", BaseEndpoint: aws.String(f.endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")})
	d, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(e.SecretID)})
	if err != nil {
		return err
	}
	switch e.Step {
	case "createSecret":
		if _, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(e.SecretID), VersionId: aws.String(e.ClientRequestToken)}); err == nil {
			return nil
		}
		_, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(e.SecretID), ClientRequestToken: aws.String(e.ClientRequestToken),
			SecretString: aws.String("rotated-value"), VersionStages: []string{"AWSPENDING"}, RotationToken: aws.String(e.RotationToken)})
		return err
	case "finishSecret":
		in := &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String(e.SecretID), VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: aws.String(e.ClientRequestToken)}
		for id, st := range d.VersionIdsToStages {
			if slices.Contains(st, "AWSCURRENT") {
				if id == e.ClientRequestToken {
					return nil
				}
				in.RemoveFromVersionId = aws.String(id)
			}
		}
		_, err := sm.UpdateSecretVersionStage(ctx, in)
		return err
	}
	return nil
}

// TestLocalServeWithAWSCLI drives `rotor local serve` with the AWS CLI, an
// independent client of the real protocol.
func TestLocalServeWithAWSCLI(t *testing.T) {
	t.Parallel()
	awsBin, err := exec.LookPath("aws")
	if err != nil {
		t.Fatal("aws CLI not found; install awscli: apt-get install -y awscli")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "rotor")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/rotor: %v\n%s", err, out)
	}
	fn := &cliFunction{atCreate: make(chan struct{}), release: make(chan struct{})}
	fnSrv := httptest.NewServer(fn)
	defer fnSrv.Close()
	// The --events-to target: records what the stand-in pushes, as the
	// notifier's invoke endpoint would receive it.
	delivered := make(chan map[string]any, 16)
	eventsSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev map[string]any
		if json.NewDecoder(r.Body).Decode(&ev) == nil {
			delivered <- ev
		}
		w.Write([]byte("null"))
	}))
	defer eventsSrv.Close()
	const fnARN = "arn:aws:lambda:us-east-1:123456789012:function:cli-rotator"

	// A guard against a hang, not a speed check: each AWS CLI call starts
	// Python (about a second on an idle machine, many under load).
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	cmd := exec.Command(bin, "local", "serve", "--listen", "127.0.0.1:0", "--function", fnARN+"="+fnSrv.URL,
		"--rotation-backoff", "1ms", "--state", filepath.Join(dir, "state.json"), "--events-to", eventsSrv.URL,
		"--fault", "op=DescribeSecret,secret=cli/throttled,answer=throttle")
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Kill()
	}()
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || !strings.Contains(lines.Text(), "listening on http://127.0.0.1:") {
		t.Fatalf("rotor local serve printed %q; stderr:\n%s", lines.Text(), stderr.String())
	}
	endpoint := lines.Text()[strings.Index(lines.Text(), "http://"):]
	fn.endpoint = endpoint
	go func() {
		for lines.Scan() {
		}
	}()

	cli := func(args ...string) (map[string]any, string, error) {
		c := exec.CommandContext(ctx, awsBin, append([]string{"--endpoint-url", endpoint, "--output", "json", "secretsmanager"}, args...)...)
		c.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDCLI", "AWS_SECRET_ACCESS_KEY=cli-secret", "AWS_DEFAULT_REGION=us-east-1", "AWS_REGION=us-east-1",
			"AWS_CONFIG_FILE="+filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "none"), "AWS_PAGER=")
		var out, errOut strings.Builder
		c.Stdout, c.Stderr = &out, &errOut
		err := c.Run()
		var m map[string]any
		if err == nil && strings.TrimSpace(out.String()) != "" {
			if jerr := json.Unmarshal([]byte(out.String()), &m); jerr != nil {
				t.Fatalf("aws %v: not JSON: %s", args, out.String())
			}
		}
		return m, errOut.String(), err
	}
	ok := func(args ...string) map[string]any {
		t.Helper()
		m, errOut, err := cli(args...)
		if err != nil {
			t.Fatalf("aws secretsmanager %v: %v\n%s", args, err, errOut)
		}
		return m
	}
	fails := func(code string, args ...string) {
		t.Helper()
		_, errOut, err := cli(args...)
		if err == nil || !strings.Contains(errOut, code) {
			t.Fatalf("aws secretsmanager %v: err=%v stderr=%q, want %s", args, err, errOut, code)
		}
	}
	stages := func() map[string][]string {
		t.Helper()
		d := ok("describe-secret", "--secret-id", "cli/app")
		out := map[string][]string{}
		m, _ := d["VersionIdsToStages"].(map[string]any)
		for id, ls := range m {
			for _, l := range ls.([]any) {
				out[id] = append(out[id], l.(string))
			}
			sort.Strings(out[id])
		}
		return out
	}
	wantStages := func(want map[string][]string) {
		t.Helper()
		if got := stages(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("VersionIdsToStages = %v, want %v", got, want)
		}
	}

	if c := ok("create-secret", "--name", "cli/app", "--secret-string", "cli-value-1", "--client-request-token", tok(1)); c["VersionId"] != tok(1) {
		t.Fatalf("create-secret = %v", c)
	}
	if p := ok("put-secret-value", "--secret-id", "cli/app", "--secret-string", "cli-value-2", "--client-request-token", tok(2)); fmt.Sprint(p["VersionStages"]) != "[AWSCURRENT]" {
		t.Fatalf("put-secret-value = %v", p)
	}
	if p := ok("put-secret-value", "--secret-id", "cli/app", "--secret-string", "cli-value-3", "--client-request-token", tok(3), "--version-stages", "blue"); fmt.Sprint(p["VersionStages"]) != "[blue]" {
		t.Fatalf("put-secret-value --version-stages = %v", p)
	}
	wantStages(map[string][]string{tok(1): {"AWSPREVIOUS"}, tok(2): {"AWSCURRENT"}, tok(3): {"blue"}})
	ok("update-secret-version-stage", "--secret-id", "cli/app", "--version-stage", "blue", "--remove-from-version-id", tok(3), "--move-to-version-id", tok(1))
	fails("InvalidParameterException", "update-secret-version-stage", "--secret-id", "cli/app", "--version-stage", "AWSCURRENT", "--move-to-version-id", tok(3))
	wantStages(map[string][]string{tok(1): {"AWSPREVIOUS", "blue"}, tok(2): {"AWSCURRENT"}})
	fails("ResourceNotFoundException", "get-secret-value", "--secret-id", "cli/nope")
	// --fault installed the fault (its answers are awslocal's tests').
	if resp, err := http.Get(endpoint + "/_awslocal/faults"); err != nil {
		t.Fatal(err)
	} else {
		var fs []awslocal.FaultState
		_ = json.NewDecoder(resp.Body).Decode(&fs)
		resp.Body.Close()
		if len(fs) != 1 || fs[0].Fault.Operation != "DescribeSecret" || fs[0].Fault.SecretID != "cli/throttled" || fs[0].Fault.Answer != awslocal.FaultThrottle {
			t.Fatalf("faults after --fault = %+v", fs)
		}
	}
	fails("ResourceNotFoundException", "get-secret-value", "--secret-id", "cli/app", "--version-stage", "AWSPENDING")
	fails("InvalidRequestException", "get-secret-value", "--secret-id", "cli/app", "--version-id", tok(1), "--version-stage", "AWSCURRENT")
	if v := ok("list-secret-version-ids", "--secret-id", "cli/app"); len(v["Versions"].([]any)) != 2 {
		t.Fatalf("list-secret-version-ids = %v", v)
	}
	if v := ok("list-secret-version-ids", "--secret-id", "cli/app", "--include-deprecated"); len(v["Versions"].([]any)) != 3 {
		t.Fatalf("list-secret-version-ids --include-deprecated = %v", v)
	}

	// Rotation: the placeholder exists before createSecret runs.
	if r := ok("rotate-secret", "--secret-id", "cli/app", "--rotation-lambda-arn", fnARN, "--client-request-token", tok(4)); r["VersionId"] != tok(4) {
		t.Fatalf("rotate-secret = %v", r)
	}
	select {
	case <-fn.atCreate:
	case <-ctx.Done():
		t.Fatal("createSecret was never invoked")
	}
	wantStages(map[string][]string{tok(1): {"AWSPREVIOUS", "blue"}, tok(2): {"AWSCURRENT"}, tok(4): {"AWSPENDING"}})
	fails("ResourceNotFoundException", "get-secret-value", "--secret-id", "cli/app", "--version-stage", "AWSPENDING")
	fails("ResourceNotFoundException", "get-secret-value", "--secret-id", "cli/app", "--version-id", tok(4))
	close(fn.release)

	var evs []awslocal.Event
	for done := false; !done; {
		resp, err := http.Get(endpoint + "/_awslocal/events")
		if err != nil {
			t.Fatal(err)
		}
		evs = nil
		_ = json.NewDecoder(resp.Body).Decode(&evs)
		resp.Body.Close()
		for _, e := range evs {
			done = done || e.Name == "RotationSucceeded"
		}
		if len(evs) >= 2*awslocal.DefaultRotationAttempts {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("rotation did not finish; events %+v", evs)
		case <-time.After(20 * time.Millisecond):
		}
	}
	var names []string
	for _, e := range evs {
		names = append(names, e.Name)
	}
	if want := []string{"RotationStarted", "RotationFailed", "RotationStarted", "RotationSucceeded"}; !slices.Equal(names, want) {
		t.Fatalf("events = %v, want %v", names, want)
	}
	if evs[1].Step != "setSecret" || evs[1].ErrorMessage != "setSecret: database not reachable" || evs[1].ErrorType != "StepError" {
		t.Fatalf("RotationFailed = %+v", evs[1])
	}
	// --events-to pushed the failure in EventBridge's CloudTrail envelope.
	select {
	case ev := <-delivered:
		detail, _ := ev["detail"].(map[string]any)
		if ev["source"] != "aws.secretsmanager" || detail["eventName"] != "RotationFailed" {
			t.Fatalf("pushed event %v, want a RotationFailed from aws.secretsmanager", ev)
		}
	case <-ctx.Done():
		t.Fatal("--events-to received no event")
	}

	fn.mu.Lock()
	steps := slices.Clone(fn.steps)
	fn.mu.Unlock()
	if want := []string{"createSecret", "setSecret", "createSecret", "setSecret", "testSecret", "finishSecret"}; !slices.Equal(steps, want) {
		t.Fatalf("steps = %v, want %v", steps, want)
	}
	wantStages(map[string][]string{tok(1): {"blue"}, tok(2): {"AWSPREVIOUS"}, tok(4): {"AWSCURRENT"}})
	if g := ok("get-secret-value", "--secret-id", "cli/app"); g["SecretString"] != "rotated-value" || g["VersionId"] != tok(4) {
		t.Fatalf("get-secret-value after rotation: VersionId %v", g["VersionId"])
	}

	// A clean stop on SIGINT.
	_ = cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("rotor local serve exit: %v\n%s", err, stderr.String())
		}
	case <-ctx.Done():
		t.Fatal("rotor local serve did not stop on SIGINT")
	}
	if strings.Contains(stderr.String(), "rotated-value") || strings.Contains(stderr.String(), "cli-value-") {
		t.Fatalf("a secret value reached the log:\n%s", stderr.String())
	}
}
