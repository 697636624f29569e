package awslocal_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/rotorhq/rotor/internal/local/awslocal"
	"github.com/rotorhq/rotor/internal/local/awslocal/awslocaltest"
)

// retryingClient is an SDK client with the SDK's standard retryer (three
// attempts) and a 1 ms backoff ceiling, so retries are exercised but cheap.
func retryingClient(t *testing.T) (*awslocal.Server, *secretsmanager.Client) {
	t.Helper()
	srv, cfg := awslocaltest.New(t)
	return srv, secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) {
		o.Retryer = retry.AddWithMaxBackoffDelay(retry.NewStandard(), time.Millisecond)
	})
}

func addFault(t *testing.T, srv *awslocal.Server, f awslocal.Fault) int {
	t.Helper()
	id, err := srv.AddFault(f)
	if err != nil {
		t.Fatalf("AddFault(%+v): %v", f, err)
	}
	return id
}

func faultState(t *testing.T, srv *awslocal.Server, id int) awslocal.FaultState {
	t.Helper()
	for _, f := range srv.Faults() {
		if f.ID == id {
			return f
		}
	}
	t.Fatalf("no fault %d", id)
	return awslocal.FaultState{}
}

func httpStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func TestFaultThrottleIsRetriedBySDK(t *testing.T) {
	t.Parallel()
	srv, sm := retryingClient(t)
	ctx := ctxT(t)
	create(t, sm, "fault/app", "v1")
	id := addFault(t, srv, awslocal.Fault{Operation: "PutSecretValue", Answer: awslocal.FaultThrottle, Count: 2})
	srv.ResetStats()
	// Two throttled answers, then the SDK's third attempt gets through.
	if _, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("fault/app"), SecretString: aws.String("v2"), ClientRequestToken: aws.String(token(2))}); err != nil {
		t.Fatalf("PutSecretValue through two throttles: %v", err)
	}
	if n := srv.Stats()["PutSecretValue"]; n != 3 {
		t.Fatalf("PutSecretValue calls = %d, want 3 (two throttled, one answered)", n)
	}
	if st := faultState(t, srv, id); st.Fired != 2 || st.Matched != 2 {
		t.Fatalf("fault counters = %+v, want 2 matched, 2 fired", st)
	}
	// Spent: the next call is answered normally.
	put(t, sm, "fault/app", token(3), "v3")

	// Without retries the caller sees the service's type and text, and
	// nothing was stored.
	addFault(t, srv, awslocal.Fault{Operation: "PutSecretValue", Answer: awslocal.FaultThrottle, Count: 1})
	noRetry := secretsmanager.NewFromConfig(srv.SDKConfig(srv.URL()), func(o *secretsmanager.Options) { o.RetryMaxAttempts = 1 })
	_, err := noRetry.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("fault/app"), SecretString: aws.String("v4"), ClientRequestToken: aws.String(token(4))})
	wantAPIError(t, err, "ThrottlingException", "Rate exceeded.")
	if st := httpStatus(err); st != http.StatusBadRequest {
		t.Fatalf("throttle status = %d, want 400", st)
	}
	for _, v := range srv.Versions("fault/app") {
		if v.VersionID == token(4) {
			t.Fatal("a throttled PutSecretValue stored a version")
		}
	}
}

func TestFaultServerErrorFractionAndSecret(t *testing.T) {
	t.Parallel()
	srv, sm := setup(t) // one attempt: every answer is seen
	ctx := ctxT(t)
	a := create(t, sm, "fault/a", "a")
	create(t, sm, "fault/b", "b")
	// Every second GetSecretValue of fault/a (named by name, called by
	// ARN) answers 503.
	id := addFault(t, srv, awslocal.Fault{Operation: "GetSecretValue", SecretID: "fault/a", Answer: awslocal.FaultError, Status: 503, Fraction: 0.5})
	var statuses []int
	for range 4 {
		_, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: a.ARN})
		statuses = append(statuses, httpStatus(err))
		if err != nil {
			wantAPIError(t, err, "InternalServiceError", "")
		}
		// Another secret is never hit.
		if _, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("fault/b")}); err != nil {
			t.Fatalf("GetSecretValue(fault/b): %v", err)
		}
	}
	// Successful calls carry no status in the error: 0.
	if want := []int{0, 503, 0, 503}; !slices.Equal(statuses, want) {
		t.Fatalf("statuses = %v, want %v", statuses, want)
	}
	if st := faultState(t, srv, id); st.Matched != 4 || st.Fired != 2 {
		t.Fatalf("fault counters = %+v, want 4 matched, 2 fired", st)
	}
	srv.RemoveFault(id)
	if _, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: a.ARN}); err != nil {
		t.Fatalf("after RemoveFault: %v", err)
	}
}

func TestFaultDelayAndControlEndpoint(t *testing.T) {
	t.Parallel()
	srv, sm := setup(t)
	create(t, sm, "fault/slow", "v")
	// Install through the control endpoint, as another process would.
	body, _ := json.Marshal(map[string]any{"operation": "DescribeSecret", "secretId": "fault/slow", "answer": "delay", "delay": "10s", "count": 1})
	resp, err := http.Post(srv.URL()+"/_awslocal/faults", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var added struct{ ID int }
	_ = json.NewDecoder(resp.Body).Decode(&added)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || added.ID == 0 {
		t.Fatalf("POST /_awslocal/faults: %s, id %d", resp.Status, added.ID)
	}
	// A caller with a shorter deadline gives up; the delay is the fault's.
	short, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = sm.DescribeSecret(short, &secretsmanager.DescribeSecretInput{SecretId: aws.String("fault/slow")})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("DescribeSecret under a 10s delay with a short deadline: %v, want deadline exceeded", err)
	}
	// Spent after one call.
	if _, err := sm.DescribeSecret(ctxT(t), &secretsmanager.DescribeSecretInput{SecretId: aws.String("fault/slow")}); err != nil {
		t.Fatalf("DescribeSecret after the delay was spent: %v", err)
	}
	var listed []awslocal.FaultState
	resp, err = http.Get(srv.URL() + "/_awslocal/faults")
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewDecoder(resp.Body).Decode(&listed)
	resp.Body.Close()
	if len(listed) != 1 || listed[0].Fired != 1 || listed[0].Fault.Delay != 10*time.Second {
		t.Fatalf("GET /_awslocal/faults = %+v", listed)
	}
	// A bad fault is refused, naming the field.
	resp, _ = http.Post(srv.URL()+"/_awslocal/faults", "application/json", bytes.NewReader([]byte(`{"operation":"PutSecretValue","answer":"explode"}`)))
	msg := new(bytes.Buffer)
	_, _ = msg.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !bytes.Contains(msg.Bytes(), []byte("fault answer")) {
		t.Fatalf("bad fault: %s %s", resp.Status, msg)
	}
	req, _ := http.NewRequest(http.MethodDelete, srv.URL()+"/_awslocal/faults", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("DELETE /_awslocal/faults: %v", err)
	}
	if n := len(srv.Faults()); n != 0 {
		t.Fatalf("%d faults after DELETE", n)
	}
}

func TestParseFault(t *testing.T) {
	t.Parallel()
	good := map[string]awslocal.Fault{
		"op=PutSecretValue,answer=throttle,count=2":                          {Operation: "PutSecretValue", Answer: awslocal.FaultThrottle, Count: 2},
		"op=GetSecretValue,secret=app/db,answer=delay,delay=2s,fraction=0.5": {Operation: "GetSecretValue", SecretID: "app/db", Answer: awslocal.FaultDelay, Delay: 2 * time.Second, Fraction: 0.5},
		"answer=error,status=503":                                            {Answer: awslocal.FaultError, Status: 503},
	}
	for spec, want := range good {
		got, err := awslocal.ParseFault(spec)
		if err != nil || got != want {
			t.Errorf("ParseFault(%q) = %+v, %v; want %+v", spec, got, err, want)
		}
	}
	bad := map[string]string{
		"op=PutSecretValue":          "fault answer",
		"op=Nope,answer=throttle":    "fault operation",
		"answer=error,status=404":    "fault status",
		"answer=delay":               "fault delay",
		"answer=throttle,fraction=2": "fault fraction",
		"answer=throttle,count=-1":   "fault count",
		"answer=throttle,colour=red": "unknown key",
		"answer=throttle,count=two":  "count",
		"answer=throttle,nothing":    "key=value",
	}
	for spec, want := range bad {
		_, err := awslocal.ParseFault(spec)
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte(want)) {
			t.Errorf("ParseFault(%q) = %v, want an error naming %q", spec, err, want)
		}
	}
}

// TestFaultDenyIsAccessDenied: a deny fault answers the SDK's
// AccessDeniedException (HTTP 400, not retried) for the one secret it names;
// other secrets answer normally.
func TestFaultDenyIsAccessDenied(t *testing.T) {
	t.Parallel()
	srv, sm := retryingClient(t)
	ctx := context.Background()
	for _, name := range []string{"denied", "allowed"} {
		if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("v")}); err != nil {
			t.Fatal(err)
		}
	}
	id := addFault(t, srv, awslocal.Fault{Operation: "GetSecretValue", SecretID: "denied", Answer: awslocal.FaultDeny})
	_, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("denied")})
	var ae interface{ ErrorCode() string }
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" || httpStatus(err) != http.StatusBadRequest {
		t.Fatalf("err %v, want AccessDeniedException with HTTP 400", err)
	}
	if got := faultState(t, srv, id); got.Fired != 1 {
		t.Fatalf("fault fired %d times, want 1 (AccessDenied is not retried)", got.Fired)
	}
	if _, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("allowed")}); err != nil {
		t.Fatalf("another secret: %v", err)
	}
	if _, err := awslocal.ParseFault("op=GetSecretValue,answer=deny"); err != nil {
		t.Fatalf("ParseFault deny: %v", err)
	}
}
