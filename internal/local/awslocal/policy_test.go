package awslocal_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/rotorhq/rotor/internal/local/awslocal"
)

const (
	privatePolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/app"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`
	publicPolicy  = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}}`
)

// Row "resource policies": Put, Get, Delete and Validate through the SDK.
func TestResourcePolicies(t *testing.T) {
	t.Parallel()
	_, sm := setup(t)
	ctx := ctxT(t)
	out := create(t, sm, "policy/app", "v1")
	get := func() string {
		t.Helper()
		g, err := sm.GetResourcePolicy(ctx, &secretsmanager.GetResourcePolicyInput{SecretId: aws.String("policy/app")})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(g.ARN) != aws.ToString(out.ARN) || aws.ToString(g.Name) != "policy/app" {
			t.Fatalf("GetResourcePolicy names %s %s", aws.ToString(g.ARN), aws.ToString(g.Name))
		}
		return aws.ToString(g.ResourcePolicy)
	}
	if p := get(); p != "" {
		t.Fatalf("policy before any = %q", p)
	}
	p, err := sm.PutResourcePolicy(ctx, &secretsmanager.PutResourcePolicyInput{SecretId: out.ARN, ResourcePolicy: aws.String(privatePolicy), BlockPublicPolicy: aws.Bool(true)})
	if err != nil || aws.ToString(p.ARN) != aws.ToString(out.ARN) {
		t.Fatalf("PutResourcePolicy: %+v %v", p, err)
	}
	if got := get(); got != privatePolicy {
		t.Fatalf("GetResourcePolicy = %s, want the document as put", got)
	}
	// A public policy is refused when blocked, the stored one unchanged;
	// accepted when not.
	_, err = sm.PutResourcePolicy(ctx, &secretsmanager.PutResourcePolicyInput{SecretId: out.ARN, ResourcePolicy: aws.String(publicPolicy), BlockPublicPolicy: aws.Bool(true)})
	wantAPIError(t, err, "PublicPolicyException", "")
	if got := get(); got != privatePolicy {
		t.Fatal("a refused policy replaced the stored one")
	}
	_, err = sm.PutResourcePolicy(ctx, &secretsmanager.PutResourcePolicyInput{SecretId: out.ARN, ResourcePolicy: aws.String(`{"Version":`)})
	wantAPIError(t, err, "MalformedPolicyDocumentException", "")
	if _, err := sm.PutResourcePolicy(ctx, &secretsmanager.PutResourcePolicyInput{SecretId: out.ARN, ResourcePolicy: aws.String(publicPolicy)}); err != nil {
		t.Fatalf("public policy without BlockPublicPolicy: %v", err)
	}
	// Validate stores nothing.
	v, err := sm.ValidateResourcePolicy(ctx, &secretsmanager.ValidateResourcePolicyInput{SecretId: aws.String("policy/app"), ResourcePolicy: aws.String(`[]`)})
	if err != nil || v.PolicyValidationPassed || len(v.ValidationErrors) != 1 {
		t.Fatalf("ValidateResourcePolicy of a non-policy: %+v %v", v, err)
	}
	v, err = sm.ValidateResourcePolicy(ctx, &secretsmanager.ValidateResourcePolicyInput{ResourcePolicy: aws.String(privatePolicy)})
	if err != nil || !v.PolicyValidationPassed || len(v.ValidationErrors) != 0 {
		t.Fatalf("ValidateResourcePolicy of a policy: %+v %v", v, err)
	}
	if got := get(); got != publicPolicy {
		t.Fatal("ValidateResourcePolicy changed the stored policy")
	}
	// Delete, twice.
	for range 2 {
		if _, err := sm.DeleteResourcePolicy(ctx, &secretsmanager.DeleteResourcePolicyInput{SecretId: aws.String("policy/app")}); err != nil {
			t.Fatalf("DeleteResourcePolicy: %v", err)
		}
	}
	if got := get(); got != "" {
		t.Fatalf("policy after delete = %q", got)
	}
	_, err = sm.GetResourcePolicy(ctx, &secretsmanager.GetResourcePolicyInput{SecretId: aws.String("policy/none")})
	wantAPIError(t, err, "ResourceNotFoundException", "")
}

// boto3Script drives the stand-in with boto3, an independent client of the
// protocol, over several rows of the fidelity table; it prints one JSON
// object of outcomes.
const boto3Script = `
import json, os, boto3, botocore.config, botocore.exceptions
sm = boto3.client("secretsmanager", endpoint_url=os.environ["ENDPOINT"], region_name="us-east-1",
    aws_access_key_id="AKIDBOTO", aws_secret_access_key="boto-secret",
    config=botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"}))
out = {}
def code(f):
    try:
        f()
        return "ok"
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"]
sm.create_secret(Name="boto/app", SecretString="v1", Description="Billing DATABASE")
sm.put_resource_policy(SecretId="boto/app", ResourcePolicy=os.environ["POLICY"], BlockPublicPolicy=True)
out["policy"] = sm.get_resource_policy(SecretId="boto/app")["ResourcePolicy"]
out["validate"] = sm.validate_resource_policy(ResourcePolicy="{}")["PolicyValidationPassed"]
sm.delete_resource_policy(SecretId="boto/app")
out["after_delete"] = "ResourcePolicy" in sm.get_resource_policy(SecretId="boto/app")
out["reserved_tag"] = code(lambda: sm.tag_resource(SecretId="boto/app", Tags=[{"Key": "aws:x", "Value": "v"}]))
out["description_filter"] = [s["Name"] for s in sm.list_secrets(Filters=[{"Key": "description", "Values": ["billing data"]}])["SecretList"]]
out["bad_filter"] = code(lambda: sm.list_secrets(Filters=[{"Key": "name", "Values": ["a*"]}]))
out["throttled"] = code(lambda: sm.describe_secret(SecretId="boto/throttled"))
print(json.dumps(out))
`

// Rows "resource policies", "tag quotas", "ListSecrets filters" and
// "faults on demand", checked with boto3.
func TestBoto3Fidelity(t *testing.T) {
	t.Parallel()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal("python3 not found; install python3 and boto3 (pip install boto3)")
	}
	srv, _ := setup(t)
	if _, err := srv.AddFault(awslocal.Fault{Operation: "DescribeSecret", SecretID: "boto/throttled", Answer: awslocal.FaultThrottle}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cmd := exec.CommandContext(ctxT(t), py, "-c", boto3Script)
	cmd.Env = append(os.Environ(), "ENDPOINT="+srv.URL(), "POLICY="+privatePolicy,
		"AWS_CONFIG_FILE="+filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "none"))
	b, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		if strings.Contains(stderr, "No module named 'boto3'") {
			t.Fatal("boto3 is not installed: pip install boto3")
		}
		t.Fatalf("boto3 script: %v\n%s", err, stderr)
	}
	var got struct {
		Policy            string   `json:"policy"`
		Validate          bool     `json:"validate"`
		AfterDelete       bool     `json:"after_delete"`
		ReservedTag       string   `json:"reserved_tag"`
		DescriptionFilter []string `json:"description_filter"`
		BadFilter         string   `json:"bad_filter"`
		Throttled         string   `json:"throttled"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("boto3 script printed %q: %v", b, err)
	}
	if got.Policy != privatePolicy || got.Validate || got.AfterDelete || got.ReservedTag != "InvalidParameterException" ||
		strings.Join(got.DescriptionFilter, ",") != "boto/app" || got.BadFilter != "ValidationException" || got.Throttled != "ThrottlingException" {
		t.Fatalf("boto3 outcomes = %+v", got)
	}
}
