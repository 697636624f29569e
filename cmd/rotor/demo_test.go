package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestDemo runs `rotor demo` as `make demo` does and checks what it
// promises: both strategies rotate, the logins behave as each strategy
// promises, the call budget holds, and no password reaches the server log.
func TestDemo(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"demo"}, &out, &errOut); code != 0 {
		t.Fatalf("rotor demo exited %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	got := out.String()
	for _, want := range []string{
		"login with AWSCURRENT (demo_app) over verified TLS: ok",
		"login with AWSPREVIOUS (demo_app): refused",
		"login with AWSCURRENT (demo_app2) over verified TLS: ok",
		"login with AWSPREVIOUS (demo_app2_clone) over verified TLS: ok",
		"Secrets Manager calls per rotation: single-user 8, alternating-users 12, alternating-users 10",
		"passwords in the log: none",
		"[AWSPENDING, no value]",  // the placeholder RotateSecret creates
		"[AWSCURRENT,AWSPENDING]", // finishSecret does not remove AWSPENDING
		"AWSPENDING cleaned up",   // the service does, after success
	} {
		if !strings.Contains(got, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("demo output:\n%s", got)
	}
}
