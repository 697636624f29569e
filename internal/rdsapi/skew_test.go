package rdsapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/rotorhq/rotor/internal/rdsapi"
)

// TestClockSkewCorrected: on a machine whose clock is 10 minutes behind,
// RDS refuses the first signature ("Signature expired"); as with the SDK,
// the answer's Date header gives the skew, the call is retried signed at
// RDS's time, and the client's next call is signed right the first time.
func TestClockSkewCorrected(t *testing.T) {
	t.Parallel()
	var requests, refused atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		signed, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
		if err != nil || time.Since(signed).Abs() > 5*time.Minute {
			refused.Add(1)
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>Signature expired: %s is now earlier than ...</Message></Error><RequestId>r</RequestId></ErrorResponse>`, r.Header.Get("X-Amz-Date"))
			return
		}
		fmt.Fprint(w, `<DescribeDBInstancesResponse><DescribeDBInstancesResult><DBInstances><DBInstance><DBInstanceIdentifier>db1</DBInstanceIdentifier></DBInstance></DBInstances></DescribeDBInstancesResult></DescribeDBInstancesResponse>`)
	}))
	defer ts.Close()
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDX", "x", ""), BaseEndpoint: aws.String(ts.URL), Retryer: quickRetries(3)}
	c := rdsapi.New(cfg)
	rdsapi.SetClock(c, func() time.Time { return time.Now().Add(-10 * time.Minute) })
	if _, err := c.DescribeDBInstance(context.Background(), "db1"); err != nil {
		t.Fatalf("first call: %v", err)
	}
	if n, r := requests.Load(), refused.Load(); n != 2 || r != 1 {
		t.Errorf("first call: %d requests, %d refused; want 2, 1", n, r)
	}
	if _, err := c.DescribeDBInstance(context.Background(), "db1"); err != nil {
		t.Fatalf("second call: %v", err)
	}
	if n, r := requests.Load(), refused.Load(); n != 3 || r != 1 {
		t.Errorf("after the second call: %d requests, %d refused; want 3, 1", n, r)
	}
}
