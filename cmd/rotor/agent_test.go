package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/rotorhq/rotor/internal/local/awslocal/awslocaltest"
)

// TestAgentCommand: rotor agent writes the file and runs until stopped; a
// secret it cannot read at start is exit code 1 with the reason; bad flags
// are usage errors naming the flag.
func TestAgentCommand(t *testing.T) {
	srv, cfg := awslocaltest.New(t)
	sm := secretsmanager.NewFromConfig(cfg)
	if _, err := sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String("app/db"), SecretString: aws.String(`{"username":"app","password":"pw-agent-cli"}`)}); err != nil {
		t.Fatal(err)
	}
	ep := []string{"--endpoint-url", srv.URL(), "--region", srv.Region()}
	file := filepath.Join(t.TempDir(), "db.env")

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var stderr strings.Builder
	go func() {
		done <- run(ctx, append([]string{"agent", "app/db", "--file", file, "--format", "env", "--interval", "10ms"}, ep...), &strings.Builder{}, &stderr)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, err := os.ReadFile(file)
		if err == nil {
			if string(b) != "PASSWORD='pw-agent-cli'\nUSERNAME='app'\n" {
				t.Fatalf("file:\n%s", b)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no file written")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("agent stopped with %d:\n%s", code, stderr.String())
	}
	if strings.Contains(stderr.String(), "pw-agent-cli") {
		t.Fatalf("the password reached the log:\n%s", stderr.String())
	}

	code, _, errOut := cli(t, append([]string{"agent", "no/such/secret", "--file", filepath.Join(t.TempDir(), "f")}, ep...)...)
	if code != 1 || !strings.Contains(errOut, "cannot read the secret") {
		t.Fatalf("missing secret: exit %d, stderr:\n%s", code, errOut)
	}
	for flag, args := range map[string][]string{
		"--mode":   {"--mode", "rw"},
		"--signal": {"--signal", "BOGUS"},
		"format":   {"--format", "yaml"},
		"file":     {"--file", ""},
	} {
		if flag != "file" {
			args = append(args, "--file", file)
		}
		code, _, errOut := cli(t, append(append([]string{"agent", "app/db"}, args...), ep...)...)
		if code == 0 || !strings.Contains(errOut, flag) {
			t.Errorf("%v: exit %d, stderr %q; want a failure naming %s", args, code, errOut, flag)
		}
	}
}
