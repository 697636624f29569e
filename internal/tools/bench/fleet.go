package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/local/awslocal"
	"github.com/rotorhq/rotor/internal/ops"
)

// FleetFigures are one rotate-now run over the whole fleet.
type FleetFigures struct {
	Secrets         int     `json:"secrets"`
	WritesPerSecond float64 `json:"writeBudget"`
	Succeeded       int     `json:"succeeded"`
	TotalSeconds    float64 `json:"totalSeconds"`
	RotationsPerSec float64 `json:"rotationsPerSecond"`
	// PeakWrites: PutSecretValue + UpdateSecretVersionStage the stand-in
	// answered within one second, over every rolling window and over whole
	// seconds.
	PeakWritesRolling  int `json:"peakWritesPerSecondRolling"`
	PeakWritesBucketed int `json:"peakWritesPerSecondWholeSeconds"`
	PeakRotateSecret   int `json:"peakRotateSecretPerSecond"`
	// PeakDBConnections: client sessions PostgreSQL held at once (sampled
	// every 10 ms), rotor's own sampling session left out.
	PeakDBConnections int `json:"peakDbConnections"`
	Throttles         int `json:"throttles"`
}

// fleetConcurrency is the secrets rotate-now follows at once in the fleet
// runs.
const fleetConcurrency = 50

func measureFleet(ctx context.Context, o options, progress io.Writer) ([]FleetFigures, error) {
	w, err := newWorld(ctx, "postgres", map[string]string{"max_connections": "200"})
	if err != nil {
		return nil, err
	}
	defer w.close()
	fmt.Fprintf(progress, "bench:   creating %d secrets ...\n", o.fleet)
	arns, err := w.fleet(ctx, o.fleet, false)
	if err != nil {
		return nil, err
	}
	var out []FleetFigures
	for _, budget := range []float64{events.DefaultWritesPerSecond, events.WriteQuotaPerSecond} {
		fmt.Fprintf(progress, "bench:   rotate-now at %g writes/s ...\n", budget)
		f, err := fleetRun(ctx, w, arns, budget)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

func fleetRun(ctx context.Context, w *world, arns []string, budget float64) (FleetFigures, error) {
	f := FleetFigures{Secrets: len(arns), WritesPerSecond: budget}
	calls := w.srv.LogCalls()
	sampleCtx, stopSampling := context.WithCancel(ctx)
	peak := make(chan int, 1)
	go func() { peak <- samplePeakConnections(sampleCtx, w) }()
	start := time.Now()
	res := ops.RotateNow(ctx, ops.RotateNowOptions{
		// Waiting, so that concurrency bounds the rotations in flight (and
		// with them the database sessions), as `rotor rotate --wait
		// --concurrency 50` does.
		Secrets: w.sm, WritesPerSecond: budget, Timeout: 30 * time.Minute, StartJitter: -1,
		Wait: true, Concurrency: fleetConcurrency, PollInterval: 100 * time.Millisecond, MaxPollInterval: time.Second,
		Progress: func(p ops.Progress) {
			if p.Kind == ops.ProgressThrottled {
				f.Throttles++
			}
		},
	}, arns)
	total := time.Since(start)
	var firstFailure string
	for _, r := range res {
		if r.Status == events.StatusSucceeded {
			f.Succeeded++
		} else if firstFailure == "" {
			firstFailure = fmt.Sprintf("%s: %s: %s", r.SecretID, r.Status, r.Reason)
		}
	}
	stopSampling()
	f.PeakDBConnections = <-peak
	f.TotalSeconds = total.Seconds()
	f.RotationsPerSec = float64(len(arns)) / total.Seconds()
	f.PeakWritesRolling, f.PeakWritesBucketed = awslocal.PeakPerSecond(calls.Times("PutSecretValue", "UpdateSecretVersionStage"))
	f.PeakRotateSecret, _ = awslocal.PeakPerSecond(calls.Times("RotateSecret"))
	if f.Succeeded != len(arns) {
		return f, fmt.Errorf("%d of %d rotations failed; the first: %s", len(arns)-f.Succeeded, len(arns), firstFailure)
	}
	return f, nil
}

// samplePeakConnections polls pg_stat_activity until ctx ends and returns
// the most client sessions seen at once, its own left out.
func samplePeakConnections(ctx context.Context, w *world) int {
	peak := 0
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		var n int
		if err := w.pgc.QueryRow(context.Background(), "SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_catalog.pg_backend_pid()").Scan(&n); err == nil {
			peak = max(peak, n)
		}
		select {
		case <-ctx.Done():
			return peak
		case <-t.C:
		}
	}
}
