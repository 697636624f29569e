package rotation_test

import (
	"testing"
	"time"

	"github.com/rotorhq/rotor/internal/local/awslocal"
	"github.com/rotorhq/rotor/internal/local/dbtest"
	"github.com/rotorhq/rotor/strategies"
)

// BenchmarkRotation measures one whole rotation as Secrets Manager runs it
// (RotateSecret, then the four steps through the in-process rotator) against
// the local stand-in and a real PostgreSQL with SCRAM and verify-full TLS.
// Besides time it reports the Secrets Manager calls and database logins each
// rotation made. Reproduce with:
//
//	go test -run '^$' -bench Rotation -benchtime 50x ./rotation/
func BenchmarkRotation(b *testing.B) {
	for _, strategy := range []string{strategies.NameSingleUser, strategies.NameAlternatingUsers} {
		b.Run(strategy, func(b *testing.B) {
			e := newEnv(b, envOptions{strategy: strategy})
			var arn string
			var users []string
			if strategy == strategies.NameAlternatingUsers {
				var base string
				arn, base = alternating(b, e, "admin-password-1")
				users = []string{base, base + "_clone"}
			} else {
				user := dbtest.UniqueName("bench")
				e.pg.CreateRole(b, user, "initial-password-1")
				arn = e.createSecret(dbtest.UniqueName("s"), e.doc(user, "initial-password-1", nil), nil)
				users = []string{user}
			}
			e.mustRotate(arn) // warm the container's cache, as a scheduled fleet would be
			clock := e.srv.Clock().(*awslocal.FakeClock)
			e.srv.ResetStats()
			off := e.pg.LogOffset(b)
			b.ResetTimer()
			for range b.N {
				// Secrets Manager keeps 100 versions and prunes unlabeled ones
				// older than a day: move its clock, not the schedule.
				clock.Advance(25 * time.Hour)
				e.mustRotate(arn)
			}
			b.StopTimer()
			calls, _ := e.rotorCalls()
			b.ReportMetric(float64(calls)/float64(b.N), "sm-calls/op")
			b.ReportMetric(float64(e.logins(off, users...))/float64(b.N), "user-logins/op")
		})
	}
}
