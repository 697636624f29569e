package awslocal

import (
	"github.com/rotorhq/rotor/internal/schedule"
)

// parseRules validates rotation rules with internal/schedule, the one
// implementation rotor has (the auditor reads windows with it too), and
// answers a refusal as InvalidParameterException with its message.
//
// Choices where AWS picks a random moment inside the window: the stand-in
// rotates at the window's start (schedule.Next), that is at the first Tick
// at or after it. A Tick that comes after the window's end still rotates
// once (the clock is test-driven, so a jump over a window is not treated
// as a missed window).
func parseRules(r *RotationRules) (*schedule.Schedule, *apiError) {
	sc, err := schedule.Parse(schedule.Rules{
		AutomaticallyAfterDays: r.AutomaticallyAfterDays,
		ScheduleExpression:     r.ScheduleExpression,
		Duration:               r.Duration,
	})
	if err != nil {
		return nil, errf(codeInvalidParameter, "%s", err.Error())
	}
	return sc, nil
}
