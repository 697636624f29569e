package main

import (
	"context"
	"errors"
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
	if a.json() {
		out := struct {
			ops.RollbackResult
			OK      bool   `json:"ok"`
			Refused bool   `json:"refused,omitempty"`
			Error   string `json:"error,omitempty"`
		}{RollbackResult: res, OK: err == nil}
		if err != nil {
			var re *ops.RefusedError
			out.Refused = errors.As(err, &re)
			out.Error = err.Error()
		}
		if werr := writeJSON(stdout, out); werr != nil {
			return fail(stderr, "rollback", werr)
		}
		if err != nil {
			return exitFail
		}
		return exitOK
	}
	if err != nil {
		var re *ops.RefusedError
		if errors.As(err, &re) {
			fmt.Fprintf(stderr, "rotor rollback: refused, nothing changed: %s\n", re.Message())
			return exitFail
		}
		return fail(stderr, "rollback", err)
	}
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
	return exitOK
}
