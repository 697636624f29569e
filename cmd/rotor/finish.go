package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rotorhq/rotor/internal/ops"
)

func init() { register("finish", newFinishCmd) }

func newFinishCmd(c *streams) *cobra.Command {
	var (
		a awsFlags
		d dbFlags
	)
	cmd := &cobra.Command{
		Use:   "finish SECRET [flags]",
		Short: "complete an unfinished rotation whose pending credential is the only one that logs in",
		Long: `Complete a rotation that stopped after setSecret: the database already has
the AWSPENDING version's password, so AWSCURRENT no longer logs in. finish
logs in with both credentials and moves AWSCURRENT to the pending version
only when the pending credential is the one that works; anything else is
refused and nothing changes (rotor status --check-db says what to do).`,
		Example: `  # what rotor status --check-db or rotor check advised
  rotor finish prod/app/db
  rotor finish prod/app/db --db-ca-bundle rds-ca.pem --output json`,
	}
	d.registerTLS(cmd, "")
	return awsCommand(cmd, &a, 1, 1, func(ctx context.Context, pos []string) error {
		stdout, stderr := c.stdout, c.stderr
		dbOpts, err := d.options()
		if err != nil {
			return exit(fail(stderr, "finish", err))
		}
		client, err := a.secretsClient(ctx)
		if err != nil {
			return exit(fail(stderr, "finish", err))
		}
		res, err := ops.Finish(ctx, ops.FinishOptions{Secrets: client, DB: dbOpts}, pos[0])
		return exit(change{cmd: "finish", result: res, err: err, text: func() {
			fmt.Fprintf(stdout, "%s: rotation completed\n  AWSCURRENT:  %s (its credential logs in)\n  AWSPREVIOUS: %s\n", res.ARN, res.ToVersion, res.FromVersion)
		}}.report(a.json(), stdout, stderr))
	})
}
