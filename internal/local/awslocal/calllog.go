package awslocal

import (
	"slices"
	"sync"
	"time"
)

// CallLog records when the stand-in answered each Secrets Manager call, so
// a test or a benchmark can measure request rates as the service's quotas
// count them (per operation group, per second). Times are the real time of
// the answer (monotonic), whatever the server's Clock: quotas are real-time.
type CallLog struct {
	mu    sync.Mutex
	calls []LoggedCall
}

// LoggedCall is one answered call.
type LoggedCall struct {
	Op string
	At time.Time
	// Error is the error code answered ("" for success).
	Error string
}

// LogCalls starts recording every Secrets Manager call the server answers
// from now on into a new CallLog, replacing any earlier one, and returns
// it.
func (s *Server) LogCalls() *CallLog {
	l := &CallLog{}
	s.mu.Lock()
	s.callLog = l
	s.mu.Unlock()
	return l
}

func (l *CallLog) add(op string, at time.Time, code string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	l.calls = append(l.calls, LoggedCall{Op: op, At: at, Error: code})
	l.mu.Unlock()
}

// Times returns, in order, when the successful calls of the named
// operations were answered.
func (l *CallLog) Times(ops ...string) []time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []time.Time
	for _, c := range l.calls {
		if c.Error == "" && slices.Contains(ops, c.Op) {
			out = append(out, c.At)
		}
	}
	return out
}

// Calls returns every call recorded so far.
func (l *CallLog) Calls() []LoggedCall {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.calls)
}

// PeakPerSecond returns the largest number of times that fall within any
// one second: rolling is over every window [t, t+1s) starting at one of the
// times (the strictest reading of a per-second quota), bucketed over the
// whole seconds counted from the first time.
func PeakPerSecond(times []time.Time) (rolling, bucketed int) {
	ts := slices.Clone(times)
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	j := 0
	buckets := map[int64]int{}
	for i, t := range ts {
		for j < len(ts) && ts[j].Sub(t) < time.Second {
			j++
		}
		rolling = max(rolling, j-i)
		b := int64(t.Sub(ts[0]) / time.Second)
		buckets[b]++
		bucketed = max(bucketed, buckets[b])
	}
	return rolling, bucketed
}
