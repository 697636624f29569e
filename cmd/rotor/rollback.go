package main

import (
	"context"
	"fmt"
	"io"

	"github.com/rotorhq/rotor/internal/ops"
)

func init() {
	register("rollback", command{summary: "make AWSPREVIOUS current again, after proving it logs in", run: runRollback})
}

func runRollback(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var (
		a awsFlags
		d dbFlags
	)
	fs := newFlagSet("rollback", "SECRET [flags]", stderr)
	a.register(fs)
	d.register(fs)
	pos, code := parseCommand(fs, args, &a, 1, 1, stderr)
	if code >= 0 {
		return code
	}
	dbOpts, err := d.options()
	if err != nil {
		return fail(stderr, "rollback", err)
	}
	client, err := a.secretsClient(ctx)
	if err != nil {
		return fail(stderr, "rollback", err)
	}
	res, err := ops.Rollback(ctx, ops.RollbackOptions{Secrets: client, DB: dbOpts, Strategy: d.strategy}, pos[0])
	return change{cmd: "rollback", result: res, err: err, text: func() {
		fmt.Fprintf(stdout, "%s: rolled back (%s, from %s)\n", res.ARN, res.Strategy, res.StrategySource)
		fmt.Fprintf(stdout, "  AWSCURRENT:  %s (was AWSPREVIOUS)\n  AWSPREVIOUS: %s (was AWSCURRENT)\n", res.ToVersion, res.FromVersion)
		switch {
		case res.PasswordRestored:
			fmt.Fprintln(stdout, "  database: password set back to the previous version's; it logs in")
		case res.AlreadyRestored:
			fmt.Fprintln(stdout, "  database: already had the previous version's password; it logs in")
		default:
			fmt.Fprintln(stdout, "  database: unchanged; the previous credential logs in")
		}
	}}.report(a.json(), stdout, stderr)
}
