package ops

import (
	"context"
	"sync"
	"testing"
	"time"
)

func TestPacerSpacesCalls(t *testing.T) {
	t.Parallel()
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	var slept []time.Duration
	p := newPacer(10, func() time.Time { return start }, func(_ context.Context, d time.Duration) error {
		mu.Lock()
		slept = append(slept, d)
		mu.Unlock()
		return nil
	})
	for range 5 {
		if err := p.wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	// On a stopped clock the first call goes at once and each later one
	// waits one more interval (100ms at 10/s).
	want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond, 400 * time.Millisecond}
	if len(slept) != len(want) {
		t.Fatalf("slept %v, want %v", slept, want)
	}
	for i := range want {
		if slept[i] != want[i] {
			t.Fatalf("slept %v, want %v", slept, want)
		}
	}
}

func TestPacerDoesNotTakeASlotPastTheDeadline(t *testing.T) {
	t.Parallel()
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	p := newPacer(1, func() time.Time { return start }, func(context.Context, time.Duration) error { return nil })
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
