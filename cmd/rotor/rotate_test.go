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
