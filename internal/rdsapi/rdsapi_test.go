package rdsapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/smithy-go"

	"github.com/rotorhq/rotor/internal/lambdafn"
	"github.com/rotorhq/rotor/internal/local/awslocal"
	"github.com/rotorhq/rotor/internal/local/awslocal/awslocaltest"
	"github.com/rotorhq/rotor/internal/rdsapi"
)

// quickRetries is the SDK's standard retryer with millisecond backoff, so
// retry tests count attempts without waiting seconds.
func quickRetries(maxAttempts int) func() aws.Retryer {
	return func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = maxAttempts
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
		})
	}
}

// TestAgainstTheStandIn describes, lists across pages and modifies through
// the local stand-in, and checks how RDS's refusals come back: as the
// SDK's error types with RDS's codes, the HTTP status and request ID.
func TestAgainstTheStandIn(t *testing.T) {
	t.Parallel()
	srv, cfg := awslocaltest.New(t)
	cfg.Retryer = quickRetries(3)
	for i := range 45 {
		srv.AddDBInstance(awslocal.DBInstance{Identifier: fmt.Sprintf("db%02d", i), Engine: "postgres", Address: fmt.Sprintf("db%02d.example", i), Port: 5432, MasterUsername: "master"})
	}
	srv.AddDBInstance(awslocal.DBInstance{Identifier: "aurora-1", Engine: "aurora-postgresql", Address: "aurora-1.example", Port: 5432, DBClusterIdentifier: "aurora"})
	managed := "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-1-AbCdEf"
	clusterARN := srv.AddDBCluster(awslocal.DBCluster{Identifier: "aurora", Engine: "aurora-postgresql", Endpoint: "aurora.cluster.example", ReaderEndpoint: "aurora.cluster-ro.example", Port: 5432, MasterUsername: "admin", MasterUserSecretARN: managed})
	c := rdsapi.New(cfg)
	ctx := context.Background()

	i, err := c.DescribeDBInstance(ctx, "aurora-1")
	if err != nil {
		t.Fatal(err)
	}
	want := rdsapi.DBInstance{Identifier: "aurora-1", ARN: "arn:aws:rds:us-east-1:123456789012:db:aurora-1", Status: "available", Engine: "aurora-postgresql",
		ClusterIdentifier: "aurora", Endpoint: &rdsapi.Endpoint{Address: "aurora-1.example", Port: 5432}}
	if !reflect.DeepEqual(i, want) {
		t.Fatalf("DescribeDBInstance:\n got %+v\nwant %+v", i, want)
	}
	cl, err := c.DescribeDBCluster(ctx, clusterARN)
	if err != nil {
		t.Fatal(err)
	}
	wantCl := rdsapi.DBCluster{Identifier: "aurora", ARN: clusterARN, Status: "available", Engine: "aurora-postgresql", MasterUsername: "admin",
		Endpoint: "aurora.cluster.example", ReaderEndpoint: "aurora.cluster-ro.example", Port: 5432, MasterUserSecretARN: managed}
	if !reflect.DeepEqual(cl, wantCl) {
		t.Fatalf("DescribeDBCluster:\n got %+v\nwant %+v", cl, wantCl)
	}

	srv.ResetStats()
	all, err := c.DBInstances(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 46 || all[0].Identifier != "db00" || all[45].Identifier != "aurora-1" {
		t.Fatalf("DBInstances: %d instances, want all 46 in order", len(all))
	}
	// RDS answers 100 per page by default; the stand-in too, so 46 fit in
	// one. Paging itself is checked with MaxRecords below.
	if n := srv.Stats()["DescribeDBInstances"]; n != 1 {
		t.Fatalf("DescribeDBInstances calls: %d, want 1", n)
	}
	for i := range 80 {
		srv.AddDBInstance(awslocal.DBInstance{Identifier: fmt.Sprintf("more%02d", i), Engine: "mysql", Address: "m.example", Port: 3306})
	}
	srv.ResetStats()
	if all, err = c.DBInstances(ctx); err != nil || len(all) != 126 {
		t.Fatalf("DBInstances over two pages: %d, %v; want 126", len(all), err)
	}
	if n := srv.Stats()["DescribeDBInstances"]; n != 2 {
		t.Fatalf("DescribeDBInstances calls: %d, want 2 pages", n)
	}
	clusters, err := c.DBClusters(ctx)
	if err != nil || len(clusters) != 1 {
		t.Fatalf("DBClusters: %d, %v", len(clusters), err)
	}

	// Not found: RDS's code, HTTP 404, a request ID, the operation named.
	_, err = c.DescribeDBInstance(ctx, "nope")
	var api smithy.APIError
	var re *awshttp.ResponseError
	var oe *smithy.OperationError
	if !errors.As(err, &api) || api.ErrorCode() != rdsapi.CodeDBInstanceNotFound || !errors.As(err, &re) || re.HTTPStatusCode() != 404 || re.RequestID == "" ||
		!errors.As(err, &oe) || oe.Service() != "RDS" || oe.Operation() != "DescribeDBInstances" {
		t.Fatalf("describe a missing instance: %v", err)
	}
	if _, err = c.DescribeDBCluster(ctx, "nope"); rdsapi.ErrorCode(err) != rdsapi.CodeDBClusterNotFound {
		t.Fatalf("describe a missing cluster: %v", err)
	}

	// A master password change: RDS refuses a second one while the first
	// is pending (InvalidDBInstanceState); the password is in no error.
	const pw = "Rdsapi-Test-Password-1"
	srv.AddDBInstance(awslocal.DBInstance{Identifier: "slow", Engine: "postgres", Address: "slow.example", Port: 5432, MasterUsername: "master",
		MasterPassword: awslocal.MasterPasswordOptions{Delay: time.Hour}})
	if err := c.ModifyDBInstanceMasterPassword(ctx, "slow", pw); err != nil {
		t.Fatal(err)
	}
	if i, err := c.DescribeDBInstance(ctx, "slow"); err != nil || !i.PendingMasterPassword || i.Status != "resetting-master-credentials" {
		t.Fatalf("after modify: %+v, %v; want the change pending", i, err)
	}
	err = c.ModifyDBInstanceMasterPassword(ctx, "slow", pw)
	if !rdsapi.IsInvalidState(err) || strings.Contains(err.Error(), pw) {
		t.Fatalf("second modify while pending: %v", err)
	}
	err = c.ModifyDBClusterMasterPassword(ctx, "nope", pw)
	if rdsapi.ErrorCode(err) != rdsapi.CodeDBClusterNotFound || strings.Contains(err.Error(), pw) {
		t.Fatalf("modify a missing cluster: %v", err)
	}
}

// TestRetriesFollowTheRetryer: throttling and server errors are retried
// with the retryer's attempts, a denial is not, and an exhausted retryer
// returns the last error.
func TestRetriesFollowTheRetryer(t *testing.T) {
	t.Parallel()
	srv, cfg := awslocaltest.New(t)
	cfg.Retryer = quickRetries(3)
	srv.AddDBInstance(awslocal.DBInstance{Identifier: "db1", Engine: "postgres", Address: "db1.example", Port: 5432})
	c := rdsapi.New(cfg)
	ctx := context.Background()
	cases := []struct {
		name  string
		fault awslocal.Fault
		calls int
		code  string // "" = succeeds
	}{
		{"two throttles then an answer", awslocal.Fault{Operation: "DescribeDBInstances", Answer: awslocal.FaultThrottle, Count: 2}, 3, ""},
		{"a server error then an answer", awslocal.Fault{Operation: "DescribeDBInstances", Answer: awslocal.FaultError, Status: 503, Count: 1}, 2, ""},
		{"throttled past the attempts", awslocal.Fault{Operation: "DescribeDBInstances", Answer: awslocal.FaultThrottle, Count: 5}, 3, "Throttling"},
		{"denied: not retried", awslocal.Fault{Operation: "DescribeDBInstances", Answer: awslocal.FaultDeny, Count: 1}, 1, "AccessDenied"},
		{"a Secrets Manager fault does not touch RDS", awslocal.Fault{Answer: awslocal.FaultThrottle, Count: 1}, 1, ""},
	}
	for _, tc := range cases {
		srv.ClearFaults()
		if _, err := srv.AddFault(tc.fault); err != nil {
			t.Fatal(err)
		}
		srv.ResetStats()
		_, err := c.DescribeDBInstance(ctx, "db1")
		if got := rdsapi.ErrorCode(err); got != tc.code || (tc.code == "" && err != nil) {
			t.Errorf("%s: error %v, want code %q", tc.name, err, tc.code)
		}
		if n := srv.Stats()["DescribeDBInstances"]; n != tc.calls {
			t.Errorf("%s: %d calls, want %d", tc.name, n, tc.calls)
		}
	}
	srv.ClearFaults()

	// Without a Retryer in the config, the SDK's standard one with
	// RetryMaxAttempts.
	_, cfg2 := awslocaltest.New(t)
	cfg2.BaseEndpoint = cfg.BaseEndpoint
	cfg2.RetryMaxAttempts = 2
	if _, err := srv.AddFault(awslocal.Fault{Operation: "DescribeDBInstances", Answer: awslocal.FaultThrottle, Count: 5}); err != nil {
		t.Fatal(err)
	}
	srv.ResetStats()
	var mae *retry.MaxAttemptsError
	if _, err := rdsapi.New(cfg2).DescribeDBInstance(ctx, "db1"); !errors.As(err, &mae) || mae.Attempt != 2 {
		t.Fatalf("RetryMaxAttempts 2: %v", err)
	}
	if n := srv.Stats()["DescribeDBInstances"]; n != 2 {
		t.Fatalf("RetryMaxAttempts 2: %d calls", n)
	}
	srv.ClearFaults()

	// A cancelled context stops between attempts.
	if _, err := srv.AddFault(awslocal.Fault{Operation: "DescribeDBInstances", Answer: awslocal.FaultThrottle}); err != nil {
		t.Fatal(err)
	}
	slow := cfg
	slow.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 100
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Hour, nil })
		})
	}
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { _, err := rdsapi.New(slow).DescribeDBInstance(cctx, "db1"); done <- err }()
	for srv.Stats()["DescribeDBInstances"] == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled while waiting to retry: %v", err)
	}
}

// capture records the requests a test server gets.
type capture struct {
	mu   sync.Mutex
	reqs []*http.Request
	body []string
}

func (c *capture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	c.reqs, c.body = append(c.reqs, r), append(c.body, string(b))
	c.mu.Unlock()
	f, _ := url.ParseQuery(string(b))
	action := f.Get("Action")
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<%sResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><%sResult><DBInstances><DBInstance><DBInstanceIdentifier>x</DBInstanceIdentifier></DBInstance></DBInstances><DBClusters><DBCluster><DBClusterIdentifier>x</DBClusterIdentifier></DBCluster></DBClusters></%sResult></%sResponse>`, action, action, action, action)
}

func (c *capture) last(t *testing.T) (*http.Request, string) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.reqs) == 0 {
		t.Fatal("no request arrived")
	}
	return c.reqs[len(c.reqs)-1], c.body[len(c.body)-1]
}

// TestRequestsMatchTheSDK sends each call through rdsapi and through the
// SDK's service/rds client (linked by this test only) and compares what
// arrives: the same form parameters, the same SigV4 scope, and a
// signature that verifies over the request as received.
func TestRequestsMatchTheSDK(t *testing.T) {
	t.Parallel()
	capt := &capture{}
	ts := httptest.NewServer(capt)
	t.Cleanup(ts.Close)
	cfg := aws.Config{Region: "eu-west-1", BaseEndpoint: aws.String(ts.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDRDSAPITEST", "rdsapi-test-secret", "session-token")}
	ours, sdk := rdsapi.New(cfg), rds.NewFromConfig(cfg)
	ctx := context.Background()
	const pw = "Compare-Password-9"
	calls := []struct {
		name       string
		ours, sdks func() error
	}{
		{"DescribeDBInstances one", func() error { _, err := ours.DescribeDBInstance(ctx, "db1"); return err },
			func() error {
				_, err := sdk.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("db1")})
				return err
			}},
		{"DescribeDBClusters one", func() error { _, err := ours.DescribeDBCluster(ctx, "arn:aws:rds:eu-west-1:1:cluster:c1"); return err },
			func() error {
				_, err := sdk.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String("arn:aws:rds:eu-west-1:1:cluster:c1")})
				return err
			}},
		{"DescribeDBInstances all", func() error { _, err := ours.DBInstances(ctx); return err },
			func() error { _, err := sdk.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{}); return err }},
		{"DescribeDBClusters all", func() error { _, err := ours.DBClusters(ctx); return err },
			func() error { _, err := sdk.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{}); return err }},
		{"ModifyDBInstance", func() error { return ours.ModifyDBInstanceMasterPassword(ctx, "db1", pw) },
			func() error {
				_, err := sdk.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("db1"), MasterUserPassword: aws.String(pw), ApplyImmediately: aws.Bool(true)})
				return err
			}},
		{"ModifyDBCluster", func() error { return ours.ModifyDBClusterMasterPassword(ctx, "c1", pw) },
			func() error {
				_, err := sdk.ModifyDBCluster(ctx, &rds.ModifyDBClusterInput{DBClusterIdentifier: aws.String("c1"), MasterUserPassword: aws.String(pw), ApplyImmediately: aws.Bool(true)})
				return err
			}},
	}
	for _, c := range calls {
		if err := c.ours(); err != nil {
			t.Fatalf("%s (rdsapi): %v", c.name, err)
		}
		oreq, obody := capt.last(t)
		if err := c.sdks(); err != nil {
			t.Fatalf("%s (SDK): %v", c.name, err)
		}
		sreq, sbody := capt.last(t)
		of, _ := url.ParseQuery(obody)
		sf, _ := url.ParseQuery(sbody)
		if !reflect.DeepEqual(of, sf) {
			t.Errorf("%s: form differs\n rdsapi %v\n    SDK %v", c.name, of, sf)
		}
		if oreq.Method != sreq.Method || oreq.URL.Path != sreq.URL.Path || oreq.Header.Get("Content-Type") != sreq.Header.Get("Content-Type") {
			t.Errorf("%s: %s %s %q, SDK %s %s %q", c.name, oreq.Method, oreq.URL.Path, oreq.Header.Get("Content-Type"), sreq.Method, sreq.URL.Path, sreq.Header.Get("Content-Type"))
		}
		if got, want := scope(oreq), scope(sreq); got != want || !strings.HasSuffix(got, "/eu-west-1/rds/aws4_request") {
			t.Errorf("%s: credential scope %q, SDK %q", c.name, got, want)
		}
		if oreq.Header.Get("X-Amz-Security-Token") != "session-token" {
			t.Errorf("%s: no session token header", c.name)
		}
		verifySignature(t, c.name, oreq, obody, cfg)
	}
}

// scope is the Credential= part of a SigV4 Authorization header.
func scope(r *http.Request) string {
	for _, part := range strings.Split(strings.TrimPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 "), ", ") {
		if v, ok := strings.CutPrefix(part, "Credential="); ok {
			return v
		}
	}
	return ""
}

// verifySignature signs a copy of the received request (its signed
// headers, body and X-Amz-Date) again and compares signatures: the request
// left the client as it was signed.
func verifySignature(t *testing.T, name string, got *http.Request, body string, cfg aws.Config) {
	t.Helper()
	auth := got.Header.Get("Authorization")
	var signed []string
	for _, part := range strings.Split(strings.TrimPrefix(auth, "AWS4-HMAC-SHA256 "), ", ") {
		if v, ok := strings.CutPrefix(part, "SignedHeaders="); ok {
			signed = strings.Split(v, ";")
		}
	}
	when, err := time.Parse("20060102T150405Z", got.Header.Get("X-Amz-Date"))
	if err != nil || len(signed) == 0 {
		t.Fatalf("%s: Authorization %q, X-Amz-Date %q", name, auth, got.Header.Get("X-Amz-Date"))
	}
	req, _ := http.NewRequest(got.Method, "http://"+got.Host+got.URL.RequestURI(), strings.NewReader(body))
	for _, h := range signed {
		if h != "host" && h != "content-length" {
			req.Header.Set(h, got.Header.Get(h))
		}
	}
	req.Header.Del("X-Amz-Date")
	req.Header.Del("X-Amz-Security-Token")
	creds, _ := cfg.Credentials.Retrieve(context.Background())
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, sha256Hex(body), "rds", "eu-west-1", when); err != nil {
		t.Fatal(err)
	}
	if req.Header.Get("Authorization") != auth {
		t.Errorf("%s: the signature does not verify over the request as received", name)
	}
}

// TestEndpointsMatchTheSDK compares rdsapi's regional endpoints with the
// SDK's RDS endpoint rules for every region the SDK knows, pseudo-regions
// and an unknown one, with FIPS and dual stack on and off.
func TestEndpointsMatchTheSDK(t *testing.T) {
	t.Parallel()
	regions := []string{"us-east-1", "eu-west-3", "ap-southeast-7", "mx-central-1", "aws-global", "cn-north-1", "cn-northwest-1", "aws-cn-global",
		"eusc-de-east-1", "us-iso-east-1", "aws-iso-global", "us-isob-east-1", "eu-isoe-west-1", "us-isof-south-1", "aws-iso-f-global",
		"us-gov-west-1", "us-gov-east-1", "aws-us-gov-global", "xx-future-1", "us-moon-9"}
	sdk := rds.NewDefaultEndpointResolverV2()
	for _, region := range regions {
		for _, fips := range []bool{false, true} {
			for _, dual := range []bool{false, true} {
				want, err := sdk.ResolveEndpoint(context.Background(), rds.EndpointParameters{Region: aws.String(region), UseFIPS: aws.Bool(fips), UseDualStack: aws.Bool(dual)})
				if err != nil {
					t.Fatalf("SDK %s fips=%v dual=%v: %v", region, fips, dual, err)
				}
				got, err := rdsapi.RegionalEndpoint(region, fips, dual)
				if err != nil || got != want.URI.String() {
					t.Errorf("%s fips=%v dual=%v: %q, %v; SDK %q", region, fips, dual, got, err, want.URI.String())
				}
			}
		}
	}
	if _, err := rdsapi.RegionalEndpoint("us-east-1.evil.example/x", false, false); err == nil {
		t.Error("a region that is not a host label was accepted")
	}
}

// TestEndpointSettings: the order in which an endpoint is chosen, as the
// SDK's clients choose it, from the configuration a Lambda function gets.
func TestEndpointSettings(t *testing.T) {
	t.Parallel()
	capt := &capture{}
	ts := httptest.NewServer(capt)
	t.Cleanup(ts.Close)
	env := map[string]string{"AWS_REGION": "us-west-2", "AWS_ACCESS_KEY_ID": "AKIDX", "AWS_SECRET_ACCESS_KEY": "x"}
	config := func(extra map[string]string) aws.Config {
		t.Helper()
		e := map[string]string{}
		for k, v := range env {
			e[k] = v
		}
		for k, v := range extra {
			e[k] = v
		}
		cfg, err := lambdafn.AWSConfig(func(k string) string { return e[k] })
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	// Where each configuration sends a request: the capture server when
	// it is chosen, else the error that names the unreachable default.
	dial := func(cfg aws.Config, opts ...func(*rdsapi.Options)) string {
		cfg.Retryer = quickRetries(1)
		cfg.HTTPClient = hostRecorder{}
		_, err := rdsapi.New(cfg, opts...).DescribeDBInstance(context.Background(), "db1")
		var h hostErr
		if errors.As(err, &h) {
			return string(h)
		}
		t.Fatalf("no request made: %v", err)
		return ""
	}
	cases := []struct {
		name  string
		extra map[string]string
		opt   string
		want  string
	}{
		{"regional", nil, "", "https://rds.us-west-2.amazonaws.com"},
		{"FIPS", map[string]string{"AWS_USE_FIPS_ENDPOINT": "true"}, "", "https://rds-fips.us-west-2.amazonaws.com"},
		{"dual stack", map[string]string{"AWS_USE_DUALSTACK_ENDPOINT": "true"}, "", "https://rds.us-west-2.api.aws"},
		{"global endpoint URL", map[string]string{"AWS_ENDPOINT_URL": "http://global.example:1"}, "", "http://global.example:1"},
		{"RDS endpoint URL wins over the global one", map[string]string{"AWS_ENDPOINT_URL": "http://global.example:1", "AWS_ENDPOINT_URL_RDS": "http://rds.example:2"}, "", "http://rds.example:2"},
		{"an option wins over both", map[string]string{"AWS_ENDPOINT_URL": "http://global.example:1", "AWS_ENDPOINT_URL_RDS": "http://rds.example:2"}, "http://option.example:3", "http://option.example:3"},
	}
	for _, c := range cases {
		var opts []func(*rdsapi.Options)
		if c.opt != "" {
			opts = append(opts, func(o *rdsapi.Options) { o.BaseEndpoint = c.opt })
		}
		if got := dial(config(c.extra), opts...); got != c.want {
			t.Errorf("%s: request went to %q, want %q", c.name, got, c.want)
		}
	}
	// FIPS with an endpoint from the configuration: the Lambda
	// configuration refuses it at start; a configuration that has both
	// anyway (the CLI's shared config) fails the call, as the SDK does. An
	// endpoint the caller names (Options) is used as given.
	fipsCfg := config(map[string]string{"AWS_USE_FIPS_ENDPOINT": "true"})
	fipsCfg.ConfigSources = append([]any{rdsEndpointSource(ts.URL)}, fipsCfg.ConfigSources...)
	_, err := rdsapi.New(fipsCfg).DescribeDBInstance(context.Background(), "db1")
	if err == nil || !strings.Contains(err.Error(), "cannot be combined with the FIPS") {
		t.Errorf("FIPS with a configured endpoint: %v", err)
	}
	if got := dial(config(map[string]string{"AWS_USE_FIPS_ENDPOINT": "true"}), func(o *rdsapi.Options) { o.BaseEndpoint = "http://vpce.example:4" }); got != "http://vpce.example:4" {
		t.Errorf("FIPS with an endpoint named in Options: request went to %q", got)
	}
	if _, err := lambdafn.AWSConfig(func(k string) string { return map[string]string{"AWS_USE_FIPS_ENDPOINT": "maybe"}[k] + env[k] }); err == nil || !strings.Contains(err.Error(), "AWS_USE_FIPS_ENDPOINT") {
		t.Errorf("a malformed AWS_USE_FIPS_ENDPOINT: %v", err)
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestNoCredentialsIsAnError: an aws.Config without credentials gives an
// error naming them, not a panic, and sends nothing.
func TestNoCredentialsIsAnError(t *testing.T) {
	t.Parallel()
	capt := &capture{}
	ts := httptest.NewServer(capt)
	t.Cleanup(ts.Close)
	_, err := rdsapi.New(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(ts.URL)}).DescribeDBInstance(context.Background(), "db1")
	if err == nil || !strings.Contains(err.Error(), "no AWS credentials") {
		t.Fatalf("err %v, want one about credentials", err)
	}
	if len(capt.reqs) != 0 {
		t.Fatalf("%d requests sent without credentials", len(capt.reqs))
	}
}

// rdsEndpointSource is a configuration source naming an RDS endpoint, as
// a shared config profile's services section does.
type rdsEndpointSource string

func (s rdsEndpointSource) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	return string(s), sdkID == "RDS", nil
}

// hostRecorder is an HTTP client that sends nothing and fails with the
// scheme and host (and path) the request was for.
type hostRecorder struct{}

type hostErr string

func (h hostErr) Error() string { return "would have sent to " + string(h) }

func (hostRecorder) Do(r *http.Request) (*http.Response, error) {
	return nil, hostErr(r.URL.Scheme + "://" + r.URL.Host + r.URL.Path)
}
