package awslocal_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/local/awslocal"
	"github.com/rotorhq/rotor/internal/local/awslocal/awslocaltest"
)

func TestAddressingAndIdempotency(t *testing.T) {
	t.Parallel()
	_, sm := setup(t)
	c := create(t, sm, "team/app-db", "v1")
	arn := aws.ToString(c.ARN)
	if !strings.HasPrefix(arn, "arn:aws:secretsmanager:us-east-1:123456789012:secret:team/app-db-") || len(arn) != len("arn:aws:secretsmanager:us-east-1:123456789012:secret:team/app-db-")+6 {
		t.Fatalf("ARN = %s", arn)
	}
	for _, id := range []string{"team/app-db", arn, arn[:len(arn)-7]} {
		g, err := sm.GetSecretValue(ctxT(t), &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
		if err != nil || aws.ToString(g.SecretString) != "v1" || !slices.Equal(g.VersionStages, []string{"AWSCURRENT"}) {
			t.Fatalf("GetSecretValue(%s) = %+v, %v", id, g, err)
		}
	}
	// Same name, token and value: idempotent.
	again, err := sm.CreateSecret(ctxT(t), &secretsmanager.CreateSecretInput{Name: aws.String("team/app-db"), SecretString: aws.String("v1"), ClientRequestToken: aws.String(token(1))})
	if err != nil || aws.ToString(again.ARN) != arn || aws.ToString(again.VersionId) != token(1) {
		t.Fatalf("idempotent CreateSecret = %+v, %v", again, err)
	}
	put(t, sm, arn, token(2), "v2")
	put(t, sm, arn, token(2), "v2") // no-op repeat
	wantLabels(t, sm, arn, map[string][]string{token(1): {"AWSPREVIOUS"}, token(2): {"AWSCURRENT"}})
	// Without a value: no version at all; the first put gets AWSCURRENT even with other stages.
	e, err := sm.CreateSecret(ctxT(t), &secretsmanager.CreateSecretInput{Name: aws.String("novalue")})
	if err != nil || e.VersionId != nil {
		t.Fatalf("CreateSecret without value = %+v, %v", e, err)
	}
	put(t, sm, "novalue", token(3), "x", "custom")
	wantLabels(t, sm, "novalue", map[string][]string{token(3): {"AWSCURRENT", "custom"}})
	// UpdateSecret: a value makes a new current; description only, no VersionId.
	u, err := sm.UpdateSecret(ctxT(t), &secretsmanager.UpdateSecretInput{SecretId: aws.String("novalue"), SecretString: aws.String("y"), ClientRequestToken: aws.String(token(4))})
	if err != nil || aws.ToString(u.VersionId) != token(4) {
		t.Fatalf("UpdateSecret value = %+v, %v", u, err)
	}
	wantLabels(t, sm, "novalue", map[string][]string{token(3): {"AWSPREVIOUS", "custom"}, token(4): {"AWSCURRENT"}})
	u, err = sm.UpdateSecret(ctxT(t), &secretsmanager.UpdateSecretInput{SecretId: aws.String("novalue"), Description: aws.String("d")})
	if err != nil || u.VersionId != nil {
		t.Fatalf("UpdateSecret description = %+v, %v", u, err)
	}
	// Binary values round-trip as base64.
	if _, err := sm.CreateSecret(ctxT(t), &secretsmanager.CreateSecretInput{Name: aws.String("bin"), SecretBinary: []byte{0, 1, 2, 255}}); err != nil {
		t.Fatal(err)
	}
	g, err := sm.GetSecretValue(ctxT(t), &secretsmanager.GetSecretValueInput{SecretId: aws.String("bin")})
	if err != nil || !slices.Equal(g.SecretBinary, []byte{0, 1, 2, 255}) || g.SecretString != nil {
		t.Fatalf("binary = %+v, %v", g, err)
	}
}

func TestDeleteRestore(t *testing.T) {
	t.Parallel()
	srv, sm := setup(t)
	create(t, sm, "d1", "v")
	create(t, sm, "d2", "v")
	del, err := sm.DeleteSecret(ctxT(t), &secretsmanager.DeleteSecretInput{SecretId: aws.String("d1"), RecoveryWindowInDays: aws.Int64(7)})
	if err != nil || !del.DeletionDate.Equal(srv.Clock().Now().Add(7*24*time.Hour)) {
		t.Fatalf("DeleteSecret = %+v, %v", del, err)
	}
	d, err := sm.DescribeSecret(ctxT(t), &secretsmanager.DescribeSecretInput{SecretId: aws.String("d1")})
	if err != nil || d.DeletedDate == nil {
		t.Fatalf("DescribeSecret of a deleted secret = %+v, %v", d, err)
	}
	ls, _ := sm.ListSecrets(ctxT(t), &secretsmanager.ListSecretsInput{})
	if len(ls.SecretList) != 1 {
		t.Fatalf("ListSecrets lists %d secrets, want the deleted one left out", len(ls.SecretList))
	}
	ls, _ = sm.ListSecrets(ctxT(t), &secretsmanager.ListSecretsInput{IncludePlannedDeletion: aws.Bool(true)})
	if len(ls.SecretList) != 2 {
		t.Fatalf("ListSecrets with IncludePlannedDeletion lists %d", len(ls.SecretList))
	}
	if _, err := sm.RestoreSecret(ctxT(t), &secretsmanager.RestoreSecretInput{SecretId: aws.String("d1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := sm.GetSecretValue(ctxT(t), &secretsmanager.GetSecretValueInput{SecretId: aws.String("d1")}); err != nil {
		t.Fatalf("after restore: %v", err)
	}
	// The recovery window ends with the clock.
	if _, err := sm.DeleteSecret(ctxT(t), &secretsmanager.DeleteSecretInput{SecretId: aws.String("d1"), RecoveryWindowInDays: aws.Int64(7)}); err != nil {
		t.Fatal(err)
	}
	srv.Advance(7 * 24 * time.Hour)
	_, err = sm.DescribeSecret(ctxT(t), &secretsmanager.DescribeSecretInput{SecretId: aws.String("d1")})
	wantAPIError(t, err, "ResourceNotFoundException", "")
	// Force delete: immediate; unknown secret succeeds.
	for _, id := range []string{"d2", "never-existed"} {
		if _, err := sm.DeleteSecret(ctxT(t), &secretsmanager.DeleteSecretInput{SecretId: aws.String(id), ForceDeleteWithoutRecovery: aws.Bool(true)}); err != nil {
			t.Fatalf("force delete %s: %v", id, err)
		}
	}
	_, err = sm.DescribeSecret(ctxT(t), &secretsmanager.DescribeSecretInput{SecretId: aws.String("d2")})
	wantAPIError(t, err, "ResourceNotFoundException", "")
}

func TestListSecretsFilters(t *testing.T) {
	t.Parallel()
	_, sm := setup(t)
	for _, s := range []struct{ name, desc, team string }{
		{"prod/db", "Production database", "payments"},
		{"prod/api", "API key", "web"},
		{"dev/db", "dev database", "payments"},
	} {
		if _, err := sm.CreateSecret(ctxT(t), &secretsmanager.CreateSecretInput{Name: aws.String(s.name), Description: aws.String(s.desc), SecretString: aws.String("x"),
			Tags: []smtypes.Tag{{Key: aws.String("team"), Value: aws.String(s.team)}, {Key: aws.String("env-" + s.name[:strings.Index(s.name, "/")]), Value: aws.String("y")}}}); err != nil {
			t.Fatal(err)
		}
	}
	f := func(key smtypes.FilterNameStringType, vals ...string) smtypes.Filter {
		return smtypes.Filter{Key: key, Values: vals}
	}
	for name, tc := range map[string]struct {
		filters []smtypes.Filter
		want    []string
	}{
		"none":             {nil, []string{"prod/db", "prod/api", "dev/db"}},
		"name prefix":      {[]smtypes.Filter{f("name", "prod/")}, []string{"prod/db", "prod/api"}},
		"name negated":     {[]smtypes.Filter{f("name", "!prod/")}, []string{"dev/db"}},
		"name values ORed": {[]smtypes.Filter{f("name", "dev/", "prod/a")}, []string{"prod/api", "dev/db"}},
		"description":      {[]smtypes.Filter{f("description", "Production")}, []string{"prod/db"}},
		"tag-key":          {[]smtypes.Filter{f("tag-key", "env-dev")}, []string{"dev/db"}},
		"tag-key negated":  {[]smtypes.Filter{f("tag-key", "!env-dev")}, []string{"prod/db", "prod/api"}},
		"tag-value":        {[]smtypes.Filter{f("tag-value", "pay")}, []string{"prod/db", "dev/db"}},
		"filters ANDed":    {[]smtypes.Filter{f("tag-value", "payments"), f("name", "prod")}, []string{"prod/db"}},
		"all, any case":    {[]smtypes.Filter{f("all", "WEB")}, []string{"prod/api"}},
		"all negated":      {[]smtypes.Filter{f("all", "!payments")}, []string{"prod/api"}},
		"no match":         {[]smtypes.Filter{f("name", "nothing")}, nil},
	} {
		out, err := sm.ListSecrets(ctxT(t), &secretsmanager.ListSecretsInput{Filters: tc.filters})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var got []string
		for _, e := range out.SecretList {
			got = append(got, aws.ToString(e.Name))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", name, got, tc.want)
		}
	}
	// Pagination over the SDK paginator.
	var names []string
	p := secretsmanager.NewListSecretsPaginator(sm, &secretsmanager.ListSecretsInput{MaxResults: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, e := range out.SecretList {
			names = append(names, aws.ToString(e.Name))
		}
	}
	if pages != 2 || len(names) != 3 {
		t.Fatalf("paginated %d pages, %v", pages, names)
	}
	// BatchGetSecretValue by filter and by list, with per-secret errors.
	b, err := sm.BatchGetSecretValue(ctxT(t), &secretsmanager.BatchGetSecretValueInput{SecretIdList: []string{"prod/db", "missing"}})
	if err != nil || len(b.SecretValues) != 1 || len(b.Errors) != 1 || aws.ToString(b.Errors[0].ErrorCode) != "ResourceNotFoundException" {
		t.Fatalf("BatchGetSecretValue = %+v, %v", b, err)
	}
	b, err = sm.BatchGetSecretValue(ctxT(t), &secretsmanager.BatchGetSecretValueInput{Filters: []smtypes.Filter{f("tag-value", "payments")}})
	if err != nil || len(b.SecretValues) != 2 {
		t.Fatalf("BatchGetSecretValue by filter = %+v, %v", b, err)
	}
}

func TestGetRandomPassword(t *testing.T) {
	t.Parallel()
	_, sm := setup(t)
	out, err := sm.GetRandomPassword(ctxT(t), &secretsmanager.GetRandomPasswordInput{})
	if err != nil || len(aws.ToString(out.RandomPassword)) != 32 {
		t.Fatalf("default = %v, %v", out, err)
	}
	out, err = sm.GetRandomPassword(ctxT(t), &secretsmanager.GetRandomPasswordInput{PasswordLength: aws.Int64(64), ExcludeCharacters: aws.String(`:/@"'\`), ExcludeUppercase: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	pw := aws.ToString(out.RandomPassword)
	var lower, digit, punct bool
	for _, r := range pw {
		switch {
		case strings.ContainsRune(`:/@"'\ `, r) || unicode.IsUpper(r):
			t.Fatalf("password has excluded character %q", r)
		case unicode.IsLower(r):
			lower = true
		case unicode.IsDigit(r):
			digit = true
		default:
			punct = true
		}
	}
	if len(pw) != 64 || !lower || !digit || !punct {
		t.Fatalf("password of length %d lacks a required type", len(pw))
	}
}

func TestVersionLimit(t *testing.T) {
	t.Parallel()
	srv, sm := setup(t)
	create(t, sm, "many", "v0")
	for i := 1; i < 100; i++ {
		put(t, sm, "many", token(1000+i), "v")
	}
	_, err := sm.PutSecretValue(ctxT(t), &secretsmanager.PutSecretValueInput{SecretId: aws.String("many"), ClientRequestToken: aws.String(token(5000)), SecretString: aws.String("over")})
	wantAPIError(t, err, "LimitExceededException", "")
	srv.Advance(24 * time.Hour)
	put(t, sm, "many", token(5000), "over")
	if n := len(srv.Versions("many")); n != 100 {
		t.Fatalf("%d versions after pruning, want 100", n)
	}
	if _, err := sm.GetSecretValue(ctxT(t), &secretsmanager.GetSecretValueInput{SecretId: aws.String("many"), VersionId: aws.String(token(1))}); err == nil {
		t.Fatal("the oldest unlabeled version survived pruning")
	}
}

func TestRDS(t *testing.T) {
	t.Parallel()
	srv, cfg := awslocaltest.New(t)
	client := rds.NewFromConfig(cfg)
	iarn := srv.AddDBInstance(awslocal.DBInstance{Identifier: "db1", Engine: "postgres", Address: "127.0.0.1", Port: 5432, MasterUsername: "admin", MasterUserSecretARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-1-abcdef"})
	carn := srv.AddDBCluster(awslocal.DBCluster{Identifier: "c1", Engine: "aurora-mysql", Endpoint: "c1.local", Port: 3306, MasterUsername: "root"})
	for _, id := range []string{"db1", iarn} {
		out, err := client.DescribeDBInstances(ctxT(t), &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
		if err != nil || len(out.DBInstances) != 1 {
			t.Fatalf("DescribeDBInstances(%s) = %+v, %v", id, out, err)
		}
		i := out.DBInstances[0]
		if aws.ToString(i.Endpoint.Address) != "127.0.0.1" || aws.ToInt32(i.Endpoint.Port) != 5432 || aws.ToString(i.Engine) != "postgres" || aws.ToString(i.DBInstanceArn) != iarn ||
			aws.ToString(i.MasterUsername) != "admin" || i.MasterUserSecret == nil || !strings.HasSuffix(aws.ToString(i.MasterUserSecret.SecretArn), "rds!db-1-abcdef") {
			t.Fatalf("instance = %+v", i)
		}
	}
	out, err := client.DescribeDBClusters(ctxT(t), &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String(carn)})
	if err != nil || len(out.DBClusters) != 1 || aws.ToString(out.DBClusters[0].Endpoint) != "c1.local" || aws.ToInt32(out.DBClusters[0].Port) != 3306 || aws.ToString(out.DBClusters[0].DBClusterArn) != carn {
		t.Fatalf("DescribeDBClusters = %+v, %v", out, err)
	}
	_, err = client.DescribeDBInstances(ctxT(t), &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("nope")})
	var inf *rdstypes.DBInstanceNotFoundFault
	if !errors.As(err, &inf) {
		t.Fatalf("unknown instance: %v, want DBInstanceNotFoundFault", err)
	}
	_, err = client.DescribeDBClusters(ctxT(t), &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String("nope")})
	var cnf *rdstypes.DBClusterNotFoundFault
	if !errors.As(err, &cnf) {
		t.Fatalf("unknown cluster: %v, want DBClusterNotFoundFault", err)
	}
	if s := srv.Stats(); s["DescribeDBInstances"] != 3 || s["DescribeDBClusters"] != 2 {
		t.Fatalf("stats = %v", s)
	}
}

func TestSNSAndLambdaInvoke(t *testing.T) {
	t.Parallel()
	srv, cfg := awslocaltest.New(t)
	sm := secretsmanager.NewFromConfig(cfg)
	form := func(v url.Values) (int, string) {
		resp, err := http.PostForm(srv.URL()+"/", v)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	st, body := form(url.Values{"Action": {"CreateTopic"}, "Name": {"alerts"}})
	if st != 200 || !strings.Contains(body, "<TopicArn>arn:aws:sns:us-east-1:123456789012:alerts</TopicArn>") {
		t.Fatalf("CreateTopic = %d %s", st, body)
	}
	st, body = form(url.Values{"Action": {"Publish"}, "TopicArn": {"arn:aws:sns:us-east-1:123456789012:alerts"}, "Subject": {"rotation failed"}, "Message": {"app/db failed at setSecret"}})
	if st != 200 || !strings.Contains(body, "<MessageId>") {
		t.Fatalf("Publish = %d %s", st, body)
	}
	if st, body = form(url.Values{"Action": {"Publish"}, "TopicArn": {"arn:aws:sns:us-east-1:123456789012:none"}, "Message": {"x"}}); st != 404 || !strings.Contains(body, "<Code>NotFound</Code>") {
		t.Fatalf("Publish to an unknown topic = %d %s", st, body)
	}
	resp, err := http.Get(srv.URL() + "/_awslocal/sns")
	if err != nil {
		t.Fatal(err)
	}
	var msgs []awslocal.SNSMessage
	_ = json.NewDecoder(resp.Body).Decode(&msgs)
	resp.Body.Close()
	if len(msgs) != 1 || msgs[0].Subject != "rotation failed" || msgs[0].Message != "app/db failed at setSecret" || len(srv.Published()) != 1 {
		t.Fatalf("published = %+v", msgs)
	}

	// Lambda Invoke reaches registered functions by name or ARN.
	var got events.RotationEvent
	srv.SetFunction(fnARN, awslocal.FuncInvoker(func(ctx context.Context, e events.RotationEvent) error {
		got = e
		if e.Step == "setSecret" {
			return errors.New("boom")
		}
		return nil
	}))
	invoke := func(fn, payload string) (*http.Response, string) {
		resp, err := http.Post(srv.URL()+"/2015-03-31/functions/"+url.PathEscape(fn)+"/invocations", "application/json", strings.NewReader(payload))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	r, _ := invoke("rotate", `{"Step":"createSecret","SecretId":"x","ClientRequestToken":"`+token(1)+`"}`)
	if r.StatusCode != 200 || r.Header.Get("X-Amz-Function-Error") != "" || got.Step != "createSecret" {
		t.Fatalf("invoke by name: %d, event %+v", r.StatusCode, got)
	}
	r, b := invoke(fnARN, `{"Step":"setSecret","SecretId":"x","ClientRequestToken":"`+token(1)+`"}`)
	if r.StatusCode != 200 || r.Header.Get("X-Amz-Function-Error") != "Unhandled" || !strings.Contains(b, `"errorMessage":"boom"`) {
		t.Fatalf("invoke by ARN with function error: %d %v %s", r.StatusCode, r.Header, b)
	}
	if r, _ := invoke("missing", `{}`); r.StatusCode != 404 {
		t.Fatalf("unknown function: %d", r.StatusCode)
	}
	// The HTTP invoker reads that shape back as a function error.
	inv := &awslocal.HTTPInvoker{URL: srv.URL() + "/2015-03-31/functions/rotate/invocations"}
	_, err = inv.Invoke(ctxT(t), []byte(`{"Step":"setSecret"}`))
	var fe *awslocal.FunctionError
	if !errors.As(err, &fe) || fe.Message != "boom" || fe.Type != "errorString" {
		t.Fatalf("HTTPInvoker error = %#v", err)
	}
	// Rotation events over HTTP.
	srv.SetFunction(fnARN, rotator(sm, nil))
	create(t, sm, "ev", "v1")
	if _, err := sm.RotateSecret(ctxT(t), &secretsmanager.RotateSecretInput{SecretId: aws.String("ev"), RotationLambdaARN: aws.String(fnARN)}); err != nil {
		t.Fatal(err)
	}
	_ = srv.WaitRotations(ctxT(t))
	resp, err = http.Get(srv.URL() + "/_awslocal/events")
	if err != nil {
		t.Fatal(err)
	}
	var evs []awslocal.Event
	_ = json.NewDecoder(resp.Body).Decode(&evs)
	resp.Body.Close()
	if len(evs) != 2 || evs[1].Name != "RotationSucceeded" {
		t.Fatalf("events = %+v", evs)
	}
}

func TestStateFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.json")
	srv, cfg := awslocaltest.NewWith(t, awslocal.Options{StateFile: path})
	sm := secretsmanager.NewFromConfig(cfg)
	c := create(t, sm, "kept", "v1")
	put(t, sm, "kept", token(2), "v2", "blue")
	srv.AddDBInstance(awslocal.DBInstance{Identifier: "db1", Engine: "postgres", Address: "h", Port: 5432})

	srv2, cfg2 := awslocaltest.NewWith(t, awslocal.Options{StateFile: path})
	sm2 := secretsmanager.NewFromConfig(cfg2)
	g, err := sm2.GetSecretValue(ctxT(t), &secretsmanager.GetSecretValueInput{SecretId: c.ARN})
	if err != nil || aws.ToString(g.SecretString) != "v1" {
		t.Fatalf("after reload: %+v, %v", g, err)
	}
	wantLabels(t, sm2, "kept", map[string][]string{token(1): {"AWSCURRENT"}, token(2): {"blue"}})
	out, err := rds.NewFromConfig(cfg2).DescribeDBInstances(ctxT(t), &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("db1")})
	if err != nil || len(out.DBInstances) != 1 {
		t.Fatalf("instance after reload: %v", err)
	}
	_ = srv2
}

// A server killed during a write leaves its temporary file behind; the
// next start removes it (and older unqualified ones), and leaves another
// state file's temporaries and everything else alone.
func TestStateFileStaleTempsRemovedAtStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	srv, cfg := awslocaltest.NewWith(t, awslocal.Options{StateFile: path})
	create(t, secretsmanager.NewFromConfig(cfg), "kept", "v1")
	_ = srv
	files := map[string]bool{ // name → still there after a restart
		".state.json.tmp-123456": false,
		".awslocal-state-987654": false, // the name earlier versions used
		".other.json.tmp-55":     true,
		"notes.txt":              true,
	}
	for name := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(`{"secrets":[`), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	_, cfg2 := awslocaltest.NewWith(t, awslocal.Options{StateFile: path})
	sm2 := secretsmanager.NewFromConfig(cfg2)
	if _, err := sm2.DescribeSecret(ctxT(t), &secretsmanager.DescribeSecretInput{SecretId: aws.String("kept")}); err != nil {
		t.Fatalf("state after restart: %v", err)
	}
	create(t, sm2, "written", "v") // a write after the restart still works
	for name, kept := range files {
		_, err := os.Stat(filepath.Join(dir, name))
		if (err == nil) != kept {
			t.Errorf("%s: exists=%v, want %v", name, err == nil, kept)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".state.json.tmp-") {
			t.Errorf("a temporary file of this state file is left: %s", e.Name())
		}
	}
}

func TestRegionFromCredentialScope(t *testing.T) {
	t.Parallel()
	_, cfg := awslocaltest.New(t)
	cfg.Region = "eu-west-1"
	sm := secretsmanager.NewFromConfig(cfg)
	c, err := sm.CreateSecret(ctxT(t), &secretsmanager.CreateSecretInput{Name: aws.String("eu"), SecretString: aws.String("x")})
	if err != nil || !strings.HasPrefix(aws.ToString(c.ARN), "arn:aws:secretsmanager:eu-west-1:123456789012:secret:eu-") {
		t.Fatalf("CreateSecret = %+v, %v", c, err)
	}
}
