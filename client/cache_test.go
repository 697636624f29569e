package client_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/rotorhq/rotor/client"
	"github.com/rotorhq/rotor/client/internal/clienttest"
	"github.com/rotorhq/rotor/internal/local/awslocal"
	"github.com/rotorhq/rotor/internal/local/awslocal/awslocaltest"
	"github.com/rotorhq/rotor/internal/local/dbtest"
)

// clock is a settable Options.Now.
type clock struct{ ns atomic.Int64 }

func newClock() *clock               { c := &clock{}; c.ns.Store(time.Now().UnixNano()); return c }
func (c *clock) now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *clock) add(d time.Duration) { c.ns.Add(int64(d)) }

type world struct {
	srv *awslocal.Server
	sm  *secretsmanager.Client
	out *awslocaltest.Outage
	id  string
}

func newWorld(t *testing.T, value string) *world {
	t.Helper()
	srv, cfg, out := awslocaltest.NewWithOutage(t, awslocal.Options{})
	sm := secretsmanager.NewFromConfig(cfg)
	o, err := sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String("app/db"), SecretString: aws.String(value)})
	if err != nil {
		t.Fatal(err)
	}
	srv.ResetStats()
	return &world{srv: srv, sm: sm, out: out, id: aws.ToString(o.ARN)}
}

// put stores value as a new version with the given stages and returns its id.
func (w *world) put(t *testing.T, value string, stages ...string) string {
	t.Helper()
	o, err := w.sm.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{SecretId: aws.String(w.id), SecretString: aws.String(value), VersionStages: stages})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(o.VersionId)
}

func (w *world) calls(t *testing.T) (get, describe int) {
	t.Helper()
	st := w.srv.Stats()
	w.srv.ResetStats()
	return st["GetSecretValue"], st["DescribeSecret"]
}

func (w *world) cache(t *testing.T, opts client.Options) *client.Cache {
	t.Helper()
	opts.SecretID = w.id
	c, err := client.New(w.sm, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustGet(t *testing.T, c *client.Cache) client.Secret {
	t.Helper()
	s, err := c.Get(context.Background())
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return s
}

// TestGetReadsOnlyWhenTheVersionMoves: within the TTL no call; after it one
// DescribeSecret, and GetSecretValue only when AWSCURRENT moved.
func TestGetReadsOnlyWhenTheVersionMoves(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "v1")
	clk := newClock()
	c := w.cache(t, client.Options{TTL: time.Minute, Now: clk.now})

	if s := mustGet(t, c); s.Value() != "v1" {
		t.Fatalf("first Get: %q", s.Value())
	}
	mustGet(t, c)
	if g, d := w.calls(t); g != 1 || d != 0 {
		t.Fatalf("two Gets within the TTL: %d GetSecretValue, %d DescribeSecret; want 1, 0", g, d)
	}

	clk.add(2 * time.Minute)
	mustGet(t, c)
	mustGet(t, c)
	if g, d := w.calls(t); g != 0 || d != 1 {
		t.Fatalf("after the TTL, same version: %d GetSecretValue, %d DescribeSecret; want 0, 1", g, d)
	}

	v2 := w.put(t, "v2")
	clk.add(2 * time.Minute)
	if s := mustGet(t, c); s.Value() != "v2" || s.VersionID != v2 {
		t.Fatalf("after a new AWSCURRENT: %v %q", s, s.Value())
	}
	if g, d := w.calls(t); g != 1 || d != 1 {
		t.Fatalf("after the TTL, new version: %d GetSecretValue, %d DescribeSecret; want 1, 1", g, d)
	}

	// ReadEveryTime: one GetSecretValue per expiry, no DescribeSecret.
	r := w.cache(t, client.Options{TTL: time.Minute, ReadEveryTime: true, Now: clk.now})
	mustGet(t, r)
	clk.add(2 * time.Minute)
	mustGet(t, r)
	if g, d := w.calls(t); g != 2 || d != 0 {
		t.Fatalf("ReadEveryTime: %d GetSecretValue, %d DescribeSecret; want 2, 0", g, d)
	}

	// Another stage.
	w.put(t, "v3")
	p := w.cache(t, client.Options{Stage: "AWSPREVIOUS"})
	if s := mustGet(t, p); s.Value() != "v2" {
		t.Fatalf("AWSPREVIOUS: %q, want v2", s.Value())
	}
}

// gated lets a test hold GetSecretValue calls until it opens the gate.
type gated struct {
	client.SecretsManager
	gate  chan struct{}
	calls atomic.Int32
}

func (g *gated) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, o ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	g.calls.Add(1)
	<-g.gate
	return g.SecretsManager.GetSecretValue(ctx, in, o...)
}

// TestRefreshIsSingleFlight: a burst of forced refreshes (and of first
// Gets) is one GetSecretValue.
func TestRefreshIsSingleFlight(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "v1")
	for name, call := range map[string]func(*client.Cache) (client.Secret, error){
		"Refresh": func(c *client.Cache) (client.Secret, error) { return c.Refresh(context.Background()) },
		"Get":     func(c *client.Cache) (client.Secret, error) { return c.Get(context.Background()) },
	} {
		g := &gated{SecretsManager: w.sm, gate: make(chan struct{})}
		c, err := client.New(g, client.Options{SecretID: w.id})
		if err != nil {
			t.Fatal(err)
		}
		const n = 20
		var started, wg sync.WaitGroup
		started.Add(n)
		errs := make(chan error, n)
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				started.Done()
				s, err := call(c)
				if err == nil && s.Value() != "v1" {
					err = fmt.Errorf("value %q", s.Value())
				}
				errs <- err
			}()
		}
		started.Wait()
		time.Sleep(200 * time.Millisecond) // let every goroutine reach the cache
		close(g.gate)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		if got := g.calls.Load(); got != 1 {
			t.Errorf("%s: %d concurrent calls made %d GetSecretValue, want 1", name, n, got)
		}
	}
}

// TestStaleOnErrorIsBounded: while Secrets Manager is down the cached value
// is served for MaxStale past the TTL, then the error comes through; when
// it returns, the cache reads again.
func TestStaleOnErrorIsBounded(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "v1")
	clk := newClock()
	var logs bytes.Buffer
	c := w.cache(t, client.Options{TTL: time.Minute, MaxStale: 10 * time.Minute, Now: clk.now, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	mustGet(t, c)

	w.out.Stop(t)
	clk.add(5 * time.Minute)
	if s := mustGet(t, c); s.Value() != "v1" {
		t.Fatalf("stale: %q", s.Value())
	}
	if !strings.Contains(logs.String(), "serving the cached version") {
		t.Fatalf("no log line for the stale value:\n%s", logs.String())
	}
	clk.add(10 * time.Minute)
	if _, err := c.Get(context.Background()); err == nil || !strings.Contains(err.Error(), "DescribeSecret") {
		t.Fatalf("past TTL+MaxStale: err %v, want the DescribeSecret failure", err)
	}
	if _, err := c.Refresh(context.Background()); err == nil || !strings.Contains(err.Error(), "GetSecretValue") {
		t.Fatalf("Refresh during the outage: err %v, want the GetSecretValue failure", err)
	}

	w.out.Start(t)
	w.put(t, "v2")
	if s := mustGet(t, c); s.Value() != "v2" {
		t.Fatalf("after the outage: %q, want v2", s.Value())
	}

	// MaxStale < 0: never stale.
	strict := w.cache(t, client.Options{TTL: time.Minute, MaxStale: -1, Now: clk.now})
	mustGet(t, strict)
	w.out.Stop(t)
	clk.add(2 * time.Minute)
	if _, err := strict.Get(context.Background()); err == nil {
		t.Fatal("MaxStale<0 served a stale value")
	}
	w.out.Start(t)
}

// TestLoginRefusedFindsTheCredentialThatLogsIn walks a single-user
// rotation as the database sees it: after setSecret only the pending
// password logs in; after finishSecret it is AWSCURRENT.
func TestLoginRefusedFindsTheCredentialThatLogsIn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t, "old")
	clk := newClock()
	c := w.cache(t, client.Options{TTL: time.Hour, Now: clk.now})
	old, _ := c.Login(ctx)
	if old.Value() != "old" {
		t.Fatalf("Login: %q", old.Value())
	}

	// Refused with nothing new in Secrets Manager: nothing to retry with.
	if again, err := c.LoginRefused(ctx, old); err != nil || again {
		t.Fatalf("refused, no rotation: again=%v err=%v; want false, nil", again, err)
	}

	// createSecret + setSecret: a pending version, AWSCURRENT unchanged.
	w.put(t, "new", "AWSPENDING")
	w.calls(t)
	if again, err := c.LoginRefused(ctx, old); err != nil || !again {
		t.Fatalf("refused during a rotation: again=%v err=%v; want true", again, err)
	}
	if g, d := w.calls(t); g != 1 || d != 1 {
		t.Fatalf("refusal: %d GetSecretValue, %d DescribeSecret; want 1, 1", g, d)
	}
	pend, _ := c.Login(ctx)
	if pend.Value() != "new" {
		t.Fatalf("Login after the refusal: %q, want the pending value", pend.Value())
	}
	if s := mustGet(t, c); s.Value() != "old" {
		t.Fatalf("Get still serves AWSCURRENT: %q", s.Value())
	}
	// A second caller refused with the old version retries at once.
	if again, _ := c.LoginRefused(ctx, old); !again {
		t.Fatal("a caller refused with the old version is not told to retry")
	}
	if g, d := w.calls(t); g+d != 0 {
		t.Fatalf("second refusal made %d calls, want 0", g+d)
	}

	// finishSecret moves AWSCURRENT to the pending version.
	clienttest.Finish(t, w.sm, w.srv, w.id)
	clk.add(2 * time.Hour)
	cur, _ := c.Login(ctx)
	if cur.Value() != "new" || cur.VersionID != pend.VersionID {
		t.Fatalf("Login after finishSecret: %v %q", cur, cur.Value())
	}
	if g, _ := w.calls(t); g != 0 {
		t.Fatalf("finishSecret: %d GetSecretValue; the pending value was already read", g)
	}
	// The next rotation: a login with "new" is refused once AWSCURRENT moved
	// on while the cache still held "new"; the refusal reads the new current.
	w.put(t, "newer")
	if again, err := c.LoginRefused(ctx, cur); err != nil || !again {
		t.Fatalf("refused after a finished rotation: again=%v err=%v", again, err)
	}
	if s, _ := c.Login(ctx); s.Value() != "newer" {
		t.Fatalf("Login: %q, want newer", s.Value())
	}
}

// TestNoSecretInOutput: formatting, logging and errors never carry the
// value.
func TestNoSecretInOutput(t *testing.T) {
	t.Parallel()
	const value = `{"username":"app","password":"hunter2-very-secret"` // not valid JSON on purpose
	w := newWorld(t, value)
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	c := w.cache(t, client.Options{Logger: log})
	s := mustGet(t, c)
	log.Info("got", "secret", s)
	printed := fmt.Sprintf("%v %+v %#v %s %q %x", s, s, s, s, s, s) + fmt.Sprint(s) + logs.String()
	if _, err := s.Document(); err == nil {
		t.Fatal("Document parsed invalid JSON")
	} else {
		printed += err.Error()
	}
	if strings.Contains(printed, "hunter2") {
		t.Fatalf("the value leaked: %s", printed)
	}
	if !strings.Contains(printed, s.VersionID) {
		t.Fatalf("the version id is missing from %s", printed)
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "v")
	if _, err := client.New(w.sm, client.Options{}); err == nil || !strings.Contains(err.Error(), "SecretID") {
		t.Fatalf("missing SecretID: %v", err)
	}
	if _, err := client.New(nil, client.Options{SecretID: "x"}); err == nil {
		t.Fatal("nil client accepted")
	}
}

// TestMain stops the shared PostgreSQL and MariaDB the driver tests and the
// load proof start.
func TestMain(m *testing.M) { dbtest.Main(m) }
