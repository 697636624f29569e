// Package opstest builds the world the day-2 operations' tests need: the
// local Secrets Manager stand-in with rotor's real rotator registered
// in-process as the rotation function, a real PostgreSQL database, and
// helpers that create roles and secrets in them. It is imported by tests
// only.
//
// Every helper fails the test with t.Fatalf naming what failed; everything
// it creates is removed when the test ends.
package opstest

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/local/awslocal"
	"github.com/rotorhq/rotor/internal/local/awslocal/awslocaltest"
	"github.com/rotorhq/rotor/internal/local/dbtest"
	"github.com/rotorhq/rotor/rotation"
	"github.com/rotorhq/rotor/strategies"
	"github.com/rotorhq/rotor/strategies/builtin"
)

// FunctionName is the rotator's name in the stand-in.
const FunctionName = "rotor-rotator"

// Env is one test's world.
type Env struct {
	t   testing.TB
	Srv *awslocal.Server
	Cfg aws.Config
	SM  *secretsmanager.Client
	PG  *dbtest.PG
	// DB is a database made for this test.
	DB string
	// DBOptions reach PostgreSQL with verify-full TLS against the run's CA.
	DBOptions   strategies.Options
	FunctionARN string
	// AdminARNs are the admin secrets made with AdminSecret: the rotator's
	// ADMIN_SECRET_ARNS.
	AdminARNs []string

	hook atomic.Pointer[StepHook]

	mu          sync.Mutex
	leakOutputs map[string]string // AddLeakOutput
}

// StepHook is consulted before each strategy call of a rotation (createSecret,
// setSecret, testSecret). A non-nil error fails the step as the strategy's
// own error would: the rotator reports it and records it in the secret's
// outcome tags, exactly as a real failure. It may block (honouring ctx) and
// is called from the stand-in's rotation goroutines.
type StepHook func(ctx context.Context, step events.Step) error

// HookSteps installs h for the rotations that run from now on in this
// test's world; nil removes it. Install it after EnableRotation, whose
// check runs testSecret too.
func (e *Env) HookSteps(h StepHook) {
	if h == nil {
		e.hook.Store(nil)
		return
	}
	e.hook.Store(&h)
}

func (e *Env) runHook(ctx context.Context, step events.Step) error {
	if h := e.hook.Load(); h != nil {
		return (*h)(ctx, step)
	}
	return nil
}

// hooked runs the Env's StepHook before each call of the real strategy.
type hooked struct {
	strategies.Strategy
	e *Env
}

func (h hooked) Create(ctx context.Context, req strategies.CreateRequest) (strategies.CreateResponse, error) {
	if err := h.e.runHook(ctx, events.StepCreateSecret); err != nil {
		return strategies.CreateResponse{}, err
	}
	return h.Strategy.Create(ctx, req)
}

func (h hooked) Set(ctx context.Context, req strategies.SetRequest) (strategies.SetResponse, error) {
	if err := h.e.runHook(ctx, events.StepSetSecret); err != nil {
		return strategies.SetResponse{}, err
	}
	return h.Strategy.Set(ctx, req)
}

func (h hooked) Test(ctx context.Context, req strategies.TestRequest) (strategies.TestResponse, error) {
	if err := h.e.runHook(ctx, events.StepTestSecret); err != nil {
		return strategies.TestResponse{}, err
	}
	return h.Strategy.Test(ctx, req)
}

// New starts the stand-in and registers the real rotator (default strategy
// single-user; secrets choose with the rotor:strategy tag). Its strategies
// consult the StepHook installed with HookSteps. When the test ends, if it
// passed, the leak sweep runs (awslocaltest.CheckNoLeaks): no password of
// any version of any secret in the stand-in's tags, events or messages, or
// in the outputs added with AddLeakOutput.
func New(t testing.TB) *Env {
	t.Helper()
	srv, cfg := awslocaltest.New(t)
	e := &Env{t: t, Srv: srv, Cfg: cfg, SM: secretsmanager.NewFromConfig(cfg), PG: dbtest.Postgres(t)}
	e.DB = e.PG.NewDatabase(t)
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(e.PG.CAPEM) {
		t.Fatalf("opstest: the server's CA PEM does not parse")
	}
	e.DBOptions = strategies.Options{Engines: builtin.Engines(), TLSMode: events.TLSVerifyFull, RootCAs: pool}
	e.FunctionARN = srv.FunctionARN(FunctionName)
	e.register()
	t.Cleanup(func() {
		if t.Failed() {
			return
		}
		e.mu.Lock()
		outputs := e.leakOutputs
		e.mu.Unlock()
		awslocaltest.CheckNoLeaks(t, srv, nil, outputs)
	})
	return e
}

// AddLeakOutput adds text (a command's or a function's output) to what the
// leak sweep searches when the test ends, under name. Cleanups registered
// after New run before the sweep, so they may add outputs too.
func (e *Env) AddLeakOutput(name, text string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.leakOutputs == nil {
		e.leakOutputs = map[string]string{}
	}
	e.leakOutputs[name] = text
}

// register (re)starts the rotator as the stand-in's rotation function, with
// AdminARNs as its ADMIN_SECRET_ARNS.
func (e *Env) register() {
	rot, err := rotation.New(rotation.Options{
		Secrets: e.SM,
		Strategies: func(name string) (strategies.Strategy, error) {
			st, err := strategies.New(name, e.DBOptions)
			if err != nil {
				return nil, err
			}
			return hooked{Strategy: st, e: e}, nil
		},
		AdminSecretARNs: slices.Clone(e.AdminARNs),
	})
	if err != nil {
		e.t.Fatalf("opstest: rotator: %v", err)
	}
	e.Srv.SetFunction(e.FunctionARN, awslocal.FuncInvoker(rot.Handle))
}

// AdminSecret creates an admin secret holding doc and adds it to the
// rotator's ADMIN_SECRET_ARNS (AdminARNs), as Terraform's
// master_secret_arns does. Not safe to call while a rotation runs.
func (e *Env) AdminSecret(doc map[string]any) string {
	e.t.Helper()
	arn := e.Secret(doc, nil)
	e.AdminARNs = append(e.AdminARNs, arn)
	e.register()
	return arn
}

// Doc is a secret document for user on the test's database.
func (e *Env) Doc(user, password string) map[string]any {
	return map[string]any{"engine": "postgres", "host": e.PG.Host, "port": e.PG.Port, "username": user, "password": password, "dbname": e.DB}
}

// Role creates a login role with a unique name starting with prefix and
// returns the name.
func (e *Env) Role(prefix, password string, attrs ...string) string {
	e.t.Helper()
	name := dbtest.UniqueName(prefix)
	e.PG.CreateRole(e.t, name, password, attrs...)
	return name
}

// Secret creates a secret holding doc, tagged with tags, and returns its
// ARN. The name is unique to the test.
func (e *Env) Secret(doc map[string]any, tags map[string]string) string {
	e.t.Helper()
	body, err := json.Marshal(doc)
	if err != nil {
		e.t.Fatalf("opstest: encode document: %v", err)
	}
	in := &secretsmanager.CreateSecretInput{Name: aws.String(dbtest.UniqueName("secret")), SecretString: aws.String(string(body))}
	for k, v := range tags {
		in.Tags = append(in.Tags, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	out, err := e.SM.CreateSecret(context.Background(), in)
	if err != nil {
		e.t.Fatalf("opstest: create secret: %v", err)
	}
	return aws.ToString(out.ARN)
}

// EnableRotation attaches the rotator without rotating (RotateImmediately
// false: the service only runs testSecret) and waits for that check.
func (e *Env) EnableRotation(arn string) {
	e.t.Helper()
	_, err := e.SM.RotateSecret(context.Background(), &secretsmanager.RotateSecretInput{
		SecretId:          aws.String(arn),
		RotationLambdaARN: aws.String(e.FunctionARN),
		RotationRules:     &types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)},
		RotateImmediately: aws.Bool(false),
	})
	if err != nil {
		e.t.Fatalf("opstest: enable rotation: %v", err)
	}
	e.Wait(arn)
}

// Rotate runs one rotation to its end and fails the test unless it
// succeeded.
func (e *Env) Rotate(arn string) {
	e.t.Helper()
	if _, err := e.SM.RotateSecret(context.Background(), &secretsmanager.RotateSecretInput{SecretId: aws.String(arn)}); err != nil {
		e.t.Fatalf("opstest: rotate: %v", err)
	}
	if r := e.Wait(arn); !r.Succeeded {
		e.t.Fatalf("opstest: rotation failed at %s: %v", r.Step, r.Err)
	}
}

// Wait waits for the rotation in flight on arn.
func (e *Env) Wait(arn string) awslocal.RotationResult {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r, err := e.Srv.WaitRotation(ctx, arn)
	if err != nil {
		e.t.Fatalf("opstest: wait for rotation: %v", err)
	}
	return r
}

// Stages returns the secret's labelled versions.
func (e *Env) Stages(arn string) map[string][]string {
	e.t.Helper()
	d, err := e.SM.DescribeSecret(context.Background(), &secretsmanager.DescribeSecretInput{SecretId: aws.String(arn)})
	if err != nil {
		e.t.Fatalf("opstest: describe: %v", err)
	}
	return d.VersionIdsToStages
}

// Value returns the document of the version with label.
func (e *Env) Value(arn, label string) map[string]any {
	e.t.Helper()
	out, err := e.SM.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn), VersionStage: aws.String(label)})
	if err != nil {
		e.t.Fatalf("opstest: read %s: %v", label, err)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &doc); err != nil {
		e.t.Fatalf("opstest: decode %s: %v", label, err)
	}
	return doc
}

// CanLogin reports whether doc's credentials log in to the test database.
func (e *Env) CanLogin(doc map[string]any) error {
	return e.PG.CanLogin(e.t, fmt.Sprint(doc["username"]), fmt.Sprint(doc["password"]), e.DB)
}

// StrandPending leaves an unfinished rotation on arn: a new version holding
// only AWSPENDING. It returns that version's id.
func (e *Env) StrandPending(arn string, doc map[string]any) string {
	e.t.Helper()
	body, _ := json.Marshal(doc)
	var b [16]byte
	_, _ = rand.Read(b[:])
	token := fmt.Sprintf("stranded-%x", b)
	_, err := e.SM.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(arn), ClientRequestToken: aws.String(token),
		SecretString: aws.String(string(body)), VersionStages: []string{rotation.LabelPending},
	})
	if err != nil {
		e.t.Fatalf("opstest: put pending version: %v", err)
	}
	return token
}
