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

// pacer is a token bucket for Secrets Manager writes: it refills at rate
// writes per second and holds at most cost writes (one turn's worth), so it
// hands out turns at least cost/rate apart however many callers wait at
// once: in any second at most ⌈rate/cost⌉ turns start. There is no random
// jitter in the turns, so they cannot bunch.
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
	// onTurn, when set (tests), is called with each turn's time as it is
	// taken, under p.mu.
	onTurn func(time.Time)
	now    func() time.Time
	sleep  func(ctx context.Context, d time.Duration) error
}

// newPacer paces turns of cost writes each against budget writes per
// second. budget must be at least cost.
func newPacer(budget, cost float64, now func() time.Time, sleep func(context.Context, time.Duration) error) *pacer {
	return &pacer{budget: budget, cost: cost, rate: budget, now: now, sleep: sleep}
}

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
		p.taken = now
		if p.onTurn != nil {
			p.onTurn(now)
		}
		if p.next.Before(now) {
			p.next = now.Add(p.interval(now))
		}
		p.mu.Unlock()
		return ctx.Err()
	}
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
