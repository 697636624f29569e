package awslocal

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// schedule is a parsed RotationRules. Times are UTC.
//
// Choices where AWS picks a random moment inside the window: the stand-in
// rotates at the window's start, that is at the first Tick at or after it.
// A Tick that comes after the window's end still rotates once (the clock is
// test-driven, so a jump over a window is not treated as a missed window).
type schedule struct {
	hours  int       // rate(N hours)
	days   int       // rate(N days) or AutomaticallyAfterDays
	cron   *cronSpec // cron(...)
	window time.Duration
}

var (
	rateRE     = regexp.MustCompile(`^rate\((\d+) (hour|hours|day|days)\)$`)
	cronRE     = regexp.MustCompile(`^cron\((.*)\)$`)
	durationRE = regexp.MustCompile(`^(\d+)h$`)
)

func badRules(format string, args ...any) *apiError {
	return errf(codeInvalidParameter, format, args...)
}

// parseRules validates rotation rules: AutomaticallyAfterDays 1–1000 or a
// ScheduleExpression (rate(N hours|days), cron(0 H DoM Mon DoW *)), minimum
// interval 4 hours, maximum 999 days, optional Duration "[0-9]+h" of 1–24
// hours. Choice: the minimum interval is checked for rate() only.
func parseRules(r *RotationRules) (*schedule, *apiError) {
	sc := &schedule{}
	switch {
	case r.AutomaticallyAfterDays != nil && r.ScheduleExpression != "":
		return nil, badRules("You can't specify both AutomaticallyAfterDays and ScheduleExpression.")
	case r.AutomaticallyAfterDays != nil:
		n := *r.AutomaticallyAfterDays
		if n < 1 || n > 1000 {
			return nil, badRules("AutomaticallyAfterDays must be between 1 and 1000.")
		}
		sc.days = int(n)
		sc.window = 24 * time.Hour
	case r.ScheduleExpression != "":
		expr := strings.TrimSpace(r.ScheduleExpression)
		if m := rateRE.FindStringSubmatch(expr); m != nil {
			n, _ := strconv.Atoi(m[1])
			if strings.HasPrefix(m[2], "hour") {
				if n < 4 || n > 999*24 {
					return nil, badRules("The schedule expression %q is invalid: a rotation interval must be at least 4 hours and at most 999 days.", expr)
				}
				sc.hours, sc.window = n, time.Hour
			} else {
				if n < 1 || n > 999 {
					return nil, badRules("The schedule expression %q is invalid: a rotation interval must be at least 4 hours and at most 999 days.", expr)
				}
				sc.days, sc.window = n, 24*time.Hour
			}
		} else if m := cronRE.FindStringSubmatch(expr); m != nil {
			cs, err := parseCron(m[1])
			if err != "" {
				return nil, badRules("The schedule expression %q is invalid: %s", expr, err)
			}
			sc.cron = cs
			sc.window = time.Hour
			if h := cs.singleHour(); h >= 0 {
				sc.window = time.Duration(24-h) * time.Hour // to the end of the UTC day
			}
		} else {
			return nil, badRules("The schedule expression %q is invalid: use rate(N hours|days) or cron(0 H DoM Mon DoW *).", expr)
		}
	default:
		return nil, badRules("RotationRules needs AutomaticallyAfterDays or ScheduleExpression.")
	}
	if r.Duration != "" {
		m := durationRE.FindStringSubmatch(r.Duration)
		if m == nil {
			return nil, badRules("The Duration %q is invalid: use a whole number of hours, such as 3h.", r.Duration)
		}
		n, _ := strconv.Atoi(m[1])
		if n < 1 || n > 24 {
			return nil, badRules("The Duration %q is invalid: it must be between 1h and 24h.", r.Duration)
		}
		sc.window = time.Duration(n) * time.Hour
	}
	return sc, nil
}

// next is the start of the first rotation window after base. Day schedules
// start at 00:00 UTC of base's day plus N days; hour schedules at base's
// hour plus N hours; cron at the first matching hour after base.
func (sc *schedule) next(base time.Time) time.Time {
	base = base.UTC()
	switch {
	case sc.days > 0:
		return base.Truncate(24*time.Hour).AddDate(0, 0, sc.days)
	case sc.hours > 0:
		return base.Truncate(time.Hour).Add(time.Duration(sc.hours) * time.Hour)
	default:
		t := base.Truncate(time.Hour).Add(time.Hour)
		for i := 0; i < 1000*24; i++ {
			if sc.cron.match(t) {
				return t
			}
			t = t.Add(time.Hour)
		}
		return time.Time{}
	}
}

// cronSpec is a cron(0 H DoM Mon DoW *) expression as sets of allowed values.
type cronSpec struct {
	hours, dom, months, dow []bool
}

var (
	monthNames = map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}
	dowNames   = map[string]int{"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
)

// parseCron parses the six fields. Supported per field: *, ?, n, a-b, lists
// and /step, month and weekday names; weekday 1 is Sunday. L, W and # are
// not supported (answered as invalid).
func parseCron(s string) (*cronSpec, string) {
	f := strings.Fields(s)
	if len(f) != 6 {
		return nil, "a cron expression has six fields"
	}
	if f[0] != "0" {
		return nil, "the minutes field must be 0"
	}
	if f[5] != "*" {
		return nil, "the year field must be *"
	}
	if (f[2] == "?") == (f[4] == "?") {
		return nil, "exactly one of day-of-month and day-of-week must be ?"
	}
	cs := &cronSpec{}
	var err string
	if cs.hours, err = cronField(f[1], 0, 23, nil); err != "" {
		return nil, err
	}
	if cs.dom, err = cronField(f[2], 1, 31, nil); err != "" {
		return nil, err
	}
	if cs.months, err = cronField(f[3], 1, 12, monthNames); err != "" {
		return nil, err
	}
	if cs.dow, err = cronField(f[4], 1, 7, dowNames); err != "" {
		return nil, err
	}
	return cs, ""
}

func cronField(s string, lo, hi int, names map[string]int) ([]bool, string) {
	set := make([]bool, hi+1)
	num := func(x string) (int, bool) {
		if n, ok := names[strings.ToUpper(x)]; ok {
			return n, true
		}
		n, err := strconv.Atoi(x)
		return n, err == nil && n >= lo && n <= hi
	}
	for _, part := range strings.Split(s, ",") {
		rng, stepStr, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepStr)
			if err != nil || n < 1 {
				return nil, "bad step " + strconv.Quote(part)
			}
			step = n
		}
		a, b := lo, hi
		switch {
		case rng == "*" || rng == "?":
		case strings.Contains(rng, "-"):
			x, y, _ := strings.Cut(rng, "-")
			var ok1, ok2 bool
			a, ok1 = num(x)
			b, ok2 = num(y)
			if !ok1 || !ok2 || a > b {
				return nil, "bad range " + strconv.Quote(part)
			}
		default:
			n, ok := num(rng)
			if !ok {
				return nil, "bad value " + strconv.Quote(part)
			}
			a = n
			if !hasStep {
				b = n
			}
		}
		for i := a; i <= b; i += step {
			set[i] = true
		}
	}
	return set, ""
}

func (c *cronSpec) match(t time.Time) bool {
	return c.hours[t.Hour()] && c.dom[t.Day()] && c.months[int(t.Month())] && c.dow[int(t.Weekday())+1]
}

// singleHour returns the only hour the expression fires at, or -1.
func (c *cronSpec) singleHour() int {
	h := -1
	for i, ok := range c.hours {
		if ok {
			if h >= 0 {
				return -1
			}
			h = i
		}
	}
	return h
}
