package terraform_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rotorhq/rotor/internal/alerting"
	"github.com/rotorhq/rotor/internal/metrics"
	"github.com/rotorhq/rotor/rotation"
)

// TestTagKeysMatchTheCode holds the Terraform to the tag keys the Go code
// writes: the rotator's IAM may tag exactly rotation.OutcomeTagKeys, and the
// rotated secret ignores changes to those and to the notifier's tag, so
// neither a renamed tag nor a new one can silently break rotation or make
// Terraform strip what rotor recorded.
func TestTagKeysMatchTheCode(t *testing.T) {
	rotator, err := os.ReadFile("modules/rotator/main.tf")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`outcome_tag_keys\s*=\s*\[([^\]]*)\]`).FindSubmatch(rotator)
	if m == nil {
		t.Fatal("modules/rotator/main.tf: no outcome_tag_keys local")
	}
	var keys []string
	for _, q := range regexp.MustCompile(`"([^"]+)"`).FindAllSubmatch(m[1], -1) {
		keys = append(keys, string(q[1]))
	}
	want := slices.Clone(rotation.OutcomeTagKeys)
	slices.Sort(keys)
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		t.Errorf("rotator module outcome_tag_keys %v, rotation.OutcomeTagKeys %v", keys, want)
	}
	if !regexp.MustCompile(`pin_tag_key\s*=\s*"` + regexp.QuoteMeta(rotation.TagBaseUser) + `"`).Match(rotator) {
		t.Errorf("modules/rotator/main.tf: pin_tag_key must be %q (rotation.TagBaseUser)", rotation.TagBaseUser)
	}

	alerts, err := os.ReadFile("modules/alerts/main.tf")
	if err != nil {
		t.Fatal(err)
	}
	m = regexp.MustCompile(`alert_tag_keys\s*=\s*\[([^\]]*)\]`).FindSubmatch(alerts)
	if m == nil || string(m[1]) != `"`+alerting.TagLastAlert+`"` {
		t.Errorf("modules/alerts/main.tf: alert_tag_keys must be exactly [%q]", alerting.TagLastAlert)
	}

	secret, err := os.ReadFile("modules/rotated-secret/main.tf")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range append(slices.Clone(rotation.OutcomeTagKeys), alerting.TagLastAlert, rotation.TagBaseUser) {
		for _, attr := range []string{"tags", "tags_all"} {
			if !regexp.MustCompile(regexp.QuoteMeta(attr + `["` + k + `"]`)).Match(secret) {
				t.Errorf("modules/rotated-secret: ignore_changes lacks %s[%q]", attr, k)
			}
		}
	}
}

// TestPlaintextAlarmWatchesWhatTheRotatorEmits: the alerts module's
// plaintext-login alarm names the metric and dimension the rotator writes
// (metrics.Logins), so a rename cannot leave it watching nothing.
func TestPlaintextAlarmWatchesWhatTheRotatorEmits(t *testing.T) {
	alerts, err := os.ReadFile("modules/alerts/main.tf")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile(`(?s)resource "aws_cloudwatch_metric_alarm" "plaintext_logins" \{.*?\n\}`).Find(alerts)
	if block == nil {
		t.Fatal("modules/alerts/main.tf: no plaintext_logins alarm")
	}
	for _, want := range []string{`metric_name         = "` + metrics.MetricPlaintextLogins + `"`, `dimensions          = { ` + metrics.DimensionFunctionName + ` = var.rotator_function_name }`, `namespace           = var.metrics_namespace`} {
		if !strings.Contains(string(block), want) {
			t.Errorf("plaintext_logins alarm lacks %s", want)
		}
	}
}

// TestReapAlarmWatchesWhatTheReaperEmits: the leases module's reap-failure
// alarm names the metric and dimension the reaper writes
// (metrics.EMF.LeaseReap), so a rename cannot leave it watching nothing.
func TestReapAlarmWatchesWhatTheReaperEmits(t *testing.T) {
	leases, err := os.ReadFile("modules/leases/main.tf")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile(`(?s)resource "aws_cloudwatch_metric_alarm" "reap_failures" \{.*?\n\}`).Find(leases)
	if block == nil {
		t.Fatal("modules/leases/main.tf: no reap_failures alarm")
	}
	for _, want := range []string{`metric_name         = "` + metrics.MetricLeaseReapFailures + `"`, `dimensions          = { ` + metrics.DimensionFunctionName + ` = module.reaper[0].function_name }`, `namespace           = var.metrics_namespace`} {
		if !strings.Contains(string(block), want) {
			t.Errorf("reap_failures alarm lacks %s", want)
		}
	}
}
