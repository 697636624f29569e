package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/ops"
)

// --wait prints a waiting line only when a rotation's labels change or the
// heartbeat passed, not on every poll.
func TestProgressPrinterPrintsChangesOnly(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	now := time.Unix(1_700_000_000, 0)
	pp := &progressPrinter{w: &out, now: func() time.Time { return now }, heartbeat: 30 * time.Second, done: true}
	wait := func(id string, stages ...string) {
		pp.print(ops.Progress{Kind: ops.ProgressWaiting, SecretID: id, VersionID: "v-" + id, Stages: stages})
	}
	pp.print(ops.Progress{Kind: ops.ProgressRequested, SecretID: "a", VersionID: "v-a"})
	for range 50 {
		wait("a", "AWSPENDING")
		wait("b", "AWSPENDING")
		now = now.Add(100 * time.Millisecond) // 50 polls: 5 s, under the heartbeat
	}
	pp.print(ops.Progress{Kind: ops.ProgressAttemptFailed, SecretID: "a", VersionID: "v-a", Step: "setSecret", Reason: "boom"})
	wait("a", "AWSPENDING")
	now = now.Add(30 * time.Second)
	wait("a", "AWSPENDING") // heartbeat
	wait("a", "AWSCURRENT", "AWSPENDING")
	pp.print(ops.Progress{Kind: ops.ProgressDone, SecretID: "a", VersionID: "v-a", Result: &events.RotateNowResult{SecretID: "a", Status: events.StatusSucceeded}})

	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []string{
		"a: rotation requested",
		"a: waiting, version v-a is AWSPENDING",
		"b: waiting, version v-b is AWSPENDING",
		"a: attempt failed at setSecret: boom",
		"a: waiting, version v-a is AWSPENDING",
		"a: waiting, version v-a is AWSCURRENT,AWSPENDING",
		"a: succeeded",
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), out.String())
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d = %q, want prefix %q", i, lines[i], w)
		}
	}
}

// TestRotateUsageInCLITerms: a request the command line cannot make is
// refused with exit 2 in the words of the command line, not the Lambda
// request's field names, and the flags are listed as they are typed
// (--wait).
func TestRotateUsageInCLITerms(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"rotate"}, "name at least one SECRET, or select secrets with --filter"},
		{[]string{"rotate", "a", "--filter", "name=x"}, "either SECRET arguments or --filter"},
		{[]string{"rotate", "a", "--writes-per-second", "99"}, "--writes-per-second: 99 is outside"},
	} {
		code, _, errOut := cli(t, tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) || strings.Contains(errOut, "secretIds") || !strings.Contains(errOut, "      --wait   ") || strings.Contains(errOut, " -wait") {
			t.Errorf("rotor %v: exit %d, stderr %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}

func TestRotateExitCodes(t *testing.T) {
	t.Parallel()
	res := func(st ...events.RotateNowStatus) events.RotateNowResponse {
		var rs []events.RotateNowResult
		for _, s := range st {
			rs = append(rs, events.RotateNowResult{SecretID: "s", Status: s})
		}
		return events.NewRotateNowResponse(rs)
	}
	for _, tc := range []struct {
		resp events.RotateNowResponse
		want int
	}{
		{res(events.StatusSucceeded, events.StatusStarted), exitOK},
		{res(events.StatusSucceeded, events.StatusTimedOut), exitTimedOut},
		{res(events.StatusTimedOut, events.StatusFailed), exitFail},
		{res(events.StatusRefused), exitFail},
	} {
		if got := rotateExit(tc.resp); got != tc.want {
			t.Errorf("statuses %v: exit %d, want %d", tc.resp.Counts, got, tc.want)
		}
	}
}
