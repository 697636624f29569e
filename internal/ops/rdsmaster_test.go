package ops_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/rotorhq/rotor/internal/local/awslocal"
	"github.com/rotorhq/rotor/internal/ops"
	"github.com/rotorhq/rotor/internal/ops/opstest"
	"github.com/rotorhq/rotor/rotation"
	"github.com/rotorhq/rotor/strategies"
)

// TestPreflightRDSOwnedSecret: rotor check recognises the secret RDS keeps
// for a master password it manages, says RDS rotates it, and checks
// nothing else; with a rotation function attached it fails.
func TestPreflightRDSOwnedSecret(t *testing.T) {
	t.Parallel()
	e := opstest.New(t)
	db := e.Srv.AddDBInstance(awslocal.DBInstance{Identifier: "owned", Engine: "postgres", Address: "db.invalid", Port: 5432, MasterUsername: "postgres"})
	arn, err := e.Srv.AddRDSManagedSecret(db, "postgres", "rds-owned-password-1")
	if err != nil {
		t.Fatal(err)
	}
	got := checks(t, e, ops.CheckOptions{}, arn)
	wantChecks(t, got, map[string]ops.CheckStatus{ops.CheckOwner: ops.CheckInfo})
	if d := got[ops.CheckOwner].Detail; !strings.Contains(d, "RDS rotates") || !strings.Contains(d, "attach no rotator") {
		t.Fatalf("owner detail %q", d)
	}
	if _, ok := got[ops.CheckConnection]; ok || len(got) != 1 {
		t.Fatalf("checks beyond the owner ran: %v", got)
	}

	e.EnableRotation(arn)
	wantChecks(t, checks(t, e, ops.CheckOptions{}, arn), map[string]ops.CheckStatus{ops.CheckOwner: ops.CheckFail})
}

// TestRollbackRefusesRDSMaster: rollback does not move AWSCURRENT back on
// an rds-master secret, whose password only RDS can restore.
func TestRollbackRefusesRDSMaster(t *testing.T) {
	t.Parallel()
	e := opstest.New(t)
	arn, _ := singleUser(t, e)
	e.Rotate(arn)
	if _, err := e.SM.TagResource(context.Background(), &secretsmanager.TagResourceInput{SecretId: aws.String(arn),
		Tags: []types.Tag{{Key: aws.String(rotation.TagStrategy), Value: aws.String(strategies.NameRDSMaster)}}}); err != nil {
		t.Fatal(err)
	}
	before := e.Stages(arn)
	_, err := ops.Rollback(context.Background(), ops.RollbackOptions{Secrets: e.SM, DB: e.DBOptions}, arn)
	if !isRefused(err) || !strings.Contains(err.Error(), "rds-master") {
		t.Fatalf("rollback: %v, want a refusal naming rds-master", err)
	}
	if after := e.Stages(arn); len(after) != len(before) {
		t.Fatalf("labels changed: %v -> %v", before, after)
	}
}
