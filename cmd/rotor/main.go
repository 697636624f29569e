// Command rotor is the operator's tool for rotor: it rotates secrets and waits
// for the outcome, shows where a secret stands, rolls a rotation back,
// preflights a secret, runs the local AWS stand-in and the demo.
//
// The command line is built on cobra (github.com/spf13/cobra), which gives
// the help with examples, shell completion and typo suggestions. Each
// subcommand lives in its own file and registers a constructor in init;
// run builds a fresh command tree for every invocation, so flags never
// leak from one run to the next (the tests run many at once).
//
// Exit codes: 0 ok, 1 the operation ran and did not succeed (or was
// refused), 2 usage, 3 timed out (rotate --wait), 4 AWS refused the caller.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/agext/levenshtein"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/rotorhq/rotor/internal/version"
)

// streams are where one run of the command line writes, and how it tells
// a terminal from a file or pipe.
type streams struct {
	stdout, stderr io.Writer
	// isTerminal reports whether w is a terminal (see terminal.go); rotate
	// draws a live progress line there.
	isTerminal func(w io.Writer) bool
}

// newCommand builds one subcommand for a run. Subcommands register theirs
// in an init function of their own file, so adding a command touches no
// other file.
type newCommand func(*streams) *cobra.Command

var commands = map[string]newCommand{}

func register(name string, c newCommand) {
	if _, dup := commands[name]; dup {
		panic("rotor: command registered twice: " + name)
	}
	commands[name] = c
}

// exitCode is a command's result when it is not 0: the command has already
// said why on stderr (or in its JSON), and run returns the code as is.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// exit turns a command's exit code into RunE's error: nil for 0. Any other
// error a command returns is a usage error (exit 2), printed by run with
// the command's usage.
func exit(code int) error {
	if code == exitOK {
		return nil
	}
	return exitCode(code)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes the command line args and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runCLI(ctx, &streams{stdout: stdout, stderr: stderr, isTerminal: isTerminal}, args)
}

func runCLI(ctx context.Context, c *streams, args []string) int {
	root := newRootCmd(c)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return flagError(cmd, err, args) })
	// A nil slice would make cobra read os.Args.
	root.SetArgs(append([]string{}, args...))
	cmd, err := root.ExecuteContextC(ctx)
	var code exitCode
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &code):
		return int(code)
	}
	// Everything else is cobra's or the command's usage error: an unknown
	// command or flag, a missing or extra argument, a bad flag value.
	if cmd == nil {
		cmd = root
	}
	fmt.Fprintf(c.stderr, "%s: %v\n", cmd.CommandPath(), strings.TrimRight(err.Error(), "\n"))
	switch {
	case cmd.HasAvailableSubCommands() && !strings.HasPrefix(err.Error(), "unknown command"):
		fmt.Fprint(c.stderr, "\n"+cmd.UsageString())
		return exitUsage
	case !cmd.HasAvailableSubCommands():
		// The usage line and the flags, as typed (--wait); the examples
		// are one --help away.
		fmt.Fprintf(c.stderr, "\nUsage:\n  %s\n\nFlags:\n%s\n", cmd.UseLine(), cmd.Flags().FlagUsages())
	}
	fmt.Fprintf(c.stderr, "Run '%s --help' for usage and examples.\n", cmd.CommandPath())
	return exitUsage
}

const rootExample = `  # rotate a secret now and wait for the outcome
  rotor rotate prod/app/db --wait

  # where a secret stands: versions, labels, schedule, last outcome
  rotor status prod/app/db --profile prod --region eu-west-1

  # preflight a secret before turning rotation on
  rotor check prod/app/db

  # load shell completion into the current bash
  source <(rotor completion bash)`

// newRootCmd builds the command tree for one run.
func newRootCmd(c *streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "rotor",
		Short: "rotate database credentials in AWS Secrets Manager and see every outcome",
		Long: `rotor rotates database credentials stored in AWS Secrets Manager through
rotor's rotation functions, shows where a secret stands, completes or rolls
back an unfinished rotation, preflights a secret, keeps a file in step with
a secret, and runs the local AWS stand-in and the demo.

Exit codes: 0 ok, 1 the operation ran and did not succeed (or was refused),
2 usage, 3 rotate --wait timed out with rotations still running, 4 AWS
refused the caller (no credentials, expired credentials, access denied).`,
		Example: rootExample,
		Version: version.String(),
		// Errors and usage are printed by runCLI, once, in rotor's words.
		SilenceErrors: true,
		SilenceUsage:  true,
		// Args stays nil: cobra then checks an unknown command before it
		// parses flags ("rotor rotat --wait" is about rotat, not --wait),
		// with its suggestions.
		RunE: func(cmd *cobra.Command, args []string) error {
			// Bare "rotor": the help, on stderr, as a usage error.
			fmt.Fprint(c.stderr, cmd.Long+"\n\n"+cmd.UsageString())
			return exitCode(exitUsage)
		},
	}
	root.SetOut(c.stdout)
	root.SetErr(c.stderr)
	root.SetVersionTemplate("rotor {{.Version}}\n")
	root.Flags().BoolP("version", "v", false, "print rotor's version")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		root.AddCommand(commands[n](c))
	}
	// cobra adds help and completion when it runs; adding them now lets
	// them carry examples like every other command.
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	for _, sub := range root.Commands() {
		switch sub.Name() {
		case "help":
			sub.Short = "show the help of rotor or of a command"
			sub.Example = "  rotor help rotate\n  rotor rotate --help"
		case "completion":
			completionExamples(groupCommand(sub))
		}
	}
	return root
}

// completionExamples gives cobra's completion command and its per-shell
// subcommands their install lines as examples.
func completionExamples(cmd *cobra.Command) {
	lines := map[string]string{
		"bash":       "  # this shell only\n  source <(rotor completion bash)\n  # every new shell (needs the bash-completion package)\n  rotor completion bash > /etc/bash_completion.d/rotor",
		"zsh":        "  # every new shell (compinit must be enabled)\n  rotor completion zsh > \"${fpath[1]}/_rotor\"",
		"fish":       "  rotor completion fish > ~/.config/fish/completions/rotor.fish",
		"powershell": "  rotor completion powershell | Out-String | Invoke-Expression",
	}
	cmd.Short = "print a shell completion script: bash, zsh, fish or powershell"
	cmd.Example = "  source <(rotor completion bash)\n  rotor completion zsh > \"${fpath[1]}/_rotor\"\n  rotor completion fish > ~/.config/fish/completions/rotor.fish"
	for _, sub := range cmd.Commands() {
		sub.Short = "print the completion script for " + sub.Name()
		sub.Example = lines[sub.Name()]
	}
}

// unknownCommand is the root's argument check: any argument is a command
// rotor does not have, said with cobra's suggestions ("Did you mean
// this? rotate").
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	return fmt.Errorf("unknown command %q for %q%s", args[0], cmd.CommandPath(), didYouMean(cmd.SuggestionsFor(args[0])))
}

// groupCommand is a command that only holds subcommands (rotor local):
// run without one, or with one it does not have, it is a usage error.
func groupCommand(cmd *cobra.Command) *cobra.Command {
	cmd.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			var subs []string
			for _, s := range cmd.Commands() {
				subs = append(subs, s.Name())
			}
			return fmt.Errorf("missing command: %s", strings.Join(subs, ", "))
		}
		return unknownCommand(cmd, args)
	}
	cmd.RunE = func(*cobra.Command, []string) error { return nil }
	return cmd
}

func didYouMean(suggestions []string) string {
	if len(suggestions) == 0 {
		return ""
	}
	return "\n\nDid you mean this?\n\t" + strings.Join(suggestions, "\n\t")
}

// flagError words pflag's parse errors for a CLI user: an unknown flag gets
// the nearest flag names as suggestions, and a long flag written with one
// dash among args ("-wait", which pflag reads as the shorthands w, a, i,
// t) is told to take two.
func flagError(cmd *cobra.Command, err error, args []string) error {
	msg := err.Error()
	if strings.HasPrefix(msg, "unknown shorthand flag") {
		for _, a := range args {
			if a == "--" {
				break
			}
			name, _, _ := strings.Cut(strings.TrimPrefix(a, "-"), "=")
			if strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && len(name) > 1 && cmd.Flags().Lookup(name) != nil {
				return fmt.Errorf("flags take two dashes: --%s", name)
			}
		}
	}
	if name, ok := strings.CutPrefix(msg, "unknown flag: --"); ok {
		var near []string
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			if levenshtein.Distance(name, f.Name, nil) <= 2 || strings.HasPrefix(f.Name, name) {
				near = append(near, "--"+f.Name)
			}
		})
		return errors.New(msg + didYouMean(near))
	}
	return err
}

func init() {
	register("version", func(c *streams) *cobra.Command {
		return &cobra.Command{
			Use:     "version",
			Short:   "print rotor's version",
			Example: "  rotor version\n  rotor --version",
			Args:    cobra.NoArgs,
			RunE: func(*cobra.Command, []string) error {
				fmt.Fprintln(c.stdout, "rotor", version.String())
				return nil
			},
		}
	})
}
