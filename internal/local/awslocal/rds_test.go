package awslocal_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/smithy-go"

	"github.com/rotorhq/rotor/internal/local/awslocal"
	"github.com/rotorhq/rotor/internal/local/awslocal/awslocaltest"
	"github.com/rotorhq/rotor/internal/rdsapi"
)

// applied is one call of a MasterPasswordOptions.Apply hook.
type applied struct{ user, password string }

// gatedApply returns an Apply hook that reports each call on calls and
// returns only when release is closed, so the change stays pending exactly
// as long as the test wants.
func gatedApply(calls chan<- applied, release <-chan struct{}) func(context.Context, string, string) error {
	return func(ctx context.Context, user, password string) error {
		calls <- applied{user, password}
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// waitNotPending polls describe until it reports no pending master
// password; the hook has already returned, so this is a few polls at most.
func waitNotPending(t *testing.T, describe func() *string) {
	t.Helper()
	for range 500 {
		if describe() == nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("master password change still pending after its Apply hook returned")
}

// TestRDSModifyMasterPassword drives ModifyDBInstance and ModifyDBCluster
// through the SDK: the pending state while the change is applied, the
// change reaching the hook, and the service's refusals.
func TestRDSModifyMasterPassword(t *testing.T) {
	t.Parallel()
	srv, cfg := awslocaltest.New(t)
	client := rds.NewFromConfig(cfg)
	ctx := context.Background()

	calls := make(chan applied, 4)
	release := make(chan struct{})
	srv.AddDBInstance(awslocal.DBInstance{Identifier: "pg1", Engine: "postgres", Address: "127.0.0.1", Port: 5432, MasterUsername: "master",
		MasterPassword: awslocal.MasterPasswordOptions{Apply: gatedApply(calls, release)}})
	describe := func() *rdstypes.DBInstance {
		out, err := client.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("pg1")})
		if err != nil || len(out.DBInstances) != 1 {
			t.Fatalf("DescribeDBInstances: %v", err)
		}
		return &out.DBInstances[0]
	}
	if d := describe(); aws.ToString(d.DBInstanceStatus) != "available" || d.PendingModifiedValues == nil || d.PendingModifiedValues.MasterUserPassword != nil {
		t.Fatalf("before: status %q pending %+v", aws.ToString(d.DBInstanceStatus), d.PendingModifiedValues)
	}

	out, err := client.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("pg1"), MasterUserPassword: aws.String("New-password-1"), ApplyImmediately: aws.Bool(true)})
	if err != nil {
		t.Fatalf("ModifyDBInstance: %v", err)
	}
	if p := out.DBInstance.PendingModifiedValues; p == nil || aws.ToString(p.MasterUserPassword) != "****" {
		t.Fatalf("Modify answer: pending %+v, want MasterUserPassword ****", p)
	}
	if c := <-calls; c != (applied{"master", "New-password-1"}) {
		t.Fatalf("hook got %+v", c)
	}
	// Held in the hook: pending, and another change is refused.
	if d := describe(); aws.ToString(d.DBInstanceStatus) != "resetting-master-credentials" || aws.ToString(d.PendingModifiedValues.MasterUserPassword) != "****" {
		t.Fatalf("while applying: status %q pending %+v", aws.ToString(d.DBInstanceStatus), d.PendingModifiedValues)
	}
	_, err = client.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("pg1"), MasterUserPassword: aws.String("New-password-2"), ApplyImmediately: aws.Bool(true)})
	var state *rdstypes.InvalidDBInstanceStateFault
	if !errors.As(err, &state) {
		t.Fatalf("Modify while pending: %v, want InvalidDBInstanceState", err)
	}
	close(release)
	waitNotPending(t, func() *string { return describe().PendingModifiedValues.MasterUserPassword })
	if s := aws.ToString(describe().DBInstanceStatus); s != "available" {
		t.Fatalf("after: status %q", s)
	}
	if n := srv.Stats()["ModifyDBInstance"]; n != 2 {
		t.Fatalf("ModifyDBInstance counted %d times, want 2", n)
	}
}

// TestRDSModifyRefusals: each refusal RDS answers, with its SDK error type
// or code, and no change reaches the database.
func TestRDSModifyRefusals(t *testing.T) {
	t.Parallel()
	srv, cfg := awslocaltest.New(t)
	client := rds.NewFromConfig(cfg)
	calls := make(chan applied, 8)
	release := make(chan struct{})
	close(release)
	hook := awslocal.MasterPasswordOptions{Apply: gatedApply(calls, release)}
	srv.AddDBInstance(awslocal.DBInstance{Identifier: "pg1", Engine: "postgres", Address: "h", Port: 5432, MasterUsername: "m", MasterPassword: hook})
	srv.AddDBInstance(awslocal.DBInstance{Identifier: "my1", Engine: "mysql", Address: "h", Port: 3306, MasterUsername: "m", MasterPassword: hook})
	srv.AddDBInstance(awslocal.DBInstance{Identifier: "managed", Engine: "postgres", Address: "h", Port: 5432, MasterUsername: "m", MasterUserSecretARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-1-abcdef", MasterPassword: hook})
	srv.AddDBInstance(awslocal.DBInstance{Identifier: "member", Engine: "aurora-postgresql", Address: "h", Port: 5432, DBClusterIdentifier: "cl1", MasterPassword: hook})
	srv.AddDBCluster(awslocal.DBCluster{Identifier: "cl1", Engine: "aurora-postgresql", Endpoint: "h", Port: 5432, MasterUsername: "m", MasterPassword: hook})

	inst := func(id, pw string) error {
		_, err := client.ModifyDBInstance(context.Background(), &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String(id), MasterUserPassword: aws.String(pw), ApplyImmediately: aws.Bool(true)})
		return err
	}
	cluster := func(id, pw string) error {
		_, err := client.ModifyDBCluster(context.Background(), &rds.ModifyDBClusterInput{DBClusterIdentifier: aws.String(id), MasterUserPassword: aws.String(pw), ApplyImmediately: aws.Bool(true)})
		return err
	}
	cases := map[string]struct {
		call func() error
		code string
	}{
		"unknown instance":        {func() error { return inst("nope", "Valid-password-1") }, "DBInstanceNotFound"},
		"unknown cluster":         {func() error { return cluster("nope", "Valid-password-1") }, "DBClusterNotFoundFault"},
		"slash in password":       {func() error { return inst("pg1", "Valid/password-1") }, "InvalidParameterValue"},
		"at sign in password":     {func() error { return inst("pg1", "Valid@password-1") }, "InvalidParameterValue"},
		"quote in password":       {func() error { return inst("pg1", `Valid"password-1`) }, "InvalidParameterValue"},
		"space in password":       {func() error { return inst("pg1", "Valid password-1") }, "InvalidParameterValue"},
		"too short":               {func() error { return inst("pg1", "Short-1") }, "InvalidParameterValue"},
		"too long for mysql":      {func() error { return inst("my1", strings.Repeat("a", 42)) }, "InvalidParameterValue"},
		"managed by RDS":          {func() error { return inst("managed", "Valid-password-1") }, "InvalidParameterCombination"},
		"cluster member instance": {func() error { return inst("member", "Valid-password-1") }, "InvalidParameterCombination"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var ae smithy.APIError
			if err := tc.call(); !errors.As(err, &ae) || ae.ErrorCode() != tc.code {
				t.Fatalf("got %v, want %s", err, tc.code)
			}
		})
	}
	if len(calls) != 0 {
		t.Fatalf("%d refused changes reached the database", len(calls))
	}
	if err := inst("my1", strings.Repeat("a", 41)); err != nil {
		t.Fatalf("41 characters on mysql: %v", err)
	}
	if err := cluster("cl1", "Valid-password-1"); err != nil {
		t.Fatalf("ModifyDBCluster: %v", err)
	}
	for range 2 {
		if c := <-calls; c.user != "m" {
			t.Fatalf("hook got user %q", c.user)
		}
	}
}

// TestRDSModifyWithAWSCLI: the AWS CLI, an independent client of the
// awsQuery protocol, modifies a cluster's master password and sees it
// pending.
func TestRDSModifyWithAWSCLI(t *testing.T) {
	t.Parallel()
	awsBin, err := exec.LookPath("aws")
	if err != nil {
		t.Fatal("aws CLI not found; install awscli: apt-get install -y awscli")
	}
	srv, cfg := awslocaltest.New(t)
	calls := make(chan applied, 1)
	release := make(chan struct{})
	defer close(release)
	srv.AddDBCluster(awslocal.DBCluster{Identifier: "cl1", Engine: "aurora-mysql", Endpoint: "h", Port: 3306, MasterUsername: "admin",
		MasterPassword: awslocal.MasterPasswordOptions{Apply: gatedApply(calls, release)}})
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(awsBin, append(args, "--endpoint-url", srv.URL(), "--region", cfg.Region, "--output", "text")...)
		cmd.Env = append(cmd.Environ(), "AWS_ACCESS_KEY_ID=AKIDAWSLOCAL", "AWS_SECRET_ACCESS_KEY=awslocal-secret-key", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws %v: %v\n%s", args[:2], err, out)
		}
		return strings.TrimSpace(string(out))
	}
	got := run("rds", "modify-db-cluster", "--db-cluster-identifier", "cl1", "--master-user-password", "Cli-password-1", "--apply-immediately",
		"--query", "DBCluster.[Status,PendingModifiedValues.MasterUserPassword]")
	if got != "resetting-master-credentials\t****" {
		t.Fatalf("modify-db-cluster answered %q", got)
	}
	if c := <-calls; c != (applied{"admin", "Cli-password-1"}) {
		t.Fatalf("hook got %+v", c)
	}
}

// TestRDSDescribePagesAsRDSDoes walks DescribeDBInstances and
// DescribeDBClusters with the SDK's paginators at RDS's smallest page
// (MaxRecords 20): every resource once, in order; a MaxRecords outside
// 20..100 and a marker that names nothing are refused as RDS refuses them.
func TestRDSDescribePagesAsRDSDoes(t *testing.T) {
	t.Parallel()
	srv, cfg := awslocaltest.New(t)
	for i := range 45 {
		srv.AddDBInstance(awslocal.DBInstance{Identifier: fmt.Sprintf("db%02d", i), Engine: "postgres", Address: "db.example", Port: 5432})
		srv.AddDBCluster(awslocal.DBCluster{Identifier: fmt.Sprintf("c%02d", i), Engine: "aurora-mysql", Endpoint: "c.example", Port: 3306})
	}
	client := rds.NewFromConfig(cfg)
	ctx := context.Background()
	var ids []string
	pages := 0
	ip := rds.NewDescribeDBInstancesPaginator(client, &rds.DescribeDBInstancesInput{MaxRecords: aws.Int32(20)})
	for ip.HasMorePages() {
		out, err := ip.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, i := range out.DBInstances {
			ids = append(ids, aws.ToString(i.DBInstanceIdentifier))
		}
	}
	if pages != 3 || len(ids) != 45 || ids[0] != "db00" || ids[44] != "db44" {
		t.Fatalf("instances: %d pages, %d ids (%v)", pages, len(ids), ids)
	}
	clusters := 0
	cp := rds.NewDescribeDBClustersPaginator(client, &rds.DescribeDBClustersInput{MaxRecords: aws.Int32(20)})
	for cp.HasMorePages() {
		out, err := cp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		clusters += len(out.DBClusters)
	}
	if clusters != 45 {
		t.Fatalf("clusters: %d, want 45", clusters)
	}
	var api smithy.APIError
	if _, err := client.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{MaxRecords: aws.Int32(19)}); !errors.As(err, &api) || api.ErrorCode() != "InvalidParameterValue" {
		t.Fatalf("MaxRecords 19: %v", err)
	}
	if _, err := client.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{Marker: aws.String("not-a-marker")}); !errors.As(err, &api) || api.ErrorCode() != "InvalidParameterValue" {
		t.Fatalf("a bad marker: %v", err)
	}
}

// TestRDSFaultsSpeakTheQueryProtocol: a throttling fault on an RDS action
// reaches the SDK as RDS's Throttling, which it retries; a denial as
// AccessDenied, which it does not.
func TestRDSFaultsSpeakTheQueryProtocol(t *testing.T) {
	t.Parallel()
	srv, cfg := awslocaltest.New(t)
	srv.AddDBInstance(awslocal.DBInstance{Identifier: "db1", Engine: "postgres", Address: "db.example", Port: 5432})
	client := rds.NewFromConfig(cfg)
	ctx := context.Background()
	if _, err := srv.AddFault(awslocal.Fault{Operation: "DescribeDBInstances", Answer: awslocal.FaultThrottle, Count: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("db1")}); err != nil {
		t.Fatalf("after one throttle the SDK's retry should succeed: %v", err)
	}
	if n := srv.Stats()["DescribeDBInstances"]; n != 2 {
		t.Fatalf("calls: %d, want 2 (throttled, retried)", n)
	}
	if _, err := srv.AddFault(awslocal.Fault{Operation: "ModifyDBInstance", Answer: awslocal.FaultDeny, Count: 1}); err != nil {
		t.Fatal(err)
	}
	_, err := client.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("db1"), MasterUserPassword: aws.String("Fault-Test-Pass-1"), ApplyImmediately: aws.Bool(true)})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "AccessDenied" || !strings.Contains(api.ErrorMessage(), "rds:ModifyDBInstance") || srv.Stats()["ModifyDBInstance"] != 1 {
		t.Fatalf("denied modify: %v (%d calls)", err, srv.Stats()["ModifyDBInstance"])
	}
	if _, err := srv.AddFault(awslocal.Fault{Operation: "NoSuchAction", Answer: awslocal.FaultThrottle}); err == nil {
		t.Fatal("a fault on an unknown operation was accepted")
	}
}

// TestRDSServerFaultIsTheReceivers: an injected server error answers with
// the Query protocol's <Type>Receiver</Type>, as RDS does for its own
// failures (a refusal of the caller's request is Sender's).
func TestRDSServerFaultIsTheReceivers(t *testing.T) {
	t.Parallel()
	srv, cfg := awslocaltest.New(t)
	srv.AddDBInstance(awslocal.DBInstance{Identifier: "db1", Engine: "postgres", Address: "db.example", Port: 5432})
	cfg.RetryMaxAttempts = 1
	c := rdsapi.New(cfg)
	if _, err := srv.AddFault(awslocal.Fault{Operation: "DescribeDBInstances", Answer: awslocal.FaultError, Status: 500, Count: 1}); err != nil {
		t.Fatal(err)
	}
	var api smithy.APIError
	if _, err := c.DescribeDBInstance(context.Background(), "db1"); !errors.As(err, &api) || api.ErrorCode() != "InternalFailure" || api.ErrorFault() != smithy.FaultServer {
		t.Errorf("server fault: %v (fault %v)", err, api)
	}
	if _, err := c.DescribeDBInstance(context.Background(), "nosuch"); !errors.As(err, &api) || api.ErrorCode() != "DBInstanceNotFound" || api.ErrorFault() != smithy.FaultClient {
		t.Errorf("not found: %v", err)
	}
}

// TestSNSThrottlingIsSNSs: a throttling fault on Publish answers SNS's own
// error, Throttled with HTTP 429, not RDS's Throttling.
func TestSNSThrottlingIsSNSs(t *testing.T) {
	t.Parallel()
	srv, _ := awslocaltest.New(t)
	topic := srv.CreateTopic("alerts")
	if _, err := srv.AddFault(awslocal.Fault{Operation: "Publish", Answer: awslocal.FaultThrottle, Count: 1}); err != nil {
		t.Fatal(err)
	}
	resp, err := http.PostForm(srv.URL(), url.Values{"Action": {"Publish"}, "TopicArn": {topic}, "Message": {"m"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(string(body), "<Code>Throttled</Code>") {
		t.Fatalf("throttled Publish: HTTP %d %s", resp.StatusCode, body)
	}
}
