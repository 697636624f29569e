package schedule

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Rules is a secret's RotationRules as the API carries them. Exactly one
// of AutomaticallyAfterDays and ScheduleExpression is set; Duration is
// optional.
type Rules struct {
	AutomaticallyAfterDays *int64
	ScheduleExpression     string
	Duration               string
}

// Limits of a schedule (docs): rotations at least 4 hours and at most 999
// days apart; AutomaticallyAfterDays 1–1000 (API model); a window of 1–24
// hours.
const (
	MinInterval     = 4 * time.Hour
	MaxIntervalDays = 999
	MaxAfterDays    = 1000
	MaxWindowHours  = 24
)

// Schedule is parsed RotationRules.
type Schedule struct {
	hours int   // rate(N hours)
	days  int   // rate(N days) or AutomaticallyAfterDays
	cron  *cron // cron(...)
	// duration is the explicit window (Duration); 0 means the default.
	duration time.Duration
}

var (
	rateRE     = regexp.MustCompile(`^rate\(\s*(\d+)\s+(hour|hours|day|days)\s*\)$`)
	cronRE     = regexp.MustCompile(`^cron\((.*)\)$`)
	durationRE = regexp.MustCompile(`^(\d+)h$`)
)

// Error is a rule Parse refused. Message is worded like Secrets Manager's
// validation messages (a sentence, capitalised), so the stand-in can answer
// it as the service would.
type Error struct {
	Message string
}

func (e *Error) Error() string { return e.Message }

func invalid(format string, args ...any) error {
	return &Error{Message: fmt.Sprintf(format, args...)}
}

func invalidExpr(expr, format string, args ...any) error {
	return invalid("The schedule expression %q is invalid: %s", expr, fmt.Sprintf(format, args...))
}

// Parse validates rules:
//
//   - AutomaticallyAfterDays 1–1000, or a ScheduleExpression, not both;
//   - rate(N hours) with N ≥ 4 and at most 999 days; rate(N days), N 1–999;
//   - cron(0 H DoM Mon DoW *): minutes 0, year *, exactly one of DoM and
//     DoW "?", "?" nowhere else; per field *, n, a-b, lists, /step, month
//     and weekday names (weekday 1 is Sunday); no L, W or #. Rotations it
//     schedules must be at least 4 hours apart (a cron firing more often,
//     also across midnight, is refused) and it must fire at all;
//   - Duration "<n>h", n 1–24.
func Parse(r Rules) (*Schedule, error) {
	sc := &Schedule{}
	expr := strings.TrimSpace(r.ScheduleExpression)
	switch {
	case r.AutomaticallyAfterDays != nil && expr != "":
		return nil, invalid("You can't specify both AutomaticallyAfterDays and ScheduleExpression.")
	case r.AutomaticallyAfterDays != nil:
		n := *r.AutomaticallyAfterDays
		if n < 1 || n > MaxAfterDays {
			return nil, invalid("AutomaticallyAfterDays must be between 1 and %d.", MaxAfterDays)
		}
		sc.days = int(n)
	case expr != "":
		if m := rateRE.FindStringSubmatch(expr); m != nil {
			n, err := strconv.Atoi(m[1])
			if err != nil {
				return nil, invalidExpr(expr, "bad number %q", m[1])
			}
			if strings.HasPrefix(m[2], "hour") {
				if n < int(MinInterval/time.Hour) || n > MaxIntervalDays*24 {
					return nil, invalidExpr(expr, "a rotation interval must be at least 4 hours and at most 999 days.")
				}
				sc.hours = n
			} else {
				if n < 1 || n > MaxIntervalDays {
					return nil, invalidExpr(expr, "a rotation interval must be at least 4 hours and at most 999 days.")
				}
				sc.days = n
			}
		} else if m := cronRE.FindStringSubmatch(expr); m != nil {
			c, err := parseCron(m[1])
			if err != "" {
				return nil, invalidExpr(expr, "%s", err)
			}
			sc.cron = c
		} else {
			return nil, invalidExpr(expr, "use rate(N hours|days) or cron(0 H DoM Mon DoW *).")
		}
	default:
		return nil, invalid("RotationRules needs AutomaticallyAfterDays or ScheduleExpression.")
	}
	if r.Duration != "" {
		m := durationRE.FindStringSubmatch(r.Duration)
		if m == nil {
			return nil, invalid("The Duration %q is invalid: use a whole number of hours, such as 3h.", r.Duration)
		}
		n, err := strconv.Atoi(m[1])
		if err != nil || n < 1 || n > MaxWindowHours {
			return nil, invalid("The Duration %q is invalid: it must be between 1h and %dh.", r.Duration, MaxWindowHours)
		}
		sc.duration = time.Duration(n) * time.Hour
		if err := sc.checkWindow(r.Duration); err != nil {
			return nil, err
		}
	}
	return sc, nil
}

// checkWindow refuses a Duration that runs into the next rotation window
// or past the end of the UTC day (docs: "The rotation window must not
// extend into the next UTC day or into the next rotation window").
func (s *Schedule) checkWindow(duration string) error {
	d := int(s.duration / time.Hour)
	switch {
	case s.hours > 0:
		if d > s.hours {
			return invalid("The Duration %q is invalid: the rotation window must not extend into the next rotation window, %d hours later.", duration, s.hours)
		}
		if last := s.lastHourlySlot(); last+d > 24 {
			return invalid("The Duration %q is invalid: the rotation window opening at %02d:00 would extend into the next UTC day.", duration, last)
		}
	case s.cron != nil:
		shortest, _, _ := s.cron.gaps()
		if s.duration > shortest {
			return invalid("The Duration %q is invalid: the rotation window must not extend into the next rotation window, %d hours later.", duration, int(shortest/time.Hour))
		}
		for h := 23; h >= 0; h-- {
			if s.cron.hours[h] {
				if h+d > 24 {
					return invalid("The Duration %q is invalid: the rotation window opening at %02d:00 would extend into the next UTC day.", duration, h)
				}
				break
			}
		}
	}
	return nil
}

// lastHourlySlot is the hour of the day's last window of rate(N hours):
// windows open at midnight and every N hours after it within the day
// (N < 24); for N ≥ 24 the one window opens N hours after a midnight.
func (s *Schedule) lastHourlySlot() int {
	if s.hours < 24 {
		return 23 / s.hours * s.hours
	}
	return s.hours % 24
}

// Hourly reports whether the schedule counts in hours: rate(N hours), or a
// cron that fires at more than one hour of the day. The others
// (AutomaticallyAfterDays, rate(N days), a cron firing at one hour) are
// daily.
func (s *Schedule) Hourly() bool {
	switch {
	case s.hours > 0:
		return true
	case s.cron != nil:
		return s.cron.singleHour() < 0
	}
	return false
}

// Interval is the fixed time between rotations of AutomaticallyAfterDays
// and rate(...); ok is false for cron, which has none.
func (s *Schedule) Interval() (d time.Duration, ok bool) {
	switch {
	case s.hours > 0:
		return time.Duration(s.hours) * time.Hour, true
	case s.days > 0:
		return time.Duration(s.days) * 24 * time.Hour, true
	}
	return 0, false
}

// Next is the start of the first rotation window after base (UTC). Day
// schedules start at 00:00 UTC of base's day plus N days. Hour schedules
// (rate(N hours)) start where the service starts them, at midnight UTC and
// every N hours after it within the day, whatever the last rotation: the
// first such window after base (for N ≥ 24, N hours after base's
// midnight). Cron at the first matching hour after base's hour. Zero when
// a cron expression never fires within 1000 days.
func (s *Schedule) Next(base time.Time) time.Time {
	base = base.UTC()
	switch {
	case s.days > 0:
		return base.Truncate(24*time.Hour).AddDate(0, 0, s.days)
	case s.hours > 0:
		day := base.Truncate(24 * time.Hour)
		if s.hours >= 24 {
			return day.Add(time.Duration(s.hours) * time.Hour)
		}
		for k := 1; k*s.hours < 24; k++ {
			if t := day.Add(time.Duration(k*s.hours) * time.Hour); t.After(base) {
				return t
			}
		}
		return day.AddDate(0, 0, 1)
	default:
		t := base.Truncate(time.Hour).Add(time.Hour)
		for range 1000 * 24 {
			if s.cron.match(t) {
				return t
			}
			t = t.Add(time.Hour)
		}
		return time.Time{}
	}
}

// Window is the length of the rotation window: Duration when given;
// otherwise one hour for hourly schedules, and for daily ones what is left
// of the UTC day at the window's start (start must be given for that).
func (s *Schedule) Window(start time.Time) time.Duration {
	return s.WindowEnd(start).Sub(start)
}

// WindowEnd is when the rotation window that opens at start closes:
// start + Duration when given; otherwise start + 1 hour for hourly
// schedules and the end of start's UTC day for daily ones.
func (s *Schedule) WindowEnd(start time.Time) time.Time {
	start = start.UTC()
	switch {
	case s.duration > 0:
		return start.Add(s.duration)
	case s.Hourly():
		return start.Add(time.Hour)
	}
	return time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1)
}

// DaysBetween is the number of days between rotations, rounded up, as
// Secrets Manager reports AutomaticallyAfterDays for a ScheduleExpression:
// N for rate(N days) and AutomaticallyAfterDays, ⌈N/24⌉ for rate(N hours),
// and for cron the gap between its first two rotations after the Unix
// epoch's first Monday (a fixed reference, so the answer is stable). 0 for
// a cron that never fires twice.
func (s *Schedule) DaysBetween() int64 {
	if d, ok := s.Interval(); ok {
		return int64((d + 24*time.Hour - 1) / (24 * time.Hour))
	}
	ref := time.Date(1970, 1, 5, 0, 0, 0, 0, time.UTC)
	t1 := s.Next(ref)
	if t1.IsZero() {
		return 0
	}
	t2 := s.Next(t1)
	if t2.IsZero() {
		return 0
	}
	return int64((t2.Sub(t1) + 24*time.Hour - 1) / (24 * time.Hour))
}
