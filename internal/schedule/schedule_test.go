package schedule

import (
	"strings"
	"testing"
	"time"
)

func days(n int64) *int64 { return &n }

func TestParseFollowsTheDocumentedRules(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		rules Rules
		err   string // substring; "" means valid
	}{
		"days":                               {Rules{AutomaticallyAfterDays: days(30)}, ""},
		"days max":                           {Rules{AutomaticallyAfterDays: days(1000)}, ""},
		"days zero":                          {Rules{AutomaticallyAfterDays: days(0)}, "between 1 and 1000"},
		"days too many":                      {Rules{AutomaticallyAfterDays: days(1001)}, "between 1 and 1000"},
		"both":                               {Rules{AutomaticallyAfterDays: days(2), ScheduleExpression: "rate(2 days)"}, "both"},
		"neither":                            {Rules{}, "needs"},
		"rate 4 hours":                       {Rules{ScheduleExpression: "rate(4 hours)"}, ""},
		"rate 3 hours":                       {Rules{ScheduleExpression: "rate(3 hours)"}, "at least 4 hours"},
		"rate 1 day":                         {Rules{ScheduleExpression: "rate(1 day)"}, ""},
		"rate 999 days":                      {Rules{ScheduleExpression: "rate(999 days)"}, ""},
		"cron leap day only":                 {Rules{ScheduleExpression: "cron(0 0 29 2 ? *)"}, "at most 999 days"},
		"cron yearly":                        {Rules{ScheduleExpression: "cron(0 0 1 1 ? *)"}, ""},
		"rate 1000 days":                     {Rules{ScheduleExpression: "rate(1000 days)"}, "at most 999 days"},
		"rate 23976 hours (999 days)":        {Rules{ScheduleExpression: "rate(23976 hours)"}, ""},
		"rate 23977 hours":                   {Rules{ScheduleExpression: "rate(23977 hours)"}, "at most 999 days"},
		"rate minutes":                       {Rules{ScheduleExpression: "rate(300 minutes)"}, "use rate"},
		"cron daily":                         {Rules{ScheduleExpression: "cron(0 4 * * ? *)"}, ""},
		"cron weekly by name":                {Rules{ScheduleExpression: "cron(0 16 ? * MON *)"}, ""},
		"cron every 4 hours":                 {Rules{ScheduleExpression: "cron(0 0/4 * * ? *)"}, ""},
		"cron every 2 hours":                 {Rules{ScheduleExpression: "cron(0 0/2 * * ? *)"}, "at least 4 hours apart"},
		"cron 2 hours across midnight":       {Rules{ScheduleExpression: "cron(0 1,23 * * ? *)"}, "at least 4 hours apart"},
		"cron 4 hours across midnight":       {Rules{ScheduleExpression: "cron(0 2,22 * * ? *)"}, ""},
		"cron 1 and 23 on days apart":        {Rules{ScheduleExpression: "cron(0 1,23 ? * SUN,WED *)"}, ""},
		"cron minutes not 0":                 {Rules{ScheduleExpression: "cron(5 4 * * ? *)"}, "minutes field must be 0"},
		"cron year not *":                    {Rules{ScheduleExpression: "cron(0 4 * * ? 2027)"}, "year field must be *"},
		"cron both ?":                        {Rules{ScheduleExpression: "cron(0 4 ? * ? *)"}, "exactly one of"},
		"cron neither ?":                     {Rules{ScheduleExpression: "cron(0 4 1 * MON *)"}, "exactly one of"},
		"cron ? in hours":                    {Rules{ScheduleExpression: "cron(0 ? 1 * ? *)"}, "? is allowed"},
		"cron ? in months":                   {Rules{ScheduleExpression: "cron(0 4 1 ? ? *)"}, "? is allowed"},
		"cron ? in months, dow set":          {Rules{ScheduleExpression: "cron(0 4 ? ? MON *)"}, "? is allowed"},
		"cron five fields":                   {Rules{ScheduleExpression: "cron(0 4 * * ?)"}, "six fields"},
		"cron never fires":                   {Rules{ScheduleExpression: "cron(0 4 31 FEB ? *)"}, "never fires"},
		"cron L":                             {Rules{ScheduleExpression: "cron(0 4 L * ? *)"}, "bad value"},
		"duration":                           {Rules{ScheduleExpression: "rate(2 days)", Duration: "3h"}, ""},
		"duration 24h":                       {Rules{ScheduleExpression: "rate(2 days)", Duration: "24h"}, ""},
		"duration 25h":                       {Rules{ScheduleExpression: "rate(2 days)", Duration: "25h"}, "between 1h and 24h"},
		"duration 0h":                        {Rules{ScheduleExpression: "rate(2 days)", Duration: "0h"}, "between 1h and 24h"},
		"duration minutes":                   {Rules{ScheduleExpression: "rate(2 days)", Duration: "90m"}, "whole number of hours"},
		"duration into the next window":      {Rules{ScheduleExpression: "rate(4 hours)", Duration: "5h"}, "into the next rotation window"},
		"duration up to the next window":     {Rules{ScheduleExpression: "rate(4 hours)", Duration: "4h"}, ""},
		"duration past the UTC day, rate":    {Rules{ScheduleExpression: "rate(5 hours)", Duration: "5h"}, "next UTC day"},
		"duration to midnight, rate":         {Rules{ScheduleExpression: "rate(5 hours)", Duration: "4h"}, ""},
		"duration past the UTC day, cron":    {Rules{ScheduleExpression: "cron(0 20 * * ? *)", Duration: "6h"}, "next UTC day"},
		"duration to midnight, cron":         {Rules{ScheduleExpression: "cron(0 20 * * ? *)", Duration: "4h"}, ""},
		"duration into the next cron window": {Rules{ScheduleExpression: "cron(0 4,10 * * ? *)", Duration: "7h"}, "into the next rotation window"},
		"duration full day, rate days":       {Rules{ScheduleExpression: "rate(2 days)", Duration: "24h"}, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(tc.rules)
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.err != "" && err == nil:
				t.Fatalf("accepted, want an error containing %q", tc.err)
			case tc.err != "" && !strings.Contains(err.Error(), tc.err):
				t.Fatalf("error %q, want it to contain %q", err, tc.err)
			}
			if err != nil {
				if _, ok := err.(*Error); !ok {
					t.Fatalf("error %T, want *Error", err)
				}
			}
		})
	}
}

func TestNextAndWindow(t *testing.T) {
	t.Parallel()
	sat10 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC) // a Saturday
	cases := map[string]struct {
		rules      Rules
		base       time.Time
		next       time.Time
		windowEnd  time.Time
		hourly     bool
		interval   time.Duration
		noInterval bool
	}{
		"days: midnight N days on, to the end of that day": {
			Rules{AutomaticallyAfterDays: days(2)}, sat10,
			time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC), time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC), false, 48 * time.Hour, false,
		},
		"rate days": {
			Rules{ScheduleExpression: "rate(1 day)"}, sat10.Add(30 * time.Minute),
			time.Date(2025, 3, 2, 0, 0, 0, 0, time.UTC), time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC), false, 24 * time.Hour, false,
		},
		"rate hours: windows from midnight, one hour": {
			Rules{ScheduleExpression: "rate(6 hours)"}, sat10.Add(30 * time.Minute),
			sat10.Add(2 * time.Hour), sat10.Add(3 * time.Hour), true, 6 * time.Hour, false,
		},
		"rate hours with Duration": {
			Rules{ScheduleExpression: "rate(6 hours)", Duration: "2h"}, sat10,
			sat10.Add(2 * time.Hour), sat10.Add(4 * time.Hour), true, 6 * time.Hour, false,
		},
		"rate hours not dividing the day: next midnight after the last window": {
			Rules{ScheduleExpression: "rate(5 hours)"}, sat10.Add(11 * time.Hour), // 21:00, after the 20:00 window opened
			time.Date(2025, 3, 2, 0, 0, 0, 0, time.UTC), time.Date(2025, 3, 2, 1, 0, 0, 0, time.UTC), true, 5 * time.Hour, false,
		},
		"rate hours at a window's start: the next one": {
			Rules{ScheduleExpression: "rate(4 hours)"}, sat10.Add(2 * time.Hour), // 12:00
			sat10.Add(6 * time.Hour), sat10.Add(7 * time.Hour), true, 4 * time.Hour, false,
		},
		"cron at one hour is daily: to the end of the UTC day": {
			Rules{ScheduleExpression: "cron(0 16 ? * MON *)"}, sat10,
			time.Date(2025, 3, 3, 16, 0, 0, 0, time.UTC), time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC), false, 0, true,
		},
		"cron at several hours is hourly: one hour": {
			Rules{ScheduleExpression: "cron(0 4,16 * * ? *)"}, sat10,
			time.Date(2025, 3, 1, 16, 0, 0, 0, time.UTC), time.Date(2025, 3, 1, 17, 0, 0, 0, time.UTC), true, 0, true,
		},
		"cron with Duration": {
			Rules{ScheduleExpression: "cron(0 4,16 * * ? *)", Duration: "3h"}, sat10,
			time.Date(2025, 3, 1, 16, 0, 0, 0, time.UTC), time.Date(2025, 3, 1, 19, 0, 0, 0, time.UTC), true, 0, true,
		},
		"base in another zone is read as UTC": {
			Rules{AutomaticallyAfterDays: days(1)}, time.Date(2025, 3, 1, 23, 30, 0, 0, time.FixedZone("UTC-5", -5*3600)),
			time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC), time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC), false, 24 * time.Hour, false,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sc, err := Parse(tc.rules)
			if err != nil {
				t.Fatal(err)
			}
			next := sc.Next(tc.base)
			if !next.Equal(tc.next) {
				t.Fatalf("Next = %v, want %v", next, tc.next)
			}
			if end := sc.WindowEnd(next); !end.Equal(tc.windowEnd) {
				t.Fatalf("WindowEnd = %v, want %v", end, tc.windowEnd)
			}
			if w := sc.Window(next); w != tc.windowEnd.Sub(tc.next) {
				t.Fatalf("Window = %v", w)
			}
			if sc.Hourly() != tc.hourly {
				t.Fatalf("Hourly = %v, want %v", sc.Hourly(), tc.hourly)
			}
			iv, ok := sc.Interval()
			if ok == tc.noInterval || iv != tc.interval {
				t.Fatalf("Interval = %v, %v; want %v, %v", iv, ok, tc.interval, !tc.noInterval)
			}
		})
	}
}
