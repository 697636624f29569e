package rotation_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/ops"
	"github.com/rotorhq/rotor/strategies"
	"github.com/rotorhq/rotor/strategies/mariadb"
)

// gate holds the first invocation of a rotation until released, so a test
// can act while that rotation is in flight.
type gate struct {
	once     sync.Once
	held     chan struct{}
	released chan struct{}
}

func newGate() *gate { return &gate{held: make(chan struct{}), released: make(chan struct{})} }

// hook is an env hook that holds the first invocation at the gate.
func (g *gate) hook(ctx context.Context, ev events.RotationEvent, next func() error) error {
	first := false
	g.once.Do(func() { first = true })
	if first {
		close(g.held)
		<-g.released
	}
	return next()
}

// forget removes a secret a case is done with, so later schedule ticks
// in the same stand-in do not rotate it again.
func forget(t *testing.T, e *env, arn string) {
	t.Helper()
	_, err := e.sm.DeleteSecret(context.Background(), &secretsmanager.DeleteSecretInput{SecretId: &arn, ForceDeleteWithoutRecovery: aws.Bool(true)})
	must(t, err, "force-delete the secret")
}

// rotations counts the rotations the stand-in started for arn.
func rotations(e *env, arn string) int {
	n := 0
	for _, ev := range e.srv.Events() {
		if ev.SecretARN == arn && ev.Name == "RotationStarted" && ev.Attempt == 1 {
			n++
		}
	}
	return n
}

// TestConcurrentRotationsOfOneSecret: RotateSecret twice on one secret, a
// rotation while the secret is being deleted, and rotate-now racing a
// scheduled rotation, both strategies and both engines. Each time exactly
// one rotation runs, it completes (after a restore, for the deletion) with
// the usual invariants, and the loser gets a clear answer.
func TestConcurrentRotationsOfOneSecret(t *testing.T) {
	t.Parallel()
	for _, engineName := range []string{"postgres", mariadb.EngineMariaDB} {
		t.Run(engineName, func(t *testing.T) {
			t.Parallel()
			w := newFaultWorld(t, engineName, envOptions{attempts: 1, backoff: -1})
			e := w.e
			ctx := context.Background()
			cases := 0
			for _, strategy := range []string{strategies.NameSingleUser, strategies.NameAlternatingUsers} {
				// RotateSecret twice: the second is refused while the
				// first is in flight; the first completes.
				arn := w.secret(t, strategy)
				g := newGate()
				e.hook = g.hook
				out, err := e.sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: &arn, RotationLambdaARN: &e.fnARN})
				must(t, err, "first RotateSecret")
				<-g.held
				_, err = e.sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: &arn})
				if err == nil || !strings.Contains(err.Error(), "InvalidRequestException") || !strings.Contains(err.Error(), "A previous rotation isn't complete") {
					t.Errorf("%s: a second RotateSecret during a rotation: %v, want InvalidRequestException: A previous rotation isn't complete", strategy, err)
				}
				close(g.released)
				res, err := e.srv.WaitRotation(ctx, arn)
				must(t, err, "wait for the rotation")
				e.hook = nil
				if why := w.check(arn, res, strategy); why != "" || res.VersionID != aws.ToString(out.VersionId) || rotations(e, arn) != 1 {
					t.Errorf("%s: RotateSecret twice: %s (version %s, first asked %s; %d rotations)", strategy, why, res.VersionID, aws.ToString(out.VersionId), rotations(e, arn))
				}
				forget(t, e, arn)
				cases++

				// Deleted (with a recovery window) as each step starts:
				// the rotation fails naming the deletion, nothing else is
				// touched; once restored, the schedule's reattempt of the
				// same rotation completes it.
				for _, step := range events.Steps {
					arn := w.secret(t, strategy)
					deleted := false
					e.hook = func(ctx context.Context, ev events.RotationEvent, next func() error) error {
						if events.Step(ev.Step) == step && !deleted {
							deleted = true
							_, err := e.sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: &arn, RecoveryWindowInDays: aws.Int64(7)})
							must(t, err, "delete the secret")
						}
						return next()
					}
					res := e.rotate(arn)
					e.hook = nil
					if res.Succeeded || res.Err == nil || !strings.Contains(res.Err.Error(), "marked for deletion") {
						t.Errorf("%s, deleted as %s starts: succeeded %v, error %v; want a failure naming the deletion", strategy, step, res.Succeeded, res.Err)
					}
					_, err := e.sm.RestoreSecret(ctx, &secretsmanager.RestoreSecretInput{SecretId: &arn})
					must(t, err, "restore the secret")
					started := e.srv.Advance(31 * 24 * time.Hour)
					if len(started) != 1 || started[0] != arn {
						t.Fatalf("%s, deleted as %s starts: the schedule started %v after the restore, want this secret's rotation only", strategy, step, started)
					}
					res, err = e.srv.WaitRotation(ctx, arn)
					must(t, err, "wait for the reattempt")
					if why := w.check(arn, res, strategy); why != "" {
						t.Errorf("%s, deleted as %s starts, restored, reattempted: %s", strategy, step, why)
					}
					forget(t, e, arn)
					cases++
				}

				// rotate-now racing the schedule, three orders.
				rotateNow := func(api ops.SecretsAPI, arn string) events.RotateNowResult {
					return ops.RotateNow(ctx, ops.RotateNowOptions{Secrets: api, Wait: true, Timeout: time.Minute,
						PollInterval: 10 * time.Millisecond, MaxPollInterval: 50 * time.Millisecond, StartJitter: -1}, []string{arn})[0]
				}
				for _, order := range []string{"schedule first", "schedule between check and request", "rotate-now first"} {
					arn := w.secret(t, strategy)
					e.mustRotate(arn) // rotation on, on a 30-day schedule
					before := rotations(e, arn)
					var got events.RotateNowResult
					switch order {
					case "schedule first":
						g := newGate()
						e.hook = g.hook
						if started := e.srv.Advance(31 * 24 * time.Hour); len(started) != 1 {
							t.Fatalf("the schedule started %v, want this secret", started)
						}
						<-g.held
						got = rotateNow(e.sm, arn)
						close(g.released)
					case "schedule between check and request":
						got = rotateNow(&scheduleOnRotate{SecretsAPI: e.sm, srv: e}, arn)
					case "rotate-now first":
						g := newGate()
						e.hook = g.hook
						done := make(chan events.RotateNowResult)
						go func() { done <- rotateNow(e.sm, arn) }()
						<-g.held
						if started := e.srv.Advance(31 * 24 * time.Hour); len(started) != 0 {
							t.Errorf("the schedule started %v while rotate-now's rotation ran", started)
						}
						close(g.released)
						got = <-done
					}
					res, err := e.srv.WaitRotation(ctx, arn)
					must(t, err, "wait for the rotation")
					e.hook = nil
					if why := w.check(arn, res, strategy); why != "" || rotations(e, arn)-before != 1 {
						t.Errorf("%s, %s: %s (%d rotations ran, want 1)", strategy, order, why, rotations(e, arn)-before)
					}
					t.Logf("%s, %s: rotate-now answered %s: %s", strategy, order, got.Status, got.Reason)
					checkRotateNowLoser(t, strategy+", "+order, order, got, res.VersionID)
					forget(t, e, arn)
					cases++
				}
			}
			fmt.Printf("concurrent rotations: %s: %d cases, each ran one rotation to completion\n", engineName, cases)
		})
	}
}

// scheduleOnRotate lets the schedule start a rotation just before
// rotate-now's RotateSecret reaches the service: after rotate-now checked
// the secret was free.
type scheduleOnRotate struct {
	ops.SecretsAPI
	srv  *env
	once sync.Once
}

func (s *scheduleOnRotate) RotateSecret(ctx context.Context, in *secretsmanager.RotateSecretInput, o ...func(*secretsmanager.Options)) (*secretsmanager.RotateSecretOutput, error) {
	s.once.Do(func() { s.srv.srv.Advance(31 * 24 * time.Hour) })
	return s.SecretsAPI.RotateSecret(ctx, in, o...)
}

// checkRotateNowLoser requires rotate-now's answer to be no failure and,
// when another rotation was in flight, to say so: refused naming the
// version that holds AWSPENDING when the schedule's rotation was there
// before rotate-now looked; when it started between rotate-now's check and
// its request, followed to its success with a reason saying a rotation was
// already in progress.
func checkRotateNowLoser(t *testing.T, what, order string, got events.RotateNowResult, version string) {
	t.Helper()
	var ok bool
	switch order {
	case "schedule first":
		ok = got.Status == events.StatusRefused && strings.Contains(got.Reason, version) && strings.Contains(got.Reason, "AWSPENDING")
	case "schedule between check and request":
		ok = got.Status == events.StatusSucceeded && got.VersionID == version && strings.Contains(got.Reason, "already in progress")
	default:
		ok = got.Status == events.StatusSucceeded && got.VersionID == version
	}
	if !ok {
		t.Errorf("%s: rotate-now answered %s for version %s (%s); the rotation that ran was %s", what, got.Status, got.VersionID, got.Reason, version)
	}
}
