package metrics

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/rotation"
	"github.com/rotorhq/rotor/strategies"
)

// decode parses EMF lines and checks the structure CloudWatch requires:
// every metric named in the directive is a number at the top level, and
// every dimension a non-empty string.
func decode(t *testing.T, out string) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		meta := rec["_aws"].(map[string]any)
		if _, ok := meta["Timestamp"].(float64); !ok {
			t.Fatalf("no numeric Timestamp: %q", line)
		}
		for _, d := range meta["CloudWatchMetrics"].([]any) {
			dir := d.(map[string]any)
			if dir["Namespace"] != "Rotor" {
				t.Fatalf("namespace %v", dir["Namespace"])
			}
			for _, set := range dir["Dimensions"].([]any) {
				for _, name := range set.([]any) {
					if v, _ := rec[name.(string)].(string); v == "" {
						t.Fatalf("dimension %v is empty or missing: %q", name, line)
					}
				}
			}
			for _, m := range dir["Metrics"].([]any) {
				if _, ok := rec[m.(map[string]any)["Name"].(string)].(float64); !ok {
					t.Fatalf("metric %v has no numeric value: %q", m, line)
				}
			}
		}
		recs = append(recs, rec)
	}
	return recs
}

func TestStepReport(t *testing.T) {
	var buf bytes.Buffer
	e := NewEMF(&buf, "Rotor").WithFunctionName("rotor-rotator")
	clock := time.Unix(1_800_000_000, 0)
	e.now = func() time.Time { return clock }
	tok := "00000000-0000-4000-8000-000000000001"
	e.StepReport(rotation.StepReport{Token: tok, Step: events.StepCreateSecret, Strategy: "single-user", Duration: 20 * time.Millisecond})
	clock = clock.Add(time.Second)
	e.StepReport(rotation.StepReport{Token: tok, Step: events.StepFinishSecret, Strategy: "single-user", Duration: 5 * time.Millisecond})
	e.StepReport(rotation.StepReport{Step: events.StepCreateSecret, Duration: time.Millisecond, Err: errors.New("bad event")})

	recs := decode(t, buf.String())
	if len(recs) != 4 {
		t.Fatalf("%d lines, want 4 (two steps, one rotation, one failure):\n%s", len(recs), buf.String())
	}
	if recs[2][MetricRotationDuration] != float64(1020) {
		t.Fatalf("RotationDuration %v, want 1020 ms from createSecret's start to finishSecret", recs[2][MetricRotationDuration])
	}
	if recs[3][DimensionStrategy] != UnknownStrategy || recs[3][MetricStepFailures] != float64(1) {
		t.Fatalf("failure before a strategy: %v", recs[3])
	}
	// Every line is the function's: FunctionName in its one dimension set
	// (the dashboard's SEARCH schemas are these sets exactly).
	for i, want := range []string{`[["FunctionName","Step","Strategy"]]`, `[["FunctionName","Step","Strategy"]]`, `[["FunctionName","Strategy"]]`, `[["FunctionName","Step","Strategy"]]`} {
		if got := dimensionSets(recs[i]); got != want || recs[i][DimensionFunctionName] != "rotor-rotator" {
			t.Errorf("line %d: dimension sets %s, FunctionName %v; want %s and rotor-rotator", i, got, recs[i][DimensionFunctionName], want)
		}
	}
}

// dimensionSets is a record's EMF dimension sets as JSON.
func dimensionSets(rec map[string]any) string {
	dir := rec["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)[0].(map[string]any)
	b, _ := json.Marshal(dir["Dimensions"])
	return string(b)
}

func TestLogins(t *testing.T) {
	var buf bytes.Buffer
	report := NewEMF(&buf, "Rotor").WithFunctionName("rotor-rotator").Logins()
	report(strategies.LoginInfo{Engine: "postgres", Host: "db", Port: 5432, User: "app", TLSMode: events.TLSVerifyFull, ServerName: "db"})
	report(strategies.LoginInfo{Engine: "postgres", Host: "db", Port: 5432, User: "app", TLSMode: events.TLSDisable})
	NewEMF(&buf, "Rotor").Logins()(strategies.LoginInfo{TLSMode: events.TLSRequire})
	recs := decode(t, buf.String())
	if len(recs) != 3 {
		t.Fatalf("%d lines, want 3", len(recs))
	}
	for i, want := range []float64{0, 1, 0} {
		if recs[i][MetricLogins] != 1.0 || recs[i][MetricPlaintextLogins] != want {
			t.Errorf("line %d: %v, want Logins 1 and PlaintextLogins %v", i, recs[i], want)
		}
	}
	if recs[0][DimensionFunctionName] != "rotor-rotator" || dimensionSets(recs[0]) != `[["FunctionName"]]` {
		t.Errorf("no FunctionName dimension: %v", recs[0])
	}
	if dimensionSets(recs[2]) != `[[]]` {
		t.Errorf("without a function name: dimension sets %s, want [[]]", dimensionSets(recs[2]))
	}
	if strings.Contains(buf.String(), `"app"`) || strings.Contains(buf.String(), "null") {
		t.Errorf("a login metric carries the user or a null dimension set: %s", buf.String())
	}
}

func TestVersionIsASecondDimensionSet(t *testing.T) {
	var buf bytes.Buffer
	e := NewEMF(&buf, "Rotor").WithVersion("v1.2.3").WithFunctionName("rotor-rotator")
	e.StepReport(rotation.StepReport{Step: events.StepSetSecret, Strategy: "single-user", Duration: time.Millisecond})
	recs := decode(t, buf.String())
	if len(recs) != 1 || recs[0][DimensionVersion] != "v1.2.3" {
		t.Fatalf("records %v, want one with Version v1.2.3", recs)
	}
	if got := dimensionSets(recs[0]); got != `[["FunctionName","Step","Strategy"],["FunctionName","Step","Strategy","Version"]]` {
		t.Fatalf("dimension sets %s: the plain set must stay, so alarms on it keep working", got)
	}
}
