package alerting_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/alerting"
	"github.com/rotorhq/rotor/internal/local/awslocal"
	"github.com/rotorhq/rotor/internal/local/awslocal/awslocaltest"
	"github.com/rotorhq/rotor/internal/local/dbtest"
	"github.com/rotorhq/rotor/rotation"
	"github.com/rotorhq/rotor/strategies"
	"github.com/rotorhq/rotor/strategies/builtin"
)

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// env is a stand-in with the clients the notifier and auditor use, and a
// database on the shared PostgreSQL for rotations that must succeed.
type env struct {
	pg       *dbtest.PG
	db       string
	srv      *awslocal.Server
	clock    *awslocal.FakeClock
	sm       *secretsmanager.Client
	sns      *sns.Client
	lambda   *lambda.Client
	topicARN string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	clock := awslocal.NewFakeClock(time.Date(2026, 11, 2, 4, 0, 0, 0, time.UTC))
	srv, cfg := awslocaltest.NewWith(t, awslocal.Options{Clock: clock})
	noRetry := func(o *secretsmanager.Options) { o.RetryMaxAttempts = 1 }
	pg := dbtest.Postgres(t)
	return &env{
		pg:    pg,
		db:    pg.NewDatabase(t),
		srv:   srv,
		clock: clock,
		sm:    secretsmanager.NewFromConfig(cfg, noRetry),
		sns:   alerting.NewTopic(cfg),
		// The stand-in answers GetFunctionConfiguration itself.
		lambda:   lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.RetryMaxAttempts = 1 }),
		topicARN: srv.CreateTopic("rotor-alerts"),
	}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// secretDoc is a PostgreSQL secret document with a recognisable password.
func secretDoc(port int, password string) string {
	return fmt.Sprintf(`{"engine":"postgres","host":"127.0.0.1","port":%d,"username":"app","password":%q,"dbname":"app","ssl":false}`, port, password)
}

// rotator returns rotor's real rotator, with the real strategies and the
// shared PostgreSQL's CA, as an in-process function. Rotations succeed for
// secrets made by pgDoc and fail at setSecret for a role that cannot log in
// or a database that cannot be reached.
func (e *env) rotator(t *testing.T) awslocal.Invoker {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(e.pg.CAPEM)
	sopts := strategies.Options{Engines: builtin.Engines(), RootCAs: pool, ConnectTimeout: 5 * time.Second}
	rot, err := rotation.New(rotation.Options{
		Secrets:    e.sm,
		Strategies: func(name string) (strategies.Strategy, error) { return strategies.New(name, sopts) },
		Now:        e.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return awslocal.FuncInvoker(rot.Handle)
}

// pgDoc creates a login role of its own on the shared PostgreSQL (dropped
// when the test ends) with password, and returns the secret document for
// it and its name: each rotated secret needs its own user, as a single-user
// rotation changes that user's password.
func (e *env) pgDoc(t *testing.T, password string) (doc, role string) {
	t.Helper()
	role = dbtest.UniqueName("alert")
	e.pg.CreateRole(t, role, password)
	b, err := json.Marshal(map[string]any{
		"engine": "postgres", "host": e.pg.Host, "port": e.pg.Port,
		"username": role, "password": password, "dbname": e.db,
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b), role
}

// createRotated creates a secret and configures rotation with fnARN
// (which must be registered), rotating once now.
func (e *env) createRotated(t *testing.T, name, doc, fnARN string, days int64) string {
	t.Helper()
	ctx := ctxT(t)
	out, err := e.sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(doc)})
	if err != nil {
		t.Fatalf("CreateSecret %s: %v", name, err)
	}
	if _, err := e.sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{
		SecretId:          out.ARN,
		RotationLambdaARN: aws.String(fnARN),
		RotationRules:     &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(days)},
	}); err != nil {
		t.Fatalf("RotateSecret %s: %v", name, err)
	}
	res, err := e.srv.WaitRotation(ctx, aws.ToString(out.ARN))
	if err != nil || !res.Succeeded {
		t.Fatalf("first rotation of %s: %+v %v", name, res, err)
	}
	return aws.ToString(out.ARN)
}

// notifierInvoker runs the notifier as the Lambda runtime would: the
// EventBridge JSON decoded into events.SecretsManagerEvent.
func notifierInvoker(t *testing.T, n *alerting.Notifier, results *[]alerting.NotifyResult) awslocal.Invoker {
	return invokerFunc(func(ctx context.Context, payload []byte) ([]byte, error) {
		var ev events.SecretsManagerEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, &awslocal.FunctionError{Type: "Runtime.UnmarshalError", Message: err.Error()}
		}
		res, err := n.Handle(ctx, ev)
		*results = append(*results, res)
		if err != nil {
			return nil, &awslocal.FunctionError{Type: "NotifierFailed", Message: err.Error()}
		}
		return []byte("null"), nil
	})
}

type invokerFunc func(ctx context.Context, payload []byte) ([]byte, error)

func (f invokerFunc) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	return f(ctx, payload)
}

func tags(t *testing.T, sm *secretsmanager.Client, id string) map[string]string {
	t.Helper()
	d, err := sm.DescribeSecret(ctxT(t), &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, tg := range d.Tags {
		m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	return m
}

// TestThrottledAlertIsRetried: SNS answers a throttled Publish with its own
// code, Throttled (HTTP 429), which is not among the SDK's throttle codes;
// the alerts' client retries it, so the alert still goes out.
func TestThrottledAlertIsRetried(t *testing.T) {
	t.Parallel()
	srv, cfg := awslocaltest.New(t)
	topic := srv.CreateTopic("rotor-alerts")
	if _, err := srv.AddFault(awslocal.Fault{Operation: "Publish", Answer: awslocal.FaultThrottle, Count: 2}); err != nil {
		t.Fatal(err)
	}
	a := events.Alert{Kind: events.AlertKinds[0], SecretARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app/db-AbCdEf", DetectedAt: time.Now()}
	if err := alerting.Publish(context.Background(), alerting.NewTopic(cfg), topic, a); err != nil {
		t.Fatalf("publish after two throttles: %v", err)
	}
	if n, sent := srv.Stats()["Publish"], len(srv.Published()); n != 3 || sent != 1 {
		t.Fatalf("%d Publish calls, %d published; want 3 calls (two throttled) and 1 alert", n, sent)
	}
	// The SDK's own client gives up at the first Throttled.
	if _, err := srv.AddFault(awslocal.Fault{Operation: "Publish", Answer: awslocal.FaultThrottle, Count: 1}); err != nil {
		t.Fatal(err)
	}
	if err := alerting.Publish(context.Background(), sns.NewFromConfig(cfg), topic, a); err == nil {
		t.Fatal("the SDK's SNS client retried Throttled: NewTopic's retry code is no longer needed")
	}
}
