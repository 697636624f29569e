package awslocal

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// NewTestServer starts a stand-in for one test and returns it with an SDK
// configuration that points every aws-sdk-go-v2 client at it (static
// credentials, the server's region, BaseEndpoint = the server's URL):
//
//	srv, cfg := awslocal.NewTestServer(t)
//	sm := secretsmanager.NewFromConfig(cfg)
//
// The server runs on a FakeClock set to the current second (move it with
// srv.Advance), retries failed rotation passes after a 1 ms backoff, and is
// closed in t.Cleanup after waiting for rotations in flight.
func NewTestServer(t testing.TB) (*Server, aws.Config) {
	t.Helper()
	return NewTestServerWith(t, Options{})
}

// NewTestServerWith is NewTestServer with options. A nil Clock becomes a
// FakeClock at the current second; a zero RotationBackoff becomes 1 ms.
func NewTestServerWith(t testing.TB, opts Options) (*Server, aws.Config) {
	t.Helper()
	if opts.Clock == nil {
		opts.Clock = NewFakeClock(time.Now().UTC().Truncate(time.Second))
	}
	if opts.RotationBackoff == 0 {
		opts.RotationBackoff = time.Millisecond
	}
	srv, err := New(opts)
	if err != nil {
		t.Fatalf("awslocal: %v", err)
	}
	hs := httptest.NewServer(srv)
	srv.url = hs.URL
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = srv.WaitRotations(ctx)
		hs.Close()
		_ = srv.Close()
	})
	return srv, srv.SDKConfig(hs.URL)
}

// SDKConfig returns an aws-sdk-go-v2 configuration for clients of the
// stand-in at baseURL: static credentials, the server's region, and
// BaseEndpoint set to baseURL.
func (s *Server) SDKConfig(baseURL string) aws.Config {
	return aws.Config{
		Region:       s.opts.Region,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDAWSLOCAL", "awslocal-secret-key", ""),
		BaseEndpoint: aws.String(baseURL),
	}
}
