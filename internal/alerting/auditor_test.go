package alerting_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/alerting"
	"github.com/rotorhq/rotor/internal/metrics"
	"github.com/rotorhq/rotor/rotation"
)

func (e *env) auditor(t *testing.T, out *bytes.Buffer) *alerting.Auditor {
	t.Helper()
	a, err := alerting.NewAuditor(alerting.AuditorOptions{
		Secrets: e.sm, Functions: e.lambda, Topic: e.sns, TopicARN: e.topicARN,
		Metrics: metrics.NewEMF(out, "RotorTest"), FunctionName: "rotor-auditor",
		Now: e.clock.Now, PageSize: 2, // several pages
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// Every planted problem is found once, with one alert each; healthy
// secrets and secrets without rotation produce nothing; the metric line
// counts each kind.
func TestAuditorFindsEachPlantedCase(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	fnARN := e.srv.FunctionARN("rotor-rotator")
	rot := e.rotator(t)
	e.srv.SetFunction(fnARN, rot)
	// Each rotated secret has a user of its own on the real PostgreSQL.
	doc := func() string {
		d, _ := e.pgDoc(t, "Audit-Password-0a1b2c3d")
		return d
	}

	healthy := []string{
		e.createRotated(t, "ok/one", doc(), fnARN, 30),
		e.createRotated(t, "ok/two", doc(), fnARN, 30),
	}
	if _, err := e.sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("ok/not-rotated"), SecretString: aws.String(secretDoc(closedPort(t), "Audit-Password-0a1b2c3d"))}); err != nil {
		t.Fatal(err)
	}
	overdue := e.createRotated(t, "bad/overdue", doc(), fnARN, 1)
	stuck := e.createRotated(t, "bad/stuck", doc(), fnARN, 30)
	if _, err := e.sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(stuck), ClientRequestToken: aws.String("11111111-2222-4333-8444-555555555555"),
		SecretString: aws.String(secretDoc(closedPort(t), "Audit-Password-0a1b2c3d")), VersionStages: []string{"AWSPENDING"},
	}); err != nil {
		t.Fatal(err)
	}
	// The failed outcome is only needed as rotor's tags, so they are
	// written directly instead of making a rotation fail.
	failed := e.createRotated(t, "bad/failed", doc(), fnARN, 30)
	if _, err := e.sm.TagResource(ctx, &secretsmanager.TagResourceInput{SecretId: aws.String(failed), Tags: []smtypes.Tag{
		{Key: aws.String(rotation.TagLastRotation), Value: aws.String(rotation.OutcomeFailed)},
		{Key: aws.String(rotation.TagLastErrorStep), Value: aws.String("testSecret")},
		{Key: aws.String(rotation.TagLastError), Value: aws.String("log in with pending: password authentication failed")},
	}}); err != nil {
		t.Fatal(err)
	}
	goneARN := e.srv.FunctionARN("rotor-gone")
	e.srv.SetFunction(goneARN, rot)
	missing := e.createRotated(t, "bad/missing-function", doc(), goneARN, 30)
	e.srv.SetFunction(goneARN, nil)
	brokenARN := e.srv.FunctionARN("rotor-broken")
	e.srv.SetFunction(brokenARN, rot)
	broken := e.createRotated(t, "bad/broken-function", doc(), brokenARN, 30)
	e.srv.SetFunctionState(brokenARN, "Failed", "The function's execution role cannot be assumed.")

	// Three days on, without the schedule running (no Tick): the 1-day
	// secret is past its window, the 30-day ones are not; the pending
	// version planted above is three days old.
	e.clock.Advance(72 * time.Hour)

	var out bytes.Buffer
	rep, err := e.auditor(t, &out).Run(ctx)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	want := map[string][]events.AlertKind{
		overdue: {events.AlertOverdue},
		stuck:   {events.AlertStuck},
		failed:  {events.AlertLastRotationFailed},
		missing: {events.AlertFunctionMissing},
		broken:  {events.AlertFunctionMissing},
	}
	got := map[string][]events.AlertKind{}
	for _, f := range rep.Findings {
		got[f.SecretARN] = append(got[f.SecretARN], f.Kind)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("findings %v\nwant     %v", got, want)
	}
	for _, h := range healthy {
		if _, ok := got[h]; ok {
			t.Fatalf("healthy secret %s reported", h)
		}
	}
	if rep.Audited != 7 || rep.Errors != 0 || rep.Published != 5 {
		t.Fatalf("report: audited %d errors %d published %d", rep.Audited, rep.Errors, rep.Published)
	}

	msgs := e.srv.Published()
	if len(msgs) != 5 {
		t.Fatalf("%d SNS messages, want one per finding (5)", len(msgs))
	}
	bySubject := map[string]string{}
	for _, m := range msgs {
		bySubject[m.Subject] = m.Message
		if strings.Contains(m.Message, "Audit-Password-0a1b2c3d") {
			t.Fatal("alert contains a password")
		}
	}
	for subject, body := range map[string][]string{
		"rotor: rotation overdue: bad/overdue":                                    {"Window closed:", "rotor status bad/overdue"},
		"rotor: rotation stuck (AWSPENDING left behind): bad/stuck":               {"11111111-2222-4333-8444-555555555555", "rotor check bad/stuck", "rotor finish bad/stuck", "Do not remove AWSPENDING before that check"},
		"rotor: last rotation failed at testSecret: bad/failed":                   {"password authentication failed", "rotor check bad/failed"},
		"rotor: rotation function missing or not invokable: bad/missing-function": {"does not exist", goneARN},
		"rotor: rotation function missing or not invokable: bad/broken-function":  {"state Failed", "execution role"},
	} {
		msg, ok := bySubject[subject]
		if !ok {
			t.Errorf("no alert with subject %q (have %v)", subject, slices.Collect(maps.Keys(bySubject)))
			continue
		}
		for _, w := range body {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: body lacks %q:\n%s", subject, w, msg)
			}
		}
	}

	line := onlyEMFLine(t, &out)
	wantValues := map[string]float64{
		alerting.MetricOverdueSecrets: 1, alerting.MetricStuckRotations: 1, alerting.MetricFailedRotations: 1,
		alerting.MetricMissingFunctions: 2, alerting.MetricSecretsAudited: 7, alerting.MetricAuditErrors: 0,
	}
	checkEMF(t, line, "RotorTest", map[string]string{alerting.DimensionFunctionName: "rotor-auditor"}, wantValues)
	// A function checked once per run, however many secrets use it.
	if n := e.srv.Stats()["GetFunctionConfiguration"]; n != 3 {
		t.Errorf("GetFunctionConfiguration called %d times for 3 functions", n)
	}
}

// Healthy secrets produce no alert, and the run still writes its metrics,
// all zero.
func TestAuditorHealthyIsSilent(t *testing.T) {
	e := newEnv(t)
	fnARN := e.srv.FunctionARN("rotor-rotator")
	e.srv.SetFunction(fnARN, e.rotator(t))
	for i := range 3 {
		doc, _ := e.pgDoc(t, "Healthy-Password-77aa")
		e.createRotated(t, fmt.Sprintf("ok/%d", i), doc, fnARN, 30)
	}
	doc := secretDoc(closedPort(t), "Healthy-Password-77aa")
	// An AWSPENDING version younger than the threshold is a rotation in
	// progress, not a stuck one.
	e.clock.Advance(10 * 24 * time.Hour)
	if _, err := e.sm.PutSecretValue(ctxT(t), &secretsmanager.PutSecretValueInput{
		SecretId: aws.String("ok/0"), ClientRequestToken: aws.String("21111111-2222-4333-8444-555555555555"),
		SecretString: aws.String(doc), VersionStages: []string{"AWSPENDING"},
	}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(alerting.DefaultStuckAfter - time.Minute)
	var out bytes.Buffer
	rep, err := e.auditor(t, &out).Run(ctxT(t))
	if err != nil || len(rep.Findings) != 0 || rep.Audited != 3 {
		t.Fatalf("report %+v, error %v", rep, err)
	}
	if n := len(e.srv.Published()); n != 0 {
		t.Fatalf("%d alerts for healthy secrets", n)
	}
	checkEMF(t, onlyEMFLine(t, &out), "RotorTest", map[string]string{alerting.DimensionFunctionName: "rotor-auditor"}, map[string]float64{
		alerting.MetricOverdueSecrets: 0, alerting.MetricStuckRotations: 0, alerting.MetricFailedRotations: 0,
		alerting.MetricMissingFunctions: 0, alerting.MetricSecretsAudited: 3, alerting.MetricAuditErrors: 0,
	})
}

// A check that cannot be made is counted, logged and makes the run fail
// after the metrics are written, so the function's Errors metric shows it.
func TestAuditorReportsChecksItCannotMake(t *testing.T) {
	e := newEnv(t)
	fnARN := e.srv.FunctionARN("rotor-rotator")
	e.srv.SetFunction(fnARN, e.rotator(t))
	doc, _ := e.pgDoc(t, "Pw-3141592653")
	e.createRotated(t, "ok/0", doc, fnARN, 30)
	var out bytes.Buffer
	a, err := alerting.NewAuditor(alerting.AuditorOptions{
		Secrets: e.sm, Functions: deniedFunctions{}, Topic: e.sns, TopicARN: e.topicARN,
		Metrics: metrics.NewEMF(&out, "RotorTest"), FunctionName: "rotor-auditor", Now: e.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := a.Run(ctxT(t))
	if err == nil || rep.Errors != 1 || len(rep.Findings) != 0 {
		t.Fatalf("report %+v, error %v; want one error and no finding", rep, err)
	}
	checkEMF(t, onlyEMFLine(t, &out), "RotorTest", map[string]string{alerting.DimensionFunctionName: "rotor-auditor"}, map[string]float64{
		alerting.MetricAuditErrors: 1, alerting.MetricSecretsAudited: 1, alerting.MetricMissingFunctions: 0,
		alerting.MetricOverdueSecrets: 0, alerting.MetricStuckRotations: 0, alerting.MetricFailedRotations: 0,
	})
}

// onlyEMFLine returns the single line written to out.
func onlyEMFLine(t *testing.T, out *bytes.Buffer) []byte {
	t.Helper()
	var lines [][]byte
	sc := bufio.NewScanner(bytes.NewReader(out.Bytes()))
	for sc.Scan() {
		lines = append(lines, slices.Clone(sc.Bytes()))
	}
	if len(lines) != 1 {
		t.Fatalf("%d metric lines, want 1:\n%s", len(lines), out.String())
	}
	return lines[0]
}

// checkEMF validates one line against the Embedded Metric Format: an _aws
// object with a numeric Timestamp and CloudWatchMetrics directives, each
// with a Namespace, Dimensions (arrays of keys) and Metrics (names with
// units); every metric a number at the top level, every dimension a
// string. It also checks the namespace, dimensions and values.
func checkEMF(t *testing.T, line []byte, ns string, dims map[string]string, values map[string]float64) {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(line, &doc); err != nil {
		t.Fatalf("metric line is not JSON: %v\n%s", err, line)
	}
	awsMeta, ok := doc["_aws"].(map[string]any)
	if !ok {
		t.Fatalf("no _aws object: %s", line)
	}
	if ts, ok := awsMeta["Timestamp"].(float64); !ok || ts <= 0 || ts != float64(int64(ts)) {
		t.Fatalf("_aws.Timestamp %v is not epoch milliseconds", awsMeta["Timestamp"])
	}
	directives, ok := awsMeta["CloudWatchMetrics"].([]any)
	if !ok || len(directives) == 0 {
		t.Fatalf("_aws.CloudWatchMetrics missing or empty: %s", line)
	}
	seenMetrics := map[string]bool{}
	for _, d := range directives {
		dir, ok := d.(map[string]any)
		if !ok {
			t.Fatalf("directive %v is not an object", d)
		}
		if got, _ := dir["Namespace"].(string); got != ns {
			t.Fatalf("Namespace %v, want %q", dir["Namespace"], ns)
		}
		sets, ok := dir["Dimensions"].([]any)
		if !ok || len(sets) == 0 {
			t.Fatalf("Dimensions %v is not an array of dimension sets", dir["Dimensions"])
		}
		for _, set := range sets {
			keys, ok := set.([]any)
			if !ok || len(keys) > 30 {
				t.Fatalf("dimension set %v is not an array of at most 30 keys", set)
			}
			for _, k := range keys {
				name, ok := k.(string)
				if !ok {
					t.Fatalf("dimension key %v is not a string", k)
				}
				v, ok := doc[name].(string)
				if !ok {
					t.Fatalf("dimension %q has no string value at the top level", name)
				}
				if want, ok := dims[name]; !ok || v != want {
					t.Fatalf("dimension %s=%q, want %v", name, v, dims)
				}
			}
		}
		ms, ok := dir["Metrics"].([]any)
		if !ok || len(ms) == 0 {
			t.Fatalf("Metrics %v is not a non-empty array", dir["Metrics"])
		}
		for _, m := range ms {
			def, ok := m.(map[string]any)
			if !ok {
				t.Fatalf("metric definition %v is not an object", m)
			}
			name, ok := def["Name"].(string)
			if !ok || name == "" {
				t.Fatalf("metric definition without Name: %v", def)
			}
			if u, ok := def["Unit"]; ok {
				if _, isStr := u.(string); !isStr {
					t.Fatalf("metric %s Unit %v is not a string", name, u)
				}
			}
			if _, ok := doc[name].(float64); !ok {
				t.Fatalf("metric %s has no number at the top level: %v", name, doc[name])
			}
			seenMetrics[name] = true
		}
	}
	for name, want := range values {
		if !seenMetrics[name] {
			t.Errorf("metric %s not declared", name)
			continue
		}
		if got := doc[name].(float64); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if len(seenMetrics) != len(values) {
		t.Errorf("declared metrics %v, want exactly %v", seenMetrics, values)
	}
}

// deniedFunctions answers every GetFunctionConfiguration as IAM would
// without lambda:GetFunctionConfiguration: the one denial the stand-in
// cannot produce.
type deniedFunctions struct{}

func (deniedFunctions) GetFunctionConfiguration(context.Context, *lambda.GetFunctionConfigurationInput, ...func(*lambda.Options)) (*lambda.GetFunctionConfigurationOutput, error) {
	return nil, &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized to perform: lambda:GetFunctionConfiguration"}
}

// A rotation that fails in every window is overdue: the stand-in's
// scheduler runs (Advance ticks), the function always fails, and each audit
// after the first window closed reports exactly one overdue finding for it.
// NextRotationDate stays at the first missed window, in the past, as the
// service documents for unsuccessful rotations. A secret rotating on the
// same schedule is never reported.
func TestAuditorOverdueWhenEveryWindowFails(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	healthyARN := e.srv.FunctionARN("rotor-rotator")
	e.srv.SetFunction(healthyARN, e.rotator(t))
	healthyDoc, _ := e.pgDoc(t, "Overdue-Password-5e6f7a8b")
	healthy := e.createRotated(t, "ok/daily", healthyDoc, healthyARN, 1)
	doc := secretDoc(closedPort(t), "Overdue-Password-5e6f7a8b")

	// The real rotator, against a database port nothing listens on: every
	// rotation fails at setSecret and records the failure in its tags.
	failingARN := e.srv.FunctionARN("rotor-always-fails")
	e.srv.SetFunction(failingARN, e.rotator(t))
	created, err := e.sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("bad/always-fails"), SecretString: aws.String(doc)})
	if err != nil {
		t.Fatal(err)
	}
	failing := aws.ToString(created.ARN)
	if _, err := e.sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{
		SecretId: created.ARN, RotationLambdaARN: aws.String(failingARN),
		RotationRules: &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(1)},
	}); err != nil {
		t.Fatal(err)
	}
	if res, err := e.srv.WaitRotation(ctx, failing); err != nil || res.Succeeded {
		t.Fatalf("first rotation: %+v %v; want a failure", res, err)
	}

	first, err := e.sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(failing)})
	if err != nil {
		t.Fatal(err)
	}
	due := aws.ToTime(first.NextRotationDate)
	scheduled := 0
	for day := 1; day <= 5; day++ {
		scheduled += len(e.srv.Advance(24 * time.Hour))
		if err := e.srv.WaitRotations(ctx); err != nil {
			t.Fatal(err)
		}
		d, err := e.sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(failing)})
		if err != nil {
			t.Fatal(err)
		}
		if next := aws.ToTime(d.NextRotationDate); !next.Equal(due) || !next.Before(e.clock.Now()) {
			t.Fatalf("day %d: NextRotationDate %v, want it left at the missed window %v, in the past", day, next, due)
		}
		rep, err := e.auditor(t, &bytes.Buffer{}).Run(ctx)
		if err != nil {
			t.Fatalf("day %d: %v", day, err)
		}
		overdue := map[string]int{}
		for _, f := range rep.Findings {
			if f.Kind == events.AlertOverdue {
				overdue[f.SecretARN]++
			}
		}
		// Created on day 0, due on day 1, the window closes at the end
		// of day 1: overdue from day 2 on.
		want := map[string]int{}
		if day >= 2 {
			want[failing] = 1
		}
		if fmt.Sprint(overdue) != fmt.Sprint(want) {
			t.Fatalf("day %d: overdue findings %v, want %v", day, overdue, want)
		}
		if _, ok := overdue[healthy]; ok {
			t.Fatalf("day %d: the healthy secret is reported overdue", day)
		}
	}
	// The scheduler really ran: both secrets were due every day.
	if scheduled != 10 {
		t.Fatalf("the schedule started %d rotations over 5 days for 2 daily secrets, want 10", scheduled)
	}
	for _, r := range e.srv.Events() {
		if r.Name == "RotationSucceeded" && r.SecretARN == failing {
			t.Fatal("the always-failing function rotated")
		}
	}
}
