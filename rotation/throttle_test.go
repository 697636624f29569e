package rotation_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/rotorhq/rotor/internal/local/awslocal"
	"github.com/rotorhq/rotor/strategies"
	"github.com/rotorhq/rotor/strategies/mariadb"
)

// TestThrottlingThatOutlastsTheSDKsRetries: for each operation a rotation
// calls, on both engines and both strategies, the stand-in throttles as
// many calls in a row as the SDK's standard retryer makes attempts, so the
// call fails, its step fails and the pass ends. Secrets Manager's retry of
// the rotation (the stand-in's next pass) must then converge with the
// usual invariants, and it must have taken a second pass (the fault really
// outlasted the SDK's retries).
func TestThrottlingThatOutlastsTheSDKsRetries(t *testing.T) {
	t.Parallel()
	attempts := retry.NewStandard().MaxAttempts()
	for _, engineName := range []string{"postgres", mariadb.EngineMariaDB} {
		t.Run(engineName, func(t *testing.T) {
			t.Parallel()
			w := newFaultWorld(t, engineName, envOptions{attempts: 3, backoff: -1})
			total, converged := 0, 0
			for _, strategy := range []string{strategies.NameSingleUser, strategies.NameAlternatingUsers} {
				for _, op := range w.operations(t, strategy) {
					total++
					arn := w.secret(t, strategy)
					f := awslocal.Fault{Operation: op, SecretID: arn, Answer: awslocal.FaultThrottle, Count: attempts}
					if op == "ListSecrets" {
						f.SecretID = "" // it names no secret; this stand-in serves this test alone
					}
					id, err := w.e.srv.AddFault(f)
					must(t, err, "add fault")
					res := w.e.rotate(arn)
					w.e.srv.RemoveFault(id)
					if why := w.check(arn, res, strategy); why != "" {
						t.Errorf("%s/%s throttled %d times in a row: %s", strategy, op, attempts, why)
						continue
					}
					if res.Attempts < 2 {
						t.Errorf("%s/%s throttled %d times in a row: the rotation took %d pass; the fault did not outlast the SDK's retries", strategy, op, attempts, res.Attempts)
						continue
					}
					converged++
				}
			}
			t.Logf("%s: %d operations throttled past the SDK's %d attempts, %d converged on Secrets Manager's retry", engineName, total, attempts, converged)
			fmt.Printf("throttling past the SDK's retries: %s: %d fault points, %d converged\n", engineName, total, converged)
		})
	}
}

// operations rotates a fresh secret cleanly and returns the Secrets
// Manager operations the rotation called, counted on the stand-in (so the
// list of operations to break comes from the code), sorted.
func (w *faultWorld) operations(t *testing.T, strategy string) []string {
	t.Helper()
	arn := w.secret(t, strategy)
	w.e.srv.ResetStats()
	w.e.mustRotate(arn)
	var ops []string
	for op := range w.e.srv.Stats() {
		if op != "RotateSecret" && !strings.HasPrefix(op, "_") {
			ops = append(ops, op)
		}
	}
	slices.Sort(ops)
	if len(ops) < 5 {
		t.Fatalf("a clean rotation called %v: the enumeration is broken", ops)
	}
	return ops
}
