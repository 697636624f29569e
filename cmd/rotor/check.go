package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/rotorhq/rotor/internal/config"
	"github.com/rotorhq/rotor/internal/config/rotatorconfig"
	"github.com/rotorhq/rotor/internal/ops"
	"github.com/rotorhq/rotor/internal/rdsendpoint"
)

func init() {
	register("check", command{summary: "preflight a secret: document, database, TLS, logins, admin, rotation settings", run: runCheck})
}

func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var (
		a         awsFlags
		d         dbFlags
		sessions  string
		adminARNs string
	)
	fs := newFlagSet("check", "SECRET [flags]", stderr)
	a.register(fs)
	d.register(fs)
	fs.StringVar(&sessions, "previous-user-sessions", "", "warn or fail: the rotator's policy for open sessions of the user the next rotation changes (default: "+config.EnvPreviousUserSessions+", else warn)")
	fs.StringVar(&adminARNs, "admin-secret-arns", os.Getenv(config.EnvAdminSecretARNs), "comma-separated ARNs of the admin secrets the rotator may use: its "+config.EnvAdminSecretARNs+" (default: "+config.EnvAdminSecretARNs+")")
	pos, code := parseCommand(fs, args, &a, 1, 1, stderr)
	if code >= 0 {
		return code
	}
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
		fmt.Fprintf(stderr, "rotor check: %v\n", err)
		return exitUsage
	}
	dbOpts, err := db.StrategyOptions()
	if err != nil {
		return fail(stderr, "check", err)
	}
	client, rdsClient, err := a.clients(ctx)
	if err != nil {
		return fail(stderr, "check", err)
	}
	dbOpts.RDS = rdsClient
	checks := ops.Preflight(ctx, ops.CheckOptions{Secrets: client, DB: dbOpts, Strategy: d.strategy, Endpoints: rdsendpoint.Resolver{RDS: rdsClient}, AdminSecretARNs: allowed}, pos[0])
	failed := ops.Failed(checks)
	if a.json() {
		out := struct {
			Secret string      `json:"secret"`
			OK     bool        `json:"ok"`
			Checks []ops.Check `json:"checks"`
		}{pos[0], !failed, checks}
		if err := writeJSON(stdout, out); err != nil {
			return fail(stderr, "check", err)
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
		return exitFail
	}
	return exitOK
}
