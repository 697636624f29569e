// Package metrics writes CloudWatch metrics in the Embedded Metric Format
// (EMF): one JSON object per line on the function's output, which
// CloudWatch Logs turns into metrics without any API call. Metric lines hold
// names, dimensions and numbers only, never a secret or a secret's name
// beyond its dimension-free log context.
package metrics

import (
	"encoding/json"
	"io"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/rotation"
	"github.com/rotorhq/rotor/strategies"
)

// Metric and dimension names rotor emits.
const (
	MetricStepDuration     = "StepDuration"
	MetricStepFailures     = "StepFailures"
	MetricRotationDuration = "RotationDuration"
	// MetricLogins and MetricPlaintextLogins count the rotator's database
	// logins, and those that sent the password unencrypted ("ssl": false
	// or DB_TLS=disable); the alerts module alarms on the latter.
	MetricLogins          = "Logins"
	MetricPlaintextLogins = "PlaintextLogins"
	DimensionStep         = "Step"
	DimensionStrategy     = "Strategy"
	// DimensionFunctionName is the Lambda function's name
	// (AWS_LAMBDA_FUNCTION_NAME, see WithFunctionName), so deployments
	// sharing a namespace are told apart. It is part of every dimension
	// set rather than a set of its own: one function has one name, so it
	// adds no metric to a deployment (docs/alerting.md, "Cost").
	DimensionFunctionName = "FunctionName"
	// DimensionVersion is the release version of the function that wrote
	// a metric. Every metric is written under its own dimensions and, once
	// more, under those plus Version, so alarms on the plain dimensions
	// keep working across releases while a rollout can be compared version
	// by version.
	DimensionVersion = "Version"
	// UnknownStrategy is the Strategy dimension of a step that failed
	// before its strategy was known.
	UnknownStrategy = "unknown"
)

// EMF writes metric lines to W. Safe for concurrent use.
type EMF struct {
	mu        sync.Mutex
	w         io.Writer
	namespace string
	version   string
	function  string
	now       func() time.Time
	// started remembers when this container began a rotation's
	// createSecret, by token, to report RotationDuration at finishSecret.
	// A rotation whose steps ran in different containers reports no
	// RotationDuration.
	started map[string]time.Time
}

// NewEMF returns a writer for namespace.
func NewEMF(w io.Writer, namespace string) *EMF {
	return &EMF{w: w, namespace: namespace, now: time.Now, started: map[string]time.Time{}}
}

// WithVersion makes every metric line carry version as a Version
// dimension, in a second dimension set beside the plain one; "" leaves it
// out. It returns e.
func (e *EMF) WithVersion(version string) *EMF {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.version = version
	return e
}

// WithFunctionName makes every metric line carry name as a FunctionName
// dimension, in every dimension set; "" leaves it out. It returns e.
func (e *EMF) WithFunctionName(name string) *EMF {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.function = name
	return e
}

type metricDef struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

type directive struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []metricDef `json:"Metrics"`
}

type metadata struct {
	Timestamp         int64       `json:"Timestamp"`
	CloudWatchMetrics []directive `json:"CloudWatchMetrics"`
}

// Write emits one EMF line with the given dimensions (and FunctionName,
// see WithFunctionName) and values. units maps each metric name to its
// CloudWatch unit.
func (e *EMF) Write(dims map[string]string, values map[string]float64, units map[string]string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.write(dims, values, units)
}

func (e *EMF) write(dims map[string]string, values map[string]float64, units map[string]string) error {
	doc := map[string]any{}
	dimNames := []string{} // [[]] is a metric without dimensions; [null] is invalid
	if e.function != "" {
		dims = maps.Clone(dims)
		if dims == nil {
			dims = map[string]string{}
		}
		dims[DimensionFunctionName] = e.function
	}
	for k, v := range dims {
		doc[k] = v
		dimNames = append(dimNames, k)
	}
	slices.Sort(dimNames)
	d := directive{Namespace: e.namespace, Dimensions: [][]string{dimNames}}
	if e.version != "" {
		doc[DimensionVersion] = e.version
		d.Dimensions = append(d.Dimensions, append(slices.Clone(dimNames), DimensionVersion))
	}
	var names []string
	for k := range values {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		d.Metrics = append(d.Metrics, metricDef{Name: k, Unit: units[k]})
		doc[k] = values[k]
	}
	doc["_aws"] = metadata{Timestamp: e.now().UnixMilli(), CloudWatchMetrics: []directive{d}}
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	_, err = e.w.Write(b)
	return err
}

// StepReport emits StepDuration and StepFailures for a step, and
// RotationDuration when a rotation's finishSecret succeeds in the container
// that ran its createSecret. It has the signature of rotation.Options.OnStep.
func (e *EMF) StepReport(r rotation.StepReport) {
	e.mu.Lock()
	defer e.mu.Unlock()
	failed := 0.0
	if r.Err != nil {
		failed = 1
	}
	strategy := r.Strategy
	if strategy == "" {
		// The step failed before a strategy was chosen (a bad event, an
		// unreadable secret). CloudWatch drops empty dimension values, and
		// with them the failure count.
		strategy = UnknownStrategy
	}
	dims := map[string]string{DimensionStep: string(r.Step), DimensionStrategy: strategy}
	_ = e.write(dims,
		map[string]float64{MetricStepDuration: float64(r.Duration.Milliseconds()), MetricStepFailures: failed},
		map[string]string{MetricStepDuration: "Milliseconds", MetricStepFailures: "Count"})

	switch {
	case r.Step == events.StepCreateSecret && r.Err == nil:
		if len(e.started) > 1000 {
			clear(e.started)
		}
		e.started[r.Token] = e.now().Add(-r.Duration)
	case r.Step == events.StepFinishSecret && r.Err == nil:
		if t, ok := e.started[r.Token]; ok {
			delete(e.started, r.Token)
			_ = e.write(map[string]string{DimensionStrategy: r.Strategy},
				map[string]float64{MetricRotationDuration: float64(e.now().Sub(t).Milliseconds())},
				map[string]string{MetricRotationDuration: "Milliseconds"})
		}
	}
}

// Logins returns a strategies.Options.OnLogin hook that writes Logins and
// PlaintextLogins (0 or 1) for every login attempt, under FunctionName
// alone (WithFunctionName).
func (e *EMF) Logins() func(strategies.LoginInfo) {
	return func(l strategies.LoginInfo) {
		plain := 0.0
		if l.Plaintext() {
			plain = 1
		}
		_ = e.Write(nil,
			map[string]float64{MetricLogins: 1, MetricPlaintextLogins: plain},
			map[string]string{MetricLogins: "Count", MetricPlaintextLogins: "Count"})
	}
}
