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

// expectedNext is when the next rotation is due: NextRotationDate, or
// (when Secrets Manager did not report one) the last rotation plus
// AutomaticallyAfterDays. ok is false when neither is known.
func expectedNext(next, last, created *time.Time, rules *smtypes.RotationRulesType) (time.Time, bool) {
	if next != nil && !next.IsZero() {
		return next.UTC(), true
	}
	if rules == nil || rules.AutomaticallyAfterDays == nil || *rules.AutomaticallyAfterDays <= 0 {
		return time.Time{}, false
	}
	base := last
	if base == nil || base.IsZero() {
		base = created
	}
	if base == nil || base.IsZero() {
		return time.Time{}, false
	}
	return base.UTC().Add(time.Duration(*rules.AutomaticallyAfterDays) * 24 * time.Hour), true
}
