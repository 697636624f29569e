package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rotorhq/rotor/internal/ops"
)

func init() { register("rollback", newRollbackCmd) }

func newRollbackCmd(c *streams) *cobra.Command {
	var (
		a awsFlags
		d dbFlags
	)
	cmd := &cobra.Command{
		Use:   "rollback SECRET [flags]",
		Short: "make AWSPREVIOUS current again, after proving it logs in",
		Long: `Make the AWSPREVIOUS version current again. single-user: the database
password is set back to the previous version's first (logged in as the user
with the current password), and put back if the previous credential then
does not log in. alternating-users: the previous user kept its password, so
its credential only has to log in. rds-master: refused (only RDS can set
the master password; roll forward with rotor rotate). Only then does
AWSCURRENT move; a second rollback undoes the first. A secret with no
AWSPREVIOUS, an unfinished rotation, or a previous credential that cannot
be made to log in is refused and nothing changes.`,
		Example: `  rotor rollback prod/app/db
  rotor rollback prod/app/db --strategy alternating-users --db-tls verify-full --db-ca-bundle rds-ca.pem
  rotor rollback prod/app/db --output json`,
	}
	d.register(cmd)
	return awsCommand(cmd, &a, 1, 1, func(ctx context.Context, pos []string) error {
		stdout, stderr := c.stdout, c.stderr
		dbOpts, err := d.options()
		if err != nil {
			return exit(fail(stderr, "rollback", err))
		}
		client, err := a.secretsClient(ctx)
		if err != nil {
			return exit(fail(stderr, "rollback", err))
		}
		res, err := ops.Rollback(ctx, ops.RollbackOptions{Secrets: client, DB: dbOpts, Strategy: d.strategy}, pos[0])
		return exit(change{cmd: "rollback", result: res, err: err, text: func() {
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
		}}.report(a.json(), stdout, stderr))
	})
}
