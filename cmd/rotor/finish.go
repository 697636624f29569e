package main

import (
	"context"
	"fmt"
	"io"

	"github.com/rotorhq/rotor/internal/ops"
)

func init() {
	register("finish", command{summary: "complete an unfinished rotation whose pending credential is the only one that logs in", run: runFinish})
}

func runFinish(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var (
		a awsFlags
		d dbFlags
	)
	fs := newFlagSet("finish", "SECRET [flags]", stderr)
	a.register(fs)
	fs.StringVar(&d.tls, "db-tls", "", "TLS mode when the secret has no \"ssl\" key: verify-full, require or disable (default: DB_TLS, else verify-full)")
	fs.StringVar(&d.caBundle, "db-ca-bundle", "", "PEM file of CAs that verify the database (default: DB_CA_BUNDLE, else the system roots)")
	pos, code := parseCommand(fs, args, &a, 1, 1, stderr)
	if code >= 0 {
		return code
	}
	dbOpts, err := d.options()
	if err != nil {
		return fail(stderr, "finish", err)
	}
	client, err := a.secretsClient(ctx)
	if err != nil {
		return fail(stderr, "finish", err)
	}
	res, err := ops.Finish(ctx, ops.FinishOptions{Secrets: client, DB: dbOpts}, pos[0])
	return change{cmd: "finish", result: res, err: err, text: func() {
		fmt.Fprintf(stdout, "%s: rotation completed\n  AWSCURRENT:  %s (its credential logs in)\n  AWSPREVIOUS: %s\n", res.ARN, res.ToVersion, res.FromVersion)
	}}.report(a.json(), stdout, stderr)
}
