package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/rotorhq/rotor/internal/agent"
)

func init() { register("agent", newAgentCmd) }

// signals the agent can send, by name.
var agentSignals = map[string]syscall.Signal{"HUP": syscall.SIGHUP, "INT": syscall.SIGINT, "TERM": syscall.SIGTERM, "QUIT": syscall.SIGQUIT, "USR1": syscall.SIGUSR1, "USR2": syscall.SIGUSR2}

// newAgentCmd only turns flags into an agent.Config; the agent package
// does the work.
func newAgentCmd(c *streams) *cobra.Command {
	var (
		a                      awsFlags
		cfg                    agent.Config
		tmplFile, mode, signal string
	)
	cmd := &cobra.Command{
		Use:   "agent SECRET --file PATH [flags] [-- COMMAND [ARGS...]]",
		Short: "keep a file (json, env or template) in step with a secret's AWSCURRENT value",
		Long: `Keep a file in step with a secret: write its value (as JSON, as NAME='value'
lines, or through a Go template) atomically with --mode permissions, check
DescribeSecret every --interval, and rewrite the file only when the
version under --stage changed; then send --signal to --pid or --pid-file and
run the COMMAND given after -- (no shell, a minute at most). Exits 1 when it
cannot read the secret at start; later outages are logged and the last good
file stays. Runs until interrupted.`,
		Example: `  # DB_USERNAME='...' lines for a shell or systemd EnvironmentFile
  rotor agent prod/app/db --file /run/secrets/db.env --format env --env-prefix DB_

  # a config file from a template; HUP the server after each change
  rotor agent prod/app/db --file /etc/app/db.conf --format template --template db.conf.tmpl --signal HUP --pid-file /run/app.pid

  # run a command after each change
  rotor agent prod/app/db --file /run/secrets/db.json -- systemctl reload app`,
	}
	fs := cmd.Flags()
	fs.StringVar(&cfg.Path, "file", "", "the file to write (required)")
	fs.StringVar(&cfg.Format, "format", agent.FormatJSON, "json (the SecretString), env (NAME='value' lines) or template")
	fs.StringVar(&tmplFile, "template", "", "Go text/template file for --format template; its data is the secret's JSON object")
	fs.StringVar(&cfg.EnvPrefix, "env-prefix", "", "prefix of every name with --format env, e.g. DB_")
	fs.StringVar(&mode, "mode", "0600", "the file's permission bits, octal")
	fs.StringVar(&cfg.Stage, "stage", "AWSCURRENT", "staging label to follow")
	fs.DurationVar(&cfg.Interval, "interval", agent.DefaultInterval, "time between DescribeSecret checks")
	fs.Float64Var(&cfg.Jitter, "jitter", agent.DefaultJitter, "each wait moves by up to ± this fraction of --interval")
	fs.StringVar(&signal, "signal", "", "signal to send after each change: HUP, INT, TERM, QUIT, USR1 or USR2")
	fs.IntVar(&cfg.PID, "pid", 0, "process to signal")
	fs.StringVar(&cfg.PIDFile, "pid-file", "", "file holding the id of the process to signal, read at each change")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{agent.FormatJSON, agent.FormatEnv, agent.FormatTemplate}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("signal", cobra.FixedCompletions([]string{"HUP", "INT", "TERM", "QUIT", "USR1", "USR2"}, cobra.ShellCompDirectiveNoFileComp))
	return awsCommand(cmd, &a, 1, -1, func(ctx context.Context, pos []string) error {
		return exit(runAgent(ctx, c.stderr, &a, cfg, tmplFile, mode, signal, pos))
	})
}

func runAgent(ctx context.Context, stderr io.Writer, a *awsFlags, cfg agent.Config, tmplFile, mode, signal string, pos []string) int {
	cfg.SecretID, cfg.Command = pos[0], pos[1:]
	if tmplFile != "" {
		b, err := os.ReadFile(tmplFile)
		if err != nil {
			return fail(stderr, "agent", fmt.Errorf("--template: %w", err))
		}
		cfg.Template = string(b)
	}
	m, err := strconv.ParseUint(mode, 8, 32)
	if err != nil {
		return fail(stderr, "agent", fmt.Errorf("--mode %q: not an octal permission", mode))
	}
	cfg.Mode = os.FileMode(m)
	if signal != "" {
		s, ok := agentSignals[strings.TrimPrefix(strings.ToUpper(signal), "SIG")]
		if !ok {
			return fail(stderr, "agent", fmt.Errorf("--signal %q: want HUP, INT, TERM, QUIT, USR1 or USR2", signal))
		}
		cfg.Signal = s
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	sm, err := a.secretsClient(ctx)
	if err != nil {
		return fail(stderr, "agent", err)
	}
	ag, err := agent.New(sm, cfg)
	if err != nil {
		return fail(stderr, "agent", err)
	}
	if err := ag.Run(ctx); err != nil {
		return fail(stderr, "agent", err)
	}
	return exitOK
}
