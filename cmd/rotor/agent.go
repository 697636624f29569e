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

	"github.com/rotorhq/rotor/internal/agent"
)

func init() {
	register("agent", command{summary: "keep a file (json, env or template) in step with a secret's AWSCURRENT value", run: runAgent})
}

// signals the agent can send, by name.
var agentSignals = map[string]syscall.Signal{"HUP": syscall.SIGHUP, "INT": syscall.SIGINT, "TERM": syscall.SIGTERM, "QUIT": syscall.SIGQUIT, "USR1": syscall.SIGUSR1, "USR2": syscall.SIGUSR2}

// runAgent only turns flags into an agent.Config; the agent package does
// the work.
func runAgent(ctx context.Context, args []string, _, stderr io.Writer) int {
	var (
		a                      awsFlags
		cfg                    agent.Config
		tmplFile, mode, signal string
	)
	fs := newFlagSet("agent", "SECRET --file PATH [flags] [-- COMMAND [ARGS...]]", stderr)
	a.register(fs)
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
	pos, code := parseCommand(fs, args, &a, 1, -1, stderr)
	if code >= 0 {
		return code
	}
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
