package awslocal_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rotorhq/rotor/internal/local/awslocal"
)

// FuzzRequestDecoder sends the stand-in awsJson1.1 requests with a fuzzed
// X-Amz-Target and body, through its HTTP handler. The seeds are the
// shapes the SDK sends for each operation rotor uses. Properties:
//
//   - nothing panics, and no request is answered with a 5xx (no fault is
//     installed: a bad request is the client's error, a 4xx);
//   - every refusal is the AWS error shape: HTTP 400, the
//     application/x-amz-json-1.1 content type, a JSON body with a
//     non-empty "__type" equal to the X-Amzn-ErrorType header and a
//     "Message" (or, for a request without X-Amz-Target, which the
//     stand-in reads as the Query protocol RDS uses, an XML
//     ErrorResponse with a Code);
//   - a refusal never echoes the request's SecretString;
//   - an answer is a JSON object.
func FuzzRequestDecoder(f *testing.F) {
	seeds := []struct{ target, body string }{
		{"secretsmanager.CreateSecret", `{"Name":"app/db","SecretString":"{\"username\":\"app\",\"password\":\"s3cret-value-1\"}","ClientRequestToken":"00000000-0000-4000-8000-000000000001","Tags":[{"Key":"team","Value":"payments"}]}`},
		{"secretsmanager.CreateSecret", `{"Name":"bin","SecretBinary":"AAEC"}`},
		{"secretsmanager.DescribeSecret", `{"SecretId":"app/db"}`},
		{"secretsmanager.GetSecretValue", `{"SecretId":"app/db","VersionStage":"AWSCURRENT"}`},
		{"secretsmanager.GetSecretValue", `{"SecretId":"app/db","VersionId":"00000000-0000-4000-8000-000000000001","VersionStage":"AWSPENDING"}`},
		{"secretsmanager.PutSecretValue", `{"SecretId":"app/db","ClientRequestToken":"00000000-0000-4000-8000-000000000002","SecretString":"{\"password\":\"s3cret-value-2\"}","VersionStages":["AWSPENDING"]}`},
		{"secretsmanager.UpdateSecretVersionStage", `{"SecretId":"app/db","VersionStage":"AWSCURRENT","MoveToVersionId":"00000000-0000-4000-8000-000000000002","RemoveFromVersionId":"00000000-0000-4000-8000-000000000001"}`},
		{"secretsmanager.TagResource", `{"SecretId":"app/db","Tags":[{"Key":"rotor:last-rotation","Value":"failed"}]}`},
		{"secretsmanager.UntagResource", `{"SecretId":"app/db","TagKeys":["team"]}`},
		{"secretsmanager.ListSecrets", `{"Filters":[{"Key":"tag-key","Values":["rotor:base-user"]}],"MaxResults":10}`},
		{"secretsmanager.ListSecretVersionIds", `{"SecretId":"app/db","IncludeDeprecated":true}`},
		{"secretsmanager.BatchGetSecretValue", `{"SecretIdList":["app/db","bin"]}`},
		{"secretsmanager.RotateSecret", `{"SecretId":"app/db","RotationLambdaARN":"arn:aws:lambda:us-east-1:123456789012:function:none","RotationRules":{"AutomaticallyAfterDays":30}}`},
		{"secretsmanager.GetRandomPassword", `{"PasswordLength":32,"ExcludeCharacters":"/@\"'\\"}`},
		{"secretsmanager.PutResourcePolicy", `{"SecretId":"app/db","ResourcePolicy":"{\"Statement\":[]}","BlockPublicPolicy":true}`},
		{"secretsmanager.UpdateSecret", `{"SecretId":"app/db","Description":"d","SecretString":"s3cret-value-3"}`},
		{"secretsmanager.DeleteSecret", `{"SecretId":"bin","RecoveryWindowInDays":7}`},
		{"secretsmanager.RestoreSecret", `{"SecretId":"bin"}`},
		{"secretsmanager.CancelRotateSecret", `{"SecretId":"app/db"}`},
		{"secretsmanager.GetSecretValue", `{"SecretId":`},
		{"secretsmanager.GetSecretValue", `{"SecretId":7}`},
		{"secretsmanager.CreateSecret", `{"Name":"x","SecretString":"s3cret-value-4","SecretBinary":"AA=="}`},
		{"secretsmanager.Nope", `{}`},
		{"kms.Decrypt", `{}`},
		{"", `Action=DescribeDBInstances&Version=2014-10-31`},
	}
	for _, s := range seeds {
		f.Add(s.target, []byte(s.body))
	}
	srv, err := awslocal.New(awslocal.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { srv.Close() })
	f.Fuzz(func(t *testing.T, target string, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		if target != "" {
			req.Header.Set("X-Amz-Target", target)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		res := rec.Result()
		if res.StatusCode >= 500 {
			t.Fatalf("%s: HTTP %d for a client's request: %s", target, res.StatusCode, rec.Body)
		}
		if res.StatusCode == http.StatusOK {
			if ct := res.Header.Get("Content-Type"); ct == "application/x-amz-json-1.1" {
				var out map[string]any
				if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
					t.Fatalf("%s: answer is not a JSON object: %v", target, err)
				}
			}
			return
		}
		if res.StatusCode != http.StatusBadRequest {
			t.Fatalf("%s: HTTP %d, want 200 or 400", target, res.StatusCode)
		}
		ct := res.Header.Get("Content-Type")
		if target == "" && strings.HasPrefix(ct, "text/xml") {
			// No X-Amz-Target and a form body: the Query protocol (RDS),
			// whose errors are XML (<ErrorResponse><Error><Code>).
			if b := rec.Body.String(); !strings.Contains(b, "<ErrorResponse") || !strings.Contains(b, "<Code>") {
				t.Fatalf("query protocol error body %q is not an ErrorResponse with a Code", b)
			}
			return
		}
		if ct != "application/x-amz-json-1.1" {
			t.Fatalf("%s: error content type %q", target, ct)
		}
		var e struct {
			Type    string  `json:"__type"`
			Message *string `json:"Message"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Type == "" || e.Message == nil {
			t.Fatalf("%s: error body %q is not {\"__type\", \"Message\"}", target, rec.Body)
		}
		if h := res.Header.Get("X-Amzn-ErrorType"); h != e.Type {
			t.Fatalf("%s: X-Amzn-ErrorType %q, body __type %q", target, h, e.Type)
		}
		var in struct{ SecretString string }
		if json.Unmarshal(body, &in) == nil && len(in.SecretString) >= 8 && strings.Contains(*e.Message, in.SecretString) {
			t.Fatalf("%s: the error echoes the SecretString", target)
		}
	})
}
