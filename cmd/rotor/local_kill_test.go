package main

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// startLocalServe runs `rotor local serve --state state` and returns its
// endpoint and process.
func startLocalServe(t *testing.T, bin, state string) (string, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(bin, "local", "serve", "--listen", "127.0.0.1:0", "--state", state, "--quiet")
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || !strings.Contains(lines.Text(), "listening on http://127.0.0.1:") {
		t.Fatalf("rotor local serve printed %q; stderr:\n%s", lines.Text(), stderr.String())
	}
	endpoint := lines.Text()[strings.Index(lines.Text(), "http://"):]
	go func() {
		for lines.Scan() {
		}
	}()
	return endpoint, cmd
}

func localSM(endpoint string) *secretsmanager.Client {
	return secretsmanager.NewFromConfig(aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDAWSLOCAL", "awslocal-secret-key", ""),
		BaseEndpoint: aws.String(endpoint),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	})
}

// TestLocalServeStateSurvivesKill fires concurrent CreateSecret and
// PutSecretValue calls at `rotor local serve --state`, kills it with
// SIGKILL in the middle of the burst, restarts it on the same state file
// and finds every write it acknowledged.
func TestLocalServeStateSurvivesKill(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "rotor")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/rotor: %v\n%s", err, out)
	}
	state := filepath.Join(dir, "state.json")
	endpoint, cmd := startLocalServe(t, bin, state)
	sm := localSM(endpoint)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	const workers, killAfter = 16, 300
	type ack struct{ name, version, value string }
	var (
		mu    sync.Mutex
		acked []ack
		n     atomic.Int64
		wg    sync.WaitGroup
	)
	killed := make(chan struct{})
	var once sync.Once
	kill := func() {
		once.Do(func() {
			_ = cmd.Process.Signal(syscall.SIGKILL)
			close(killed)
		})
	}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				name := fmt.Sprintf("burst/w%d-%d", w, i)
				v1, v2 := tok(w*100000+2*i), tok(w*100000+2*i+1)
				if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("a-" + name), ClientRequestToken: aws.String(v1)}); err != nil {
					return
				}
				mu.Lock()
				acked = append(acked, ack{name, v1, "a-" + name})
				mu.Unlock()
				if _, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String("b-" + name), ClientRequestToken: aws.String(v2)}); err != nil {
					return
				}
				mu.Lock()
				acked = append(acked, ack{name, v2, "b-" + name})
				mu.Unlock()
				if n.Add(2) >= killAfter {
					kill() // while the other workers' requests are in flight
				}
			}
		}()
	}
	wg.Wait()
	select {
	case <-killed:
	default:
		t.Fatalf("the burst stopped before the kill after %d acknowledged writes", n.Load())
	}

	endpoint2, _ := startLocalServe(t, bin, state)
	sm2 := localSM(endpoint2)
	for _, a := range acked {
		g, err := sm2.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(a.name), VersionId: aws.String(a.version)})
		if err != nil || aws.ToString(g.SecretString) != a.value {
			t.Errorf("acknowledged write %s version %s lost after SIGKILL: %v", a.name, a.version, err)
		}
	}
	if len(acked) < killAfter {
		t.Fatalf("only %d acknowledged writes checked, want ≥ %d", len(acked), killAfter)
	}
	t.Logf("%d acknowledged writes survived SIGKILL", len(acked))
}
