package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/local/awslocal"
)

func init() {
	register("local", func(c *streams) *cobra.Command {
		cmd := groupCommand(&cobra.Command{
			Use:   "local",
			Short: "run the local AWS stand-in (Secrets Manager, Lambda Invoke, RDS, SNS)",
			Example: `  rotor local serve --listen 127.0.0.1:4566
  AWS_ENDPOINT_URL=http://127.0.0.1:4566 aws secretsmanager list-secrets`,
			ValidArgsFunction:     cobra.NoFileCompletions,
			DisableFlagsInUseLine: true,
		})
		cmd.AddCommand(newLocalServeCmd(c))
		return cmd
	})
}

// faultFlags collects repeated --fault specs (awslocal.ParseFault).
type faultFlags []awslocal.Fault

func (f *faultFlags) String() string { return "" }

func (f *faultFlags) Type() string { return "spec" }

func (f *faultFlags) Set(v string) error {
	x, err := awslocal.ParseFault(v)
	if err != nil {
		return err
	}
	*f = append(*f, x)
	return nil
}

// functionFlags collects repeated --function ARN=URL flags.
type functionFlags map[string]string

func (f functionFlags) String() string {
	if len(f) == 0 {
		return ""
	}
	return fmt.Sprint(map[string]string(f))
}

func (f functionFlags) Type() string { return "arn=url" }

func (f functionFlags) Set(v string) error {
	arn, u, ok := strings.Cut(v, "=")
	if !ok || !strings.HasPrefix(arn, "arn:") || !strings.HasPrefix(u, "http") {
		return fmt.Errorf("want <function-arn>=<invoke-url>, got %q", v)
	}
	f[arn] = u
	return nil
}

// localServe is rotor local serve's flags.
type localServe struct {
	listen, state, region, account, eventsTo string
	functions                                functionFlags
	attempts                                 int
	backoff, tick                            time.Duration
	faults                                   faultFlags
	quiet                                    bool
}

func newLocalServeCmd(c *streams) *cobra.Command {
	o := localServe{functions: functionFlags{}}
	cmd := &cobra.Command{
		Use:   "serve [flags]",
		Short: "serve Secrets Manager, Lambda Invoke, RDS and SNS locally until interrupted",
		Long: `Serve the local AWS stand-in: Secrets Manager with the real service's
contract (rotation through registered functions, staging labels, quotas'
error shapes), Lambda Invoke, the RDS and SNS calls rotor makes, and
EventBridge's rotation failure events. Any AWS SDK or the AWS CLI reaches it
with --endpoint-url or AWS_ENDPOINT_URL. Stops cleanly on SIGINT or SIGTERM.`,
		Example: `  # a stand-in on the usual port, state kept across restarts
  rotor local serve --listen 127.0.0.1:4566 --state /tmp/rotor-local.json

  # rotation through a rotator under the Lambda Runtime Interface Emulator
  rotor local serve --function arn:aws:lambda:us-east-1:123456789012:function:rotator=http://127.0.0.1:9001/2015-03-31/functions/function/invocations

  # throttle the first two PutSecretValue calls
  rotor local serve --fault op=PutSecretValue,answer=throttle,count=2`,
		Args:              cobra.NoArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.eventsTo != "" && !strings.HasPrefix(o.eventsTo, "http") {
				return fmt.Errorf("--events-to wants an invoke URL, got %q", o.eventsTo)
			}
			return runLocalServe(cmd.Context(), c, o)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.listen, "listen", "127.0.0.1:4566", "address to listen on")
	fs.Var(o.functions, "function", "rotation function as <function-arn>=<invoke-url> (Lambda Invoke shape, e.g. the Runtime Interface Emulator); repeatable")
	fs.StringVar(&o.state, "state", "", "JSON state file (and FILE.journal), loaded at start; a change is answered once it is on disk")
	fs.StringVar(&o.region, "region", awslocal.DefaultRegion, "region in new ARNs (a request's SigV4 credential scope wins)")
	fs.StringVar(&o.account, "account", awslocal.DefaultAccount, "account ID in new ARNs")
	fs.IntVar(&o.attempts, "rotation-attempts", awslocal.DefaultRotationAttempts, "passes a rotation gets before it is reported failed")
	fs.DurationVar(&o.backoff, "rotation-backoff", awslocal.DefaultRotationBackoff, "wait before the second pass, doubled for each later one")
	fs.DurationVar(&o.tick, "tick", awslocal.DefaultTickInterval, "how often to start due scheduled rotations")
	fs.StringVar(&o.eventsTo, "events-to", "", "push rotation failure events (RotationFailed, RotationAbandoned, TestRotationFailed) in EventBridge's envelope to this invoke URL (Lambda Invoke shape, e.g. the notifier under the Runtime Interface Emulator), as the alerts module's rule does")
	fs.Var(&o.faults, "fault", "answer some Secrets Manager calls with a fault: op=<Operation>,secret=<id>,answer=throttle|error|delay|deny[,status=503][,delay=2s][,count=N][,fraction=F] (op and secret optional; also POST /_awslocal/faults); repeatable")
	fs.BoolVar(&o.quiet, "quiet", false, "do not log requests")
	for _, name := range []string{"listen", "function", "region", "account", "events-to", "fault"} {
		_ = cmd.RegisterFlagCompletionFunc(name, cobra.NoFileCompletions)
	}
	return cmd
}

// runLocalServe serves until ctx ends. A fault the stand-in refuses is a
// usage error; failing to start or stop is exit 1.
func runLocalServe(ctx context.Context, c *streams, o localServe) error {
	stdout, stderr := c.stdout, c.stderr
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	if o.quiet {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	srv, err := awslocal.New(awslocal.Options{Region: o.region, Account: o.account, StateFile: o.state, Logger: logger,
		RotationAttempts: o.attempts, RotationBackoff: o.backoff, TickInterval: o.tick})
	if err != nil {
		fmt.Fprintf(stderr, "rotor local serve: %v\n", err)
		return exitCode(exitFail)
	}
	for _, f := range o.faults {
		if _, err := srv.AddFault(f); err != nil {
			srv.Close()
			return err
		}
	}
	for arn, u := range o.functions {
		srv.SetFunction(arn, &awslocal.HTTPInvoker{URL: u})
	}
	if o.eventsTo != "" {
		// The alerts module's rule: failures and abandonments only.
		srv.SetEventTarget(&awslocal.HTTPInvoker{URL: o.eventsTo}, events.RotationFailed, events.RotationAbandoned, events.TestRotationFailed)
	}
	url, err := srv.Start(o.listen)
	if err != nil {
		fmt.Fprintf(stderr, "rotor local serve: %v\n", err)
		return exitCode(exitFail)
	}
	fmt.Fprintf(stdout, "rotor local: listening on %s\n", url)
	<-ctx.Done()
	fmt.Fprintln(stdout, "rotor local: stopping")
	done := make(chan error, 1)
	go func() { done <- srv.Close() }()
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		err = fmt.Errorf("rotations still running after 10s")
	}
	if err != nil {
		fmt.Fprintf(stderr, "rotor local serve: stop: %v\n", err)
		return exitCode(exitFail)
	}
	return nil
}
