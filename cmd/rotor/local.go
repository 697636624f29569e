package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/local/awslocal"
)

func init() {
	register("local", command{
		summary: "run the local AWS stand-in (Secrets Manager, Lambda Invoke, RDS, SNS)",
		run:     runLocal,
	})
}

// faultFlags collects repeated --fault specs (awslocal.ParseFault).
type faultFlags []awslocal.Fault

func (f *faultFlags) String() string { return "" }

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

func (f functionFlags) String() string { return fmt.Sprint(map[string]string(f)) }

func (f functionFlags) Set(v string) error {
	arn, u, ok := strings.Cut(v, "=")
	if !ok || !strings.HasPrefix(arn, "arn:") || !strings.HasPrefix(u, "http") {
		return fmt.Errorf("want <function-arn>=<invoke-url>, got %q", v)
	}
	f[arn] = u
	return nil
}

func runLocal(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "serve" {
		fmt.Fprintln(stderr, "usage: rotor local serve [flags]\n\nRun 'rotor local serve -h' for the flags.")
		return 2
	}
	fs := flag.NewFlagSet("rotor local serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:4566", "address to listen on")
	functions := functionFlags{}
	fs.Var(functions, "function", "rotation function as <function-arn>=<invoke-url> (Lambda Invoke shape, e.g. the Runtime Interface Emulator); repeatable")
	state := fs.String("state", "", "JSON state file (and FILE.journal), loaded at start; a change is answered once it is on disk")
	region := fs.String("region", awslocal.DefaultRegion, "region in new ARNs (a request's SigV4 credential scope wins)")
	account := fs.String("account", awslocal.DefaultAccount, "account ID in new ARNs")
	attempts := fs.Int("rotation-attempts", awslocal.DefaultRotationAttempts, "passes a rotation gets before it is reported failed")
	backoff := fs.Duration("rotation-backoff", awslocal.DefaultRotationBackoff, "wait before the second pass, doubled for each later one")
	tick := fs.Duration("tick", awslocal.DefaultTickInterval, "how often to start due scheduled rotations")
	eventsTo := fs.String("events-to", "", "push rotation failure events (RotationFailed, RotationAbandoned, TestRotationFailed) in EventBridge's envelope to this invoke URL (Lambda Invoke shape, e.g. the notifier under the Runtime Interface Emulator), as the alerts module's rule does")
	var faults faultFlags
	fs.Var(&faults, "fault", "answer some Secrets Manager calls with a fault: op=<Operation>,secret=<id>,answer=throttle|error|delay|deny[,status=503][,delay=2s][,count=N][,fraction=F] (op and secret optional; also POST /_awslocal/faults); repeatable")
	quiet := fs.Bool("quiet", false, "do not log requests")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *eventsTo != "" && !strings.HasPrefix(*eventsTo, "http") {
		fmt.Fprintf(stderr, "rotor local serve: --events-to wants an invoke URL, got %q\n", *eventsTo)
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	if *quiet {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	srv, err := awslocal.New(awslocal.Options{Region: *region, Account: *account, StateFile: *state, Logger: logger,
		RotationAttempts: *attempts, RotationBackoff: *backoff, TickInterval: *tick})
	if err != nil {
		fmt.Fprintf(stderr, "rotor local serve: %v\n", err)
		return 1
	}
	for _, f := range faults {
		if _, err := srv.AddFault(f); err != nil {
			fmt.Fprintf(stderr, "rotor local serve: %v\n", err)
			return 2
		}
	}
	for arn, u := range functions {
		srv.SetFunction(arn, &awslocal.HTTPInvoker{URL: u})
	}
	if *eventsTo != "" {
		// The alerts module's rule: failures and abandonments only.
		srv.SetEventTarget(&awslocal.HTTPInvoker{URL: *eventsTo}, events.RotationFailed, events.RotationAbandoned, events.TestRotationFailed)
	}
	url, err := srv.Start(*listen)
	if err != nil {
		fmt.Fprintf(stderr, "rotor local serve: %v\n", err)
		return 1
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
		return 1
	}
	return 0
}
