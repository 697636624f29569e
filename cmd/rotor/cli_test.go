package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/spf13/cobra"

	"github.com/rotorhq/rotor/internal/local/awslocal/awslocaltest"
)

// TestEveryCommandHasExamples walks the command tree: every command a user
// can reach (help and completion included) has a summary and examples, and
// every example that runs rotor names a real command with flags it takes,
// so the examples cannot go stale.
func TestEveryCommandHasExamples(t *testing.T) {
	t.Parallel()
	var walk func(cmd *cobra.Command)
	seen := 0
	walk = func(cmd *cobra.Command) {
		if cmd.Hidden {
			return
		}
		seen++
		if strings.TrimSpace(cmd.Example) == "" || cmd.Short == "" {
			t.Errorf("%s: Short %q, Example %q; want both", cmd.CommandPath(), cmd.Short, cmd.Example)
		}
		for _, line := range strings.Split(cmd.Example, "\n") {
			line = strings.TrimSpace(line)
			if i := strings.Index(line, "rotor "); i < 0 || strings.HasPrefix(line, "#") || strings.Contains(line[:i], "/") {
				continue
			} else {
				line = line[i:]
			}
			// The command line up to a shell operator.
			var args []string
			for _, f := range strings.Fields(line)[1:] {
				if f == ">" || f == "|" || f == "\\" || f == ")" {
					break
				}
				args = append(args, strings.TrimSuffix(f, ")"))
			}
			root := newRootCmd(&streams{stdout: os.Stdout, stderr: os.Stderr, isTerminal: isTerminal})
			root.InitDefaultHelpFlag()
			found, rest, err := root.Find(args)
			if err != nil || found == root && len(args) > 0 && !strings.HasPrefix(args[0], "-") {
				t.Errorf("%s: example %q: no such command (%v)", cmd.CommandPath(), line, err)
				continue
			}
			found.InitDefaultHelpFlag()
			if err := found.ParseFlags(rest); err != nil {
				t.Errorf("%s: example %q: %v", cmd.CommandPath(), line, err)
			}
		}
		for _, sub := range cmd.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd(&streams{stdout: os.Stdout, stderr: os.Stderr, isTerminal: isTerminal}))
	// rotor, its 10 commands, local serve, help, completion and its 4 shells.
	if seen < 17 {
		t.Fatalf("walked %d commands, want at least 17", seen)
	}
}

// TestHelpShowsExamplesAndFlags: --help and help COMMAND print the
// command's examples and its flags as they are typed, on stdout, exit 0.
func TestHelpShowsExamplesAndFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"rotate", "--help"}, {"help", "rotate"}, {"rotate", "-h"}} {
		code, out, errOut := cli(t, args...)
		if code != 0 || !strings.Contains(out, "Examples:\n  # rotate one secret") || !strings.Contains(out, "      --wait   ") || errOut != "" {
			t.Errorf("rotor %v: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, out, errOut)
		}
	}
	code, out, errOut := cli(t)
	if code != exitUsage || out != "" || !strings.Contains(errOut, "Available Commands:") || !strings.Contains(errOut, "Exit codes:") {
		t.Errorf("bare rotor: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

// TestCompletionScripts: rotor completion prints a script for bash, zsh
// and fish (bash's passes bash -n), and the completion engine the scripts
// call answers with commands, flag values and profile names.
func TestCompletionScripts(t *testing.T) {
	t.Parallel()
	for shell, marker := range map[string]string{
		"bash": "__start_rotor",
		"zsh":  "#compdef rotor",
		"fish": "complete -c rotor",
	} {
		code, out, errOut := cli(t, "completion", shell)
		if code != 0 || !strings.Contains(out, marker) || errOut != "" {
			t.Errorf("rotor completion %s: exit %d, stderr %q, script has %q: %v", shell, code, errOut, marker, strings.Contains(out, marker))
		}
		if shell != "bash" {
			continue
		}
		script := filepath.Join(t.TempDir(), "rotor.bash")
		if err := os.WriteFile(script, []byte(out), 0o600); err != nil {
			t.Fatal(err)
		}
		if msg, err := exec.Command("bash", "-n", script).CombinedOutput(); err != nil {
			t.Errorf("bash -n on the bash completion script: %v\n%s", err, msg)
		}
	}
	if code, _, errOut := cli(t, "completion", "tcsh"); code != exitUsage || !strings.Contains(errOut, `unknown command "tcsh"`) {
		t.Errorf("rotor completion tcsh: exit %d, stderr %q; want 2", code, errOut)
	}

	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "rot"}, []string{"rotate\t"}},
		{[]string{"__complete", "rotate", "--output", ""}, []string{"text", "json"}},
		{[]string{"__complete", "check", "x", "--strategy", ""}, []string{"single-user", "alternating-users"}},
		{[]string{"__complete", "agent", "x", "--signal", ""}, []string{"HUP", "USR1"}},
		{[]string{"__complete", "completion", ""}, []string{"bash", "zsh", "fish"}},
	} {
		code, out, _ := cli(t, tc.args...)
		for _, w := range tc.want {
			if code != 0 || !strings.Contains(out, w) {
				t.Errorf("rotor %v: exit %d, offered:\n%s\nwant %q", tc.args, code, out, w)
			}
		}
	}
}

// TestTypos: a mistyped command or flag is a usage error (exit 2) that
// suggests what was meant; a long flag with one dash is told to take two.
func TestTypos(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"rotat"}, "unknown command \"rotat\" for \"rotor\"\n\nDid you mean this?\n\trotate\n"},
		{[]string{"rotat", "prod/app/db", "--wait"}, "Did you mean this?\n\trotate\n"},
		{[]string{"stauts", "prod/app/db"}, "Did you mean this?\n\tstatus\n"},
		{[]string{"rotate", "prod/app/db", "--wiat"}, "unknown flag: --wiat\n\nDid you mean this?\n\t--wait\n"},
		{[]string{"status", "prod/app/db", "-region", "eu-west-1"}, "flags take two dashes: --region"},
		{[]string{"local", "serv"}, "Did you mean this?\n\tserve\n"},
		{[]string{"-version"}, "flags take two dashes: --version"},
	} {
		code, out, errOut := cli(t, tc.args...)
		if code != exitUsage || out != "" || !strings.Contains(errOut, tc.want) {
			t.Errorf("rotor %v: exit %d\nstdout %q\nstderr:\n%s\nwant 2 and %q", tc.args, code, out, errOut, tc.want)
		}
	}
}

// TestUsageErrors: missing and extra arguments and bad flag values are
// exit 2 with the reason, the usage line and the flags.
func TestUsageErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"status"}, "rotor status: missing secret name or ARN"},
		{[]string{"status", "a", "b"}, "rotor status: unexpected arguments b"},
		{[]string{"status", "a", "--output", "yaml"}, `rotor status: --output "yaml": want text or json`},
		{[]string{"rotate", "a", "--timeout", "soon"}, `invalid argument "soon" for "--timeout"`},
		{[]string{"local"}, "rotor local: missing command: serve"},
		{[]string{"local", "serve", "--events-to", "ftp://x"}, "--events-to wants an invoke URL"},
		{[]string{"demo", "now"}, `unknown command "now" for "rotor demo"`},
	} {
		code, out, errOut := cli(t, tc.args...)
		if code != exitUsage || out != "" || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "Usage:") && !strings.Contains(errOut, "--help") {
			t.Errorf("rotor %v: exit %d\nstdout %q\nstderr:\n%s\nwant 2 and %q", tc.args, code, out, errOut, tc.want)
		}
	}
}

// TestProfileFlag: --profile selects a profile of the shared config and
// credentials files (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE) whose
// region and endpoint_url lead to the stand-in; without it the default
// profile (empty here) does not; an unknown profile is named.
func TestProfileFlag(t *testing.T) {
	srv, cfg := awslocaltest.New(t)
	sm := secretsmanager.NewFromConfig(cfg)
	if _, err := sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String("app/profile"), SecretString: aws.String(`{"username":"app","password":"pw-profile-cli"}`)}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	config := filepath.Join(dir, "config")
	creds := filepath.Join(dir, "credentials")
	if err := os.WriteFile(config, []byte("[default]\n\n[profile rotor-test]\nregion = "+srv.Region()+"\nendpoint_url = "+srv.URL()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(creds, []byte("[rotor-test]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = profile-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", config)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", creds)
	t.Setenv("AWS_REGION", "")
	os.Unsetenv("AWS_REGION")

	code, out, errOut := cli(t, "status", "app/profile", "--profile", "rotor-test")
	if code != 0 || !strings.Contains(out, "Secret:") || !strings.Contains(out, "app/profile") {
		t.Fatalf("status --profile rotor-test: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if code, _, errOut := cli(t, "status", "app/profile"); code == 0 || !strings.Contains(errOut, "no AWS region") {
		t.Fatalf("status without --profile: exit %d, stderr %q; want the default profile's missing region", code, errOut)
	}
	if code, _, errOut := cli(t, "status", "app/profile", "--profile", "nope"); code != exitFail || !strings.Contains(errOut, "nope") {
		t.Fatalf("status --profile nope: exit %d, stderr %q; want 1 naming the profile", code, errOut)
	}
	code, out, _ = cli(t, "__complete", "status", "--profile", "")
	if code != 0 || !strings.Contains(out, "rotor-test\n") || !strings.Contains(out, "default\n") {
		t.Fatalf("profile completion: exit %d\n%s", code, out)
	}
}
