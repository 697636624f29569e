package rdsapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go"

	"github.com/rotorhq/rotor/internal/local/awslocal"
	"github.com/rotorhq/rotor/internal/local/awslocal/awslocaltest"
	"github.com/rotorhq/rotor/internal/rdsapi"
)

// countingRetryer counts the retry-quota tokens a client asks for.
type countingRetryer struct {
	aws.RetryerV2
	retryTokens atomic.Int32
}

func (r *countingRetryer) GetRetryToken(ctx context.Context, err error) (func(error) error, error) {
	r.retryTokens.Add(1)
	return r.RetryerV2.GetRetryToken(ctx, err)
}

// cancellingClient cancels the call's context while the request is in
// flight and fails as net/http does then.
type cancellingClient struct {
	cancel context.CancelFunc
	calls  atomic.Int32
}

func (c *cancellingClient) Do(r *http.Request) (*http.Response, error) {
	c.calls.Add(1)
	c.cancel()
	<-r.Context().Done()
	return nil, &url.Error{Op: "Post", URL: r.URL.String(), Err: r.Context().Err()}
}

// TestCancelledInFlightIsNotRetried: a request the caller's context ends
// while it is in flight is not a connection error to retry (as in the
// SDK's HTTP handler, it is a smithy.CanceledError): no further attempt
// and no retry-quota token, which the client's later calls would miss.
func TestCancelledInFlightIsNotRetried(t *testing.T) {
	t.Parallel()
	_, cfg := awslocaltest.New(t)
	r := &countingRetryer{RetryerV2: retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 3
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
	})}
	cfg.Retryer = func() aws.Retryer { return r }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hc := &cancellingClient{cancel: cancel}
	_, err := rdsapi.New(cfg, func(o *rdsapi.Options) { o.HTTPClient = hc }).DescribeDBInstance(ctx, "db1")
	var ce *smithy.CanceledError
	if !errors.As(err, &ce) || !errors.Is(err, context.Canceled) {
		t.Errorf("error %v (%T), want a smithy.CanceledError around context.Canceled", err, err)
	}
	if n := hc.calls.Load(); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}
	if n := r.retryTokens.Load(); n != 0 {
		t.Errorf("%d retry-quota tokens taken for a cancelled call, want 0", n)
	}
}

// TestRetryQuotaKeepsTheError: when the retry quota is spent, the error
// still carries RDS's answer (its code), as the SDK's retry middleware
// joins the two.
func TestRetryQuotaKeepsTheError(t *testing.T) {
	t.Parallel()
	srv, cfg := awslocaltest.New(t)
	srv.AddDBInstance(awslocal.DBInstance{Identifier: "db1", Engine: "postgres", Address: "db1.example", Port: 5432})
	if _, err := srv.AddFault(awslocal.Fault{Operation: "DescribeDBInstances", Answer: awslocal.FaultThrottle, Count: 5}); err != nil {
		t.Fatal(err)
	}
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 3
			o.RateLimiter = ratelimit.NewTokenRateLimit(0)
		})
	}
	_, err := rdsapi.New(cfg).DescribeDBInstance(context.Background(), "db1")
	var q ratelimit.QuotaExceededError
	if !errors.As(err, &q) {
		t.Errorf("error %v: want the quota error", err)
	}
	if got := rdsapi.ErrorCode(err); got != "Throttling" {
		t.Errorf("error %v: code %q, want Throttling", err, got)
	}
	if n := srv.Stats()["DescribeDBInstances"]; n != 1 {
		t.Errorf("%d calls, want 1", n)
	}
}

// TestModifyNeedsRDSAnswer: a 200 whose body is not RDS's answer (a
// proxy's page) is an error, not a password change RDS accepted, as with
// service/rds; RDS's answer and an empty one pass.
func TestModifyNeedsRDSAnswer(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		body string
		ok   bool
	}{
		{"<html><body>proxy sign-in</body></html>", false},
		{"", true},
		{`<ModifyDBInstanceResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><ModifyDBInstanceResult><DBInstance/></ModifyDBInstanceResult></ModifyDBInstanceResponse>`, true},
	} {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, c.body) }))
		cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDX", "x", ""), BaseEndpoint: aws.String(ts.URL), Retryer: quickRetries(1)}
		err := rdsapi.New(cfg).ModifyDBInstanceMasterPassword(context.Background(), "db1", "example-password")
		ts.Close()
		if (err == nil) != c.ok {
			t.Errorf("answer %q: error %v, want ok=%v", c.body, err, c.ok)
		}
		if err != nil && strings.Contains(err.Error(), "example-password") {
			t.Errorf("answer %q: the error names the password", c.body)
		}
	}
}

// TestRetrySettingsAsTheSDK: cfg.RetryMaxAttempts (AWS_MAX_ATTEMPTS)
// bounds a cfg.Retryer's attempts too, as service/rds applies it.
func TestRetrySettingsAsTheSDK(t *testing.T) {
	t.Parallel()
	srv, cfg := awslocaltest.New(t)
	srv.AddDBInstance(awslocal.DBInstance{Identifier: "db1", Engine: "postgres", Address: "db1.example", Port: 5432})
	if _, err := srv.AddFault(awslocal.Fault{Operation: "DescribeDBInstances", Answer: awslocal.FaultThrottle, Count: 10}); err != nil {
		t.Fatal(err)
	}
	cfg.Retryer = quickRetries(5)
	cfg.RetryMaxAttempts = 2
	var mae *retry.MaxAttemptsError
	if _, err := rdsapi.New(cfg).DescribeDBInstance(context.Background(), "db1"); !errors.As(err, &mae) || mae.Attempt != 2 {
		t.Errorf("Retryer with RetryMaxAttempts 2: %v", err)
	}
	if n := srv.Stats()["DescribeDBInstances"]; n != 2 {
		t.Errorf("%d calls, want 2", n)
	}
}

// TestRedirectDoesNotResendThePassword: a 307 or 308 from the endpoint is
// an error; the ModifyDB* body, which holds the master password, is not
// sent again to where the redirect points (another host may be there).
// service/rds answers a redirect of a request with a body the same way.
func TestRedirectDoesNotResendThePassword(t *testing.T) {
	t.Parallel()
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		fmt.Fprint(w, `<ModifyDBInstanceResponse><ModifyDBInstanceResult/></ModifyDBInstanceResponse>`)
	}))
	defer other.Close()
	for _, code := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+"/collect", code)
		}))
		cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDX", "x", ""), BaseEndpoint: aws.String(first.URL), Retryer: quickRetries(1)}
		err := rdsapi.New(cfg).ModifyDBInstanceMasterPassword(context.Background(), "db1", "example-password")
		first.Close()
		if err == nil {
			t.Errorf("%d: no error", code)
		}
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the request, master password included, was sent %d times to the redirect's target", n)
	}
}
