package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/rotorhq/rotor/internal/ops"
)

func init() { register("status", newStatusCmd) }

func newStatusCmd(c *streams) *cobra.Command {
	var (
		a       awsFlags
		d       dbFlags
		checkDB bool
	)
	cmd := &cobra.Command{
		Use:   "status SECRET [--check-db [--db-tls MODE] [--db-ca-bundle FILE]] [flags]",
		Short: "show a secret's versions, rotation settings, last outcome and leftovers",
		Long: `Show where a secret stands: its versions and labels, rotation schedule and
function, strategy, the last outcome rotor recorded, and anything an
unfinished rotation left behind with what to do about it. With --check-db,
log in with AWSCURRENT's and AWSPENDING's credentials to tell whether
clearing AWSPENDING is safe or the rotation must be completed. Nothing is
changed.`,
		Example: `  rotor status prod/app/db
  rotor status prod/app/db --check-db --db-ca-bundle rds-ca.pem
  rotor status arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/app/db-AbCdEf --profile prod --output json`,
	}
	cmd.Flags().BoolVar(&checkDB, "check-db", false, "when a rotation is unfinished, log in with AWSCURRENT's and AWSPENDING's credentials to tell whether clearing AWSPENDING is safe or the rotation must be completed")
	d.registerTLS(cmd, "with --check-db: ")
	return awsCommand(cmd, &a, 1, 1, func(ctx context.Context, pos []string) error {
		return exit(runStatus(ctx, c, &a, &d, checkDB, pos[0]))
	})
}

func runStatus(ctx context.Context, c *streams, a *awsFlags, d *dbFlags, checkDB bool, id string) int {
	stdout, stderr := c.stdout, c.stderr
	client, err := a.secretsClient(ctx)
	if err != nil {
		return fail(stderr, "status", err)
	}
	st, err := ops.GetStatus(ctx, client, id)
	if err != nil {
		return fail(stderr, "status", err)
	}
	if checkDB && len(st.LeftBehind) > 0 {
		dbOpts, err := d.options()
		if err != nil {
			return fail(stderr, "status", err)
		}
		ops.CheckLeftovers(ctx, client, dbOpts, &st)
	}
	if a.json() {
		if err := writeJSON(stdout, st); err != nil {
			return fail(stderr, "status", err)
		}
		return exitOK
	}
	printStatus(stdout, st)
	return exitOK
}

func printStatus(w io.Writer, st ops.Status) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Secret:\t%s\n", st.Name)
	fmt.Fprintf(tw, "ARN:\t%s\n", st.ARN)
	if st.DeletedDate != nil {
		fmt.Fprintf(tw, "Deleted:\tscheduled for deletion on %s\n", date(st.DeletedDate))
	}
	r := st.Rotation
	switch {
	case r.FunctionARN == "":
		fmt.Fprintf(tw, "Rotation:\tnot configured (no rotation function)\n")
	default:
		state := "enabled"
		if !r.Enabled {
			state = "disabled"
		}
		fmt.Fprintf(tw, "Rotation:\t%s, function %s\n", state, r.FunctionARN)
	}
	var rules []string
	if r.ScheduleExpression != "" {
		rules = append(rules, "schedule "+r.ScheduleExpression)
	}
	if r.AutomaticallyAfterDays > 0 {
		rules = append(rules, fmt.Sprintf("every %d days", r.AutomaticallyAfterDays))
	}
	if r.Duration != "" {
		rules = append(rules, "window "+r.Duration)
	}
	if len(rules) > 0 {
		fmt.Fprintf(tw, "Rules:\t%s\n", strings.Join(rules, ", "))
	}
	fmt.Fprintf(tw, "Last rotated:\t%s\n", date(r.LastRotated))
	fmt.Fprintf(tw, "Next rotation:\t%s\n", date(r.NextRotation))
	strategy := st.Strategy
	if strategy == "" {
		strategy = "(no rotor:strategy tag: the rotator's ROTATION_STRATEGY)"
	}
	fmt.Fprintf(tw, "Strategy:\t%s\n", strategy)
	switch o := st.LastOutcome; {
	case o == nil:
		fmt.Fprintf(tw, "Last outcome:\tnone recorded by rotor\n")
	case o.Step != "":
		fmt.Fprintf(tw, "Last outcome:\t%s at %s (version %s): %s\n", o.Result, o.Step, o.VersionID, o.Reason)
	default:
		fmt.Fprintf(tw, "Last outcome:\t%s (version %s)\n", o.Result, o.VersionID)
	}
	tw.Flush()

	fmt.Fprintln(w, "\nVersions:")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, v := range st.Versions {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", v.ID, strings.Join(v.Stages, ","), date(v.Created))
	}
	tw.Flush()

	if len(st.LeftBehind) == 0 {
		fmt.Fprintln(w, "\nLeft behind: nothing")
		return
	}
	fmt.Fprintln(w, "\nLeft behind:")
	for _, l := range st.LeftBehind {
		fmt.Fprintf(w, "  %s\n", l.Problem)
		if l.Current != nil {
			fmt.Fprintf(w, "    AWSCURRENT: %s: %s\n", l.Current.State, l.Current.Detail)
		}
		if l.Pending != nil {
			fmt.Fprintf(w, "    AWSPENDING: %s: %s\n", l.Pending.State, l.Pending.Detail)
		}
		fmt.Fprintf(w, "    what to do (%s): %s\n", l.Verdict, l.Advice)
	}
}

func date(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
