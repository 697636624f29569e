package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/ops"
)

// progressView shows rotor rotate's progress on stderr. print may be
// called from several goroutines at once; close is called once, after the
// last print and before the results are written.
type progressView interface {
	print(ops.Progress)
	close()
}

// newProgressView picks the view for c's stderr: a live line on a
// terminal, plain lines otherwise (a file, a pipe, CI's log). total is the
// number of secrets; done prints each outcome as it arrives (--wait, text).
func newProgressView(c *streams, total int, done bool) progressView {
	if c.isTerminal(c.stderr) {
		l := &liveLine{w: c.stderr, now: time.Now, width: terminalWidth(c.stderr), total: total, done: done}
		l.begin(time.Second)
		return l
	}
	return &progressPrinter{w: c.stderr, now: time.Now, heartbeat: progressHeartbeat, done: done}
}

// The lines both views print for the events worth keeping.

func noOutcomeTagsLine(p ops.Progress) string {
	return p.SecretID + ": no rotor outcome tags on this secret yet (a first rotation, or a rotation function that is not rotor's): success shows when AWSCURRENT moves; a failure that records no tag shows only as a timeout (--timeout)"
}

func throttledLine(p ops.Progress) string {
	return fmt.Sprintf("Secrets Manager throttled a call: pace halved to %.3g writes per second, recovering slowly", p.WritesPerSecond)
}

func attemptFailedLine(p ops.Progress) string {
	return fmt.Sprintf("%s: attempt failed at %s: %s; waiting for Secrets Manager's retry (%s)", p.SecretID, p.Step, p.Reason, p.Elapsed.Round(time.Second))
}

func doneLine(p ops.Progress) string { return fmt.Sprintf("%s: %s", p.SecretID, p.Result.Status) }

// progressHeartbeat is the longest --wait stays silent about a rotation
// whose labels do not change.
const progressHeartbeat = 30 * time.Second

// progressPrinter writes rotate's progress as plain lines, for stderr that
// is not a terminal: one when a rotation is requested, one when a failed
// attempt is first seen, one per rotation when its labels change or
// heartbeat passed since its last line, and (done) one with each outcome.
// Polls that find nothing new print nothing. It is safe for concurrent use.
type progressPrinter struct {
	w         io.Writer
	now       func() time.Time
	heartbeat time.Duration
	done      bool

	mu   sync.Mutex
	last map[string]printedWait
}

// printedWait is the last waiting line printed for one rotation.
type printedWait struct {
	stages string
	at     time.Time
}

func (pp *progressPrinter) print(p ops.Progress) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	if pp.last == nil {
		pp.last = map[string]printedWait{}
	}
	key := p.SecretID + "\x00" + p.VersionID
	switch p.Kind {
	case ops.ProgressRequested:
		fmt.Fprintf(pp.w, "%s: rotation requested (version %s)\n", p.SecretID, p.VersionID)
	case ops.ProgressThrottled:
		fmt.Fprintln(pp.w, throttledLine(p))
	case ops.ProgressNoOutcomeTags:
		fmt.Fprintln(pp.w, noOutcomeTagsLine(p))
	case ops.ProgressAttemptFailed:
		fmt.Fprintln(pp.w, attemptFailedLine(p))
	case ops.ProgressWaiting:
		stages := strings.Join(p.Stages, ",")
		now := pp.now()
		if prev, ok := pp.last[key]; ok && prev.stages == stages && now.Sub(prev.at) < pp.heartbeat {
			return
		}
		pp.last[key] = printedWait{stages: stages, at: now}
		fmt.Fprintf(pp.w, "%s: waiting, version %s is %s (%s)\n", p.SecretID, p.VersionID, stages, p.Elapsed.Round(time.Second))
	case ops.ProgressDone:
		delete(pp.last, key)
		if pp.done {
			fmt.Fprintln(pp.w, doneLine(p))
		}
	}
}

func (pp *progressPrinter) close() {}

// Terminal control: return to the start of the line, erase to its end.
const (
	carriageReturn = "\r"
	eraseToEnd     = "\x1b[K"
)

// liveLine draws rotate's progress on a terminal as one line rewritten in
// place ("\r", the line, erase to its end) as each event arrives: for one
// secret, where its version stands (requested, its labels, its outcome);
// for a fleet, how many are done by outcome, waiting by labels, and not yet
// requested; and the time since the start. The lines worth keeping (the
// no-outcome-tags notice, a failed attempt, each outcome when done) are
// printed above it and stay. A ticker redraws it so the clock moves during
// long waits; close erases it, so what follows starts on a clean line.
type liveLine struct {
	w     io.Writer
	now   func() time.Time
	width int // terminal columns; the line is cut to width-1 so it never wraps (0: no limit)
	total int
	done  bool

	mu       sync.Mutex
	start    time.Time
	secrets  map[string]string // secret -> where it stands, until done
	seen     map[string]bool
	order    []string // secrets in the order first seen
	outcomes map[events.RotateNowStatus]int
	drawn    string // the line on screen, "" when none
	stop     chan struct{}
	stopped  chan struct{}
}

// begin starts the clock and, when every is positive, a ticker that
// redraws the line that often.
func (l *liveLine) begin(every time.Duration) {
	l.mu.Lock()
	l.start = l.now()
	l.draw()
	l.mu.Unlock()
	if every <= 0 {
		return
	}
	l.stop, l.stopped = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(l.stopped)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-t.C:
				l.mu.Lock()
				l.draw()
				l.mu.Unlock()
			}
		}
	}()
}

func (l *liveLine) print(p ops.Progress) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.secrets == nil {
		l.secrets, l.seen, l.outcomes = map[string]string{}, map[string]bool{}, map[events.RotateNowStatus]int{}
	}
	if p.Kind == ops.ProgressThrottled { // about the pace, not one secret
		l.keep(throttledLine(p))
		l.draw()
		return
	}
	if !l.seen[p.SecretID] {
		l.seen[p.SecretID] = true
		l.order = append(l.order, p.SecretID)
	}
	switch p.Kind {
	case ops.ProgressRequested:
		l.secrets[p.SecretID] = "requested, version " + p.VersionID
	case ops.ProgressNoOutcomeTags:
		l.keep(noOutcomeTagsLine(p))
	case ops.ProgressAttemptFailed:
		l.secrets[p.SecretID] = "attempt failed at " + p.Step + ", waiting for a retry"
		l.keep(attemptFailedLine(p))
	case ops.ProgressWaiting:
		if !strings.HasPrefix(l.secrets[p.SecretID], "attempt failed") {
			l.secrets[p.SecretID] = strings.Join(p.Stages, ",")
		}
	case ops.ProgressDone:
		delete(l.secrets, p.SecretID)
		l.outcomes[p.Result.Status]++
		if l.done {
			l.keep(doneLine(p))
		}
	}
	l.draw()
}

// keep prints text as a line of its own above the live line.
func (l *liveLine) keep(text string) {
	if l.drawn != "" {
		io.WriteString(l.w, carriageReturn+eraseToEnd)
		l.drawn = ""
	}
	io.WriteString(l.w, text+"\n")
}

// draw writes the line when it differs from the one on screen.
func (l *liveLine) draw() {
	line := l.render()
	if l.width > 1 {
		if r := []rune(line); len(r) > l.width-1 {
			line = string(r[:l.width-2]) + "…"
		}
	}
	if line == l.drawn {
		return
	}
	io.WriteString(l.w, carriageReturn+line+eraseToEnd)
	l.drawn = line
}

// render is the line's text.
func (l *liveLine) render() string {
	elapsed := l.now().Sub(l.start).Round(time.Second)
	done := 0
	for _, n := range l.outcomes {
		done += n
	}
	if l.total == 1 {
		id, state := "", "not yet requested"
		if len(l.order) > 0 {
			id = l.order[0] + " "
			if s, ok := l.secrets[l.order[0]]; ok {
				state = s
			}
		}
		if done > 0 {
			state = summary(l.outcomes)
		}
		return fmt.Sprintf("rotating %s[%s]: %s", id, elapsed, state)
	}
	parts := []string{fmt.Sprintf("%d/%d done", done, l.total)}
	if done > 0 {
		parts[0] += " (" + summary(l.outcomes) + ")"
	}
	waiting := map[string]int{}
	requested := 0
	for _, state := range l.secrets {
		if strings.HasPrefix(state, "requested") {
			requested++
		} else {
			waiting[state]++
		}
	}
	if requested > 0 {
		parts = append(parts, fmt.Sprintf("%d requested", requested))
	}
	if len(waiting) > 0 {
		states := make([]string, 0, len(waiting))
		n := 0
		for s, c := range waiting {
			states = append(states, fmt.Sprintf("%d %s", c, s))
			n += c
		}
		sort.Strings(states)
		parts = append(parts, fmt.Sprintf("%d waiting (%s)", n, strings.Join(states, ", ")))
	}
	if rest := l.total - done - len(l.secrets); rest > 0 {
		parts = append(parts, fmt.Sprintf("%d not yet requested", rest))
	}
	return fmt.Sprintf("rotating %d secrets [%s]: %s", l.total, elapsed, strings.Join(parts, ", "))
}

// close stops the ticker and erases the line.
func (l *liveLine) close() {
	if l.stop != nil {
		close(l.stop)
		<-l.stopped
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.drawn != "" {
		io.WriteString(l.w, carriageReturn+eraseToEnd)
		l.drawn = ""
	}
}
