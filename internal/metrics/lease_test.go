package metrics

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestLeaseMetrics: each request outcome counts under its metric with the
// Role and FunctionName dimensions; a reaper run writes both counts.
func TestLeaseMetrics(t *testing.T) {
	var buf bytes.Buffer
	e := NewEMF(&buf, "RotorTest")
	out := e.LeaseOutcome("rotor-issuer")
	for _, c := range []struct{ action, outcome, metric string }{
		{"issue", "ok", MetricLeasesIssued},
		{"renew", "ok", MetricLeasesRenewed},
		{"revoke", "ok", MetricLeasesRevoked},
		{"issue", "InvalidLeaseRequest", MetricLeasesRefused},
		{"renew", "LeaseDenied", MetricLeasesRefused},
		{"issue", "LeaseFailed", MetricLeaseFailures},
	} {
		buf.Reset()
		out(c.action, "app", c.outcome)
		var line map[string]any
		if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
			t.Fatalf("%s/%s: %v", c.action, c.outcome, err)
		}
		if line[c.metric] != 1.0 || line[DimensionRole] != "app" || line[DimensionFunctionName] != "rotor-issuer" {
			t.Fatalf("%s/%s: %s, want %s=1 with Role and FunctionName", c.action, c.outcome, buf.String(), c.metric)
		}
	}
	buf.Reset()
	e.LeaseReap("rotor-reaper", 3, 1)
	if s := buf.String(); !strings.Contains(s, `"LeasesReaped":3`) || !strings.Contains(s, `"LeaseReapFailures":1`) || !strings.Contains(s, `"FunctionName":"rotor-reaper"`) {
		t.Fatalf("reap line %s", s)
	}
}
