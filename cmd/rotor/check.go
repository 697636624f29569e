package main

import (
	"context"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/rotorhq/rotor/internal/config"
	"github.com/rotorhq/rotor/internal/config/rotatorconfig"
	"github.com/rotorhq/rotor/internal/ops"
	"github.com/rotorhq/rotor/internal/rdsendpoint"
)

func init() { register("check", newCheckCmd) }

func newCheckCmd(c *streams) *cobra.Command {
	var (
		a         awsFlags
		d         dbFlags
		sessions  string
		adminARNs string
	)
	cmd := &cobra.Command{
		Use:   "check SECRET [flags]",
		Short: "preflight a secret: document, database, TLS, logins, admin, rotation settings",
		Long: `Preflight a secret the way the rotator will use it: the document, the
rotation settings, an unfinished earlier rotation, the database connection
with TLS exactly as configured, AWSCURRENT's login, the admin secret and its
privileges, the clone name, open sessions. One line per check (PASS, FAIL,
WARN, INFO, SKIP) with a fix under each failure; exit 1 when any fails.
Nothing is changed. Run it where the rotator runs (same network).`,
		Example: `  rotor check prod/app/db
  rotor check prod/app/db --strategy alternating-users --admin-secret-arns arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/admin-AbCdEf
  rotor check prod/app/db --db-tls verify-full --db-ca-bundle rds-ca.pem --output json`,
	}
	d.register(cmd)
	cmd.Flags().StringVar(&sessions, "previous-user-sessions", "", "warn or fail: the rotator's policy for open sessions of the user the next rotation changes (default: "+config.EnvPreviousUserSessions+", else warn)")
	cmd.Flags().StringVar(&adminARNs, "admin-secret-arns", os.Getenv(config.EnvAdminSecretARNs), "comma-separated ARNs of the admin secrets the rotator may use: its "+config.EnvAdminSecretARNs+" (default: "+config.EnvAdminSecretARNs+")")
	_ = cmd.RegisterFlagCompletionFunc("previous-user-sessions", cobra.FixedCompletions([]string{"warn", "fail"}, cobra.ShellCompDirectiveNoFileComp))
	return awsCommand(cmd, &a, 1, 1, func(ctx context.Context, pos []string) error {
		return runCheck(ctx, c, &a, &d, sessions, adminARNs, pos[0])
	})
}

// runCheck returns a usage error for settings it cannot take, else the
// exit code.
func runCheck(ctx context.Context, c *streams, a *awsFlags, d *dbFlags, sessions, adminARNs, id string) error {
	stdout, stderr := c.stdout, c.stderr
	db, err := d.settings()
	if err == nil && sessions != "" {
		if db.PreviousUserSessions, err = rotatorconfig.ParseSessionsPolicy(sessions); err != nil {
			err = fmt.Errorf("--previous-user-sessions: %w", err)
		}
	}
	var allowed []string
	if err == nil {
		if allowed, err = rotatorconfig.ParseAdminSecretARNs(adminARNs); err != nil {
			err = fmt.Errorf("--admin-secret-arns: %w", err)
		}
	}
	if err != nil {
		return err
	}
	dbOpts, err := db.StrategyOptions()
	if err != nil {
		return exit(fail(stderr, "check", err))
	}
	client, rdsClient, err := a.clients(ctx)
	if err != nil {
		return exit(fail(stderr, "check", err))
	}
	dbOpts.RDS = rdsClient
	checks := ops.Preflight(ctx, ops.CheckOptions{Secrets: client, DB: dbOpts, Strategy: d.strategy, Endpoints: rdsendpoint.Resolver{RDS: rdsClient}, AdminSecretARNs: allowed}, id)
	failed := ops.Failed(checks)
	if a.json() {
		out := struct {
			Secret string      `json:"secret"`
			OK     bool        `json:"ok"`
			Checks []ops.Check `json:"checks"`
		}{id, !failed, checks}
		if err := writeJSON(stdout, out); err != nil {
			return exit(fail(stderr, "check", err))
		}
	} else {
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		for _, c := range checks {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Status, c.Name, c.Detail)
			if c.Hint != "" && (c.Status == ops.CheckFail || c.Status == ops.CheckWarn) {
				fmt.Fprintf(tw, "\t\tfix: %s\n", c.Hint)
			}
		}
		tw.Flush()
		if failed {
			fmt.Fprintln(stdout, "preflight failed")
		} else {
			fmt.Fprintln(stdout, "preflight passed")
		}
	}
	if failed {
		return exitCode(exitFail)
	}
	return nil
}
