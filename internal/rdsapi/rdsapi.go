// Package rdsapi is rotor's RDS client: the six RDS calls rotor makes
// (describe one DB instance or cluster, list them all, change a master
// password), spoken in RDS's Query protocol over HTTPS.
//
// It is built from the AWS SDK's own parts: requests are signed by the SDK's
// SigV4 signer with the aws.Config's credentials, retried by the
// aws.Config's retryer (the SDK's standard retryer when none is set: the
// same throttling and transient-error rules, backoff and retry quota as
// every SDK client; and its clock skew correction, from the answers' Date
// headers), sent by its HTTP client, and failures come back as the
// SDK's error types (a *smithy.OperationError around an
// *awshttp.ResponseError around a smithy.APIError with RDS's error code), so
// errors.As and the SDK's retry classification work as with service/rds.
// The endpoint follows the SDK's rules for RDS (see RegionalEndpoint).
//
// Why not service/rds: its package initialisation builds the schemas of all
// of RDS's operations on every cold start of every function that links it
// (1.3 MB in 7,000 allocations, ~6 ms of the rotator's ~24 ms init) and it
// adds 1.5 MB to the binary (0.36 MB to the zip), for calls only
// rds-master secrets and RDS-managed admin secrets need. docs/performance.md
// has the figures and docs/design.md the decision. The tests hold this client to service/rds:
// the same request parameters and endpoints (TestRequestsMatchTheSDK,
// TestEndpointsMatchTheSDK) and the local stand-in, which boto3 and the SDK
// check too.
//
// Nothing here logs. A request body can hold a master password
// (ModifyDBInstance, ModifyDBCluster); it is never part of an error.
package rdsapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/rotorhq/rotor/internal/version"
)

// ServiceID is RDS's SDK service ID: errors name it, and its endpoint
// variable is AWS_ENDPOINT_URL_RDS.
const ServiceID = "RDS"

// apiVersion is the RDS API version every request names.
const apiVersion = "2014-10-31"

// signingName is RDS's SigV4 service name.
const signingName = "rds"

// maxResponseBytes bounds what one answer may be: a page of 100 described
// instances is far below it.
const maxResponseBytes = 32 << 20

// DBInstance is what rotor reads of a described DB instance.
type DBInstance struct {
	Identifier string
	ARN        string
	Status     string
	Engine     string
	// MasterUsername is the instance's master user.
	MasterUsername string
	// ClusterIdentifier is the Aurora cluster the instance belongs to, or
	// empty.
	ClusterIdentifier string
	// Endpoint is nil while RDS has not given the instance one yet.
	Endpoint *Endpoint
	// MasterUserSecretARN is set when RDS manages the master password in a
	// secret of its own (ManageMasterUserPassword).
	MasterUserSecretARN string
	// PendingMasterPassword is true while RDS reports a master password
	// change as pending.
	PendingMasterPassword bool
}

// DBCluster is what rotor reads of a described DB cluster.
type DBCluster struct {
	Identifier          string
	ARN                 string
	Status              string
	Engine              string
	MasterUsername      string
	Endpoint            string // the writer endpoint's address; empty while none
	ReaderEndpoint      string
	Port                int
	MasterUserSecretARN string
	// PendingMasterPassword is true while RDS reports a master password
	// change as pending.
	PendingMasterPassword bool
}

// Endpoint is a DB instance's address.
type Endpoint struct {
	Address string
	Port    int
}

// Options change a Client from what its aws.Config says.
type Options struct {
	// BaseEndpoint replaces the resolved endpoint (e.g. a local stand-in's
	// URL, a VPC endpoint's name); it is used as given, whatever the FIPS
	// and dual-stack settings.
	BaseEndpoint string
	// HTTPClient replaces the aws.Config's.
	HTTPClient aws.HTTPClient
}

// Client makes RDS calls. Its zero value is not usable; use New.
type Client struct {
	cfg      aws.Config
	opts     Options
	retryer  aws.RetryerV2
	signer   *v4.Signer
	http     aws.HTTPClient
	now      func() time.Time
	endpoint endpointSettings
	// skew is how far RDS's clock is ahead of this machine's (ns), as the
	// last answer's Date header showed: requests are signed at now+skew.
	skew atomic.Int64
}

// New returns a client for cfg's region and credentials. Like the SDK's
// clients it resolves the endpoint from cfg and its configuration sources
// (AWS_ENDPOINT_URL_RDS, AWS_ENDPOINT_URL, FIPS and dual-stack settings)
// and takes the retryer service/rds would (retryerFor).
func New(cfg aws.Config, optFns ...func(*Options)) *Client {
	c := &Client{cfg: cfg, signer: v4.NewSigner(), now: time.Now, endpoint: endpointSettingsFrom(cfg)}
	for _, f := range optFns {
		f(&c.opts)
	}
	c.retryer = wrapV2(retryerFor(cfg))
	c.http = c.opts.HTTPClient
	if c.http == nil {
		c.http = cfg.HTTPClient
	}
	if c.http == nil {
		c.http = awshttp.NewBuildableClient()
	}
	return c
}

// retryerFor is the retryer service/rds would use with cfg: cfg.Retryer's
// (with cfg.RetryMaxAttempts, when set, in place of its own), else the
// SDK's standard one, or its adaptive one when cfg.RetryMode says so
// (AWS_RETRY_MODE), with cfg.RetryMaxAttempts (AWS_MAX_ATTEMPTS).
func retryerFor(cfg aws.Config) aws.Retryer {
	if cfg.Retryer != nil {
		r := cfg.Retryer()
		if cfg.RetryMaxAttempts != 0 {
			r = retry.AddWithMaxAttempts(r, cfg.RetryMaxAttempts)
		}
		return r
	}
	maxAttempts := func(o *retry.StandardOptions) {
		if cfg.RetryMaxAttempts != 0 {
			o.MaxAttempts = cfg.RetryMaxAttempts
		}
	}
	if cfg.RetryMode == aws.RetryModeAdaptive {
		return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
			o.StandardOptions = append(o.StandardOptions, maxAttempts)
		})
	}
	return retry.NewStandard(maxAttempts)
}

// wrapV2 gives a plain aws.Retryer the per-attempt token call.
func wrapV2(r aws.Retryer) aws.RetryerV2 {
	if v2, ok := r.(aws.RetryerV2); ok {
		return v2
	}
	return retryerV2{r}
}

type retryerV2 struct{ aws.Retryer }

func (r retryerV2) GetAttemptToken(context.Context) (func(error) error, error) {
	return r.GetInitialToken(), nil
}

// DescribeDBInstance describes the DB instance id names (an identifier or
// an ARN). An unknown one is RDS's DBInstanceNotFound error.
func (c *Client) DescribeDBInstance(ctx context.Context, id string) (DBInstance, error) {
	var out describeInstancesResult
	if err := c.call(ctx, "DescribeDBInstances", url.Values{"DBInstanceIdentifier": {id}}, &out); err != nil {
		return DBInstance{}, err
	}
	if len(out.Instances) != 1 {
		return DBInstance{}, fmt.Errorf("RDS DescribeDBInstances %s: %d instances answered, want 1", id, len(out.Instances))
	}
	return out.Instances[0].value(), nil
}

// DescribeDBCluster describes the DB cluster id names (an identifier or an
// ARN). An unknown one is RDS's DBClusterNotFoundFault error.
func (c *Client) DescribeDBCluster(ctx context.Context, id string) (DBCluster, error) {
	var out describeClustersResult
	if err := c.call(ctx, "DescribeDBClusters", url.Values{"DBClusterIdentifier": {id}}, &out); err != nil {
		return DBCluster{}, err
	}
	if len(out.Clusters) != 1 {
		return DBCluster{}, fmt.Errorf("RDS DescribeDBClusters %s: %d clusters answered, want 1", id, len(out.Clusters))
	}
	return out.Clusters[0].value(), nil
}

// DBInstances lists every DB instance of the account and region, page by
// page (RDS's Marker).
func (c *Client) DBInstances(ctx context.Context) ([]DBInstance, error) {
	return listAll(ctx, c, "DescribeDBInstances", func(r *describeInstancesResult) ([]xmlInstance, string) { return r.Instances, r.Marker }, xmlInstance.value)
}

// DBClusters lists every DB cluster of the account and region, page by
// page.
func (c *Client) DBClusters(ctx context.Context) ([]DBCluster, error) {
	return listAll(ctx, c, "DescribeDBClusters", func(r *describeClustersResult) ([]xmlCluster, string) { return r.Clusters, r.Marker }, xmlCluster.value)
}

// ModifyDBInstanceMasterPassword asks RDS to set the instance's master
// password now (ApplyImmediately). RDS applies it asynchronously: describe
// reports it pending until then.
func (c *Client) ModifyDBInstanceMasterPassword(ctx context.Context, id, password string) error {
	return c.call(ctx, "ModifyDBInstance", url.Values{"DBInstanceIdentifier": {id}, "MasterUserPassword": {password}, "ApplyImmediately": {"true"}}, nil)
}

// ModifyDBClusterMasterPassword asks RDS to set the cluster's master
// password now (ApplyImmediately).
func (c *Client) ModifyDBClusterMasterPassword(ctx context.Context, id, password string) error {
	return c.call(ctx, "ModifyDBCluster", url.Values{"DBClusterIdentifier": {id}, "MasterUserPassword": {password}, "ApplyImmediately": {"true"}}, nil)
}

// listAll calls action until RDS returns no marker and returns every
// item of every page (R is the page's result element, page picks its items
// and marker, value converts an item). A repeated marker is an error
// rather than an endless loop.
func listAll[R, X, T any](ctx context.Context, c *Client, action string, page func(*R) ([]X, string), value func(X) T) ([]T, error) {
	var all []T
	seen := map[string]bool{}
	marker := ""
	for {
		params := url.Values{}
		if marker != "" {
			params.Set("Marker", marker)
		}
		out := new(R)
		if err := c.call(ctx, action, params, out); err != nil {
			return all, err
		}
		items, next := page(out)
		for _, x := range items {
			all = append(all, value(x))
		}
		if next == "" {
			return all, nil
		}
		if seen[next] {
			return all, fmt.Errorf("RDS %s: the marker %q came back twice", action, next)
		}
		seen[next] = true
		marker = next
	}
}

// call makes one operation, with the retryer's attempts, and decodes the
// <action>Result element into out (nil: only checked to be RDS's answer).
func (c *Client) call(ctx context.Context, action string, params url.Values, out any) error {
	form := url.Values{"Action": {action}, "Version": {apiVersion}}
	for k, v := range params {
		form[k] = v
	}
	body := []byte(form.Encode())
	endpoint, region, err := c.resolve(ctx)
	if err != nil {
		return &smithy.OperationError{ServiceID: ServiceID, OperationName: action, Err: err}
	}
	err = c.withRetries(ctx, func(ctx context.Context, skew time.Duration) (time.Duration, bool, error) {
		return c.attempt(ctx, action, endpoint, region, body, out, skew)
	})
	if err != nil {
		return &smithy.OperationError{ServiceID: ServiceID, OperationName: action, Err: err}
	}
	return nil
}

// withRetries runs try until it succeeds, fails with an error the retryer
// does not retry, or the retryer's attempts or retry quota run out; it
// sleeps the retryer's delay between attempts. As the SDK's retry
// middleware, it corrects for clock skew: try signs at now plus the skew
// it is given and reports the skew the answer's Date header showed; that
// is the next attempt's (and the client's next operation's), and a
// signature refusal while the signing clock was off by more than
// skewThreshold is retried.
func (c *Client) withRetries(ctx context.Context, try func(context.Context, time.Duration) (time.Duration, bool, error)) error {
	releaseRetry := func(error) error { return nil }
	skew := time.Duration(c.skew.Load())
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		releaseAttempt, err := c.retryer.GetAttemptToken(ctx)
		if err != nil {
			return fmt.Errorf("get a retry send token: %w", err)
		}
		observed, seen, err := try(ctx, skew)
		_ = releaseRetry(err)
		_ = releaseAttempt(err)
		if seen {
			if err != nil && clockSkewCode(ErrorCode(err)) && (skew-observed).Abs() > skewThreshold {
				err = &clockSkewError{err}
			}
			skew = observed
			c.skew.Store(int64(observed))
		}
		if err == nil {
			return nil
		}
		if !c.retryer.IsErrorRetryable(err) {
			return err
		}
		if max := c.retryer.MaxAttempts(); max > 0 && attempt >= max {
			return &retry.MaxAttemptsError{Attempt: attempt, Err: err}
		}
		// As the SDK's retry middleware: a spent retry quota returns the
		// attempt's error joined with the quota's, so RDS's code stays.
		var qerr error
		if releaseRetry, qerr = c.retryer.GetRetryToken(ctx, err); qerr != nil {
			return errors.Join(err, qerr)
		}
		delay, derr := c.retryer.RetryDelay(attempt, err)
		if derr != nil {
			return derr
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return &aws.RequestCanceledError{Err: ctx.Err()}
		case <-t.C:
		}
	}
}

// skewThreshold is how far the signing clock may be off RDS's before a
// signature refusal counts as clock skew (the SDK's threshold).
const skewThreshold = 4 * time.Minute

// clockSkewCode reports whether code is one a skewed signing clock gets
// (RDS answers SignatureDoesNotMatch, "Signature expired"); the SDK's
// list. A switch, not a map: nothing to build at package initialisation.
func clockSkewCode(code string) bool {
	switch code {
	case "InvalidSignatureException", "SignatureDoesNotMatch", "AuthFailure", "RequestTimeTooSkewed", "AccessDeniedException":
		return true
	}
	return false
}

// clockSkewError is a signature refusal caused by clock skew: the retryer
// retries it (aws.RetryableError).
type clockSkewError struct{ err error }

func (e *clockSkewError) Error() string        { return "probable clock skew: " + e.err.Error() }
func (e *clockSkewError) Unwrap() error        { return e.err }
func (e *clockSkewError) RetryableError() bool { return true }

// attempt sends one signed request, signed at now plus skew, and decodes
// its answer. observed is how far RDS's clock is ahead of this machine's,
// from the answer's Date header; seen is false when there was none to
// trust (no answer, no Date, a cached answer, or a round trip over 15
// minutes), as in the SDK.
func (c *Client) attempt(ctx context.Context, action, endpoint, region string, body []byte, out any, skew time.Duration) (observed time.Duration, seen bool, err error) {
	err = c.send(ctx, action, endpoint, region, body, out, skew, func(resp *http.Response, sent, received time.Time) {
		if resp.Header.Get("Age") != "" || received.Sub(sent) > 15*time.Minute {
			return
		}
		if t, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
			observed, seen = t.Sub(received), true
		}
	})
	return observed, seen, err
}

// send is one attempt: the request, signed at now plus skew; answered is
// told of the answer as soon as its headers arrive.
func (c *Client) send(ctx context.Context, action, endpoint, region string, body []byte, out any, skew time.Duration, answered func(resp *http.Response, sent, received time.Time)) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build the request: %w", err)
	}
	// No GetBody: net/http then does not follow a 307 or 308 by sending the
	// body again, master password included, to wherever the redirect
	// points; the redirect is answered as an error (as service/rds's
	// requests, which have no GetBody either).
	req.GetBody = nil
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "rotor/"+version.String()+" (rdsapi; aws-sdk-go-v2 signer)")
	if c.cfg.Credentials == nil {
		return errors.New("no AWS credentials configured")
	}
	creds, err := c.cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("retrieve AWS credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), signingName, region, c.now().Add(skew).UTC()); err != nil {
		return fmt.Errorf("sign the request: %w", err)
	}
	sent := c.now()
	resp, err := c.http.Do(req)
	if err != nil {
		// The caller's context ended the request: not a connection error
		// to retry (the SDK's HTTP handler answers the same), and no
		// retry-quota token is spent on it.
		if ctx.Err() != nil {
			return &smithy.CanceledError{Err: ctx.Err()}
		}
		// A connection error: the retryer knows these (they are retried).
		return &smithyhttp.RequestSendError{Err: err}
	}
	defer resp.Body.Close()
	answered(resp, sent, c.now())
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return fmt.Errorf("read the answer: %w", err)
	}
	if len(data) > maxResponseBytes {
		return fmt.Errorf("the answer is larger than %d bytes", maxResponseBytes)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return responseError(resp, data)
	}
	if out == nil {
		// The answer is not read, but it must be RDS's: a 200 from
		// something else (a proxy's page) is not a change RDS accepted.
		// As service/rds, an empty answer passes.
		if len(bytes.TrimSpace(data)) == 0 {
			return nil
		}
		out = &struct{}{}
	}
	return decodeResult(action, data, out)
}

// decodeResult decodes <actionResponse><actionResult>...</actionResult>
// into out.
func decodeResult(action string, data []byte, out any) error {
	d := xml.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := d.Token()
		if err != nil {
			return fmt.Errorf("decode the %s answer: no %sResult element: %w", action, action, err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == action+"Result" {
			if err := d.DecodeElement(out, &se); err != nil {
				return fmt.Errorf("decode the %s answer: %w", action, err)
			}
			return nil
		}
	}
}

// responseError is the SDK's error for a non-2xx answer: RDS's error code
// and message as a smithy.APIError, inside an awshttp.ResponseError that
// carries the HTTP status and request ID.
func responseError(resp *http.Response, data []byte) error {
	var e struct {
		Error struct {
			Type    string `xml:"Type"`
			Code    string `xml:"Code"`
			Message string `xml:"Message"`
		} `xml:"Error"`
		RequestID string `xml:"RequestId"`
	}
	api := &smithy.GenericAPIError{Code: "UnknownError", Message: http.StatusText(resp.StatusCode), Fault: smithy.FaultUnknown}
	if xml.Unmarshal(data, &e) == nil && e.Error.Code != "" {
		api.Code, api.Message = e.Error.Code, e.Error.Message
		switch e.Error.Type {
		case "Sender":
			api.Fault = smithy.FaultClient
		case "Receiver":
			api.Fault = smithy.FaultServer
		}
	}
	id := e.RequestID
	if id == "" {
		id = resp.Header.Get("X-Amzn-Requestid")
	}
	return &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: resp}, Err: api},
		RequestID:     id,
	}
}

// xmlInstance is a <DBInstance> element.
type xmlInstance struct {
	DBInstanceIdentifier string `xml:"DBInstanceIdentifier"`
	DBInstanceArn        string `xml:"DBInstanceArn"`
	DBInstanceStatus     string `xml:"DBInstanceStatus"`
	Engine               string `xml:"Engine"`
	MasterUsername       string `xml:"MasterUsername"`
	DBClusterIdentifier  string `xml:"DBClusterIdentifier"`
	Endpoint             *struct {
		Address string `xml:"Address"`
		Port    int    `xml:"Port"`
	} `xml:"Endpoint"`
	MasterUserSecret *struct {
		SecretArn string `xml:"SecretArn"`
	} `xml:"MasterUserSecret"`
	PendingModifiedValues *xmlPending `xml:"PendingModifiedValues"`
}

// xmlPending is <PendingModifiedValues>: RDS shows a pending master
// password as "****"; the element's presence is what counts.
type xmlPending struct {
	MasterUserPassword *string `xml:"MasterUserPassword"`
}

func (p *xmlPending) passwordPending() bool { return p != nil && p.MasterUserPassword != nil }

func (x xmlInstance) value() DBInstance {
	i := DBInstance{Identifier: x.DBInstanceIdentifier, ARN: x.DBInstanceArn, Status: x.DBInstanceStatus, Engine: x.Engine,
		MasterUsername: x.MasterUsername, ClusterIdentifier: x.DBClusterIdentifier, PendingMasterPassword: x.PendingModifiedValues.passwordPending()}
	if x.Endpoint != nil {
		i.Endpoint = &Endpoint{Address: x.Endpoint.Address, Port: x.Endpoint.Port}
	}
	if x.MasterUserSecret != nil {
		i.MasterUserSecretARN = x.MasterUserSecret.SecretArn
	}
	return i
}

// xmlCluster is a <DBCluster> element.
type xmlCluster struct {
	DBClusterIdentifier string `xml:"DBClusterIdentifier"`
	DBClusterArn        string `xml:"DBClusterArn"`
	Status              string `xml:"Status"`
	Engine              string `xml:"Engine"`
	MasterUsername      string `xml:"MasterUsername"`
	Endpoint            string `xml:"Endpoint"`
	ReaderEndpoint      string `xml:"ReaderEndpoint"`
	Port                int    `xml:"Port"`
	MasterUserSecret    *struct {
		SecretArn string `xml:"SecretArn"`
	} `xml:"MasterUserSecret"`
	PendingModifiedValues *xmlPending `xml:"PendingModifiedValues"`
}

func (x xmlCluster) value() DBCluster {
	c := DBCluster{Identifier: x.DBClusterIdentifier, ARN: x.DBClusterArn, Status: x.Status, Engine: x.Engine, MasterUsername: x.MasterUsername,
		Endpoint: x.Endpoint, ReaderEndpoint: x.ReaderEndpoint, Port: x.Port, PendingMasterPassword: x.PendingModifiedValues.passwordPending()}
	if x.MasterUserSecret != nil {
		c.MasterUserSecretARN = x.MasterUserSecret.SecretArn
	}
	return c
}

type describeInstancesResult struct {
	Marker    string        `xml:"Marker"`
	Instances []xmlInstance `xml:"DBInstances>DBInstance"`
}

type describeClustersResult struct {
	Marker   string       `xml:"Marker"`
	Clusters []xmlCluster `xml:"DBClusters>DBCluster"`
}

// RDS error codes rotor acts on.
const (
	CodeInvalidDBInstanceState = "InvalidDBInstanceState"
	CodeInvalidDBClusterState  = "InvalidDBClusterStateFault"
	CodeDBInstanceNotFound     = "DBInstanceNotFound"
	CodeDBClusterNotFound      = "DBClusterNotFoundFault"
)

// IsInvalidState reports whether err is RDS refusing a change because the
// instance or cluster is in a state that does not allow it (for instance
// while it applies an earlier change): waiting and asking again helps.
func IsInvalidState(err error) bool {
	c := ErrorCode(err)
	return c == CodeInvalidDBInstanceState || c == CodeInvalidDBClusterState
}

// ErrorCode returns the RDS error code err carries, or "".
func ErrorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}
