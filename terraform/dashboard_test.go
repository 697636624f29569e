package terraform_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/alerting"
	"github.com/rotorhq/rotor/internal/metrics"
)

// Stand-ins for the values Terraform knows only at apply time.
const (
	dashNamespace = "TestNamespace"
	dashAuditor   = "test-auditor"
	dashRotator   = "test-rotator"
	dashTopic     = "test-alerts"
	snsNamespace  = "AWS/SNS"
	snsPublished  = "NumberOfMessagesPublished"
	snsTopicDim   = "TopicName"
)

// emitted is what the functions write: metric name to its exact dimension
// names (CloudWatch matches a dimension set exactly) and the value a
// FunctionName dimension must carry on the dashboard.
type emittedMetric struct {
	dims     []string
	function string
}

var emitted = map[string]emittedMetric{
	metrics.MetricStepDuration:      {dims: []string{metrics.DimensionFunctionName, metrics.DimensionStep, metrics.DimensionStrategy}, function: dashRotator},
	metrics.MetricStepFailures:      {dims: []string{metrics.DimensionFunctionName, metrics.DimensionStep, metrics.DimensionStrategy}, function: dashRotator},
	metrics.MetricRotationDuration:  {dims: []string{metrics.DimensionFunctionName, metrics.DimensionStrategy}, function: dashRotator},
	metrics.MetricLogins:            {dims: []string{metrics.DimensionFunctionName}, function: dashRotator},
	metrics.MetricPlaintextLogins:   {dims: []string{metrics.DimensionFunctionName}, function: dashRotator},
	alerting.MetricOverdueSecrets:   {dims: []string{alerting.DimensionFunctionName}, function: dashAuditor},
	alerting.MetricStuckRotations:   {dims: []string{alerting.DimensionFunctionName}, function: dashAuditor},
	alerting.MetricFailedRotations:  {dims: []string{alerting.DimensionFunctionName}, function: dashAuditor},
	alerting.MetricMissingFunctions: {dims: []string{alerting.DimensionFunctionName}, function: dashAuditor},
	alerting.MetricSecretsAudited:   {dims: []string{alerting.DimensionFunctionName}, function: dashAuditor},
	alerting.MetricAuditErrors:      {dims: []string{alerting.DimensionFunctionName}, function: dashAuditor},
}

// dashboardMust lists what the issue asks the dashboard to show, as
// "metric stat" ("" stat: any).
var dashboardMust = []string{
	metrics.MetricStepDuration + " SampleCount", // rotations finished
	metrics.MetricStepFailures + " Sum",
	metrics.MetricRotationDuration + " p50",
	metrics.MetricRotationDuration + " p99",
	alerting.MetricOverdueSecrets + " ", alerting.MetricStuckRotations + " ",
	alerting.MetricFailedRotations + " ", alerting.MetricMissingFunctions + " ",
	snsPublished + " ",
}

// searchExpr matches the SEARCH expressions the dashboard uses: a schema
// {"namespace",Dim,...}, a MetricName and optional Dim="value" filters.
var searchExpr = regexp.MustCompile(`^SEARCH\('\{"([^"]+)",([^}]+)\} MetricName="([^"]+)"((?: [A-Za-z]+="[^"]*")*)', '([^']+)', [0-9]+\)$`)
var searchFilter = regexp.MustCompile(` ([A-Za-z]+)="([^"]*)"`)

// evalDashboard evaluates modules/alerts' dashboard_body as Terraform
// would, with stand-ins for the apply-time values; rotator "" means
// rotator_function_name = null.
func evalDashboard(t *testing.T, rotator string) []byte {
	t.Helper()
	src, err := os.ReadFile("modules/alerts/main.tf")
	if err != nil {
		t.Fatal(err)
	}
	f, diags := hclsyntax.ParseConfig(src, "modules/alerts/main.tf", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var (
		body   hclsyntax.Expression
		locals []*hclsyntax.Attribute
	)
	for _, b := range f.Body.(*hclsyntax.Body).Blocks {
		if b.Type == "resource" && len(b.Labels) == 2 && b.Labels[0] == "aws_cloudwatch_dashboard" {
			if a, ok := b.Body.Attributes["dashboard_body"]; ok {
				body = a.Expr
			}
		}
		if b.Type == "locals" {
			for _, a := range b.Body.Attributes {
				locals = append(locals, a)
			}
		}
	}
	if body == nil {
		t.Fatal("modules/alerts/main.tf: no aws_cloudwatch_dashboard with a dashboard_body")
	}
	rot := cty.NullVal(cty.String)
	if rotator != "" {
		rot = cty.StringVal(rotator)
	}
	local := map[string]cty.Value{"region": cty.StringVal("eu-west-1")}
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{
			"var":   cty.ObjectVal(map[string]cty.Value{"metrics_namespace": cty.StringVal(dashNamespace), "rotator_function_name": rot}),
			"local": cty.ObjectVal(local),
			// Counted by the create flag: one instance each.
			"module":        cty.ObjectVal(map[string]cty.Value{"auditor": cty.TupleVal([]cty.Value{cty.ObjectVal(map[string]cty.Value{"function_name": cty.StringVal(dashAuditor)})})}),
			"aws_sns_topic": cty.ObjectVal(map[string]cty.Value{"alerts": cty.TupleVal([]cty.Value{cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal(dashTopic)})})}),
		},
		Functions: map[string]function.Function{"jsonencode": stdlib.JSONEncodeFunc, "concat": stdlib.ConcatFunc},
	}
	// The locals the body uses that follow from these variables alone
	// (rotator_search_filter, rotator_label), as the module computes them.
	for range 3 {
		for _, a := range locals {
			if _, done := local[a.Name]; done {
				continue
			}
			if v, diags := a.Expr.Value(ctx); !diags.HasErrors() && v.IsWhollyKnown() {
				local[a.Name] = v
				ctx.Variables["local"] = cty.ObjectVal(local)
			}
		}
	}
	v, diags := body.Value(ctx)
	if diags.HasErrors() {
		t.Fatalf("dashboard_body does not evaluate: %v", diags)
	}
	return []byte(v.AsString())
}

// dashboardProblems checks a dashboard body: every metric it shows is one
// the functions emit, under the dimension names they write, in the
// namespace they write it to; and it shows everything in dashboardMust.
// seen receives "metric stat" for each metric shown.
func dashboardProblems(body []byte) (problems []string, seen map[string]bool) {
	seen = map[string]bool{}
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	var d struct {
		Widgets []struct {
			Properties struct {
				Title   string  `json:"title"`
				Stat    string  `json:"stat"`
				Metrics [][]any `json:"metrics"`
			} `json:"properties"`
		} `json:"widgets"`
	}
	if err := json.Unmarshal(body, &d); err != nil {
		return []string{"dashboard body: " + err.Error()}, seen
	}
	// check reports a metric outside rotor's namespace, not emitted, or
	// shown with other dimension names than it is written with.
	check := func(title, ns, name string, dims []string) (emittedMetric, bool) {
		if ns != dashNamespace {
			bad("%q: namespace %q, want var.metrics_namespace", title, ns)
		}
		em, ok := emitted[name]
		if !ok {
			bad("%q: metric %q is not one rotor emits", title, name)
			return em, false
		}
		got := slices.Sorted(slices.Values(dims))
		if want := slices.Sorted(slices.Values(em.dims)); !slices.Equal(got, want) {
			bad("%q: %s shown with dimensions %v, emitted with %v", title, name, got, want)
		}
		return em, true
	}
	steps := map[string]bool{}
	for _, s := range events.Steps {
		steps[string(s)] = true
	}
	for _, w := range d.Widgets {
		p := w.Properties
		for _, row := range p.Metrics {
			if len(row) == 0 {
				bad("%q: empty metric row", p.Title)
				continue
			}
			if opts, ok := row[0].(map[string]any); ok {
				expr, _ := opts["expression"].(string)
				m := searchExpr.FindStringSubmatch(expr)
				if m == nil {
					bad("%q: expression %q is not a SEARCH this test reads", p.Title, expr)
					continue
				}
				ns, dims, name, filters, stat := m[1], strings.Split(m[2], ","), m[3], m[4], m[5]
				em, ok := check(p.Title, ns, name, dims)
				if !ok {
					continue
				}
				for _, f := range searchFilter.FindAllStringSubmatch(filters, -1) {
					if !slices.Contains(em.dims, f[1]) {
						bad("%q: %s filtered on dimension %q it does not carry", p.Title, name, f[1])
					}
					if f[1] == metrics.DimensionStep && !steps[f[2]] {
						bad("%q: Step %q is not a rotation step", p.Title, f[2])
					}
					if f[1] == metrics.DimensionFunctionName && f[2] != em.function {
						bad("%q: %s on FunctionName %q, want %q", p.Title, name, f[2], em.function)
					}
				}
				seen[name+" "+stat] = true
				seen[name+" "] = true
				continue
			}
			// [namespace, name, dim, value, ..., {options}]
			var strs []string
			stat := p.Stat
			for _, e := range row {
				switch e := e.(type) {
				case string:
					strs = append(strs, e)
				case map[string]any:
					if s, ok := e["stat"].(string); ok {
						stat = s
					}
				}
			}
			if len(strs) < 2 || len(strs)%2 != 0 {
				bad("%q: metric row %v is not [namespace, name, dimension, value...]", p.Title, row)
				continue
			}
			ns, name := strs[0], strs[1]
			dims := map[string]string{}
			for i := 2; i < len(strs); i += 2 {
				dims[strs[i]] = strs[i+1]
			}
			seen[name+" "+stat] = true
			seen[name+" "] = true
			if ns == snsNamespace {
				if name != snsPublished || len(dims) != 1 || dims[snsTopicDim] != dashTopic {
					bad("%q: %s %s %v, want %s on %s = the alert topic", p.Title, ns, name, dims, snsPublished, snsTopicDim)
				}
				continue
			}
			em, ok := check(p.Title, ns, name, slices.Collect(maps.Keys(dims)))
			if !ok {
				continue
			}
			if fn, ok := dims[metrics.DimensionFunctionName]; ok && fn != em.function {
				bad("%q: %s on FunctionName %q, want %q", p.Title, name, fn, em.function)
			}
		}
	}
	for _, m := range dashboardMust {
		if !seen[m] {
			bad("the dashboard does not show %q", strings.TrimSpace(m))
		}
	}
	return problems, seen
}

// TestDashboardShowsWhatTheFunctionsEmit evaluates the alerts module's
// dashboard and holds every metric and dimension name in it to the Go
// constants the rotator and auditor write, so a rename on either side
// fails here instead of leaving an empty graph.
func TestDashboardShowsWhatTheFunctionsEmit(t *testing.T) {
	withRotator := evalDashboard(t, dashRotator)
	problems, seen := dashboardProblems(withRotator)
	for _, p := range problems {
		t.Error(p)
	}
	if !seen[metrics.MetricPlaintextLogins+" "] {
		t.Error("with rotator_function_name the dashboard does not show the rotator's PlaintextLogins")
	}
	problems, seen = dashboardProblems(evalDashboard(t, ""))
	for _, p := range problems {
		t.Error("rotator_function_name = null: " + p)
	}
	if seen[metrics.MetricLogins+" "] {
		t.Error("rotator_function_name = null: the dashboard still shows the rotator's logins")
	}

	// The checker catches what it is there for.
	for _, c := range []struct{ name, old, new string }{
		{"renamed metric", `MetricName=\"` + metrics.MetricStepFailures + `\"`, `MetricName=\"StepFailed\"`},
		{"extra dimension", `\",FunctionName,Step,Strategy}`, `\",FunctionName,Step,Strategy,Version}`},
		{"dimension dropped", `\",FunctionName,Strategy}`, `\",Strategy}`},
		{"wrong rotator", `FunctionName=\"` + dashRotator + `\"`, `FunctionName=\"` + dashAuditor + `\"`},
		{"wrong step", `Step=\"finishSecret\"`, `Step=\"finish\"`},
		{"wrong auditor", `"` + dashAuditor + `"`, `"` + dashRotator + `"`},
		{"dimension renamed", `"TopicName"`, `"Topic"`},
		{"p99 dropped", `'p99', 3600`, `'p90', 3600`},
	} {
		planted := strings.ReplaceAll(string(withRotator), c.old, c.new)
		if planted == string(withRotator) {
			t.Errorf("%s: %q not in the dashboard body", c.name, c.old)
			continue
		}
		if problems, _ := dashboardProblems([]byte(planted)); len(problems) == 0 {
			t.Errorf("%s: the checker found nothing", c.name)
		}
	}
}
