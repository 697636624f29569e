//go:build failpoints

package rotation_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/failpoint"
	"github.com/rotorhq/rotor/strategies"
	"github.com/rotorhq/rotor/strategies/mariadb"
)

// dbFaults numbers the database points (logins and statements) a rotation
// reaches, across all its invocations, and fires one fault at a chosen
// point: "before" (the login is refused, the statement never reaches the
// server), "after" (the server logged in or ran the statement; the
// connection drops before the rotator reads the answer) or "kill" (as
// after, and the rotator's process dies there: killSwitch).
type dbFaults struct {
	mu     sync.Mutex
	points []string // "step: engine what", in order, since arm
	at     int      // the point to fault (0-based); -1 disarmed
	mode   string
	fired  string
}

func (f *dbFaults) arm(at int, mode string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.points, f.at, f.mode, f.fired = nil, at, mode, ""
}

func (f *dbFaults) trace() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.points...)
}

// handle is the failpoint.Handler of every invocation.
func (f *dbFaults) handle(ctx context.Context, p failpoint.Point) failpoint.Fault {
	k := killSwitchOf(ctx)
	if k.refuse(p.String()) != nil {
		return failpoint.Before // a dead process reaches nothing
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	n := len(f.points)
	f.points = append(f.points, k.step+": "+p.String())
	if n != f.at {
		return failpoint.Pass
	}
	f.fired = f.points[n]
	switch f.mode {
	case "before":
		return failpoint.Before
	case "kill":
		k.kill(f.fired)
	}
	return failpoint.After
}

// TestFaultAtEveryStatementConverges enumerates the database logins and
// statements of a rotation from a clean run of the real rotator against
// the real servers (so the list cannot fall behind the code), then, for
// each point and each fault (before, after, kill), rotates a fresh secret
// with that one fault and lets the stand-in's retries run, as Secrets
// Manager's would. After each: the rotation completed, AWSCURRENT logs in,
// no AWSPENDING is left on another version, alternating-users' AWSPREVIOUS
// still logs in, and the outcome tags name the rotation's version as
// succeeded. It prints "N fault points, M converged" per strategy and
// engine, and the total. It needs the failpoints build tag (go test -tags
// failpoints), which only test builds carry.
func TestFaultAtEveryStatementConverges(t *testing.T) {
	t.Parallel()
	var total, converged atomic.Int64
	t.Run("engines", func(t *testing.T) {
		for _, engineName := range []string{"postgres", mariadb.EngineMariaDB} {
			t.Run(engineName, func(t *testing.T) {
				t.Parallel()
				faults := &dbFaults{at: -1}
				w := newFaultWorld(t, engineName, envOptions{attempts: 3, backoff: -1})
				killingInvocations(w.e)
				withKill := w.e.invocationCtx
				w.e.invocationCtx = func(ctx context.Context, ev events.RotationEvent) context.Context {
					return failpoint.With(withKill(ctx, ev), faults.handle)
				}
				for _, strategy := range []string{strategies.NameSingleUser, strategies.NameAlternatingUsers} {
					t.Run(strategy, func(t *testing.T) {
						faults.arm(-1, "")
						w.e.mustRotate(w.secret(t, strategy))
						points := faults.trace()
						if len(points) < 4 {
							t.Fatalf("a clean rotation reached %d database points (%v): the enumeration is broken", len(points), points)
						}
						n, ok := 0, 0
						for i, p := range points {
							for _, mode := range []string{"before", "after", "kill"} {
								n++
								arn := w.secret(t, strategy)
								faults.arm(i, mode)
								res := w.e.rotate(arn)
								if faults.fired != p {
									t.Errorf("fault %d (%s) fired on %q, want %q: the rotation took another road", i, mode, faults.fired, p)
								}
								if why := w.check(arn, res, strategy); why != "" {
									t.Errorf("fault %s at point %d (%s): %s", mode, i, p, why)
									continue
								}
								ok++
							}
						}
						total.Add(int64(n))
						converged.Add(int64(ok))
						t.Logf("%s on %s: %d database points:\n\t%s", strategy, engineName, len(points), strings.Join(points, "\n\t"))
						fmt.Printf("database fault points: %s on %s: %d fault points, %d converged\n", strategy, engineName, n, ok)
					})
				}
			})
		}
	})
	fmt.Printf("database fault points: all: %d fault points, %d converged\n", total.Load(), converged.Load())
}
