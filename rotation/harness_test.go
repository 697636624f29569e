package rotation_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/local/awslocal"
	"github.com/rotorhq/rotor/internal/local/awslocal/awslocaltest"
	"github.com/rotorhq/rotor/internal/local/dbtest"
	"github.com/rotorhq/rotor/internal/rdsapi"
	"github.com/rotorhq/rotor/internal/rdsendpoint"
	"github.com/rotorhq/rotor/rotation"
	"github.com/rotorhq/rotor/strategies"
	"github.com/rotorhq/rotor/strategies/builtin"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// syncBuffer collects log output from concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is one test's world: a database on the shared PostgreSQL, a local
// Secrets Manager, and a rotator registered as the rotation function.
type env struct {
	t      testing.TB
	pg     *dbtest.PG
	db     string
	srv    *awslocal.Server
	sm     *secretsmanager.Client
	rot    *rotation.Rotator
	fnARN  string
	logs   *syncBuffer
	logOff int64
	// secrets collects every password the test has seen, for the leak
	// checks.
	secrets []string
	// rotOpts built rot; createAdmin adds to its AdminSecretARNs.
	rotOpts rotation.Options
	// docPort, when set, is the port the secret documents name instead of
	// the server's (a proxy's); the test's own logins go straight to the
	// server.
	docPort int
	// hook, when set, wraps every invocation of the rotator.
	hook func(ctx context.Context, ev events.RotationEvent, next func() error) error
	// invocationCtx, when set, gives each invocation its context (before
	// hook sees it).
	invocationCtx func(ctx context.Context, ev events.RotationEvent) context.Context
}

type envOptions struct {
	strategy string
	sessions string
	password *rotation.PasswordPolicy
	attempts int
	// backoff is the stand-in's wait between passes (0: its default,
	// negative: none).
	backoff time.Duration
	// secrets, when set, wraps the rotator's Secrets Manager client.
	secrets func(rotation.SecretsAPI) rotation.SecretsAPI
	// connectTimeout bounds the rotator's database logins (0: the
	// engine's default).
	connectTimeout time.Duration
	// pg and maria, when set, are the servers to use instead of the
	// shared ones (dbtest.PrivatePostgres, PrivateMariaDB).
	pg    *dbtest.PG
	maria *dbtest.Maria
}

func newEnv(t testing.TB, o envOptions) *env {
	t.Helper()
	pg := o.pg
	if pg == nil {
		pg = dbtest.Postgres(t)
	}
	e := &env{t: t, pg: pg, db: pg.NewDatabase(t), logs: &syncBuffer{}}
	e.logOff = pg.LogOffset(t)
	e.startRotor(o, pg.CAPEM)
	t.Cleanup(func() {
		if !t.Failed() {
			e.checkNoLeaks()
		}
	})
	return e
}

// startRotor starts the local Secrets Manager and registers a real rotator
// as its rotation function, trusting caPEM for database TLS. Every
// invocation goes through e.hook when one is set.
func (e *env) startRotor(o envOptions, caPEM []byte) {
	t := e.t
	t.Helper()
	e.srv, _ = awslocaltest.NewWith(t, awslocal.Options{RotationAttempts: o.attempts, RotationBackoff: o.backoff})
	cfg := e.srv.SDKConfig(serverURL(t, e.srv))
	// The SDK's own retry logic (attempts, what is retryable), with short
	// waits: tests inject throttling and 5xx answers (awslocal faults).
	e.sm = secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) {
		o.Retryer = retry.AddWithMaxBackoffDelay(retry.NewStandard(), 20*time.Millisecond)
	})

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	// rds-master polls the stand-in's RDS every 10 ms at first.
	sopts := strategies.Options{Engines: builtin.Engines(), RootCAs: pool, PreviousUserSessions: o.sessions,
		RDS: rdsapi.New(cfg), RDSPollInterval: 10 * time.Millisecond, ConnectTimeout: o.connectTimeout}
	if o.strategy == "" {
		o.strategy = strategies.NameSingleUser
	}
	policy := rotation.DefaultPasswordPolicy()
	if o.password != nil {
		policy = *o.password
	}
	var api rotation.SecretsAPI = e.sm
	if o.secrets != nil {
		api = o.secrets(e.sm)
	}
	e.rotOpts = rotation.Options{
		Secrets:         api,
		Strategies:      func(name string) (strategies.Strategy, error) { return strategies.New(name, sopts) },
		DefaultStrategy: o.strategy,
		Password:        policy,
		Endpoints:       rdsendpoint.Resolver{RDS: rdsapi.New(cfg)},
		Logger:          slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	e.newRotator()
	e.fnARN = e.srv.FunctionARN("rotor-rotator")
	e.srv.SetFunction(e.fnARN, awslocal.FuncInvoker(func(ctx context.Context, ev events.RotationEvent) error {
		if e.invocationCtx != nil {
			ctx = e.invocationCtx(ctx, ev)
		}
		if e.hook != nil {
			return e.hook(ctx, ev, func() error { return e.rot.Handle(ctx, ev) })
		}
		return e.rot.Handle(ctx, ev)
	}))
}

// newRotator (re)builds e.rot from e.rotOpts, as a function cold-starts
// with its settings.
func (e *env) newRotator() {
	rot, err := rotation.New(e.rotOpts)
	if err != nil {
		e.t.Fatalf("rotation.New: %v", err)
	}
	e.rot = rot
}

// createAdmin creates an admin secret and adds it to the rotator's
// AdminSecretARNs (ADMIN_SECRET_ARNS in the function), as Terraform wires
// master_secret_arns.
func (e *env) createAdmin(name, value string, tags map[string]string) string {
	e.t.Helper()
	arn := e.createSecret(name, value, tags)
	e.rotOpts.AdminSecretARNs = append(e.rotOpts.AdminSecretARNs, arn)
	e.newRotator()
	return arn
}

// serverURL reads the base URL NewTestServerWith gave the server.
func serverURL(t testing.TB, srv *awslocal.Server) string {
	t.Helper()
	if u := srv.URL(); u != "" {
		return u
	}
	t.Fatal("awslocal test server has no URL")
	return ""
}

// doc is a PostgreSQL secret document for this test's database.
func (e *env) doc(user, password string, extra map[string]any) string {
	port := e.pg.Port
	if e.docPort != 0 {
		port = e.docPort
	}
	m := map[string]any{
		"engine": "postgres", "host": e.pg.Host, "port": port,
		"username": user, "password": password, "dbname": e.db,
	}
	for k, v := range extra {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	e.secrets = append(e.secrets, password)
	return string(b)
}

func (e *env) createSecret(name, value string, tags map[string]string) string {
	e.t.Helper()
	in := &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)}
	var service []awslocal.Tag // aws: tags only an AWS service (RDS) can set
	for k, v := range tags {
		if strings.HasPrefix(k, "aws:") {
			service = append(service, awslocal.Tag{Key: k, Value: v})
			continue
		}
		in.Tags = append(in.Tags, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	out, err := e.sm.CreateSecret(context.Background(), in)
	if err != nil {
		e.t.Fatalf("create secret %s: %v", name, err)
	}
	if len(service) > 0 {
		if err := e.srv.SetServiceTags(aws.ToString(out.ARN), service...); err != nil {
			e.t.Fatal(err)
		}
	}
	return aws.ToString(out.ARN)
}

// rotate runs RotateSecret as Secrets Manager's schedule would and waits for
// the outcome.
func (e *env) rotate(arn string) awslocal.RotationResult {
	e.t.Helper()
	_, err := e.sm.RotateSecret(context.Background(), &secretsmanager.RotateSecretInput{
		SecretId:          aws.String(arn),
		RotationLambdaARN: aws.String(e.fnARN),
		RotationRules:     &types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)},
	})
	if err != nil {
		e.t.Fatalf("RotateSecret: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := e.srv.WaitRotation(ctx, arn)
	if err != nil {
		e.t.Fatalf("wait for rotation: %v", err)
	}
	return res
}

func (e *env) mustRotate(arn string) awslocal.RotationResult {
	e.t.Helper()
	res := e.rotate(arn)
	if !res.Succeeded {
		e.t.Fatalf("rotation failed at %s: %v\nrotor logs:\n%s", res.Step, res.Err, e.logs.String())
	}
	return res
}

// value reads a version's document by stage.
func (e *env) value(arn, stage string) *events.SecretDocument {
	e.t.Helper()
	out, err := e.sm.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn), VersionStage: aws.String(stage)})
	if err != nil {
		e.t.Fatalf("get %s: %v", stage, err)
	}
	d, err := events.ParseSecretDocument(aws.ToString(out.SecretString))
	if err != nil {
		e.t.Fatalf("parse %s: %v", stage, err)
	}
	e.secrets = append(e.secrets, d.Password)
	return d
}

// labels returns version id -> sorted labels for versions that have any.
func (e *env) labels(arn string) map[string][]string {
	e.t.Helper()
	out := map[string][]string{}
	for _, v := range e.srv.Versions(arn) {
		if len(v.Stages) > 0 {
			s := append([]string(nil), v.Stages...)
			slices.Sort(s)
			out[v.VersionID] = s
		}
	}
	return out
}

func (e *env) tags(arn string) map[string]string {
	e.t.Helper()
	d, err := e.sm.DescribeSecret(context.Background(), &secretsmanager.DescribeSecretInput{SecretId: aws.String(arn)})
	if err != nil {
		e.t.Fatal(err)
	}
	m := map[string]string{}
	for _, t := range d.Tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func (e *env) canLogin(user, password string) error {
	return e.pg.CanLogin(e.t, user, password, e.db)
}

// rotorCalls counts the Secrets Manager calls the rotator made since the
// last reset: every operation but the test's own RotateSecret.
func (e *env) rotorCalls() (int, map[string]int) {
	stats := e.srv.Stats()
	n := 0
	mine := map[string]int{}
	for op, c := range stats {
		switch op {
		case "DescribeSecret", "GetSecretValue", "PutSecretValue", "UpdateSecretVersionStage", "TagResource", "GetRandomPassword", "ListSecretVersionIds", "ListSecrets":
			n += c
			mine[op] = c
		}
	}
	return n, mine
}

var authLine = regexp.MustCompile(`connection authorized: user=(\S+)|password authentication failed for user "([^"]+)"`)

// logins counts login attempts (accepted or refused) for users in the
// server log written since the env started.
func (e *env) logins(off int64, users ...string) int {
	e.t.Helper()
	n := 0
	for _, m := range authLine.FindAllStringSubmatch(e.pg.LogFrom(e.t, off), -1) {
		u := m[1]
		if u == "" {
			u = m[2]
		}
		if slices.Contains(users, u) {
			n++
		}
	}
	return n
}

// checkNoLeaks fails the test if a password appears in the rotator's
// logs, the PostgreSQL server's log, or what the stand-in keeps outside
// secret values (awslocaltest.CheckNoLeaks).
func (e *env) checkNoLeaks() {
	e.checkNoLeaksIn(map[string]string{"the PostgreSQL server log": e.pg.LogFrom(e.t, e.logOff)})
}

// checkNoLeaksIn is awslocaltest.CheckNoLeaks over this env's stand-in,
// with rotor's logs, the server logs given (name -> text) and every
// password the test saw.
func (e *env) checkNoLeaksIn(server map[string]string) {
	e.t.Helper()
	server["rotor's logs"] = e.logs.String()
	awslocaltest.CheckNoLeaks(e.t, e.srv, e.secrets, server)
}

func must(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func fmtLabels(m map[string][]string) string {
	var parts []string
	for id, l := range m {
		parts = append(parts, fmt.Sprintf("%s=%v", id[:8], l))
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

func tagList(kv ...string) []types.Tag {
	var out []types.Tag
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// clearPending removes AWSPENDING from a version that is not AWSCURRENT
// (what a refused rotation leaves behind), as an operator would with
// update-secret-version-stage.
func (e *env) clearPending(arn string) {
	e.t.Helper()
	v := events.StrandedPending(e.labels(arn))
	if v == "" {
		return
	}
	_, err := e.sm.UpdateSecretVersionStage(context.Background(), &secretsmanager.UpdateSecretVersionStageInput{
		SecretId: aws.String(arn), VersionStage: aws.String(rotation.LabelPending), RemoveFromVersionId: aws.String(v)})
	must(e.t, err, "clear AWSPENDING")
}
