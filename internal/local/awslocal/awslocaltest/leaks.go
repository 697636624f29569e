package awslocaltest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/rotorhq/rotor/internal/local/awslocal"
)

// CheckNoLeaks is the leak sweep a test runs when it ends: it fails t if a
// password appears in any of outputs (name -> text: the rotator's logs, a
// database server's log, a command's output) or in what srv keeps outside
// secret values: every secret's tags, name and description, the rotation
// events it recorded (their error messages are the rotator's errors as
// Lambda returned them) and the SNS messages it published.
//
// The passwords are known plus the "password" of every version of every
// secret srv holds (scheduled for deletion too), so passwords the rotator
// generated and the test never read count. Values shorter than 6 bytes are
// skipped (they match by chance). Faults still armed on srv are cleared
// first: the test is over. It logs "leak sweep: N passwords in M outputs,
// L leaks", which docs/reliability.md counts, and returns L.
func CheckNoLeaks(t testing.TB, srv *awslocal.Server, known []string, outputs map[string]string) int {
	t.Helper()
	passwords, kept := sweep(t, srv)
	for name, text := range outputs {
		kept[name] = text
	}
	leaks, swept := 0, 0
	for _, p := range append(passwords, known...) {
		if len(p) < 6 {
			continue
		}
		swept++
		for name, text := range kept {
			if strings.Contains(text, p) {
				leaks++
				t.Errorf("a password appears in %s", name)
			}
		}
	}
	t.Logf("leak sweep: %d passwords in %d outputs, %d leaks", swept, len(kept), leaks)
	return leaks
}

// sweep reads srv's passwords and the outputs it keeps, through the SDK
// but straight into srv's handler, so a stopped listener (NewWithOutage)
// does not hide anything.
func sweep(t testing.TB, srv *awslocal.Server) (passwords []string, outputs map[string]string) {
	t.Helper()
	srv.ClearFaults()
	cfg := srv.SDKConfig("http://awslocal.invalid")
	cfg.HTTPClient = &http.Client{Transport: handlerTransport{srv}}
	sm := secretsmanager.NewFromConfig(cfg)
	ctx := context.Background()

	outputs = map[string]string{}
	var list []types.SecretListEntry
	for p := secretsmanager.NewListSecretsPaginator(sm, &secretsmanager.ListSecretsInput{IncludePlannedDeletion: aws.Bool(true)}); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Errorf("leak sweep: list secrets: %v", err)
			break
		}
		list = append(list, out.SecretList...)
	}
	for _, sec := range list {
		b, _ := json.Marshal(struct {
			Name, Description *string
			Tags              []types.Tag
		}{sec.Name, sec.Description, sec.Tags})
		outputs["the tags, name or description of secret "+aws.ToString(sec.Name)] = string(b)
		vs, err := sm.ListSecretVersionIds(ctx, &secretsmanager.ListSecretVersionIdsInput{SecretId: sec.ARN, IncludeDeprecated: aws.Bool(true)})
		if err != nil {
			continue // scheduled for deletion: its values are no longer readable
		}
		for _, v := range vs.Versions {
			out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: sec.ARN, VersionId: v.VersionId})
			if err != nil || out.SecretString == nil {
				continue
			}
			var doc struct {
				Password any `json:"password"`
			}
			if json.Unmarshal([]byte(*out.SecretString), &doc) == nil {
				if p, ok := doc.Password.(string); ok {
					passwords = append(passwords, p)
				}
			}
		}
	}
	b, _ := json.Marshal(srv.Events())
	outputs["the stand-in's rotation events"] = string(b)
	b, _ = json.Marshal(srv.Published())
	outputs["the SNS messages published"] = string(b)
	return passwords, outputs
}

// handlerTransport answers HTTP requests with a handler, in process.
type handlerTransport struct{ h http.Handler }

func (h handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	h.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}
