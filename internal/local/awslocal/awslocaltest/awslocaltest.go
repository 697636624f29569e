// Package awslocaltest starts the local Secrets Manager for one test. It is
// the only part of the stand-in that imports package testing, so shipped
// binaries (rotor local serve, rotor demo) never link it.
package awslocaltest

import (
	"context"
	"net"
	"net/http"
	"sync"
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
	srv := newServer(t, opts, nil)
	url, err := srv.Start("")
	if err != nil {
		t.Fatalf("awslocal: %v", err)
	}
	return srv, srv.SDKConfig(url)
}

// newServer creates the server with the test defaults and closes it in
// t.Cleanup after waiting for rotations in flight; beforeClose, if not nil,
// runs first.
func newServer(t testing.TB, opts awslocal.Options, beforeClose func()) *awslocal.Server {
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
	t.Cleanup(func() {
		if beforeClose != nil {
			beforeClose()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = srv.WaitRotations(ctx)
		_ = srv.Close()
	})
	return srv
}

// Outage serves a stand-in on a fixed loopback address that a test can
// take down and bring back, to show how clients ride out a Secrets Manager
// outage. The server's state (secrets, versions) lives on across Stop and
// Start; only the listener and open connections go.
type Outage struct {
	srv  *awslocal.Server
	addr string

	mu sync.Mutex
	hs *http.Server
}

// NewWithOutage is NewWith, served through an Outage. The SDK
// configuration makes one attempt per call (no SDK retries), so a client's
// call fails at once while the stand-in is down.
func NewWithOutage(t testing.TB, opts awslocal.Options) (*awslocal.Server, aws.Config, *Outage) {
	t.Helper()
	o := &Outage{}
	srv := newServer(t, opts, func() { o.Stop(t) })
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("awslocal: listen: %v", err)
	}
	o.srv, o.addr = srv, l.Addr().String()
	o.serve(l)
	cfg := srv.SDKConfig("http://" + o.addr)
	cfg.RetryMaxAttempts = 1
	return srv, cfg, o
}

func (o *Outage) serve(l net.Listener) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.hs = &http.Server{Handler: o.srv, ReadHeaderTimeout: 10 * time.Second}
	go func(hs *http.Server) { _ = hs.Serve(l) }(o.hs)
}

// Stop closes the listener and every open connection: calls fail with
// "connection refused" until Start. Stopping a stopped stand-in does
// nothing.
func (o *Outage) Stop(t testing.TB) {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.hs == nil {
		return
	}
	if err := o.hs.Close(); err != nil {
		t.Errorf("awslocal: stop: %v", err)
	}
	o.hs = nil
}

// Start listens again on the same address. It fails the test when the
// port was taken meanwhile (it is retried for a second first).
func (o *Outage) Start(t testing.TB) {
	t.Helper()
	var l net.Listener
	var err error
	for range 50 {
		if l, err = net.Listen("tcp", o.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("awslocal: listen again on %s: %v", o.addr, err)
	}
	o.serve(l)
}
