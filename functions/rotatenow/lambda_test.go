package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/local/dbtest"
	"github.com/rotorhq/rotor/internal/local/rietest"
	"github.com/rotorhq/rotor/internal/ops/opstest"
	"github.com/rotorhq/rotor/rotation"
	"github.com/rotorhq/rotor/strategies"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// TestBuiltFunctionUnderTheEmulator builds the rotatenow bootstrap, runs it
// under the AWS Lambda Runtime Interface Emulator against the local Secrets
// Manager (whose rotation function is rotor's real rotator, in-process) and
// invokes it over HTTP as aws_lambda_invocation would: a waited rotation
// that succeeds, and one whose failure is an error of type RotateNowFailed
// naming the failing step.
func TestBuiltFunctionUnderTheEmulator(t *testing.T) {
	e := opstest.New(t)
	emu := rietest.Start(t, rietest.Build(t, "./functions/rotatenow"),
		"AWS_ENDPOINT_URL="+e.Srv.URL(), "AWS_REGION="+e.Cfg.Region,
		"AWS_ACCESS_KEY_ID=AKIDAWSLOCAL", "AWS_SECRET_ACCESS_KEY=awslocal-secret-key", "AWS_SESSION_TOKEN=",
		"LOG_LEVEL=debug")

	user := e.Role("rn", "first-password-1")
	good := e.Secret(e.Doc(user, "first-password-1"), nil)
	e.EnableRotation(good)

	admin := e.Role("rnadm", "admin-password-1", "CREATEROLE")
	base := e.Role("rnalt", "app-password-1")
	doc := e.Doc(base, "app-password-1")
	doc["masterarn"] = e.AdminSecret(e.Doc(admin, "wrong-admin-password"))
	bad := e.Secret(doc, map[string]string{rotation.TagStrategy: strategies.NameAlternatingUsers})
	e.EnableRotation(bad)

	invoke := func(req events.RotateNowRequest) map[string]any {
		t.Helper()
		body, _ := json.Marshal(req)
		client := &http.Client{Timeout: 2 * time.Minute}
		resp, err := client.Post(emu.URL, "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatalf("invoke: %v", err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		var m map[string]any
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("response %q: %v", out, err)
		}
		return m
	}

	t.Run("success", func(t *testing.T) {
		m := invoke(events.RotateNowRequest{SecretIDs: []string{good}, Wait: true, TimeoutSeconds: 120})
		var resp events.RotateNowResponse
		b, _ := json.Marshal(m)
		if err := json.Unmarshal(b, &resp); err != nil || m["errorType"] != nil {
			t.Fatalf("response %v: %v", m, err)
		}
		if len(resp.Results) != 1 || resp.Results[0].Status != events.StatusSucceeded || resp.Results[0].SecretID != good || resp.Counts[events.StatusSucceeded] != 1 {
			t.Fatalf("response %+v", resp)
		}
		if err := e.CanLogin(e.Value(good, rotation.LabelCurrent)); err != nil {
			t.Fatalf("rotated password does not log in: %v", err)
		}
	})
	t.Run("failure names the step", func(t *testing.T) {
		m := invoke(events.RotateNowRequest{SecretIDs: []string{bad}, Wait: true, TimeoutSeconds: 120, FailureGraceSeconds: 1})
		msg := fmt.Sprint(m["errorMessage"])
		if m["errorType"] != "RotateNowFailed" || !strings.Contains(msg, bad+": failed at setSecret") || !strings.Contains(msg, "admin login") {
			t.Fatalf("response %v, want errorType RotateNowFailed naming setSecret", m)
		}
		e.Wait(bad)
	})

	out := emu.WaitOutput(t, func(o string) bool { return strings.Count(o, `"msg":"rotate-now finished"`) >= 2 })
	for _, p := range []string{"first-password-1", "app-password-1", "admin-password-1", "wrong-admin-password", fmt.Sprint(e.Value(good, rotation.LabelCurrent)["password"])} {
		if strings.Contains(out, p) {
			t.Fatalf("a password appears in the function's output:\n%s", out)
		}
	}
	if n := strings.Count(out, `"msg":"rotate-now finished"`); n != 2 {
		t.Fatalf("%d rotate-now finished log lines, want 2:\n%s", n, out)
	}
	// And every password the stand-in holds (the old ones too), when the
	// test ends (opstest's leak sweep).
	e.AddLeakOutput("the function's output", out)
}
