package ops_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/local/awslocal"
	"github.com/rotorhq/rotor/internal/ops"
	"github.com/rotorhq/rotor/internal/ops/opstest"
)

// fleetSize is the fleet TestFleetStaysWithinTheWriteBudget rotates: at
// the default budget (20 rotations a second) it paces for 5 seconds; make
// bench runs 1,000.
const fleetSize = 100

// TestFleetStaysWithinTheWriteBudget rotates a fleet through rotate-now at
// the default write budget, the rotator doing real rotations against
// PostgreSQL, and counts every PutSecretValue and UpdateSecretVersionStage
// the stand-in answered: one of each per rotation (events.WritesPerRotation),
// and never more than the budget in any one second (a rolling window over
// the real times the stand-in answered them). rotate-now does not wait for
// the outcomes, so this also checks that it watches the rotations it
// started while others still wait for the budget.
func TestFleetStaysWithinTheWriteBudget(t *testing.T) {
	t.Parallel()
	e := opstest.New(t)
	arns := make([]string, fleetSize)
	for i := range arns {
		pw := fmt.Sprintf("fleet-password-%d", i)
		arns[i] = e.Secret(e.Doc(e.Role("fw", pw), pw), nil)
	}
	enableRotation(t, e, arns)
	e.Srv.ResetStats()
	log := e.Srv.LogCalls()
	opts := fast(e, false)
	opts.WritesPerSecond = 0 // the default
	opts.Concurrency = 50
	sent := &sendTimes{SecretsAPI: e.SM}
	opts.Secrets = sent
	var mu sync.Mutex
	var throttles int
	opts.Progress = func(p ops.Progress) {
		if p.Kind == ops.ProgressThrottled {
			mu.Lock()
			throttles++
			mu.Unlock()
		}
	}
	res := ops.RotateNow(context.Background(), opts, arns)
	for i, r := range res {
		if r.Status != events.StatusStarted {
			t.Fatalf("secret %d: %+v", i, r)
		}
		if w := e.Wait(arns[i]); !w.Succeeded || w.VersionID != r.VersionID {
			t.Fatalf("secret %d: rotation %+v, want version %s to succeed", i, w, r.VersionID)
		}
	}
	writes := log.Times("PutSecretValue", "UpdateSecretVersionStage")
	if want := fleetSize * events.WritesPerRotation; len(writes) != want {
		t.Fatalf("%d writes for %d rotations, want %d (events.WritesPerRotation = %d): stats %v", len(writes), fleetSize, want, events.WritesPerRotation, e.Srv.Stats())
	}
	rolling, bucketed := awslocal.PeakPerSecond(writes)
	started, _ := awslocal.PeakPerSecond(sent.times())
	t.Logf("peak writes per second at the stand-in: %d (rolling), %d (whole seconds); peak RotateSecret calls sent per second %d; budget %d; throttles %d",
		rolling, bucketed, started, events.DefaultWritesPerSecond, throttles)
	// What the pacer guarantees: rotations start at most budget/2 a
	// second, in any second; and since rotate-now counts every rotation
	// that runs or ended within the last second against the budget, the
	// writes the rotator makes, whenever it makes them, stay within the
	// budget in every rolling second.
	if limit := events.DefaultWritesPerSecond / events.WritesPerRotation; started > limit {
		t.Fatalf("%d rotations started within one second, above budget/writes-per-rotation = %d", started, limit)
	}
	if rolling > events.DefaultWritesPerSecond {
		t.Fatalf("%d writes in one rolling second (%d in a whole second), above the budget %d", rolling, bucketed, events.DefaultWritesPerSecond)
	}
	if throttles != 0 {
		t.Fatalf("%d throttles reported with no throttling", throttles)
	}
}

// enableRotation attaches the rotator to every secret without rotating
// (RotateImmediately false), all at once, and waits for the checks.
func enableRotation(t *testing.T, e *opstest.Env, arns []string) {
	t.Helper()
	for _, arn := range arns {
		_, err := e.SM.RotateSecret(context.Background(), &secretsmanager.RotateSecretInput{
			SecretId:          aws.String(arn),
			RotationLambdaARN: aws.String(e.FunctionARN),
			RotationRules:     &types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)},
			RotateImmediately: aws.Bool(false),
		})
		if err != nil {
			t.Fatalf("enable rotation: %v", err)
		}
	}
	for _, arn := range arns {
		e.Wait(arn)
	}
}

// sendTimes records when RotateSecret calls are sent.
type sendTimes struct {
	ops.SecretsAPI
	mu sync.Mutex
	at []time.Time
}

func (s *sendTimes) RotateSecret(ctx context.Context, in *secretsmanager.RotateSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.RotateSecretOutput, error) {
	s.mu.Lock()
	s.at = append(s.at, time.Now())
	s.mu.Unlock()
	return s.SecretsAPI.RotateSecret(ctx, in, optFns...)
}

func (s *sendTimes) times() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.at)
}

// TestRotateNowBacksOffOnThrottling makes the stand-in throttle
// RotateSecret once: the SDK retries it and the rotation succeeds, and
// rotate-now halves its pace and says so, once.
func TestRotateNowBacksOffOnThrottling(t *testing.T) {
	t.Parallel()
	e := opstest.New(t)
	arn, _ := singleUser(t, e)
	if _, err := e.Srv.AddFault(awslocal.Fault{Operation: "RotateSecret", Answer: awslocal.FaultThrottle, Count: 1}); err != nil {
		t.Fatal(err)
	}
	e.Srv.ResetStats()
	opts := fast(e, true)
	opts.WritesPerSecond = 40
	var got []float64
	var mu sync.Mutex
	opts.Progress = func(p ops.Progress) {
		if p.Kind == ops.ProgressThrottled {
			mu.Lock()
			got = append(got, p.WritesPerSecond)
			mu.Unlock()
		}
	}
	start := time.Now()
	res := ops.RotateNow(context.Background(), opts, []string{arn})
	if res[0].Status != events.StatusSucceeded {
		t.Fatalf("result %+v", res[0])
	}
	if len(got) != 1 || got[0] < 20 || got[0] > 20+40*0.05*time.Since(start).Seconds() {
		t.Fatalf("throttled progress %v, want one report of about 20 writes/s (half of 40)", got)
	}
	if n := e.Srv.Stats()["RotateSecret"]; n != 2 {
		t.Fatalf("%d RotateSecret calls, want 2 (the throttled one and the SDK's retry)", n)
	}
}
