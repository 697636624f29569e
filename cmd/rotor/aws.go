package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
	"github.com/spf13/cobra"

	"github.com/rotorhq/rotor/internal/config"
	"github.com/rotorhq/rotor/internal/config/rotatorconfig"
	"github.com/rotorhq/rotor/internal/lambdafn"
	"github.com/rotorhq/rotor/internal/ops"
	"github.com/rotorhq/rotor/internal/rdsapi"
	"github.com/rotorhq/rotor/strategies"
)

// Exit codes shared by the day-2 commands.
const (
	exitOK    = 0
	exitFail  = 1 // the operation ran and did not succeed, or was refused
	exitUsage = 2
	// exitTimedOut: rotor rotate --wait reached its timeout with rotations
	// still running (none failed).
	exitTimedOut = 3
	// exitAWSAccess: AWS refused the caller (no credentials, expired
	// credentials, access denied); nothing was tried on the secret.
	exitAWSAccess = 4
)

// awsFlags are the flags every command that talks to Secrets Manager takes.
// Unset, the SDK's usual settings apply (AWS_PROFILE, AWS_REGION,
// AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_SECRETS_MANAGER, shared config files).
type awsFlags struct {
	profile     string
	endpointURL string
	region      string
	output      string
}

func (a *awsFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&a.profile, "profile", "", "named profile of the shared AWS config and credentials files (default: AWS_PROFILE, else the default profile)")
	fs.StringVar(&a.endpointURL, "endpoint-url", "", "Secrets Manager endpoint (default: the SDK's, e.g. AWS_ENDPOINT_URL or the profile's endpoint_url)")
	fs.StringVar(&a.region, "region", "", "AWS region (default: AWS_REGION or the profile's)")
	fs.StringVar(&a.output, "output", "text", "output format: text or json")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("profile", completeProfiles)
	_ = cmd.RegisterFlagCompletionFunc("region", cobra.NoFileCompletions)
	_ = cmd.RegisterFlagCompletionFunc("endpoint-url", cobra.NoFileCompletions)
}

func (a *awsFlags) check() error {
	if a.output != "text" && a.output != "json" {
		return fmt.Errorf("--output %q: want text or json", a.output)
	}
	return nil
}

func (a *awsFlags) json() bool { return a.output == "json" }

// completeProfiles offers the profile names of the shared config and
// credentials files (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, else the
// SDK's default paths). Only section headers are read: "[profile NAME]" and
// "[default]" in the config file, "[NAME]" in the credentials file.
func completeProfiles(_ *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
	file := func(env, def string) string {
		if f := os.Getenv(env); f != "" {
			return f
		}
		return def
	}
	seen := map[string]bool{}
	var names []string
	for _, f := range []string{
		file("AWS_CONFIG_FILE", awsconfig.DefaultSharedConfigFilename()),
		file("AWS_SHARED_CREDENTIALS_FILE", awsconfig.DefaultSharedCredentialsFilename()),
	} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			if !strings.HasPrefix(line, "[") || !strings.HasSuffix(line, "]") {
				continue
			}
			fields := strings.Fields(line[1 : len(line)-1])
			if len(fields) == 2 && fields[0] == "profile" {
				fields = fields[1:]
			}
			if len(fields) == 1 && !seen[fields[0]] && strings.HasPrefix(fields[0], prefix) {
				seen[fields[0]] = true
				names = append(names, fields[0])
			}
		}
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}

// secretsClient builds a Secrets Manager client from the SDK's default
// configuration and the flags.
func (a *awsFlags) secretsClient(ctx context.Context) (*secretsmanager.Client, error) {
	sm, _, err := a.clients(ctx)
	return sm, err
}

// clients builds the Secrets Manager client and an RDS endpoint resolver
// (for RDS-managed admin secrets) from the SDK's default configuration and
// the flags. RDS uses the SDK's endpoint settings (AWS_ENDPOINT_URL_RDS,
// AWS_ENDPOINT_URL), or --endpoint-url when given, as the local stand-in
// answers both.
func (a *awsFlags) clients(ctx context.Context) (*secretsmanager.Client, *rdsapi.Client, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if a.profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(a.profile))
	}
	if a.region != "" {
		opts = append(opts, awsconfig.WithRegion(a.region))
	}
	// The SDK's own log lines (such as its IMDSv1 fallback warning) are
	// not for a CLI user; what matters reaches them as the error.
	opts = append(opts, awsconfig.WithLogger(logging.Nop{}))
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, nil, errors.New("no AWS region: pass --region or set AWS_REGION")
	}
	// --endpoint-url wins, then AWS's templates' SECRETS_MANAGER_ENDPOINT,
	// then the SDK's own settings (AWS_ENDPOINT_URL_SECRETS_MANAGER,
	// AWS_ENDPOINT_URL).
	endpoint := a.endpointURL
	if endpoint == "" {
		endpoint = os.Getenv(config.EnvSecretsManagerEndpoint)
	}
	rdsClient := rdsapi.New(cfg, func(o *rdsapi.Options) { o.BaseEndpoint = a.endpointURL })
	return lambdafn.SecretsManager(cfg, endpoint), rdsClient, nil
}

// dbFlags choose how rollback and check reach databases. Defaults come from
// the same environment as the rotator's (DB_TLS, DB_CA_BUNDLE,
// DB_CONNECT_TIMEOUT), so the CLI logs in the way the rotator will.
type dbFlags struct {
	tls      string
	caBundle string
	strategy string
}

func (d *dbFlags) register(cmd *cobra.Command) {
	d.registerTLS(cmd, "")
	cmd.Flags().StringVar(&d.strategy, "strategy", "", "strategy when the secret has no rotor:strategy tag: "+strings.Join(strategies.Names(), ", ")+" (default single-user)")
	_ = cmd.RegisterFlagCompletionFunc("strategy", cobra.FixedCompletions(strategies.Names(), cobra.ShellCompDirectiveNoFileComp))
}

// registerTLS adds --db-tls and --db-ca-bundle; when is a prefix for their
// help ("with --check-db: ").
func (d *dbFlags) registerTLS(cmd *cobra.Command, when string) {
	cmd.Flags().StringVar(&d.tls, "db-tls", "", when+"TLS mode when the secret has no \"ssl\" key: verify-full, require or disable (default: "+config.EnvDBTLS+", else verify-full)")
	cmd.Flags().StringVar(&d.caBundle, "db-ca-bundle", "", when+"PEM file of CAs that verify the database (default: "+config.EnvDBCABundle+", else the system roots)")
	_ = cmd.RegisterFlagCompletionFunc("db-tls", cobra.FixedCompletions([]string{"verify-full", "require", "disable"}, cobra.ShellCompDirectiveNoFileComp))
}

// settings reads the rotator's database settings from the environment
// (rotatorconfig.LoadDB, as the function does) and applies the flags on top
// with the same parsers.
func (d *dbFlags) settings() (rotatorconfig.DB, error) {
	if d.strategy != "" {
		if _, err := strategies.ParseName(d.strategy); err != nil {
			return rotatorconfig.DB{}, fmt.Errorf("--strategy: %w", err)
		}
	}
	db, err := rotatorconfig.LoadDB(os.LookupEnv)
	if err != nil {
		return db, err
	}
	if d.tls != "" {
		if db.TLSMode, err = rotatorconfig.ParseTLSMode(d.tls); err != nil {
			return db, fmt.Errorf("--db-tls: %w", err)
		}
	}
	if d.caBundle != "" {
		db.CABundle = d.caBundle
	}
	return db, nil
}

// options is settings turned into the strategies' options.
func (d *dbFlags) options() (strategies.Options, error) {
	db, err := d.settings()
	if err != nil {
		return strategies.Options{}, err
	}
	return db.StrategyOptions()
}

// secretArgs checks a command's SECRET arguments: at least min, at most
// max (negative: no limit).
func secretArgs(min, max int) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) < min {
			return errors.New("missing secret name or ARN")
		}
		if max >= 0 && len(args) > max {
			return fmt.Errorf("unexpected arguments %s", strings.Join(args[max:], " "))
		}
		return nil
	}
}

// awsCommand is a command that takes the AWS flags and SECRET arguments
// (min to max, negative max: no limit). run gets the SECRET arguments once
// the flags and arguments are valid. The command's completion offers no
// files for SECRET (secret names are not paths).
func awsCommand(cmd *cobra.Command, a *awsFlags, min, max int, run func(ctx context.Context, args []string) error) *cobra.Command {
	a.register(cmd)
	cmd.Args = secretArgs(min, max)
	cmd.ValidArgsFunction = cobra.NoFileCompletions
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := a.check(); err != nil {
			return err
		}
		return run(cmd.Context(), args)
	}
	return cmd
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// fail prints err for the command and returns exitFail.
func fail(stderr io.Writer, cmd string, err error) int {
	if line, ok := awsAccessProblem(err); ok {
		fmt.Fprintf(stderr, "rotor %s: %s\n", cmd, line)
		return exitAWSAccess
	}
	fmt.Fprintf(stderr, "rotor %s: %v\n", cmd, err)
	return exitFail
}

// awsAccessProblem turns an error that means "AWS refused the caller" into
// one line saying what to do: no credentials at all, expired credentials,
// or a denied request (with the service's own message, which names the
// action and resource). The SDK gives a missing credential chain no type
// of its own, so that case is recognised by the SDK's wording.
func awsAccessProblem(err error) (string, bool) {
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "ExpiredTokenException", "ExpiredToken", "RequestExpired":
			return "the AWS credentials have expired: refresh them (for example aws sso login, or new keys for AWS_PROFILE) and run the command again", true
		case "AccessDeniedException", "AccessDenied", "UnauthorizedOperation":
			return "AWS denied the request: " + api.ErrorMessage() + " (grant the permission to the caller, or use a profile that has it)", true
		case "UnrecognizedClientException", "InvalidClientTokenId", "InvalidSignatureException", "SignatureDoesNotMatch":
			return "AWS does not accept these credentials (" + api.ErrorCode() + "): check AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY", true
		}
	}
	if msg := err.Error(); strings.Contains(msg, "get credentials:") || strings.Contains(msg, "failed to refresh cached credentials") {
		return "no AWS credentials found: set AWS_PROFILE (aws configure, aws sso login) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, and a region (AWS_REGION or --region)", true
	}
	return "", false
}

// change is the outcome of a command that changes a secret (rollback,
// finish): the command's name, its result (any JSON-encodable struct), the
// error, and how to print a success as text.
type change struct {
	cmd    string
	result any
	err    error
	text   func()
}

// report prints the change. With --output json it writes result's fields
// plus "ok", and "refused"/"error" on failure; as text, a refusal (nothing
// changed) or other error goes to stderr, and text prints the success. It
// returns the exit code.
func (c change) report(asJSON bool, stdout, stderr io.Writer) int {
	var refused *ops.RefusedError
	isRefused := errors.As(c.err, &refused)
	if asJSON {
		b, merr := json.Marshal(c.result)
		out := map[string]any{}
		if merr == nil {
			merr = json.Unmarshal(b, &out)
		}
		if merr != nil {
			return fail(stderr, c.cmd, merr)
		}
		out["ok"] = c.err == nil
		if c.err != nil {
			out["error"] = c.err.Error()
			if isRefused {
				out["refused"] = true
			}
		}
		if werr := writeJSON(stdout, out); werr != nil {
			return fail(stderr, c.cmd, werr)
		}
		if c.err != nil {
			return exitFail
		}
		return exitOK
	}
	if isRefused {
		fmt.Fprintf(stderr, "rotor %s: refused, nothing changed: %s\n", c.cmd, refused.Message())
		return exitFail
	}
	if c.err != nil {
		return fail(stderr, c.cmd, c.err)
	}
	c.text()
	return exitOK
}
