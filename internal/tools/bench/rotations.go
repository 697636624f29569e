package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// RotationFigures are one strategy's on one engine, per rotation.
type RotationFigures struct {
	Engine    string             `json:"engine"`
	Strategy  string             `json:"strategy"`
	Rotations int                `json:"rotations"`
	Calls     map[string]float64 `json:"secretsManagerCalls"`
	CallTotal float64            `json:"secretsManagerCallsTotal"`
	Logins    float64            `json:"logins"`
	Stmts     float64            `json:"statements"`
	P50Ms     float64            `json:"wallMsP50"`
	P95Ms     float64            `json:"wallMsP95"`
	P99Ms     float64            `json:"wallMsP99"`
}

// rotationsPerSecret: each secret is rotated this many times (after one
// unmeasured warm-up rotation), well within the 100 versions a secret may
// gain in 24 hours.
const rotationsPerSecret = 10

func measureRotations(ctx context.Context, o options, progress io.Writer) ([]RotationFigures, error) {
	var out []RotationFigures
	for _, engine := range []string{"postgres", "mariadb"} {
		w, err := newWorld(ctx, engine, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", engine, err)
		}
		for _, strategy := range []string{"single-user", "alternating-users"} {
			fmt.Fprintf(progress, "bench:   %s %s ...\n", engine, strategy)
			f, err := rotateMany(ctx, w, strategy == "alternating-users", o.rotations)
			if err != nil {
				w.close()
				return nil, fmt.Errorf("%s %s: %w", engine, strategy, err)
			}
			f.Engine, f.Strategy = engine, strategy
			out = append(out, f)
		}
		w.close()
	}
	return out, nil
}

// rotateMany measures n rotations, one at a time, spread over n/10 secrets
// that each had one warm-up rotation (steady state: the rotator has seen
// the secret, an alternating secret is pinned).
func rotateMany(ctx context.Context, w *world, alternating bool, n int) (RotationFigures, error) {
	f := RotationFigures{Rotations: n, Calls: map[string]float64{}}
	arns, err := w.fleet(ctx, max(1, (n+rotationsPerSecret-1)/rotationsPerSecret), alternating)
	if err != nil {
		return f, err
	}
	rotate := func(arn string) (time.Duration, error) {
		start := time.Now()
		if _, err := w.sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String(arn)}); err != nil {
			return 0, err
		}
		r, err := w.srv.WaitRotation(ctx, arn)
		if err != nil {
			return 0, err
		}
		if !r.Succeeded {
			return 0, fmt.Errorf("rotation of %s failed at %s: %v", arn, r.Step, r.Err)
		}
		return time.Since(start), nil
	}
	for _, arn := range arns {
		if _, err := rotate(arn); err != nil {
			return f, err
		}
	}
	w.srv.ResetStats()
	w.logins.Store(0)
	off, err := w.logSize()
	if err != nil {
		return f, err
	}
	var walls []time.Duration
	for i := range n {
		d, err := rotate(arns[i%len(arns)])
		if err != nil {
			return f, err
		}
		walls = append(walls, d)
	}
	stmts, err := w.statements(off)
	if err != nil {
		return f, err
	}
	for op, c := range w.srv.Stats() {
		f.Calls[op] = float64(c) / float64(n)
		f.CallTotal += float64(c) / float64(n)
	}
	f.Logins = float64(w.logins.Load()) / float64(n)
	f.Stmts = float64(stmts) / float64(n)
	slices.Sort(walls)
	f.P50Ms, f.P95Ms, f.P99Ms = ms(percentile(walls, 50)), ms(percentile(walls, 95)), ms(percentile(walls, 99))
	return f, nil
}
