package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/ops"
)

func init() {
	register("rotate", command{summary: "start rotations now and, with --wait, report each outcome", run: runRotate})
}

// filterFlag collects repeated --filter key=value[,value...] options.
type filterFlag []events.SecretFilter

func (f *filterFlag) String() string { return "" }

func (f *filterFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" || v == "" {
		return fmt.Errorf("want key=value[,value...], e.g. tag-key=rotor:strategy")
	}
	*f = append(*f, events.SecretFilter{Key: k, Values: strings.Split(v, ",")})
	return nil
}

func runRotate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var (
		a       awsFlags
		filters filterFlag
		opts    ops.RotateNowOptions
	)
	fs := newFlagSet("rotate", "SECRET... | --filter key=value [flags]", stderr)
	a.register(fs)
	fs.BoolVar(&opts.Wait, "wait", false, "follow each rotation until it succeeds, fails or times out")
	fs.DurationVar(&opts.Timeout, "timeout", ops.DefaultTimeout, "give up waiting after this long (the whole run)")
	fs.IntVar(&opts.Concurrency, "concurrency", ops.DefaultConcurrency, "secrets handled at once")
	fs.Float64Var(&opts.WritesPerSecond, "writes-per-second", events.DefaultWritesPerSecond, fmt.Sprintf("write budget for this region: rotations start at this / %d per second (%d..%d: Secrets Manager's PutSecretValue + UpdateSecretVersionStage quota); halved on throttling", events.WritesPerRotation, events.MinWritesPerSecond, events.WriteQuotaPerSecond))
	fs.DurationVar(&opts.PollInterval, "poll-interval", ops.DefaultPollInterval, "first delay between status polls while waiting (doubles up to 10x)")
	fs.DurationVar(&opts.FailureGrace, "failure-grace", ops.DefaultFailureGrace, "after a failed attempt, keep waiting this long for Secrets Manager's retry to succeed before reporting failed")
	fs.Var(&filters, "filter", "select secrets as ListSecrets does, key=value[,value...] (keys: "+strings.Join(events.FilterKeys, ", ")+"); repeatable")
	ids, code := parseCommand(fs, args, &a, 0, -1, stderr)
	if code >= 0 {
		return code
	}
	req := events.RotateNowRequest{SecretIDs: ids, Filters: filters, Concurrency: opts.Concurrency, WritesPerSecond: opts.WritesPerSecond}
	if err := req.Validate(); err != nil {
		fmt.Fprintf(stderr, "rotor rotate: %s\n", inCLITerms(err))
		fs.Usage()
		return exitUsage
	}
	opts.MaxPollInterval = 10 * opts.PollInterval
	if opts.Timeout <= 0 {
		fmt.Fprintln(stderr, "rotor rotate: --timeout must be positive")
		return exitUsage
	}
	if opts.FailureGrace <= 0 {
		fmt.Fprintln(stderr, "rotor rotate: --failure-grace must be positive")
		return exitUsage
	}
	client, err := a.secretsClient(ctx)
	if err != nil {
		return fail(stderr, "rotate", err)
	}
	opts.Secrets = client
	if len(filters) > 0 {
		if ids, err = ops.ListSecretIDs(ctx, client, filters); err != nil {
			return fail(stderr, "rotate", err)
		}
		if len(ids) == 0 {
			return fail(stderr, "rotate", fmt.Errorf("no secret matches the filters"))
		}
	}
	pp := &progressPrinter{w: stderr, now: time.Now, heartbeat: progressHeartbeat, done: opts.Wait && !a.json()}
	opts.Progress = pp.print
	resp := events.NewRotateNowResponse(ops.RotateNow(ctx, opts, ids))
	if a.json() {
		if err := writeJSON(stdout, resp); err != nil {
			return fail(stderr, "rotate", err)
		}
	} else {
		for _, r := range resp.Results {
			fmt.Fprintln(stdout, ops.ResultLine(r))
		}
		fmt.Fprintf(stdout, "%d secret(s): %s\n", len(resp.Results), summary(resp.Counts))
	}
	return rotateExit(resp)
}

// rotateExit is rotor rotate's exit code: 0 when every secret is OK, 3
// when the only shortfall is rotations that had no outcome before the
// deadline (they may still finish), 1 when any failed or was refused.
func rotateExit(resp events.RotateNowResponse) int {
	if resp.OK() {
		return exitOK
	}
	for _, r := range resp.Results {
		if !r.Status.OK() && r.Status != events.StatusTimedOut {
			return exitFail
		}
	}
	return exitTimedOut
}

func summary(c map[events.RotateNowStatus]int) string {
	var parts []string
	for _, s := range []events.RotateNowStatus{events.StatusSucceeded, events.StatusStarted, events.StatusFailed, events.StatusTimedOut, events.StatusRefused} {
		if c[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c[s], s))
		}
	}
	return strings.Join(parts, ", ")
}

// progressHeartbeat is the longest --wait stays silent about a rotation
// whose labels do not change.
const progressHeartbeat = 30 * time.Second

// progressPrinter writes rotate's progress lines to stderr: one when a
// rotation is requested, one when a failed attempt is first seen, one per
// rotation when its labels change or heartbeat passed since its last line,
// and (done) one with each outcome. Polls that find nothing new print
// nothing. It is safe for concurrent use.
type progressPrinter struct {
	w         io.Writer
	now       func() time.Time
	heartbeat time.Duration
	done      bool

	mu   sync.Mutex
	last map[string]printedWait
}

// printedWait is the last waiting line printed for one rotation.
type printedWait struct {
	stages string
	at     time.Time
}

func (pp *progressPrinter) print(p ops.Progress) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	if pp.last == nil {
		pp.last = map[string]printedWait{}
	}
	key := p.SecretID + "\x00" + p.VersionID
	switch p.Kind {
	case ops.ProgressRequested:
		fmt.Fprintf(pp.w, "%s: rotation requested (version %s)\n", p.SecretID, p.VersionID)
	case ops.ProgressThrottled:
		fmt.Fprintf(pp.w, "Secrets Manager throttled a call: pace halved to %.3g writes per second, recovering slowly\n", p.WritesPerSecond)
	case ops.ProgressNoOutcomeTags:
		fmt.Fprintf(pp.w, "%s: no rotor outcome tags on this secret yet (a first rotation, or a rotation function that is not rotor's): success shows when AWSCURRENT moves; a failure that records no tag shows only as a timeout (--timeout)\n", p.SecretID)
	case ops.ProgressAttemptFailed:
		fmt.Fprintf(pp.w, "%s: attempt failed at %s: %s; waiting for Secrets Manager's retry (%s)\n", p.SecretID, p.Step, p.Reason, p.Elapsed.Round(time.Second))
	case ops.ProgressWaiting:
		stages := strings.Join(p.Stages, ",")
		now := pp.now()
		if prev, ok := pp.last[key]; ok && prev.stages == stages && now.Sub(prev.at) < pp.heartbeat {
			return
		}
		pp.last[key] = printedWait{stages: stages, at: now}
		fmt.Fprintf(pp.w, "%s: waiting, version %s is %s (%s)\n", p.SecretID, p.VersionID, stages, p.Elapsed.Round(time.Second))
	case ops.ProgressDone:
		delete(pp.last, key)
		if pp.done {
			fmt.Fprintf(pp.w, "%s: %s\n", p.SecretID, p.Result.Status)
		}
	}
}

// rotateFlags names, for each field of a rotate-now request that the
// request's validation may name, what a CLI user typed for it.
var rotateFlags = map[string]string{
	"key":             "--filter key",
	"values":          "--filter value",
	"concurrency":     "--concurrency",
	"writesPerSecond": "--writes-per-second",
}

// inCLITerms says a request validation error in the words of the command
// line: "name at least one SECRET, or give --filter" rather than the
// Lambda request's field names.
func inCLITerms(err error) string {
	var fe *events.FieldError
	if !errors.As(err, &fe) {
		return err.Error()
	}
	switch fe.Field {
	case "secretIds":
		return "name at least one SECRET, or select secrets with --filter key=value"
	case "filters":
		return "give either SECRET arguments or --filter, not both"
	}
	if flag, ok := rotateFlags[fe.Field]; ok {
		return flag + ": " + fe.Reason
	}
	return err.Error()
}
