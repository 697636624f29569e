package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
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

	"github.com/rotorhq/rotor/client/lambdaissuer"
	"github.com/rotorhq/rotor/events"
)

// rotor lease: a database user of one's own from the issuer function, for
// a human at a terminal. All of the command lives in this file.

func init() {
	register("lease", command{summary: "get short-lived database credentials from the issuer (renew, revoke)", run: runLease})
}

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

// leaseFlags are what every form of rotor lease takes.
type leaseFlags struct {
	function    string
	region      string
	endpointURL string
	format      string
	role        string
	ttl         time.Duration
}

func runLease(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	action := events.LeaseIssue
	if len(args) > 0 && (args[0] == events.LeaseRenew || args[0] == events.LeaseRevoke) {
		action, args = args[0], args[1:]
	}
	var f leaseFlags
	name, usageLine := "lease", "--role NAME [--ttl 1h] [--format env|json|psql] [flags]"
	switch action {
	case events.LeaseRenew:
		name, usageLine = "lease renew", "[--ttl 1h] [--format env|json|psql] < lease.json"
	case events.LeaseRevoke:
		name, usageLine = "lease revoke", "< lease.json"
	}
	fs := newFlagSet(name, usageLine, stderr)
	fs.StringVar(&f.function, "function", "", "issuer function name or ARN (default: "+EnvIssuerFunction+", else "+DefaultIssuerFunction+")")
	fs.StringVar(&f.region, "region", "", "AWS region (default: AWS_REGION or the profile's)")
	fs.StringVar(&f.endpointURL, "endpoint-url", "", "Lambda endpoint (default: the SDK's, e.g. AWS_ENDPOINT_URL_LAMBDA)")
	if action == events.LeaseIssue {
		fs.StringVar(&f.role, "role", "", "role definition to get a lease of (required)")
	}
	if action != events.LeaseRevoke {
		fs.DurationVar(&f.ttl, "ttl", 0, "lifetime asked for, whole seconds (default: the role definition's)")
		fs.StringVar(&f.format, "format", leaseFormatEnv, "what stdout gets: env (export lines for eval), json (the lease, input of renew and revoke) or psql (a connection URI, PostgreSQL only)")
	}
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return exitUsage // the flag package printed the error and the usage
	}
	usage := func(msg string) int {
		fmt.Fprintf(stderr, "rotor %s: %s\n", name, msg)
		fs.Usage()
		return exitUsage
	}
	switch {
	case len(pos) > 0:
		return usage("unexpected arguments " + strings.Join(pos, " "))
	case action == events.LeaseIssue && f.role == "":
		return usage("--role: missing: name a role definition")
	case f.ttl < 0 || f.ttl%time.Second != 0:
		return usage(fmt.Sprintf("--ttl %s: want a whole number of seconds", f.ttl))
	case action != events.LeaseRevoke && f.format != leaseFormatEnv && f.format != leaseFormatJSON && f.format != leaseFormatPsql:
		return usage(fmt.Sprintf("--format %q: want env, json or psql", f.format))
	}
	req := events.LeaseRequest{Action: action, Role: f.role, TTLSeconds: int(f.ttl / time.Second)}
	if action != events.LeaseIssue {
		held, err := readLease(leaseStdin)
		if err != nil {
			return usage(err.Error())
		}
		req.Role, req.Username, req.Password = held.Role, held.Credentials.Username, held.Credentials.Password
	}
	if err := req.Validate(); err != nil {
		return usage(leaseFieldInCLITerms(err))
	}
	issuer, err := f.issuer(ctx)
	if err != nil {
		return fail(stderr, name, err)
	}
	l, err := issuer.Lease(ctx, req)
	if err != nil {
		return fail(stderr, name, err)
	}
	if action == events.LeaseRevoke {
		fmt.Fprintf(stderr, "rotor lease revoke: user %q of role %s dropped\n", req.Username, req.Role)
		return exitOK
	}
	if l.Credentials == nil || l.Credentials.Username == "" {
		return fail(stderr, name, errors.New("the issuer's answer has no credentials"))
	}
	if action == events.LeaseRenew && l.Credentials.Password == "" {
		l.Credentials.Password = req.Password
	}
	if f.format == leaseFormatPsql && !isPostgres(l.Credentials.Engine) {
		fmt.Fprintf(stderr, "rotor %s: --format psql is for PostgreSQL; the lease is for engine %q: printing env instead\n", name, l.Credentials.Engine)
		f.format = leaseFormatEnv
	}
	out, err := formatLease(l, f.format)
	if err != nil {
		return fail(stderr, name, err)
	}
	fmt.Fprintln(stderr, leaseSummary(l))
	fmt.Fprintf(stderr, "The password is on stdout only (--format %s); it is not written anywhere else. Keep it out of shell history and logs.\n", f.format)
	if _, err := io.WriteString(stdout, out); err != nil {
		return fail(stderr, name, err)
	}
	return exitOK
}

// issuer builds the Lambda client from the SDK's default configuration
// (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL_LAMBDA, ...) and the flags.
func (f *leaseFlags) issuer(ctx context.Context) (*lambdaissuer.Issuer, error) {
	opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithLogger(logging.Nop{})}
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
