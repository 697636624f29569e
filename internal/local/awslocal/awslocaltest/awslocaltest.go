// Package awslocaltest starts the local Secrets Manager for one test. It is
// the only part of the stand-in that imports package testing, so shipped
// binaries (rotor local serve, rotor demo) never link it.
package awslocaltest

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rotorhq/rotor/internal/local/awslocal"
)

// New starts a stand-in for one test and returns it with an SDK
// configuration that points every aws-sdk-go-v2 client at it (static
// credentials, the server's region, BaseEndpoint = the server's URL):
//
//	srv, cfg := awslocaltest.New(t)
//	sm := secretsmanager.NewFromConfig(cfg)
//
// The server listens on loopback, runs on a FakeClock set to the current
// second (move it with srv.Advance), retries failed rotation passes after a
// 1 ms backoff, and is closed in t.Cleanup after waiting for rotations in
// flight.
func New(t testing.TB) (*awslocal.Server, aws.Config) {
	t.Helper()
	return NewWith(t, awslocal.Options{})
}

// NewWith is New with options. A nil Clock becomes a FakeClock at the
// current second; a zero RotationBackoff becomes 1 ms.
func NewWith(t testing.TB, opts awslocal.Options) (*awslocal.Server, aws.Config) {
	t.Helper()
	if opts.Clock == nil {
		opts.Clock = awslocal.NewFakeClock(time.Now().UTC().Truncate(time.Second))
	}
	if opts.RotationBackoff == 0 {
		opts.RotationBackoff = time.Millisecond
	}
	srv, err := awslocal.New(opts)
	if err != nil {
		t.Fatalf("awslocal: %v", err)
	}
	url, err := srv.Start("")
	if err != nil {
		t.Fatalf("awslocal: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = srv.WaitRotations(ctx)
		_ = srv.Close()
	})
	return srv, srv.SDKConfig(url)
}
