package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/ops"
)

func init() { register("rotate", newRotateCmd) }

// filterFlag collects repeated --filter key=value[,value...] options.
type filterFlag []events.SecretFilter

func (f *filterFlag) String() string { return "" }

func (f *filterFlag) Type() string { return "key=value" }

func (f *filterFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" || v == "" {
		return fmt.Errorf("want key=value[,value...], e.g. tag-key=rotor:strategy")
	}
	*f = append(*f, events.SecretFilter{Key: k, Values: strings.Split(v, ",")})
	return nil
}

func newRotateCmd(c *streams) *cobra.Command {
	var (
		a       awsFlags
		filters filterFlag
		opts    ops.RotateNowOptions
	)
	cmd := &cobra.Command{
		Use:   "rotate (SECRET... | --filter key=value) [flags]",
		Short: "start rotations now and, with --wait, report each outcome",
		Long: `Start a rotation of each secret now (RotateSecret with a fresh version id)
and, with --wait, follow each one to its outcome: succeeded, failed (with
the step and reason the rotator recorded) or timed out. Progress goes to
stderr: a live line on a terminal, plain lines otherwise; one result line
per secret goes to stdout.

Exit codes: 0 every rotation succeeded (or was started, without --wait),
1 one failed or was refused, 2 usage, 3 --timeout came with rotations still
running and none failed, 4 AWS refused the caller.`,
		Example: `  # rotate one secret and wait for the outcome
  rotor rotate prod/app/db --wait

  # every secret rotor manages, 5 at a time, giving up after 20 minutes
  rotor rotate --filter tag-key=rotor:strategy --wait --concurrency 5 --timeout 20m

  # start rotations and return at once; JSON for scripts
  rotor rotate prod/app/db prod/reports/db --output json`,
	}
	fs := cmd.Flags()
	fs.BoolVar(&opts.Wait, "wait", false, "follow each rotation until it succeeds, fails or times out")
	fs.DurationVar(&opts.Timeout, "timeout", ops.DefaultTimeout, "give up waiting after this long (the whole run)")
	fs.IntVar(&opts.Concurrency, "concurrency", ops.DefaultConcurrency, "secrets handled at once")
	fs.Float64Var(&opts.WritesPerSecond, "writes-per-second", events.DefaultWritesPerSecond, fmt.Sprintf("write budget for this region, never exceeded in any second: rotations start at most at this / %d per second, and only while those running or ended within the last second leave room (%d..%d: Secrets Manager's PutSecretValue + UpdateSecretVersionStage quota); halved on throttling", events.WritesPerRotation, events.MinWritesPerSecond, events.WriteQuotaPerSecond))
	fs.DurationVar(&opts.PollInterval, "poll-interval", ops.DefaultPollInterval, "first delay between status polls while waiting (doubles up to 10x)")
	fs.DurationVar(&opts.FailureGrace, "failure-grace", ops.DefaultFailureGrace, "after a failed attempt, keep waiting this long for Secrets Manager's retry to succeed before reporting failed")
	fs.Var(&filters, "filter", "select secrets as ListSecrets does, key=value[,value...] (keys: "+strings.Join(events.FilterKeys, ", ")+"); repeatable")
	_ = cmd.RegisterFlagCompletionFunc("filter", cobra.FixedCompletions(filterCompletions(), cobra.ShellCompDirectiveNoSpace|cobra.ShellCompDirectiveNoFileComp))
	return awsCommand(cmd, &a, 0, -1, func(ctx context.Context, ids []string) error {
		req := events.RotateNowRequest{SecretIDs: ids, Filters: filters, Concurrency: opts.Concurrency, WritesPerSecond: opts.WritesPerSecond}
		if err := req.Validate(); err != nil {
			return errors.New(inCLITerms(err))
		}
		opts.MaxPollInterval = 10 * opts.PollInterval
		if opts.Timeout <= 0 {
			return errors.New("--timeout must be positive")
		}
		if opts.FailureGrace <= 0 {
			return errors.New("--failure-grace must be positive")
		}
		return exit(runRotate(ctx, c, &a, filters, opts, ids))
	})
}

// filterCompletions are the --filter keys, each ready for its value.
func filterCompletions() []string {
	var out []string
	for _, k := range events.FilterKeys {
		out = append(out, k+"=")
	}
	return out
}

func runRotate(ctx context.Context, c *streams, a *awsFlags, filters filterFlag, opts ops.RotateNowOptions, ids []string) int {
	stdout, stderr := c.stdout, c.stderr
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
	view := newProgressView(c, len(ids), opts.Wait && !a.json())
	opts.Progress = view.print
	resp := events.NewRotateNowResponse(ops.RotateNow(ctx, opts, ids))
	view.close()
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
