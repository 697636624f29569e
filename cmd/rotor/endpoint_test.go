package main

import (
	"testing"
)

// TestEndpointSettings: without --endpoint-url the CLI finds Secrets Manager
// through AWS's templates' SECRETS_MANAGER_ENDPOINT or the SDK's
// AWS_ENDPOINT_URL_SECRETS_MANAGER / AWS_ENDPOINT_URL, as the functions do.
func TestEndpointSettings(t *testing.T) {
	w := newWorld(t)
	arn, _ := w.singleUser(t)
	for _, name := range []string{"SECRETS_MANAGER_ENDPOINT", "AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL"} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(name, w.Srv.URL())
			if code, out, errOut := cli(t, "status", arn, "--region", w.Srv.Region()); code != 0 {
				t.Fatalf("status through %s: exit %d\n%s\n%s", name, code, out, errOut)
			}
		})
	}
	if code, _, _ := cli(t, "status", arn, "--region", w.Srv.Region()); code == 0 {
		t.Fatal("status reached the stand-in with no endpoint configured: the test proves nothing")
	}
}
