// Package clienttest drives a secret through a single-user rotation by
// hand, for the tests of package client and its driver adapters: a secret
// in the local Secrets Manager, a pending version, and the move of
// AWSCURRENT that finishSecret makes.
package clienttest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/rotorhq/rotor/internal/local/awslocal"
	"github.com/rotorhq/rotor/internal/local/awslocal/awslocaltest"
)

// Secret is one secret in a stand-in started for the test.
type Secret struct {
	Server *awslocal.Server
	SM     *secretsmanager.Client
	ID     string // ARN
	doc    map[string]any
}

// New creates a secret holding doc (a secret document) in a new stand-in.
func New(t testing.TB, doc map[string]any) *Secret {
	t.Helper()
	srv, cfg := awslocaltest.New(t)
	s := &Secret{Server: srv, SM: secretsmanager.NewFromConfig(cfg), doc: doc}
	out, err := s.SM.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String("app/db"), SecretString: aws.String(s.encode("", ""))})
	if err != nil {
		t.Fatalf("clienttest: %v", err)
	}
	s.ID = aws.ToString(out.ARN)
	return s
}

func (s *Secret) encode(user, password string) string {
	m := map[string]any{}
	for k, v := range s.doc {
		m[k] = v
	}
	if user != "" {
		m["username"] = user
	}
	if password != "" {
		m["password"] = password
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// PutPending stores the document with password as a new AWSPENDING
// version, as createSecret does, and returns its id.
func (s *Secret) PutPending(t testing.TB, password string) string {
	t.Helper()
	out, err := s.SM.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{SecretId: aws.String(s.ID), SecretString: aws.String(s.encode("", password)), VersionStages: []string{"AWSPENDING"}})
	if err != nil {
		t.Fatalf("clienttest: put pending: %v", err)
	}
	return aws.ToString(out.VersionId)
}

// Finish moves AWSCURRENT to the AWSPENDING version and removes
// AWSPENDING, as finishSecret does.
func (s *Secret) Finish(t testing.TB) {
	t.Helper()
	Finish(t, s.SM, s.Server, s.ID)
}

// Finish does what finishSecret does to secret id on srv: AWSCURRENT moves
// to the AWSPENDING version, which loses AWSPENDING.
func Finish(t testing.TB, sm *secretsmanager.Client, srv *awslocal.Server, id string) {
	t.Helper()
	var pending, current string
	for _, v := range srv.Versions(id) {
		for _, st := range v.Stages {
			switch st {
			case "AWSPENDING":
				pending = v.VersionID
			case "AWSCURRENT":
				current = v.VersionID
			}
		}
	}
	ctx := context.Background()
	if _, err := sm.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String(id), VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: aws.String(pending), RemoveFromVersionId: aws.String(current)}); err != nil {
		t.Fatalf("clienttest: move AWSCURRENT: %v", err)
	}
	if _, err := sm.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String(id), VersionStage: aws.String("AWSPENDING"), RemoveFromVersionId: aws.String(pending)}); err != nil {
		t.Fatalf("clienttest: remove AWSPENDING: %v", err)
	}
}

// Calls returns the GetSecretValue and DescribeSecret calls since the last
// Calls, and resets the counters.
func (s *Secret) Calls() (get, describe int) {
	st := s.Server.Stats()
	s.Server.ResetStats()
	return st["GetSecretValue"], st["DescribeSecret"]
}
