package ops

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

// fakeTime is a clock that moves only when a pacer sleeps on it.
type fakeTime struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeTime) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// advanceTo moves the clock to t unless it is already later.
func (c *fakeTime) advanceTo(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.now = t
	}
}

func TestPacerSpacesCalls(t *testing.T) {
	t.Parallel()
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := &fakeTime{now: start}
	// 20 writes/s at 2 writes a turn: a turn every 100ms.
	p := newPacer(20, 2, clock.Now, func(_ context.Context, d time.Duration) error {
		clock.advanceTo(clock.Now().Add(d))
		return nil
	})
	var turns []time.Duration
	p.onTurn = func(at time.Time) { turns = append(turns, at.Sub(start)) }
	for range 5 {
		if err := p.wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	want := []time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond, 400 * time.Millisecond}
	if !slices.Equal(turns, want) {
		t.Fatalf("turns at %v, want %v", turns, want)
	}
}

// TestPacerDoesNotBunchLateWakers: callers given turns 100ms apart all wake
// a second late at once (a paused process); they still go 100ms apart.
func TestPacerDoesNotBunchLateWakers(t *testing.T) {
	t.Parallel()
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := &fakeTime{now: start}
	gate := make(chan struct{})
	var slept sync.WaitGroup
	p := newPacer(20, 2, clock.Now, func(_ context.Context, d time.Duration) error {
		if clock.Now().Equal(start) {
			slept.Done()
			<-gate // the pause
			clock.advanceTo(start.Add(time.Second))
			return nil
		}
		clock.advanceTo(clock.Now().Add(d))
		return nil
	})
	var mu sync.Mutex
	var turns []time.Duration
	p.onTurn = func(at time.Time) { mu.Lock(); turns = append(turns, at.Sub(start)); mu.Unlock() }
	if err := p.wait(context.Background()); err != nil { // the first turn, at once
		t.Fatal(err)
	}
	const n = 4
	slept.Add(n)
	var done sync.WaitGroup
	for range n {
		done.Add(1)
		go func() {
			defer done.Done()
			_ = p.wait(context.Background())
		}()
	}
	slept.Wait()
	close(gate)
	done.Wait()
	slices.Sort(turns)
	for i := 1; i < len(turns); i++ {
		if gap := turns[i] - turns[i-1]; gap < 100*time.Millisecond {
			t.Fatalf("turns at %v: %v apart, want at least 100ms", turns, gap)
		}
	}
	if len(turns) != n+1 || turns[1] != time.Second {
		t.Fatalf("turns at %v, want %d from 1s on", turns, n+1)
	}
}

func TestPacerDoesNotTakeASlotPastTheDeadline(t *testing.T) {
	t.Parallel()
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	p := newPacer(2, 2, func() time.Time { return start }, func(context.Context, time.Duration) error { return nil })
	if err := p.wait(context.Background()); err != nil { // slot at start
		t.Fatal(err)
	}
	// The next slot is a second later; a deadline half a second away
	// refuses it without consuming it.
	short, cancel2 := context.WithDeadline(context.Background(), start.Add(500*time.Millisecond))
	defer cancel2()
	if err := p.wait(short); err != context.DeadlineExceeded {
		t.Fatalf("err %v, want DeadlineExceeded", err)
	}
	if !p.next.Equal(start.Add(time.Second)) {
		t.Fatalf("next slot %v moved", p.next)
	}
}

// TestPacerHalvesOnThrottleAndRecoversSlowly drives the pacer on a fake
// clock: a throttle halves the rate once per cooldown, the rate grows back
// by 5% of the budget per second and never passes the budget.
func TestPacerHalvesOnThrottleAndRecoversSlowly(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	p := newPacer(40, 2, func() time.Time { return now }, func(context.Context, time.Duration) error { return nil })
	if cut, rate := p.throttled(); !cut || rate != 20 {
		t.Fatalf("first throttle: cut %v rate %v, want true 20", cut, rate)
	}
	now = now.Add(500 * time.Millisecond)
	if cut, rate := p.throttled(); cut || rate != 21 {
		t.Fatalf("throttle within the cooldown: cut %v rate %v, want false 21 (20 + 0.5s x 2/s)", cut, rate)
	}
	now = now.Add(500 * time.Millisecond)
	if cut, rate := p.throttled(); !cut || rate != 11 {
		t.Fatalf("throttle after the cooldown: cut %v rate %v, want true 11", cut, rate)
	}
	// The turns now come 2/11 s apart.
	p.next = time.Time{}
	_ = p.wait(context.Background())
	if got, want := p.next.Sub(now), 2*time.Second/11; got != want {
		t.Fatalf("interval %v, want %v", got, want)
	}
	// Many throttles in a row stop at the floor, budget/16.
	for range 10 {
		now = now.Add(time.Second)
		p.throttled()
	}
	if rate, n := p.state(); rate != 2.5 || n != 13 {
		t.Fatalf("rate %v after %d throttles, want the floor 2.5 after 13", rate, n)
	}
	// 2.5 + 2/s x 10 s = 22.5; after 30 s it is back at 40, not above.
	now = now.Add(10 * time.Second)
	if rate, _ := p.state(); rate != 22.5 {
		t.Fatalf("rate %v after 10s, want 22.5", rate)
	}
	now = now.Add(30 * time.Second)
	if rate, _ := p.state(); rate != 40 {
		t.Fatalf("rate %v after 40s, want the budget 40", rate)
	}
}

func TestBackoffDoublesWithJitter(t *testing.T) {
	t.Parallel()
	b := backoff{cur: 100 * time.Millisecond, max: 400 * time.Millisecond}
	bases := []time.Duration{100, 200, 400, 400}
	for i, base := range bases {
		base *= time.Millisecond
		d := b.next()
		if d < base/2 || d >= base {
			t.Fatalf("delay %d = %v, want in [%v, %v)", i, d, base/2, base)
		}
	}
}

func TestClearPendingCommandQuotes(t *testing.T) {
	t.Parallel()
	got := ClearPendingCommand("my secret's", "v1")
	want := `aws secretsmanager update-secret-version-stage --secret-id 'my secret'\''s' --version-stage AWSPENDING --remove-from-version-id v1`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

// TestPacerLeavesRoomForRunningRotations drives the room rule on a fake
// clock: at 6 writes/s and 2 writes a rotation, three rotations may run or
// have ended within the last second; a fourth waits until one has ended
// and left the window, however the spacing would allow it.
func TestPacerLeavesRoomForRunningRotations(t *testing.T) {
	t.Parallel()
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := &fakeTime{now: start}
	blocked := make(chan struct{}, 1)
	p := newPacer(6, 2, clock.Now, func(ctx context.Context, d time.Duration) error {
		if d >= time.Hour { // waiting for a rotation to end: only end() wakes it
			blocked <- struct{}{}
			<-ctx.Done()
			return ctx.Err()
		}
		clock.advanceTo(clock.Now().Add(d))
		return nil
	})
	var mu sync.Mutex
	var turns []time.Duration
	p.onTurn = func(at time.Time) { mu.Lock(); turns = append(turns, at.Sub(start)); mu.Unlock() }
	turn := func() {
		t.Helper()
		if err := p.wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	const third = time.Second / 3
	for range 3 {
		turn() // at 0, ⅓ s, ⅔ s: three running
	}
	// One ends at ⅔ s; the fourth's slot is 1 s, but the ended one is in
	// the window until 1⅔ s.
	p.end()
	turn()
	// Three running again (the ended one left the window): the fifth
	// waits for an end, which comes when the clock reads 2 s.
	done := make(chan error, 1)
	go func() { done <- p.wait(context.Background()) }()
	<-blocked
	clock.advanceTo(start.Add(2 * time.Second))
	p.end()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{0, third, 2 * third, 2*third + time.Second, 3 * time.Second}
	mu.Lock()
	defer mu.Unlock()
	if len(turns) != len(want) {
		t.Fatalf("turns at %v, want %v", turns, want)
	}
	for i := range want {
		if d := turns[i] - want[i]; d < -time.Microsecond || d > time.Microsecond {
			t.Fatalf("turns at %v, want %v", turns, want)
		}
	}
	// A cancelled wait for room returns the context's error and takes no
	// turn.
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-blocked; cancel() }()
	if err := p.wait(ctx); err != context.Canceled {
		t.Fatalf("cancelled wait: %v", err)
	}
	if p.running != 3 {
		t.Fatalf("%d running after a cancelled wait, want 3", p.running)
	}
}
