package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/smithy-go/logging"
	"github.com/spf13/cobra"

	"github.com/rotorhq/rotor/client/lambdaissuer"
	"github.com/rotorhq/rotor/events"
)

// rotor lease: a database user of one's own from the issuer function, for
// a human at a terminal. All of the command lives in this file.

// EnvIssuerFunction names the issuer function when --function is not given.
const EnvIssuerFunction = "ROTOR_ISSUER_FUNCTION"

// DefaultIssuerFunction is the issuer's name when neither --function nor
// ROTOR_ISSUER_FUNCTION is given: the leases Terraform module's default.
const DefaultIssuerFunction = "rotor-issuer"

// Lease output formats.
const (
	leaseFormatEnv  = "env"
	leaseFormatJSON = "json"
	leaseFormatPsql = "psql"
)

// leaseStdin is where renew and revoke read the lease; tests replace it.
var leaseStdin io.Reader = os.Stdin

func init() { register("lease", newLeaseCmd) }

// leaseFlags are what every form of rotor lease takes.
type leaseFlags struct {
	function    string
	profile     string
	region      string
	endpointURL string
	format      string
	role        string
	ttl         time.Duration
}

func (f *leaseFlags) register(cmd *cobra.Command, action string) {
	fs := cmd.Flags()
	fs.StringVar(&f.function, "function", "", "issuer function name or ARN (default: "+EnvIssuerFunction+", else "+DefaultIssuerFunction+")")
	fs.StringVar(&f.profile, "profile", "", "named profile of the shared AWS config and credentials files (default: AWS_PROFILE, else the default profile)")
	fs.StringVar(&f.region, "region", "", "AWS region (default: AWS_REGION or the profile's)")
	fs.StringVar(&f.endpointURL, "endpoint-url", "", "Lambda endpoint (default: the SDK's, e.g. AWS_ENDPOINT_URL_LAMBDA)")
	_ = cmd.RegisterFlagCompletionFunc("profile", completeProfiles)
	if action == events.LeaseIssue {
		fs.StringVar(&f.role, "role", "", "role definition to get a lease of (required)")
	}
	if action != events.LeaseRevoke {
		fs.DurationVar(&f.ttl, "ttl", 0, "lifetime asked for, whole seconds (default: the role definition's)")
		fs.StringVar(&f.format, "format", leaseFormatEnv, "what stdout gets: env (export lines for eval), json (the lease, input of renew and revoke) or psql (a connection URI, PostgreSQL only)")
		_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{leaseFormatEnv, leaseFormatJSON, leaseFormatPsql}, cobra.ShellCompDirectiveNoFileComp))
	}
}

const leaseLong = `Get a database user of your own from rotor's issuer function (the leases
Terraform module), valid for the role definition's TTL or --ttl, up to its
maximum. The user, host and expiry go to stderr; the password goes to stdout
only, in the --format asked for, and nowhere else:

  env   export lines for eval: PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD,
        PGSSLMODE (PostgreSQL), or MYSQL_HOST, MYSQL_TCP_PORT, MYSQL_PWD and
        ROTOR_LEASE_USER (the MySQL family); ROTOR_LEASE_EXPIRES_AT
  json  the lease as the issuer answered it; rotor lease renew and revoke
        read it back from stdin
  psql  a postgresql:// connection URI

The caller needs lambda:InvokeFunction on the issuer (the module's
invoke_policy_json). Exit codes: 0 ok, 1 the issuer refused (an unknown role
definition, a TTL over the maximum), 2 usage, 4 AWS refused the caller.`

func newLeaseCmd(c *streams) *cobra.Command {
	var f, rf, vf leaseFlags
	cmd := &cobra.Command{
		Use:   "lease --role NAME [--ttl 1h] [--format env|json|psql] [flags]",
		Short: "get short-lived database credentials from the issuer function (renew, revoke)",
		Long:  leaseLong,
		Example: `  # a PostgreSQL user for an hour, into this shell (bash; or eval "$(...)")
  source <(rotor lease --role app_ro --ttl 1h)

  # keep the lease to renew and revoke it
  rotor lease --role app_ro --format json > lease.json
  rotor lease renew --ttl 1h < lease.json > lease2.json
  rotor lease revoke < lease2.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.run(cmd.Context(), c, events.LeaseIssue)
		},
	}
	f.register(cmd, events.LeaseIssue)
	renew := &cobra.Command{
		Use:     "renew [--ttl 1h] [--format env|json|psql] [flags] < lease.json",
		Short:   "extend a lease (read from stdin, as rotor lease --format json printed it), up to its maximum",
		Example: "  rotor lease renew --ttl 1h --format json < lease.json > renewed.json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return rf.run(cmd.Context(), c, events.LeaseRenew)
		},
	}
	rf.register(renew, events.LeaseRenew)
	revoke := &cobra.Command{
		Use:     "revoke [flags] < lease.json",
		Short:   "end a lease now (read from stdin, as rotor lease --format json printed it): its user is dropped",
		Example: "  rotor lease revoke < lease.json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return vf.run(cmd.Context(), c, events.LeaseRevoke)
		},
	}
	vf.register(revoke, events.LeaseRevoke)
	cmd.AddCommand(renew, revoke)
	return cmd
}

// run does one lease action. A usage mistake is the returned error (exit
// 2, with the usage); anything else is said on stderr and its exit code
// returned.
func (f *leaseFlags) run(ctx context.Context, c *streams, action string) error {
	stderr := c.stderr
	name := "lease"
	if action != events.LeaseIssue {
		name = "lease " + action
	}
	switch {
	case action == events.LeaseIssue && f.role == "":
		return errors.New("--role: missing: name a role definition")
	case f.ttl < 0 || f.ttl%time.Second != 0:
		return fmt.Errorf("--ttl %s: want a whole number of seconds", f.ttl)
	case action != events.LeaseRevoke && f.format != leaseFormatEnv && f.format != leaseFormatJSON && f.format != leaseFormatPsql:
		return fmt.Errorf("--format %q: want env, json or psql", f.format)
	}
	req := events.LeaseRequest{Action: action, Role: f.role, TTLSeconds: int(f.ttl / time.Second)}
	if action != events.LeaseIssue {
		held, err := readLease(leaseStdin)
		if err != nil {
			return err
		}
		req.Role, req.Username, req.Password = held.Role, held.Credentials.Username, held.Credentials.Password
	}
	if err := req.Validate(); err != nil {
		return errors.New(leaseFieldInCLITerms(err))
	}
	issuer, err := f.issuer(ctx)
	if err != nil {
		return exit(fail(stderr, name, err))
	}
	l, err := issuer.Lease(ctx, req)
	if err != nil {
		return exit(fail(stderr, name, err))
	}
	if action == events.LeaseRevoke {
		fmt.Fprintf(stderr, "rotor lease revoke: user %s of role %s dropped\n", req.Username, req.Role)
		return nil
	}
	if l.Credentials == nil || l.Credentials.Username == "" {
		return exit(fail(stderr, name, errors.New("the issuer's answer has no credentials")))
	}
	if action == events.LeaseRenew && l.Credentials.Password == "" {
		l.Credentials.Password = req.Password
	}
	format := f.format
	if format == leaseFormatPsql && !isPostgres(l.Credentials.Engine) {
		fmt.Fprintf(stderr, "rotor %s: --format psql is for PostgreSQL; the lease is for engine %q: printing env instead\n", name, l.Credentials.Engine)
		format = leaseFormatEnv
	}
	out, err := formatLease(l, format)
	if err != nil {
		return exit(fail(stderr, name, err))
	}
	fmt.Fprintln(stderr, leaseSummary(l))
	fmt.Fprintf(stderr, "The password is on stdout only (--format %s); it is not written anywhere else. Keep it out of shell history and logs.\n", format)
	if _, err := io.WriteString(c.stdout, out); err != nil {
		return exit(fail(stderr, name, err))
	}
	return nil
}

// issuer builds the Lambda client from the SDK's default configuration
// (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL_LAMBDA, ...) and the flags.
func (f *leaseFlags) issuer(ctx context.Context) (*lambdaissuer.Issuer, error) {
	opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithLogger(logging.Nop{})}
	if f.profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(f.profile))
	}
	if f.region != "" {
		opts = append(opts, awsconfig.WithRegion(f.region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, errors.New("no AWS region: pass --region or set AWS_REGION")
	}
	lc := lambda.NewFromConfig(cfg, func(o *lambda.Options) {
		if f.endpointURL != "" {
			o.BaseEndpoint = aws.String(f.endpointURL)
		}
	})
	function := f.function
	if function == "" {
		function = os.Getenv(EnvIssuerFunction)
	}
	if function == "" {
		function = DefaultIssuerFunction
	}
	return lambdaissuer.New(lc, function)
}

// readLease reads the lease renew and revoke act on: the JSON rotor lease
// --format json printed.
func readLease(r io.Reader) (events.Lease, error) {
	b, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if err != nil {
		return events.Lease{}, fmt.Errorf("read the lease from stdin: %w", err)
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return events.Lease{}, errors.New("no lease on stdin: pipe in what rotor lease --format json printed")
	}
	var l events.Lease
	if err := json.Unmarshal(b, &l); err != nil {
		return events.Lease{}, fmt.Errorf("the lease on stdin: %w", err)
	}
	if l.Credentials == nil || l.Credentials.Username == "" || l.Credentials.Password == "" {
		return events.Lease{}, errors.New("the lease on stdin has no username or password: pipe in what rotor lease --format json printed")
	}
	return l, nil
}

// leaseFieldInCLITerms names the flag for a request field.
func leaseFieldInCLITerms(err error) string {
	var fe *events.FieldError
	if !errors.As(err, &fe) {
		return err.Error()
	}
	switch fe.Field {
	case "role":
		return "--role: " + fe.Reason
	case "ttlSeconds":
		return "--ttl: " + fe.Reason
	}
	return "the lease on stdin: " + err.Error()
}

// leaseSummary is the stderr line: who, where, until when; no password.
func leaseSummary(l events.Lease) string {
	c := l.Credentials
	where := net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
	if c.DBName != "" {
		where += "/" + c.DBName
	}
	return fmt.Sprintf("Lease of role %s: user %s on %s (%s), expires %s (in %s), renewable until %s.",
		l.Role, c.Username, where, c.Engine, l.ExpiresAt.UTC().Format(time.RFC3339),
		time.Until(l.ExpiresAt).Round(time.Second), l.MaxExpiresAt.UTC().Format(time.RFC3339))
}

func isPostgres(engine string) bool {
	return engine == "postgres" || engine == "aurora-postgresql"
}

// formatLease renders the lease for stdout.
//
//   - env: export lines for eval: PGHOST, PGPORT, PGDATABASE, PGUSER,
//     PGPASSWORD, PGSSLMODE for PostgreSQL; MYSQL_HOST, MYSQL_TCP_PORT,
//     MYSQL_PWD (the mysql client's variables; it has none for the user:
//     pass -u) and ROTOR_LEASE_USER for the MySQL family; always
//     ROTOR_LEASE_EXPIRES_AT;
//   - json: the lease as the issuer answered it (renew and revoke read it);
//   - psql: a postgresql:// URI with the password and sslmode.
func formatLease(l events.Lease, format string) (string, error) {
	c := l.Credentials
	sslmode := c.TLSMode()
	if sslmode == "" {
		sslmode = events.TLSVerifyFull
	}
	switch format {
	case leaseFormatJSON:
		b, err := json.MarshalIndent(l, "", "  ")
		if err != nil {
			return "", fmt.Errorf("encode the lease: %w", err)
		}
		return string(b) + "\n", nil
	case leaseFormatPsql:
		u := url.URL{Scheme: "postgresql", User: url.UserPassword(c.Username, c.Password),
			Host: net.JoinHostPort(c.Host, strconv.Itoa(c.Port)), Path: "/" + c.DBName,
			RawQuery: url.Values{"sslmode": {sslmode}}.Encode()}
		return u.String() + "\n", nil
	}
	var vars [][2]string
	if isPostgres(c.Engine) {
		vars = [][2]string{{"PGHOST", c.Host}, {"PGPORT", strconv.Itoa(c.Port)}, {"PGDATABASE", c.DBName}, {"PGUSER", c.Username}, {"PGPASSWORD", c.Password}, {"PGSSLMODE", sslmode}}
	} else {
		vars = [][2]string{{"MYSQL_HOST", c.Host}, {"MYSQL_TCP_PORT", strconv.Itoa(c.Port)}, {"ROTOR_LEASE_USER", c.Username}, {"MYSQL_PWD", c.Password}}
	}
	vars = append(vars, [2]string{"ROTOR_LEASE_EXPIRES_AT", l.ExpiresAt.UTC().Format(time.RFC3339)})
	var b strings.Builder
	for _, v := range vars {
		if v[1] == "" {
			continue
		}
		fmt.Fprintf(&b, "export %s=%s\n", v[0], shellQuote(v[1]))
	}
	return b.String(), nil
}

// shellQuote quotes s for a POSIX shell: in single quotes, each single
// quote written as quote, backslash, quote, quote.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
