package awslocal_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/local/awslocal"
)

// TestRecordedErrors checks each recorded error over the SDK, from a baseline
// of secret "e" with version 1 AWSCURRENT, version 2 the value-less
// AWSPENDING placeholder, and secret "gone" scheduled for deletion.
func TestRecordedErrors(t *testing.T) {
	t.Parallel()
	const notFound = "Secrets Manager can't find the specified secret."
	const deleted = "You can't perform this operation on the secret because it was marked for deletion."
	type op func(ctx context.Context, sm *secretsmanager.Client) error
	get := func(id, ver, stage string) op {
		return func(ctx context.Context, sm *secretsmanager.Client) error {
			in := &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)}
			if ver != "" {
				in.VersionId = aws.String(ver)
			}
			if stage != "" {
				in.VersionStage = aws.String(stage)
			}
			_, err := sm.GetSecretValue(ctx, in)
			return err
		}
	}
	for name, tc := range map[string]struct {
		op            op
		code, message string
	}{
		"describe unknown": {func(ctx context.Context, sm *secretsmanager.Client) error {
			_, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("nope")})
			return err
		}, "ResourceNotFoundException", notFound},
		"get unknown secret":       {get("nope", "", ""), "ResourceNotFoundException", notFound},
		"get unknown version":      {get("e", token(77), ""), "ResourceNotFoundException", "Secrets Manager can't find the specified secret value for VersionId: " + token(77)},
		"get unknown stage":        {get("e", "", "nostage"), "ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: nostage"},
		"get stage not on version": {get("e", token(1), "AWSPENDING"), "InvalidRequestException", "You provided a VersionStage that is not associated to the provided VersionId."},
		"get placeholder by stage": {get("e", "", "AWSPENDING"), "ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: AWSPENDING"},
		"get placeholder by id":    {get("e", token(2), ""), "ResourceNotFoundException", "Secrets Manager can't find the specified secret value for VersionId: " + token(2)},
		"get placeholder by both":  {get("e", token(2), "AWSPENDING"), "ResourceNotFoundException", ""},
		"get no AWSCURRENT":        {get("empty", "", ""), "ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT"},
		"get deleted":              {get("gone", "", ""), "InvalidRequestException", deleted},
		"put deleted": {func(ctx context.Context, sm *secretsmanager.Client) error {
			_, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("gone"), SecretString: aws.String("x")})
			return err
		}, "InvalidRequestException", deleted},
		"update deleted": {func(ctx context.Context, sm *secretsmanager.Client) error {
			_, err := sm.UpdateSecret(ctx, &secretsmanager.UpdateSecretInput{SecretId: aws.String("gone"), Description: aws.String("x")})
			return err
		}, "InvalidRequestException", deleted},
		"tag deleted": {func(ctx context.Context, sm *secretsmanager.Client) error {
			_, err := sm.TagResource(ctx, &secretsmanager.TagResourceInput{SecretId: aws.String("gone"), Tags: []smtypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
			return err
		}, "InvalidRequestException", deleted},
		"untag deleted": {func(ctx context.Context, sm *secretsmanager.Client) error {
			_, err := sm.UntagResource(ctx, &secretsmanager.UntagResourceInput{SecretId: aws.String("gone"), TagKeys: []string{"k"}})
			return err
		}, "InvalidRequestException", deleted},
		"rotate deleted": {func(ctx context.Context, sm *secretsmanager.Client) error {
			_, err := sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String("gone"), RotationLambdaARN: aws.String(fnARN)})
			return err
		}, "InvalidRequestException", deleted},
		"create duplicate name": {func(ctx context.Context, sm *secretsmanager.Client) error {
			_, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("e"), SecretString: aws.String("v1")})
			return err
		}, "ResourceExistsException", ""},
		"create same token other value": {func(ctx context.Context, sm *secretsmanager.Client) error {
			_, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("e"), SecretString: aws.String("other"), ClientRequestToken: aws.String(token(1))})
			return err
		}, "ResourceExistsException", ""},
		"create name scheduled for deletion": {func(ctx context.Context, sm *secretsmanager.Client) error {
			_, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("gone"), SecretString: aws.String("v")})
			return err
		}, "InvalidRequestException", ""},
		"create bad name": {func(ctx context.Context, sm *secretsmanager.Client) error {
			_, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("bad name!"), SecretString: aws.String("v")})
			return err
		}, "ValidationException", ""},
		"put same token other value": {func(ctx context.Context, sm *secretsmanager.Client) error {
			_, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("e"), ClientRequestToken: aws.String(token(1)), SecretString: aws.String("other")})
			return err
		}, "ResourceExistsException", ""},
		"put short token": {func(ctx context.Context, sm *secretsmanager.Client) error {
			_, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("e"), ClientRequestToken: aws.String("short"), SecretString: aws.String("x")})
			return err
		}, "ValidationException", ""},
		"put both value kinds": {func(ctx context.Context, sm *secretsmanager.Client) error {
			_, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("e"), SecretString: aws.String("x"), SecretBinary: []byte("y")})
			return err
		}, "InvalidParameterException", ""},
		"delete with both window and force": {func(ctx context.Context, sm *secretsmanager.Client) error {
			_, err := sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("e"), RecoveryWindowInDays: aws.Int64(7), ForceDeleteWithoutRecovery: aws.Bool(true)})
			return err
		}, "InvalidParameterException", ""},
		"delete window too short": {func(ctx context.Context, sm *secretsmanager.Client) error {
			_, err := sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("e"), RecoveryWindowInDays: aws.Int64(6)})
			return err
		}, "InvalidParameterException", ""},
		"list versions bad MaxResults": {func(ctx context.Context, sm *secretsmanager.Client) error {
			_, err := sm.ListSecretVersionIds(ctx, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String("e"), MaxResults: aws.Int32(101)})
			return err
		}, "ValidationException", ""},
		"rotation in progress": {func(ctx context.Context, sm *secretsmanager.Client) error {
			_, err := sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String("e"), RotationLambdaARN: aws.String(fnARN)})
			return err
		}, "InvalidRequestException", "A previous rotation isn't complete. That rotation will be reattempted."},
		"random password too short": {func(ctx context.Context, sm *secretsmanager.Client) error {
			_, err := sm.GetRandomPassword(ctx, &secretsmanager.GetRandomPasswordInput{PasswordLength: aws.Int64(2)})
			return err
		}, "InvalidParameterException", ""},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, sm := setup(t)
			block := make(chan struct{})
			t.Cleanup(func() { close(block) })
			// The function never completes createSecret, so the placeholder stays.
			srv.SetFunction(fnARN, rotatorBlocked(block))
			create(t, sm, "e", "v1")
			if _, err := sm.RotateSecret(ctxT(t), &secretsmanager.RotateSecretInput{SecretId: aws.String("e"), RotationLambdaARN: aws.String(fnARN), ClientRequestToken: aws.String(token(2))}); err != nil {
				t.Fatal(err)
			}
			if _, err := sm.CreateSecret(ctxT(t), &secretsmanager.CreateSecretInput{Name: aws.String("empty")}); err != nil {
				t.Fatal(err)
			}
			create(t, sm, "gone", "v")
			if _, err := sm.DeleteSecret(ctxT(t), &secretsmanager.DeleteSecretInput{SecretId: aws.String("gone")}); err != nil {
				t.Fatal(err)
			}
			wantAPIError(t, tc.op(ctxT(t), sm), tc.code, tc.message)
		})
	}
}

// rotatorBlocked is a function that blocks every step until release closes,
// then fails.
func rotatorBlocked(release chan struct{}) awslocal.FuncInvoker {
	return func(ctx context.Context, e events.RotationEvent) error {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return errors.New("released")
	}
}

// TestWireFormat checks the raw HTTP contract: 400 with __type and Message,
// epoch-number timestamps, and the missing-token refusal.
func TestWireFormat(t *testing.T) {
	t.Parallel()
	srv, sm := setup(t)
	create(t, sm, "wire", "v1")
	post := func(op, body string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "secretsmanager."+op)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s answered non-JSON %q", op, b)
		}
		return resp.StatusCode, m
	}
	st, m := post("DescribeSecret", `{"SecretId":"nope"}`)
	if st != 400 || m["__type"] != "ResourceNotFoundException" || m["Message"] != "Secrets Manager can't find the specified secret." {
		t.Fatalf("unknown secret: %d %v", st, m)
	}
	st, m = post("DescribeSecret", `{"SecretId":"wire"}`)
	if _, ok := m["CreatedDate"].(float64); st != 200 || !ok {
		t.Fatalf("CreatedDate is not a JSON number: %d %v", st, m)
	}
	for _, k := range []string{"RotationEnabled", "RotationRules", "RotationLambdaARN", "Tags", "DeletedDate"} {
		if _, ok := m[k]; ok {
			t.Fatalf("DescribeSecret of a fresh secret has %s: %v", k, m)
		}
	}
	// Row "missing ClientRequestToken": the recorded type and text for
	// each of the four operations, with or without a value.
	for name, tc := range map[string]struct{ op, body string }{
		"CreateSecret":             {"CreateSecret", `{"Name":"raw","SecretString":"x"}`},
		"CreateSecret no value":    {"CreateSecret", `{"Name":"raw2"}`},
		"PutSecretValue":           {"PutSecretValue", `{"SecretId":"wire","SecretString":"x"}`},
		"UpdateSecret":             {"UpdateSecret", `{"SecretId":"wire","SecretString":"x"}`},
		"UpdateSecret description": {"UpdateSecret", `{"SecretId":"wire","Description":"d"}`},
		"RotateSecret":             {"RotateSecret", `{"SecretId":"wire","RotationLambdaARN":"` + fnARN + `"}`},
	} {
		if st, m := post(tc.op, tc.body); st != 400 || m["__type"] != "InvalidRequestException" || m["Message"] != "You must provide a ClientRequestToken value. We recommend a UUID-type value." {
			t.Fatalf("%s without ClientRequestToken: %d %v", name, st, m)
		}
	}
	// Tags: absent until tagged, [] after all are removed.
	if _, err := sm.TagResource(ctxT(t), &secretsmanager.TagResourceInput{SecretId: aws.String("wire"), Tags: []smtypes.Tag{{Key: aws.String("team"), Value: aws.String("db")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := sm.UntagResource(ctxT(t), &secretsmanager.UntagResourceInput{SecretId: aws.String("wire"), TagKeys: []string{"team", "absent"}}); err != nil {
		t.Fatal(err)
	}
	if _, m = post("DescribeSecret", `{"SecretId":"wire"}`); m["Tags"] == nil || len(m["Tags"].([]any)) != 0 {
		t.Fatalf("Tags after untagging all = %v, want []", m["Tags"])
	}
	// Stats over HTTP, then reset.
	resp, err := http.Get(srv.URL() + "/_awslocal/stats")
	if err != nil {
		t.Fatal(err)
	}
	var stats map[string]int
	_ = json.NewDecoder(resp.Body).Decode(&stats)
	resp.Body.Close()
	if stats["DescribeSecret"] != 3 || stats["TagResource"] != 1 {
		t.Fatalf("stats = %v", stats)
	}
	if _, err := http.Post(srv.URL()+"/_awslocal/stats/reset", "application/json", bytes.NewReader(nil)); err != nil {
		t.Fatal(err)
	}
	if s := srv.Stats(); len(s) != 0 {
		t.Fatalf("stats after reset = %v", s)
	}
}
