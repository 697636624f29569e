package alerting

import (
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/schedule"
)

// scheduleOf parses rotation rules as Secrets Manager reports them, with
// internal/schedule, the implementation the local stand-in runs rotations
// by. The service may report AutomaticallyAfterDays beside a
// ScheduleExpression (it normalises rate(N days)); the expression wins.
func scheduleOf(rules *smtypes.RotationRulesType) (*schedule.Schedule, error) {
	if rules == nil {
		return nil, errors.New("no rotation rules")
	}
	r := schedule.Rules{ScheduleExpression: aws.ToString(rules.ScheduleExpression), Duration: aws.ToString(rules.Duration)}
	if r.ScheduleExpression == "" {
		r.AutomaticallyAfterDays = rules.AutomaticallyAfterDays
	}
	sc, err := schedule.Parse(r)
	if err != nil {
		return nil, fmt.Errorf("rotation rules: %w", err)
	}
	return sc, nil
}

// RotationDeadline is when the rotation window that opens at next closes,
// by Secrets Manager's rules (schedule.Schedule.WindowEnd): the window is
// RotationRules.Duration when set; otherwise one hour for an hourly
// schedule (rate(N hours), a cron firing at several hours a day) and the
// rest of the UTC day for a daily one. An error names rules that cannot be
// read.
func RotationDeadline(next time.Time, rules *smtypes.RotationRulesType) (time.Time, error) {
	sc, err := scheduleOf(rules)
	if err != nil {
		return time.Time{}, err
	}
	return sc.WindowEnd(next), nil
}

// overdue reports whether a secret's rotation is overdue at now, with the
// due date and the deadline (end of the window) that say so. Two readings
// of the due date, and either one being past its window is enough:
//
//   - NextRotationDate, as Secrets Manager reports it. The service moves it
//     to the next window after a failed scheduled rotation, so a rotation
//     that fails in every window never looks overdue by it alone.
//   - Only when the last recorded outcome is a failure (rotor:last-rotation
//     = failed): the last success (LastRotatedDate, or CreatedDate when the
//     secret never rotated) plus the interval (AutomaticallyAfterDays or
//     rate(...)). A secret whose rotations are not failing is judged by
//     NextRotationDate alone, because its schedule may legitimately start
//     later than its last rotation (rotation enabled recently, or a manual
//     change that restarted the schedule). A cron schedule has no
//     interval: it is read from NextRotationDate only.
//
// When both are late, the NextRotationDate reading is reported. A secret
// without rotation rules is never overdue (there is nothing to be late
// for); err is rules that cannot be read.
func overdue(now time.Time, s smtypes.SecretListEntry) (due, deadline time.Time, late bool, err error) {
	if s.RotationRules == nil {
		return time.Time{}, time.Time{}, false, nil
	}
	sc, err := scheduleOf(s.RotationRules)
	if err != nil {
		return time.Time{}, time.Time{}, false, err
	}
	if next := s.NextRotationDate; next != nil && !next.IsZero() {
		if d := sc.WindowEnd(*next); now.After(d) {
			return next.UTC(), d, true, nil
		}
	}
	if events.TagOf(s.Tags, events.TagLastRotation) != events.OutcomeFailed {
		return time.Time{}, time.Time{}, false, nil
	}
	base := s.LastRotatedDate
	if base == nil || base.IsZero() {
		base = s.CreatedDate
	}
	interval, ok := sc.Interval()
	if base == nil || base.IsZero() || !ok {
		return time.Time{}, time.Time{}, false, nil
	}
	due = base.UTC().Add(interval)
	deadline = sc.WindowEnd(due)
	return due, deadline, now.After(deadline), nil
}
