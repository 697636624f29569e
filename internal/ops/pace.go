package ops

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"
)

// AIMD settings of the write pacer: on a throttle the rate halves (at most
// once per throttleCooldown, so one burst of throttled calls counts once,
// and never below the floor, budget/minRateDivisor); after that it grows
// back by recoverFraction of the budget per second, so from half the budget
// it takes 1/(2·recoverFraction) seconds to return.
const (
	throttleCooldown = time.Second
	recoverFraction  = 0.05
	minRateDivisor   = 16
)

// pacer admits rotations against a budget of Secrets Manager writes per
// second, each rotation (a turn) costing cost writes. Two rules, both
// needed:
//
//   - Spacing: turns come at least cost/rate apart however many callers
//     wait at once (a token bucket holding one turn's worth), so in any
//     second at most ⌈rate/cost⌉ rotations start. There is no random
//     jitter in the turns, so they cannot bunch.
//   - Room: a rotation makes its writes at moments rotate-now cannot see
//     (the rotator makes them, somewhere between the start and the end of
//     the rotation), so the writes in any one-second window can come from
//     every rotation that runs during that window. A turn is given only
//     while cost × (rotations running + rotations that ended within the
//     last window + this one) ≤ rate; the caller reports each rotation's
//     end (end). Whatever the rotations' durations, then, no window of
//     writeWindow holds more than rate writes: if the window holds a
//     turn, the last turn in it counted every rotation the window can
//     contain; if not, every rotation in it was running at the turn before
//     it. A first rotation is always admitted (the spacing still applies).
//
// rate is the budget until a throttle is reported (throttled): then it
// halves (multiplicative decrease) and recovers linearly (additive
// increase) up to the budget, never above it.
type pacer struct {
	mu     sync.Mutex
	budget float64 // writes per second, the ceiling
	cost   float64 // writes per turn
	rate   float64 // current writes per second, ≤ budget
	// rateAt is when rate was last brought up to date; cutAt when it was
	// last halved (zero: never).
	rateAt, cutAt time.Time
	// next is the time of the next turn handed out; taken is when the
	// last turn was actually taken.
	next, taken time.Time
	throttles   int
	// running counts the turns taken whose rotation has not ended (end);
	// ended holds when rotations ended, within the last window; changed is
	// closed (and replaced) when one ends, waking callers waiting for room.
	running int
	ended   []time.Time
	changed chan struct{}
	// window is writeWindow (tests shorten it).
	window time.Duration
	// onTurn, when set (tests), is called with each turn's time as it is
	// taken, under p.mu.
	onTurn func(time.Time)
	now    func() time.Time
	sleep  func(ctx context.Context, d time.Duration) error
}

// newPacer paces turns of cost writes each against budget writes per
// second. budget must be at least cost.
func newPacer(budget, cost float64, now func() time.Time, sleep func(context.Context, time.Duration) error) *pacer {
	return &pacer{budget: budget, cost: cost, rate: budget, now: now, sleep: sleep, changed: make(chan struct{}), window: writeWindow}
}

// writeWindow is the window Secrets Manager's quota counts requests in.
const writeWindow = time.Second

// current brings rate up to date at now (the additive increase). Caller
// holds p.mu.
func (p *pacer) current(now time.Time) float64 {
	if p.rate < p.budget && !p.rateAt.IsZero() {
		if d := now.Sub(p.rateAt); d > 0 {
			p.rate = min(p.budget, p.rate+p.budget*recoverFraction*d.Seconds())
		}
	}
	p.rateAt = now
	return p.rate
}

// wait blocks until the caller's turn. Turns are handed out in order, each
// interval after the previous one; a turn is taken only once the interval
// since the last turn actually taken has passed, so callers that wake late
// together (a paused process, an overloaded machine) still go one interval
// apart instead of all at once. A turn that would come after ctx's deadline
// is not taken (the slot stays free for others) and ctx's error is
// returned.
func (p *pacer) wait(ctx context.Context) error {
	p.mu.Lock()
	now := p.now()
	interval := p.interval(now)
	slot := p.next
	if slot.Before(now) {
		slot = now
	}
	if dl, ok := ctx.Deadline(); ok && slot.After(dl) {
		p.mu.Unlock()
		return context.DeadlineExceeded
	}
	p.next = slot.Add(interval)
	p.mu.Unlock()
	for {
		if d := slot.Sub(now); d > 0 {
			if err := p.sleep(ctx, d); err != nil {
				return err
			}
		}
		p.mu.Lock()
		now = p.now()
		if earliest := p.taken.Add(p.interval(now)); !p.taken.IsZero() && now.Before(earliest) {
			// Woken late along with others: wait for a free turn.
			slot = earliest
			p.mu.Unlock()
			continue
		}
		if until, ok := p.room(now); !ok {
			// The rotations running or just ended could fill a window:
			// wait until one ends or an ended one leaves the window.
			changed := p.changed
			p.mu.Unlock()
			if err := p.waitRoom(ctx, changed, until.Sub(now)); err != nil {
				return err
			}
			p.mu.Lock()
			now = p.now()
			slot = now
			p.mu.Unlock()
			continue
		}
		if err := ctx.Err(); err != nil {
			// Ended while waiting: take no turn (nothing will report its
			// end).
			p.mu.Unlock()
			return err
		}
		p.running++
		p.taken = now
		if p.onTurn != nil {
			p.onTurn(now)
		}
		if p.next.Before(now) {
			p.next = now.Add(p.interval(now))
		}
		p.mu.Unlock()
		return nil
	}
}

// room reports whether a turn at now keeps every window within the rate
// (see pacer); when not, until is when an ended rotation leaves the window
// (zero when only running ones fill it). Caller holds p.mu.
func (p *pacer) room(now time.Time) (until time.Time, ok bool) {
	keep := p.ended[:0]
	for _, e := range p.ended {
		if now.Sub(e) < p.window {
			keep = append(keep, e)
		}
	}
	p.ended = keep
	n := p.running + len(p.ended)
	if n == 0 || p.cost*float64(n+1) <= p.current(now) {
		return time.Time{}, true
	}
	if len(p.ended) > 0 {
		until = p.ended[0].Add(p.window)
	}
	return until, false
}

// waitRoom sleeps until changed is closed (a rotation ended), d has passed
// (d ≤ 0: no limit), or ctx ends (its error).
func (p *pacer) waitRoom(ctx context.Context, changed <-chan struct{}, d time.Duration) error {
	if d <= 0 {
		d = time.Hour
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-changed:
			cancel()
		case <-wctx.Done():
		}
	}()
	_ = p.sleep(wctx, d)
	return ctx.Err()
}

// end reports that a rotation admitted by wait has ended: its writes are
// made. Call it once per turn taken, when the rotation's outcome is seen
// (or nothing more can start).
func (p *pacer) end() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.running > 0 {
		p.running--
	}
	p.ended = append(p.ended, p.now())
	close(p.changed)
	p.changed = make(chan struct{})
}

// interval is the time between turns at the current rate. Caller holds
// p.mu.
func (p *pacer) interval(now time.Time) time.Duration {
	return time.Duration(float64(time.Second) * p.cost / p.current(now))
}

// throttled reports a ThrottlingException seen anywhere (one of rotate-now's
// own calls, or a rotation's recorded failure). It halves the rate unless it
// was halved less than throttleCooldown ago, and reports whether it did and
// the rate now.
func (p *pacer) throttled() (cut bool, rate float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	p.throttles++
	rate = p.current(now)
	if !p.cutAt.IsZero() && now.Sub(p.cutAt) < throttleCooldown {
		return false, rate
	}
	p.rate = max(rate/2, p.budget/minRateDivisor, p.cost/10)
	p.cutAt = now
	// Turns already handed out keep their times; the next one comes a
	// new interval after the last.
	return true, p.rate
}

// state returns the current rate and the throttles reported so far.
func (p *pacer) state() (rate float64, throttles int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.current(p.now()), p.throttles
}

// sleepCtx sleeps for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// backoff yields poll delays that double from first up to max, each with
// "equal jitter" (half fixed, half random) so that many followers started
// together do not poll in lockstep.
type backoff struct {
	cur, max time.Duration
}

func (b *backoff) next() time.Duration {
	d := b.cur
	b.cur *= 2
	if b.cur > b.max {
		b.cur = b.max
	}
	return jitter(d)
}

// jitter returns a duration in [d/2, d).
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	half := d / 2
	return half + rand.N(d-half)
}
