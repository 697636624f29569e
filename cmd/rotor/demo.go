package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/local/awslocal"
	"github.com/rotorhq/rotor/internal/local/dbserver"
	"github.com/rotorhq/rotor/rotation"
	"github.com/rotorhq/rotor/strategies"
	"github.com/rotorhq/rotor/strategies/builtin"
	"github.com/rotorhq/rotor/strategies/engine"
	"github.com/rotorhq/rotor/strategies/postgres"
)

func init() {
	register("demo", func(c *streams) *cobra.Command {
		return &cobra.Command{
			Use:   "demo",
			Short: "rotate a PostgreSQL credential both ways on a throwaway server and a local Secrets Manager",
			Long: `Start a throwaway PostgreSQL (from the machine's postgresql package) and the
local Secrets Manager, and rotate an application credential with the
single-user and the alternating-users strategies, showing the labels, the
logins and the calls of each rotation. Nothing reaches AWS and nothing is
left behind. Exit 3 when PostgreSQL's binaries are not installed.`,
			Example:           "  rotor demo\n  make demo",
			Args:              cobra.NoArgs,
			ValidArgsFunction: cobra.NoFileCompletions,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return exit(runDemo(cmd.Context(), c.stdout, c.stderr))
			},
		}
	})
}

// demo is one run of `rotor demo`: a throwaway PostgreSQL, the local
// Secrets Manager in-process, and the rotator registered as its rotation
// function, driven through RotateSecret exactly as AWS drives it.
type demo struct {
	out   io.Writer
	pg    *dbserver.Postgres
	srv   *awslocal.Server
	sm    *secretsmanager.Client
	fnARN string
	db    strategies.Options

	budgets []string // Secrets Manager calls of each rotation
	mu      sync.Mutex
	steps   []string // step lines printed while a rotation runs
}

func runDemo(ctx context.Context, stdout, stderr io.Writer) int {
	start := time.Now()
	d := &demo{out: stdout}
	if err := d.run(ctx); err != nil {
		fmt.Fprintf(stderr, "\nrotor demo: %v\n", err)
		var missing *dbserver.MissingBinaryError
		if errors.As(err, &missing) {
			return 3
		}
		return 1
	}
	fmt.Fprintf(stdout, "\nDemo finished in %.1fs; the server and its files are gone.\n", time.Since(start).Seconds())
	return 0
}

func (d *demo) printf(format string, a ...any) { fmt.Fprintf(d.out, format, a...) }

func (d *demo) run(ctx context.Context) error {
	d.printf("rotor demo: rotating a PostgreSQL credential the way Secrets Manager does, on this machine only.\n\n")
	stop, err := d.start(ctx)
	defer stop()
	if err != nil {
		return err
	}
	logOff, err := d.pg.LogSize()
	if err != nil {
		return err
	}
	single, err := d.singleUser(ctx)
	if err != nil {
		return err
	}
	alt, err := d.alternatingUsers(ctx)
	if err != nil {
		return err
	}
	return d.report(ctx, logOff, single, alt)
}

// start brings up the throwaway PostgreSQL with the demo's roles and the
// local Secrets Manager with the rotator registered as its rotation
// function. stop undoes whatever was started, also after an error.
func (d *demo) start(ctx context.Context) (stop func(), err error) {
	var undo []func()
	stop = func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	d.printf("[1/5] Starting a throwaway PostgreSQL (password auth, TLS with a CA made for this run, every statement logged) ... ")
	t0 := time.Now()
	pg, err := dbserver.StartPostgres(ctx, dbserver.PostgresOptions{})
	if err != nil {
		d.printf("failed\n")
		return stop, err
	}
	d.pg = pg
	undo = append(undo, func() { pg.Stop() })
	d.printf("%s:%d (%.1fs)\n", pg.Host, pg.Port, time.Since(t0).Seconds())
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pg.CAPEM)
	// The demo logs in exactly as the rotator does: verify-full against
	// the run's CA, through the engine registry.
	d.db = strategies.Options{Engines: builtin.Engines(), RootCAs: pool}.WithDefaults()

	d.printf("[2/5] Starting the local Secrets Manager ... ")
	d.srv, err = awslocal.New(awslocal.Options{RotationBackoff: -1})
	if err != nil {
		return stop, err
	}
	undo = append(undo, func() { d.srv.Close() })
	url, err := d.srv.Start("")
	if err != nil {
		return stop, err
	}
	d.printf("%s\n", url)
	d.sm = secretsmanager.NewFromConfig(d.srv.SDKConfig(url))
	if err := d.registerRotator(); err != nil {
		return stop, err
	}
	return stop, d.createRoles(ctx)
}

func (d *demo) registerRotator(adminSecretARNs ...string) error {
	rot, err := rotation.New(rotation.Options{
		Secrets:         d.sm,
		Strategies:      func(name string) (strategies.Strategy, error) { return strategies.New(name, d.db) },
		Logger:          slog.New(slog.DiscardHandler),
		OnStep:          d.onStep,
		AdminSecretARNs: adminSecretARNs,
	})
	if err != nil {
		return err
	}
	d.fnARN = d.srv.FunctionARN("rotor-rotator")
	d.srv.SetFunction(d.fnARN, awslocal.FuncInvoker(func(ctx context.Context, ev events.RotationEvent) error {
		if ev.Step == string(events.StepCreateSecret) {
			// What Secrets Manager prepared before invoking the function:
			// the value-less AWSPENDING placeholder.
			d.mu.Lock()
			d.steps = append(d.steps, fmt.Sprintf("      %-13s %-7s %-24s %s", "(RotateSecret)", "", "placeholder created", d.labels(ev.SecretID)))
			d.mu.Unlock()
		}
		return rot.Handle(ctx, ev)
	}))
	return nil
}

func (d *demo) createRoles(ctx context.Context) error {
	admin, err := d.pg.Connect(ctx, "postgres")
	if err != nil {
		return fmt.Errorf("connect as superuser: %w", err)
	}
	defer admin.Close(ctx)
	for _, r := range []struct{ name, password, attrs string }{
		{"demo_app", "demo-initial-password", ""},
		{"demo_admin", "demo-admin-password", "CREATEROLE"},
		{"demo_app2", "demo-initial-password-2", ""},
	} {
		if err := createRole(ctx, admin, r.name, r.password, r.attrs); err != nil {
			return err
		}
	}
	return nil
}

// singleUser rotates demo_app's own password once and shows that only the
// new password logs in. It returns the secret's ARN.
func (d *demo) singleUser(ctx context.Context) (string, error) {
	d.printf("\n[3/5] single-user: role demo_app changes its own password\n")
	single, err := d.createSecret(ctx, "demo/app-single-user", d.doc("demo_app", "demo-initial-password", ""))
	if err != nil {
		return "", err
	}
	calls, err := d.rotate(ctx, single)
	if err != nil {
		return "", err
	}
	d.budgets = append(d.budgets, fmt.Sprintf("single-user %d", calls))
	if err := d.timeline(ctx, single); err != nil {
		return "", err
	}
	if err := d.expectLogin(ctx, single, rotation.LabelCurrent); err != nil {
		return "", err
	}
	return single, d.expectRefused(ctx, single, rotation.LabelPrevious)
}

// alternatingUsers rotates demo_app2 twice through the admin demo_admin and
// shows that AWSCURRENT and AWSPREVIOUS both log in. It returns the
// secret's ARN.
func (d *demo) alternatingUsers(ctx context.Context) (string, error) {
	d.printf("\n[4/5] alternating-users: demo_admin sets the password of the user not in use (demo_app2 / demo_app2_clone)\n")
	master, err := d.createSecret(ctx, "demo/admin", d.doc("demo_admin", "demo-admin-password", ""))
	if err != nil {
		return "", err
	}
	// The rotator uses only the admin secrets it is given
	// (ADMIN_SECRET_ARNS; Terraform's master_secret_arns).
	if err := d.registerRotator(master); err != nil {
		return "", err
	}
	alt, err := d.createSecret(ctx, "demo/app-alternating-users", d.doc("demo_app2", "demo-initial-password-2", master), types.Tag{Key: aws.String(rotation.TagStrategy), Value: aws.String(strategies.NameAlternatingUsers)})
	if err != nil {
		return "", err
	}
	for i := 1; i <= 2; i++ {
		d.printf("  rotation %d\n", i)
		calls, err := d.rotate(ctx, alt)
		if err != nil {
			return "", err
		}
		d.budgets = append(d.budgets, fmt.Sprintf("alternating-users %d", calls))
	}
	if err := d.timeline(ctx, alt); err != nil {
		return "", err
	}
	if err := d.expectLogin(ctx, alt, rotation.LabelCurrent); err != nil {
		return "", err
	}
	return alt, d.expectLogin(ctx, alt, rotation.LabelPrevious)
}

// report prints the calls per rotation and checks the server's statement
// log (from logOff on) for every password the secrets hold.
func (d *demo) report(ctx context.Context, logOff int64, arns ...string) error {
	d.printf("\n[5/5] What it cost and what the server saw\n")
	d.printf("  Secrets Manager calls per rotation: %s (AWS's Python templates: 14)\n", strings.Join(d.budgets, ", "))
	serverLog, err := d.pg.ReadLogFrom(logOff)
	if err != nil {
		return err
	}
	leaked := false
	for _, arn := range arns {
		for _, stage := range []string{rotation.LabelCurrent, rotation.LabelPrevious} {
			doc, err := d.document(ctx, arn, stage)
			if err != nil {
				return err
			}
			if strings.Contains(serverLog, doc.Password) {
				leaked = true
			}
		}
	}
	verifiers := strings.Count(serverLog, "SCRAM-SHA-256$")
	d.printf("  PostgreSQL statement log (log_statement = all): %d password changes, each sent as a SCRAM-SHA-256 verifier; passwords in the log: %s\n", verifiers, yesNo(leaked))
	if leaked {
		return errors.New("a password reached the server's statement log")
	}
	return nil
}

func yesNo(b bool) string {
	if b {
		return "YES"
	}
	return "none"
}

func createRole(ctx context.Context, admin *pgx.Conn, name, password, attrs string) error {
	v, err := postgres.ScramVerifier(password)
	if err != nil {
		return err
	}
	stmt := fmt.Sprintf("CREATE ROLE %s WITH LOGIN %s PASSWORD '%s'", pgx.Identifier{name}.Sanitize(), attrs, v)
	if _, err := admin.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("create role %s: %w", name, err)
	}
	return nil
}

func (d *demo) doc(user, password, masterARN string) string {
	doc := &events.SecretDocument{Engine: postgres.EnginePostgres, Host: d.pg.Host, Port: d.pg.Port, Username: user, Password: password, DBName: "postgres", MasterARN: masterARN}
	b, _ := doc.MarshalJSON()
	return string(b)
}

func (d *demo) createSecret(ctx context.Context, name, value string, tags ...types.Tag) (string, error) {
	out, err := d.sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value), Tags: tags})
	if err != nil {
		return "", fmt.Errorf("create secret %s: %w", name, err)
	}
	d.printf("  secret %s created\n", name)
	return aws.ToString(out.ARN), nil
}

func (d *demo) onStep(r rotation.StepReport) {
	status := "ok"
	if r.Err != nil {
		status = "FAILED: " + r.Err.Error()
	}
	d.mu.Lock()
	d.steps = append(d.steps, fmt.Sprintf("      %-13s %-7s %-24s %s", r.Step, fmt.Sprintf("%dms", r.Duration.Milliseconds()), status, d.labels(r.SecretARN)))
	d.mu.Unlock()
}

// labels renders the secret's labelled versions as the stand-in holds them
// right now, e.g. "9d7d0a85[AWSCURRENT] 136872d2[AWSPENDING, no value]".
// It reads the stand-in directly, so the demo's call counts stay the
// rotator's own.
func (d *demo) labels(secretID string) string {
	var parts []string
	for _, v := range d.srv.Versions(secretID) {
		if len(v.Stages) == 0 {
			continue
		}
		stages := slices.Clone(v.Stages)
		slices.Sort(stages)
		label := strings.Join(stages, ",")
		if !v.HasValue {
			label += ", no value"
		}
		parts = append(parts, fmt.Sprintf("%s[%s]", short(v.VersionID), label))
	}
	return strings.Join(parts, " ")
}

// rotate calls RotateSecret, waits for the asynchronous rotation, prints its
// steps, and returns the Secrets Manager calls the rotator made.
func (d *demo) rotate(ctx context.Context, arn string) (int, error) {
	d.srv.ResetStats()
	out, err := d.sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String(arn), RotationLambdaARN: aws.String(d.fnARN),
		RotationRules: &types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)}})
	if err != nil {
		return 0, fmt.Errorf("RotateSecret: %w", err)
	}
	d.printf("    RotateSecret answered with version %s; Secrets Manager now invokes the rotator:\n", short(aws.ToString(out.VersionId)))
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	res, err := d.srv.WaitRotation(wctx, arn)
	if err != nil {
		return 0, err
	}
	d.mu.Lock()
	for _, l := range d.steps {
		d.printf("%s\n", l)
	}
	d.steps = nil
	d.mu.Unlock()
	if !res.Succeeded {
		return 0, fmt.Errorf("rotation failed at %s: %v", res.Step, res.Err)
	}
	d.printf("      %-13s %-7s %-24s %s\n", "(completed)", "", "AWSPENDING cleaned up", d.labels(arn))
	calls := 0
	for op, n := range d.srv.Stats() {
		if op != "RotateSecret" {
			calls += n
		}
	}
	return calls, nil
}

func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// timeline prints the secret's labelled versions, newest first, with the
// user each holds (never the password).
func (d *demo) timeline(ctx context.Context, arn string) error {
	out, err := d.sm.ListSecretVersionIds(ctx, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String(arn)})
	if err != nil {
		return err
	}
	vs := out.Versions
	sort.Slice(vs, func(i, j int) bool { return aws.ToTime(vs[i].CreatedDate).After(aws.ToTime(vs[j].CreatedDate)) })
	d.printf("    versions (newest first):\n")
	for _, v := range vs {
		if len(v.VersionStages) == 0 {
			continue
		}
		user := "?"
		if doc, err := d.documentByID(ctx, arn, aws.ToString(v.VersionId)); err == nil {
			user = doc.Username
		}
		stages := slices.Clone(v.VersionStages)
		slices.Sort(stages)
		d.printf("      %s  %-24s user=%s\n", short(aws.ToString(v.VersionId)), strings.Join(stages, ","), user)
	}
	return nil
}

func (d *demo) document(ctx context.Context, arn, stage string) (*events.SecretDocument, error) {
	out, err := d.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn), VersionStage: aws.String(stage)})
	if err != nil {
		return nil, err
	}
	return events.ParseSecretDocument(aws.ToString(out.SecretString))
}

func (d *demo) documentByID(ctx context.Context, arn, id string) (*events.SecretDocument, error) {
	out, err := d.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn), VersionId: aws.String(id)})
	if err != nil {
		return nil, err
	}
	return events.ParseSecretDocument(aws.ToString(out.SecretString))
}

// expectLogin shows that the version under stage logs in.
func (d *demo) expectLogin(ctx context.Context, arn, stage string) error {
	doc, err := d.document(ctx, arn, stage)
	if err != nil {
		return err
	}
	if err := d.db.Ping(ctx, doc); err != nil {
		return fmt.Errorf("login with %s (%s): %v", stage, doc.Username, err)
	}
	d.printf("    login with %s (%s) over verified TLS: ok\n", stage, doc.Username)
	return nil
}

// expectRefused shows that the database refuses the version under stage,
// as single-user promises for the password it replaced.
func (d *demo) expectRefused(ctx context.Context, arn, stage string) error {
	doc, err := d.document(ctx, arn, stage)
	if err != nil {
		return err
	}
	switch err := d.db.Ping(ctx, doc); {
	case err == nil:
		return fmt.Errorf("%s (%s) still logs in after a single-user rotation", stage, doc.Username)
	case !errors.Is(err, engine.ErrAuth):
		return fmt.Errorf("login with %s (%s): %v", stage, doc.Username, err)
	}
	d.printf("    login with %s (%s): refused, as single-user promises (the old password is gone)\n", stage, doc.Username)
	return nil
}
