package ops

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"
)

// pacer is a token bucket with a burst of one: it hands out start times at
// least interval apart, so callers taking turns never exceed 1/interval
// calls per second, however many of them wait at once.
type pacer struct {
	mu       sync.Mutex
	interval time.Duration
	next     time.Time
	now      func() time.Time
	sleep    func(ctx context.Context, d time.Duration) error
}

func newPacer(perSecond float64, now func() time.Time, sleep func(context.Context, time.Duration) error) *pacer {
	return &pacer{interval: time.Duration(float64(time.Second) / perSecond), now: now, sleep: sleep}
}

// wait blocks until the caller's turn. A turn that would come after ctx's
// deadline is not taken (the slot stays free for others) and ctx's error is
// returned.
func (p *pacer) wait(ctx context.Context) error {
	p.mu.Lock()
	now := p.now()
	slot := p.next
	if slot.Before(now) {
		slot = now
	}
	if dl, ok := ctx.Deadline(); ok && slot.After(dl) {
		p.mu.Unlock()
		return context.DeadlineExceeded
	}
	p.next = slot.Add(p.interval)
	p.mu.Unlock()
	if d := slot.Sub(now); d > 0 {
		return p.sleep(ctx, d)
	}
	return ctx.Err()
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
