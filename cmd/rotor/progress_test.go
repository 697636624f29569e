package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/creack/pty"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/ops"
)

// TestProgressViewFollowsTerminal: rotate's progress is a live line on a
// terminal (a pseudo-terminal here, sized 40 columns) and plain lines on a
// pipe, a buffer, or a terminal whose TERM is dumb.
func TestProgressViewFollowsTerminal(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("open a pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	defer tty.Close()
	go func() { _, _ = bytes.NewBuffer(nil).ReadFrom(ptmx) }() // drain what the view draws
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 24, Cols: 40}); err != nil {
		t.Fatal(err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()

	t.Setenv("TERM", "xterm")
	view := newProgressView(&streams{stderr: tty, isTerminal: isTerminal}, 2, true)
	live, ok := view.(*liveLine)
	view.close()
	if !ok || live.width != 40 {
		t.Fatalf("on a terminal: %T (width %d), want a live line 40 columns wide", view, terminalWidth(tty))
	}
	for name, w := range map[string]any{"a pipe": pw, "a buffer": &bytes.Buffer{}} {
		view := newProgressView(&streams{stderr: w.(interface{ Write([]byte) (int, error) }), isTerminal: isTerminal}, 2, true)
		view.close()
		if _, ok := view.(*progressPrinter); !ok {
			t.Errorf("on %s: %T, want plain lines", name, view)
		}
	}
	t.Setenv("TERM", "dumb")
	if isTerminal(tty) {
		t.Error("TERM=dumb taken for a terminal that redraws lines")
	}
}

// TestLiveLineBytes pins what the live line writes for a fleet of three:
// each event redraws the one line ("\r", text, erase to end) only when its
// text changes; the lines worth keeping are printed above it; close erases
// it.
func TestLiveLineBytes(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	now := time.Unix(1_700_000_000, 0)
	l := &liveLine{w: &out, now: func() time.Time { return now }, total: 3, done: true}
	l.begin(0)
	l.print(ops.Progress{Kind: ops.ProgressRequested, SecretID: "a", VersionID: "v-a"})
	l.print(ops.Progress{Kind: ops.ProgressRequested, SecretID: "b", VersionID: "v-b"})
	l.print(ops.Progress{Kind: ops.ProgressNoOutcomeTags, SecretID: "b", VersionID: "v-b"})
	now = now.Add(2 * time.Second)
	l.print(ops.Progress{Kind: ops.ProgressWaiting, SecretID: "a", VersionID: "v-a", Stages: []string{"AWSPENDING"}})
	l.print(ops.Progress{Kind: ops.ProgressWaiting, SecretID: "a", VersionID: "v-a", Stages: []string{"AWSPENDING"}}) // no change: nothing written
	l.print(ops.Progress{Kind: ops.ProgressWaiting, SecretID: "b", VersionID: "v-b", Stages: []string{"AWSPENDING"}})
	now = now.Add(time.Second)
	l.print(ops.Progress{Kind: ops.ProgressAttemptFailed, SecretID: "a", VersionID: "v-a", Step: "setSecret", Reason: "boom", Elapsed: 3 * time.Second})
	l.print(ops.Progress{Kind: ops.ProgressWaiting, SecretID: "a", VersionID: "v-a", Stages: []string{"AWSPENDING"}})
	l.print(ops.Progress{Kind: ops.ProgressDone, SecretID: "b", VersionID: "v-b", Result: &events.RotateNowResult{SecretID: "b", Status: events.StatusSucceeded}})
	l.print(ops.Progress{Kind: ops.ProgressDone, SecretID: "c", Result: &events.RotateNowResult{SecretID: "c", Status: events.StatusRefused}})
	l.close()

	const (
		cr, erase = "\r", "\x1b[K"
		noTags    = "b: no rotor outcome tags on this secret yet (a first rotation, or a rotation function that is not rotor's): success shows when AWSCURRENT moves; a failure that records no tag shows only as a timeout (--timeout)\n"
	)
	want := cr + "rotating 3 secrets [0s]: 0/3 done, 3 not yet requested" + erase +
		cr + "rotating 3 secrets [0s]: 0/3 done, 1 requested, 2 not yet requested" + erase +
		cr + "rotating 3 secrets [0s]: 0/3 done, 2 requested, 1 not yet requested" + erase +
		cr + erase + noTags +
		cr + "rotating 3 secrets [0s]: 0/3 done, 2 requested, 1 not yet requested" + erase +
		cr + "rotating 3 secrets [2s]: 0/3 done, 1 requested, 1 waiting (1 AWSPENDING), 1 not yet requested" + erase +
		cr + "rotating 3 secrets [2s]: 0/3 done, 2 waiting (2 AWSPENDING), 1 not yet requested" + erase +
		cr + erase + "a: attempt failed at setSecret: boom; waiting for Secrets Manager's retry (3s)\n" +
		cr + "rotating 3 secrets [3s]: 0/3 done, 2 waiting (1 AWSPENDING, 1 attempt failed at setSecret, waiting for a retry), 1 not yet requested" + erase +
		cr + erase + "b: succeeded\n" +
		cr + "rotating 3 secrets [3s]: 1/3 done (1 succeeded), 1 waiting (1 attempt failed at setSecret, waiting for a retry), 1 not yet requested" + erase +
		cr + erase + "c: refused\n" +
		cr + "rotating 3 secrets [3s]: 2/3 done (1 succeeded, 1 refused), 1 waiting (1 attempt failed at setSecret, waiting for a retry)" + erase +
		cr + erase
	if got := out.String(); got != want {
		t.Fatalf("live line wrote\n%q\nwant\n%q", got, want)
	}
}

// TestLiveLineOneSecretFitsTheTerminal: for one secret the line says where
// its version stands, and it is cut to the terminal's width less one so
// it never wraps (a wrapped line cannot be rewritten with "\r").
func TestLiveLineOneSecretFitsTheTerminal(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	l := &liveLine{w: &out, now: time.Now, total: 1, width: 40}
	l.begin(0)
	l.print(ops.Progress{Kind: ops.ProgressRequested, SecretID: "prod/app/db", VersionID: "0d9e8f7a-1111-4222-8333-444455556666"})
	l.print(ops.Progress{Kind: ops.ProgressWaiting, SecretID: "prod/app/db", VersionID: "0d9e8f7a-1111-4222-8333-444455556666", Stages: []string{"AWSCURRENT", "AWSPENDING"}})
	drawn := strings.Split(strings.ReplaceAll(out.String(), "\x1b[K", ""), "\r")[1:]
	want := []string{
		"rotating [0s]: not yet requested",
		"rotating prod/app/db [0s]: requested, …",
		"rotating prod/app/db [0s]: AWSCURRENT,…",
	}
	if strings.Join(drawn, "|") != strings.Join(want, "|") {
		t.Fatalf("drew %q, want %q", drawn, want)
	}
	for _, line := range drawn {
		if n := utf8.RuneCountInString(line); n > 39 {
			t.Errorf("line %q is %d columns on a 40-column terminal", line, n)
		}
	}
	l.close()
}

// TestThrottlingNoticeInBothViews: the pacer's "halved" notice is about the
// pace, not a secret: plain lines print it, the live line keeps it above
// itself without counting a secret for it.
func TestThrottlingNoticeInBothViews(t *testing.T) {
	t.Parallel()
	const notice = "Secrets Manager throttled a call: pace halved to 20 writes per second, recovering slowly"
	p := ops.Progress{Kind: ops.ProgressThrottled, WritesPerSecond: 20}

	var plain bytes.Buffer
	(&progressPrinter{w: &plain, now: time.Now}).print(p)
	if got := plain.String(); got != notice+"\n" {
		t.Fatalf("plain view wrote %q, want %q", got, notice+"\n")
	}

	var live bytes.Buffer
	now := time.Unix(1_700_000_000, 0)
	l := &liveLine{w: &live, now: func() time.Time { return now }, total: 2}
	l.begin(0)
	l.print(p)
	l.close()
	const cr, erase = "\r", "\x1b[K"
	line := cr + "rotating 2 secrets [0s]: 0/2 done, 2 not yet requested" + erase
	if got, want := live.String(), line+cr+erase+notice+"\n"+line+cr+erase; got != want {
		t.Fatalf("live line wrote\n%q\nwant\n%q", got, want)
	}
}
