package schedule

import (
	"strconv"
	"strings"
	"time"
)

// cron is a cron(0 H DoM Mon DoW *) expression as sets of allowed values.
type cron struct {
	hours, dom, months, dow []bool
}

var (
	monthNames = map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}
	dowNames   = map[string]int{"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
)

// parseCron parses the six fields and checks the spacing of the rotations
// they schedule. It returns a reason, or "" when the expression is valid.
func parseCron(s string) (*cron, string) {
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
	for _, i := range []int{1, 3} {
		if strings.Contains(f[i], "?") {
			return nil, "? is allowed in day-of-month and day-of-week only"
		}
	}
	c := &cron{}
	var err string
	if c.hours, err = cronField(f[1], 0, 23, nil); err != "" {
		return nil, err
	}
	if c.dom, err = cronField(f[2], 1, 31, nil); err != "" {
		return nil, err
	}
	if c.months, err = cronField(f[3], 1, 12, monthNames); err != "" {
		return nil, err
	}
	if c.dow, err = cronField(f[4], 1, 7, dowNames); err != "" {
		return nil, err
	}
	gap, longest, fires := c.gaps()
	switch {
	case !fires:
		return nil, "it never fires"
	case gap < MinInterval:
		return nil, "rotations must be at least 4 hours apart"
	case longest > MaxIntervalDays:
		// e.g. cron(0 0 29 2 ? *): it fires, but only in leap years.
		return nil, "rotations must be at most 999 days apart"
	}
	return c, ""
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

func (c *cron) dayMatches(t time.Time) bool {
	return c.dom[t.Day()] && c.months[int(t.Month())] && c.dow[int(t.Weekday())+1]
}

func (c *cron) match(t time.Time) bool {
	return c.hours[t.Hour()] && c.dayMatches(t)
}

// singleHour returns the only hour the expression fires at, or -1.
func (c *cron) singleHour() int {
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

// gaps scans eight calendar years from a leap year (two leap-year cycles,
// which hold every pattern of days a cron's fields can tell apart) and
// returns the shortest time between two firings, the longest gap in days
// between two days on which it fires, and whether it fires at all. Within a
// day the shortest time is the smallest step between firing hours; across
// midnight, from the last hour of one firing day to the first of the next,
// when two consecutive days fire.
func (c *cron) gaps() (shortest time.Duration, longestDays int, fires bool) {
	var hrs []int
	for h, ok := range c.hours {
		if ok {
			hrs = append(hrs, h)
		}
	}
	if len(hrs) == 0 {
		return 0, 0, false
	}
	gap := 48 * time.Hour
	for i := 1; i < len(hrs); i++ {
		gap = min(gap, time.Duration(hrs[i]-hrs[i-1])*time.Hour)
	}
	day := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	prev := false
	last := -1
	for i := range 8 * 366 {
		m := c.dayMatches(day)
		if m {
			fires = true
			if last >= 0 {
				longestDays = max(longestDays, i-last)
			}
			last = i
		}
		if m && prev {
			gap = min(gap, time.Duration(24-hrs[len(hrs)-1]+hrs[0])*time.Hour)
		}
		prev = m
		day = day.AddDate(0, 0, 1)
	}
	return gap, longestDays, fires
}
