package rietest

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// ModuleRoot returns the directory of the main module's go.mod.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" || strings.TrimSpace(string(out)) == os.DevNull {
		t.Fatalf("rie: find module root: %v", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// Build compiles the main package pkg (an import path, or a path relative
// to the module root such as "./functions/rotator") for linux/amd64 and
// returns the path of the resulting bootstrap, inside t.TempDir().
func Build(t testing.TB, pkg string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-o", out, pkg)
	cmd.Dir = ModuleRoot(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("rie: build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// EmulatorPath returns the path of the aws-lambda-rie binary, building it
// into the go build cache when needed (go tool -n).
func EmulatorPath(t testing.TB) string {
	t.Helper()
	cmd := exec.Command("go", "tool", "-n", "aws-lambda-rie")
	cmd.Dir = ModuleRoot(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("rie: locate aws-lambda-rie: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// Emulator is a running Runtime Interface Emulator.
type Emulator struct {
	// URL is the invoke endpoint:
	// http://127.0.0.1:<port>/2015-03-31/functions/function/invocations.
	URL string

	mu  sync.Mutex
	out bytes.Buffer
}

func (e *Emulator) Write(p []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.out.Write(p)
}

// Output returns everything the emulator and the function wrote so far.
func (e *Emulator) Output() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.out.String()
}

// WaitOutput returns the output once ready(output) holds. The emulator
// relays the function's stdout through a pipe, so a line written during an
// invocation can arrive after the invocation's response: a test that reads
// the output right after invoking must wait for the line it checks. It gives
// up after a minute, failing the test with the output so far.
func (e *Emulator) WaitOutput(t testing.TB, ready func(output string) bool) string {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		out := e.Output()
		if ready(out) {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("the emulator's output never showed what the test waits for:\n%s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Start runs bootstrap under the emulator with env ("KEY=value") added to
// the test process's environment, and returns once the emulator accepts
// connections. The emulator is stopped in t.Cleanup; on test failure its
// output is logged.
func Start(t testing.TB, bootstrap string, env ...string) *Emulator {
	t.Helper()
	rie := EmulatorPath(t)
	addr, apiAddr := freeAddr(t), freeAddr(t)
	e := &Emulator{URL: "http://" + addr + "/2015-03-31/functions/function/invocations"}
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", addr, "--runtime-api-address", apiAddr, bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = e, e
	if err := cmd.Start(); err != nil {
		t.Fatalf("rie: start emulator: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("emulator output:\n%s", e.Output())
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return e
		}
		select {
		case <-exited:
			t.Fatalf("rie: emulator exited before listening:\n%s", e.Output())
		case <-ctx.Done():
			t.Fatalf("rie: emulator not listening on %s after 30s:\n%s", addr, e.Output())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// freeAddr returns a loopback address with a port free at the time of the
// call.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("rie: find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}
