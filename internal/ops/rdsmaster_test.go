package ops_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/local/awslocal"
	"github.com/rotorhq/rotor/internal/local/dbtest"
	"github.com/rotorhq/rotor/internal/ops"
	"github.com/rotorhq/rotor/internal/ops/opstest"
	"github.com/rotorhq/rotor/internal/rdsapi"
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

// TestPreflightRDSMaster: for an rds-master secret, rotor check finds the
// instance as setSecret would and says whether its master is the secret's
// user, changing nothing.
func TestPreflightRDSMaster(t *testing.T) {
	t.Parallel()
	e := opstest.New(t)
	user := e.Role("master", "master-password-1")
	good, other := dbtest.UniqueName("db"), dbtest.UniqueName("db")
	e.Srv.AddDBInstance(awslocal.DBInstance{Identifier: good, Engine: "postgres", Address: e.PG.Host, Port: e.PG.Port, MasterUsername: user})
	e.Srv.AddDBInstance(awslocal.DBInstance{Identifier: other, Engine: "postgres", Address: "other.invalid", Port: 5432, MasterUsername: "someone"})
	opts := ops.CheckOptions{DB: e.DBOptions}
	opts.DB.RDS = rdsapi.New(e.Cfg)
	tag := map[string]string{rotation.TagStrategy: strategies.NameRDSMaster}
	for id, want := range map[string]ops.CheckStatus{good: ops.CheckPass, other: ops.CheckFail} {
		doc := e.Doc(user, "master-password-1")
		doc[events.KeyDBInstanceIdentifier] = id
		got := checks(t, e, opts, e.Secret(doc, tag))
		wantChecks(t, got, map[string]ops.CheckStatus{ops.CheckCurrentLogin: ops.CheckPass, ops.CheckRDSMaster: want})
		if want == ops.CheckPass && !strings.Contains(got[ops.CheckRDSMaster].Detail, "DB instance "+good) {
			t.Errorf("detail %q does not name the instance", got[ops.CheckRDSMaster].Detail)
		}
	}
	if n := e.Srv.Stats()["ModifyDBInstance"]; n != 0 {
		t.Fatalf("check asked RDS for %d changes", n)
	}
}
