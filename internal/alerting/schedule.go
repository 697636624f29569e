package alerting

import (
	"fmt"
	"regexp"
	"strconv"
	"time"

	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

var (
	durationRule = regexp.MustCompile(`^([0-9]+)h$`)
	hourlyRate   = regexp.MustCompile(`^rate\(\s*[0-9]+\s+hours?\s*\)$`)
)

// RotationDeadline is when the rotation window that opens at next closes.
// Secrets Manager's rules (docs): the window is RotationRules.Duration
// ("<n>h") when set; otherwise one hour for an hourly schedule
// (rate(N hours)) and the rest of the UTC day for anything else
// (AutomaticallyAfterDays, rate(N days), daily cron).
func RotationDeadline(next time.Time, rules *smtypes.RotationRulesType) (time.Time, error) {
	next = next.UTC()
	if rules != nil && rules.Duration != nil && *rules.Duration != "" {
		m := durationRule.FindStringSubmatch(*rules.Duration)
		if m == nil {
			return time.Time{}, fmt.Errorf("rotation window %q is not <hours>h", *rules.Duration)
		}
		h, err := strconv.Atoi(m[1])
		if err != nil {
			return time.Time{}, fmt.Errorf("rotation window %q: %w", *rules.Duration, err)
		}
		return next.Add(time.Duration(h) * time.Hour), nil
	}
	if rules != nil && rules.ScheduleExpression != nil && hourlyRate.MatchString(*rules.ScheduleExpression) {
		return next.Add(time.Hour), nil
	}
	day := time.Date(next.Year(), next.Month(), next.Day(), 0, 0, 0, 0, time.UTC)
	return day.Add(24 * time.Hour), nil
}

// overdue reports whether a secret's rotation is overdue at now, with the
// due date and the deadline (end of the window) that say so. Two readings
// of the due date, and either one being past its window is enough:
//
//   - NextRotationDate, as Secrets Manager reports it. The service moves it
//     to the next window after a failed scheduled rotation, so a rotation
//     that fails in every window never looks overdue by it alone.
//   - The last success (LastRotatedDate, or CreatedDate when the secret
//     never rotated) plus the interval (AutomaticallyAfterDays or
//     rate(...)). A cron schedule has no interval: it is read from
//     NextRotationDate only.
//
// When both are late, the NextRotationDate reading is reported. err is a
// rotation window that cannot be read.
func overdue(now time.Time, s smtypes.SecretListEntry) (due, deadline time.Time, late bool, err error) {
	if next := s.NextRotationDate; next != nil && !next.IsZero() {
		d, err := RotationDeadline(*next, s.RotationRules)
		if err != nil {
			return time.Time{}, time.Time{}, false, err
		}
		if now.After(d) {
			return next.UTC(), d, true, nil
		}
	}
	base := s.LastRotatedDate
	if base == nil || base.IsZero() {
		base = s.CreatedDate
	}
	interval, ok := rotationInterval(s.RotationRules)
	if base == nil || base.IsZero() || !ok {
		return time.Time{}, time.Time{}, false, nil
	}
	due = base.UTC().Add(interval)
	d, err := RotationDeadline(due, s.RotationRules)
	if err != nil {
		return time.Time{}, time.Time{}, false, err
	}
	return due, d, now.After(d), nil
}

var rateRule = regexp.MustCompile(`^rate\(\s*([0-9]+)\s+(hours?|days?)\s*\)$`)

// rotationInterval is the fixed interval of AutomaticallyAfterDays or a
// rate(...) schedule; ok is false for cron and unreadable rules.
func rotationInterval(rules *smtypes.RotationRulesType) (time.Duration, bool) {
	if rules == nil {
		return 0, false
	}
	if n := rules.AutomaticallyAfterDays; n != nil && *n > 0 {
		return time.Duration(*n) * 24 * time.Hour, true
	}
	if rules.ScheduleExpression == nil {
		return 0, false
	}
	m := rateRule.FindStringSubmatch(*rules.ScheduleExpression)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n <= 0 {
		return 0, false
	}
	if m[2][0] == 'h' {
		return time.Duration(n) * time.Hour, true
	}
	return time.Duration(n) * 24 * time.Hour, true
}
