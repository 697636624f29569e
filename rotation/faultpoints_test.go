package rotation_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/local/awslocal"
	"github.com/rotorhq/rotor/internal/local/dbtest"
	"github.com/rotorhq/rotor/rotation"
	"github.com/rotorhq/rotor/strategies"
	"github.com/rotorhq/rotor/strategies/mariadb"
)

// faultySecrets is the rotator's Secrets Manager client with one fault
// armed at a numbered call: "before" fails the call without making it (a
// refused or timed-out request), "after" makes it and loses the response
// (the service changed state, the rotator does not know), "kill" makes it
// and kills the invocation (killSwitch). An invocation already killed
// reaches nothing. It lives in a test file, so no shipped binary carries
// it.
type faultySecrets struct {
	rotation.SecretsAPI
	mu    sync.Mutex
	calls []string // every operation, in order, since arm
	at    int      // the call to fail (0-based); -1 disarmed
	after bool
	kill  bool
	fired string
}

func (f *faultySecrets) arm(at int, after bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls, f.at, f.after, f.kill, f.fired = nil, at, after, false, ""
}

// armKill arms a kill of the invocation right after call at returns.
func (f *faultySecrets) armKill(at int) {
	f.arm(at, true)
	f.mu.Lock()
	f.kill = true
	f.mu.Unlock()
}

func (f *faultySecrets) trace() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// do runs one call through the armed fault.
func (f *faultySecrets) do(ctx context.Context, op string, call func() error) error {
	if err := killSwitchOf(ctx).refuse(op); err != nil {
		return err
	}
	f.mu.Lock()
	n := len(f.calls)
	f.calls = append(f.calls, op)
	hit := n == f.at
	if hit {
		f.fired = op
	}
	after, kill := f.after, f.kill
	f.mu.Unlock()
	if !hit {
		return call()
	}
	if kill {
		call() //nolint:errcheck // the process dies before it reads the answer
		k := killSwitchOf(ctx)
		k.kill(op)
		return k.refuse(op)
	}
	if !after {
		return fmt.Errorf("fault point %d (%s): request failed before it reached Secrets Manager", n, op)
	}
	if err := call(); err != nil {
		return err
	}
	return fmt.Errorf("fault point %d (%s): response lost after Secrets Manager acted", n, op)
}

func (f *faultySecrets) DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, o ...func(*secretsmanager.Options)) (out *secretsmanager.DescribeSecretOutput, err error) {
	err = f.do(ctx, "DescribeSecret", func() (e error) { out, e = f.SecretsAPI.DescribeSecret(ctx, in, o...); return })
	return out, err
}

func (f *faultySecrets) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, o ...func(*secretsmanager.Options)) (out *secretsmanager.GetSecretValueOutput, err error) {
	err = f.do(ctx, "GetSecretValue", func() (e error) { out, e = f.SecretsAPI.GetSecretValue(ctx, in, o...); return })
	return out, err
}

func (f *faultySecrets) PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, o ...func(*secretsmanager.Options)) (out *secretsmanager.PutSecretValueOutput, err error) {
	err = f.do(ctx, "PutSecretValue", func() (e error) { out, e = f.SecretsAPI.PutSecretValue(ctx, in, o...); return })
	return out, err
}

func (f *faultySecrets) UpdateSecretVersionStage(ctx context.Context, in *secretsmanager.UpdateSecretVersionStageInput, o ...func(*secretsmanager.Options)) (out *secretsmanager.UpdateSecretVersionStageOutput, err error) {
	err = f.do(ctx, "UpdateSecretVersionStage", func() (e error) { out, e = f.SecretsAPI.UpdateSecretVersionStage(ctx, in, o...); return })
	return out, err
}

func (f *faultySecrets) TagResource(ctx context.Context, in *secretsmanager.TagResourceInput, o ...func(*secretsmanager.Options)) (out *secretsmanager.TagResourceOutput, err error) {
	err = f.do(ctx, "TagResource", func() (e error) { out, e = f.SecretsAPI.TagResource(ctx, in, o...); return })
	return out, err
}

func (f *faultySecrets) ListSecrets(ctx context.Context, in *secretsmanager.ListSecretsInput, o ...func(*secretsmanager.Options)) (out *secretsmanager.ListSecretsOutput, err error) {
	err = f.do(ctx, "ListSecrets", func() (e error) { out, e = f.SecretsAPI.ListSecrets(ctx, in, o...); return })
	return out, err
}

// killSwitch is one invocation of the rotator as the fault tests see it:
// killing it models the rotator's process dying at that point. Everything
// it would call after (Secrets Manager, the database) is refused, its
// context is canceled, and the invocation fails as Lambda reports a
// crashed or timed-out function.
type killSwitch struct {
	step   string
	cancel context.CancelFunc
	mu     sync.Mutex
	at     string // where it was killed; "" alive
}

type killSwitchKey struct{}

// withKillSwitch gives an invocation of step its kill switch.
func withKillSwitch(ctx context.Context, step string) context.Context {
	ctx, cancel := context.WithCancel(ctx)
	return context.WithValue(ctx, killSwitchKey{}, &killSwitch{step: step, cancel: cancel})
}

// killSwitchOf returns ctx's kill switch, or nil (which is never killed).
func killSwitchOf(ctx context.Context) *killSwitch {
	k, _ := ctx.Value(killSwitchKey{}).(*killSwitch)
	return k
}

func (k *killSwitch) kill(at string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.at == "" {
		k.at = at
	}
}

// refuse returns an error, having canceled the invocation's context, if
// it was killed.
func (k *killSwitch) refuse(what string) error {
	if k == nil {
		return nil
	}
	k.mu.Lock()
	at := k.at
	k.mu.Unlock()
	if at == "" {
		return nil
	}
	k.cancel()
	return fmt.Errorf("the rotator was killed at %s: %s never happened", at, what)
}

// killingInvocations makes e's invocations killable: each gets a kill
// switch, and one that was killed fails whatever the rotator returned.
func killingInvocations(e *env) {
	e.invocationCtx = func(ctx context.Context, ev events.RotationEvent) context.Context {
		return withKillSwitch(ctx, ev.Step)
	}
	e.hook = func(ctx context.Context, ev events.RotationEvent, next func() error) error {
		err := next()
		if kerr := killSwitchOf(ctx).refuse("the step's answer"); kerr != nil {
			return kerr
		}
		return err
	}
}

// readOnly are the operations whose lost response is the same fault as a
// failed request: they change nothing.
var readOnly = map[string]bool{"DescribeSecret": true, "GetSecretValue": true, "ListSecrets": true}

// faultWorld is one engine's way to make a fresh secret to rotate and to
// log in with a document.
type faultWorld struct {
	e *env
	// addr is the database server's host:port; server halts and resumes
	// it (only a private server may be halted: dbtest.PrivatePostgres).
	addr   string
	server interface {
		Halt() error
		Resume(context.Context) error
	}
	// secret makes a fresh secret (and its database users) for strategy.
	secret   func(t *testing.T, strategy string) string
	canLogin func(doc *events.SecretDocument) error
}

// TestFaultAtEveryCallConverges enumerates the Secrets Manager calls of a
// rotation from a clean run of the real rotator (so the list cannot fall
// behind the code), then, for each call and each way it can fail (before
// it reaches the service; for a call that changes something, after it
// acted with the response lost; and the rotator's process dying once it
// answered: killSwitch), rotates a fresh secret with that one fault injected and lets the
// stand-in's retries run, as Secrets Manager's would. After each: the
// rotation completed, AWSCURRENT logs in, no AWSPENDING is left on another
// version, alternating-users' AWSPREVIOUS still logs in, and the outcome
// tags name the rotation's version as succeeded. It prints "N fault
// points, M converged" per strategy and engine.
func TestFaultAtEveryCallConverges(t *testing.T) {
	t.Parallel()
	for _, engineName := range []string{"postgres", mariadb.EngineMariaDB} {
		t.Run(engineName, func(t *testing.T) {
			t.Parallel()
			faults := &faultySecrets{at: -1}
			o := envOptions{attempts: 3, backoff: -1, secrets: func(api rotation.SecretsAPI) rotation.SecretsAPI { faults.SecretsAPI = api; return faults }}
			w := newFaultWorld(t, engineName, o)
			killingInvocations(w.e)
			for _, strategy := range []string{strategies.NameSingleUser, strategies.NameAlternatingUsers} {
				t.Run(strategy, func(t *testing.T) {
					faults.arm(-1, false)
					w.e.mustRotate(w.secret(t, strategy))
					points := faults.trace()
					if len(points) < 7 {
						t.Fatalf("a clean rotation made %d Secrets Manager calls (%v): the enumeration is broken", len(points), points)
					}
					converged, total := 0, 0
					for i, op := range points {
						modes := []string{"before", "after", "kill"}
						if readOnly[op] {
							modes = []string{"before", "kill"} // a lost read is a failed read
						}
						for _, mode := range modes {
							total++
							arn := w.secret(t, strategy)
							if mode == "kill" {
								faults.armKill(i)
							} else {
								faults.arm(i, mode == "after")
							}
							res := w.e.rotate(arn)
							if why := w.check(arn, res, strategy); why != "" {
								t.Errorf("fault at call %d (%s, %s, fired on %q): %s", i, op, mode, faults.fired, why)
								continue
							}
							converged++
						}
					}
					t.Logf("%s on %s: %d fault points, %d converged (calls: %s)", strategy, engineName, total, converged, strings.Join(points, " "))
					fmt.Printf("fault points: %s on %s: %d fault points, %d converged\n", strategy, engineName, total, converged)
				})
			}
		})
	}
}

// newFaultWorld starts the harness for engineName with o.
func newFaultWorld(t *testing.T, engineName string, o envOptions) *faultWorld {
	if engineName == mariadb.EngineMariaDB {
		m := newMariaEnv(t, o)
		return &faultWorld{
			e: m.env, addr: net.JoinHostPort(m.m.Host, strconv.Itoa(m.m.Port)), server: m.m,
			secret: func(t *testing.T, strategy string) string {
				if strategy == strategies.NameAlternatingUsers {
					arn, _ := mariaAlternating(t, m, dbtest.UniqueName("app"))
					return tagStrategy(t, m.env, arn, strategy)
				}
				user := dbtest.UniqueName("app")
				m.m.CreateUser(t, user, "initial-password-1")
				return m.createSecret(dbtest.UniqueName("s"), m.mdoc(mariadb.EngineMariaDB, user, "initial-password-1", nil), nil)
			},
			canLogin: func(d *events.SecretDocument) error { return m.canLogin(d.Username, d.Password) },
		}
	}
	e := newEnv(t, o)
	return &faultWorld{
		e: e, addr: net.JoinHostPort(e.pg.Host, strconv.Itoa(e.pg.Port)), server: e.pg,
		secret: func(t *testing.T, strategy string) string {
			if strategy == strategies.NameAlternatingUsers {
				arn, _ := alternating(t, e, "admin-password-1")
				return tagStrategy(t, e, arn, strategy)
			}
			user := dbtest.UniqueName("app")
			e.pg.CreateRole(t, user, "initial-password-1")
			return e.createSecret(dbtest.UniqueName("s"), e.doc(user, "initial-password-1", nil), nil)
		},
		canLogin: func(d *events.SecretDocument) error { return e.canLogin(d.Username, d.Password) },
	}
}

// tagStrategy sets the secret's rotor:strategy tag.
func tagStrategy(t *testing.T, e *env, arn, strategy string) string {
	_, err := e.sm.TagResource(context.Background(), &secretsmanager.TagResourceInput{SecretId: &arn, Tags: tagList(rotation.TagStrategy, strategy)})
	must(t, err, "tag strategy")
	return arn
}

// check returns why the world is not as it must be after a rotation with
// one fault, or "".
func (w *faultWorld) check(arn string, res awslocal.RotationResult, strategy string) string {
	if !res.Succeeded {
		return fmt.Sprintf("did not converge in %d passes: failed at %s: %v", res.Attempts, res.Step, res.Err)
	}
	if v := events.StrandedPending(w.e.labels(arn)); v != "" {
		return "AWSPENDING left on version " + v
	}
	cur := w.e.value(arn, rotation.LabelCurrent)
	if err := w.canLogin(cur); err != nil {
		return "AWSCURRENT does not log in: " + err.Error()
	}
	if events.VersionWith(w.e.labels(arn), rotation.LabelCurrent) != res.VersionID {
		return "AWSCURRENT is not the rotation's version"
	}
	if strategy == strategies.NameAlternatingUsers {
		if err := w.canLogin(w.e.value(arn, rotation.LabelPrevious)); err != nil {
			return "AWSPREVIOUS does not log in: " + err.Error()
		}
	}
	if tags := w.e.tags(arn); tags[rotation.TagLastRotation] != rotation.OutcomeSucceeded || tags[rotation.TagLastVersion] != res.VersionID {
		return fmt.Sprintf("outcome tags do not tell the truth: %v", tags)
	}
	return ""
}

// TestThrottlingAndServerErrorsAtEveryOperation: for each operation a
// rotation calls (taken from a clean rotation's count on the stand-in),
// the stand-in answers its first call with ThrottlingException, then in a
// second rotation with a 500; the SDK's standard retries absorb both, so
// the rotation completes in its first pass with the usual invariants.
func TestThrottlingAndServerErrorsAtEveryOperation(t *testing.T) {
	t.Parallel()
	w := newFaultWorld(t, "postgres", envOptions{attempts: 1, backoff: -1})
	for _, strategy := range []string{strategies.NameSingleUser, strategies.NameAlternatingUsers} {
		t.Run(strategy, func(t *testing.T) {
			ops := w.operations(t, strategy)
			for _, op := range ops {
				for _, answer := range []awslocal.FaultAnswer{awslocal.FaultThrottle, awslocal.FaultError} {
					arn := w.secret(t, strategy)
					f := awslocal.Fault{Operation: op, SecretID: arn, Answer: answer, Count: 1}
					if op == "ListSecrets" {
						f.SecretID = "" // it names no secret; this stand-in serves this test alone
					}
					id, err := w.e.srv.AddFault(f)
					must(t, err, "add fault")
					res := w.e.rotate(arn)
					var fired int
					for _, f := range w.e.srv.Faults() {
						if f.ID == id {
							fired = f.Fired
						}
					}
					w.e.srv.RemoveFault(id)
					if why := w.check(arn, res, strategy); why != "" || res.Attempts != 1 {
						t.Errorf("%s answered with %s once: %s (passes %d)", op, answer, why, res.Attempts)
					}
					if fired != 1 {
						t.Errorf("%s: the %s fault fired %d times, want 1", op, answer, fired)
					}
				}
			}
			t.Logf("%s: %d operations x throttle and 500, all absorbed by the SDK's retries: %v", strategy, len(ops), ops)
		})
	}
}

// TestSameStepTwiceAtOnce: Secrets Manager may invoke a step again while an
// earlier invocation still runs (a timeout it gave up on). For every step,
// both strategies and both engines, the step runs twice concurrently; the
// rotation must converge (the service's retry may be needed when one of the
// two loses a race, such as both creating the clone) with the usual
// invariants.
func TestSameStepTwiceAtOnce(t *testing.T) {
	t.Parallel()
	for _, engineName := range []string{"postgres", mariadb.EngineMariaDB} {
		t.Run(engineName, func(t *testing.T) {
			t.Parallel()
			w := newFaultWorld(t, engineName, envOptions{attempts: 3, backoff: -1})
			for _, strategy := range []string{strategies.NameSingleUser, strategies.NameAlternatingUsers} {
				for _, step := range events.Steps {
					arn := w.secret(t, strategy)
					w.e.hook = func(ctx context.Context, ev events.RotationEvent, next func() error) error {
						if events.Step(ev.Step) != step {
							return next()
						}
						errs := make(chan error, 2)
						for range 2 {
							go func() { errs <- next() }()
						}
						return errors.Join(<-errs, <-errs)
					}
					res := w.e.rotate(arn)
					w.e.hook = nil
					if why := w.check(arn, res, strategy); why != "" {
						t.Errorf("%s %s twice at once: %s", strategy, step, why)
					} else if res.Attempts > 1 {
						t.Logf("%s %s twice at once: converged in %d passes", strategy, step, res.Attempts)
					}
				}
			}
		})
	}
}
