package alerting

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/rotorhq/rotor/events"
)

// AuditorSecretsAPI is the part of the Secrets Manager client the auditor
// uses; *secretsmanager.Client satisfies it.
type AuditorSecretsAPI interface {
	ListSecrets(ctx context.Context, in *secretsmanager.ListSecretsInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.ListSecretsOutput, error)
	ListSecretVersionIds(ctx context.Context, in *secretsmanager.ListSecretVersionIdsInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.ListSecretVersionIdsOutput, error)
}

// FunctionsAPI reads a Lambda function's configuration; *lambda.Client
// satisfies it. GetFunctionConfiguration, not GetFunction: it needs no
// access to the function's code.
type FunctionsAPI interface {
	GetFunctionConfiguration(ctx context.Context, in *lambda.GetFunctionConfigurationInput, optFns ...func(*lambda.Options)) (*lambda.GetFunctionConfigurationOutput, error)
}

// MetricWriter writes one EMF line; *metrics.EMF satisfies it.
type MetricWriter interface {
	Write(dims map[string]string, values map[string]float64, units map[string]string) error
}

// Metric names the auditor emits every run, and its dimension.
const (
	MetricOverdueSecrets   = "OverdueSecrets"
	MetricStuckRotations   = "StuckRotations"
	MetricFailedRotations  = "FailedRotations"
	MetricMissingFunctions = "MissingFunctions"
	MetricSecretsAudited   = "SecretsAudited"
	MetricAuditErrors      = "AuditErrors"
	// DimensionFunctionName is the auditor's Lambda function name, so two
	// deployments in one account keep separate series.
	DimensionFunctionName = "FunctionName"
)

// DefaultStuckAfter is how long AWSPENDING may sit on a non-current
// version before the auditor calls the rotation stuck. A rotation's four
// steps take seconds to minutes (at most 15 minutes each, Lambda's limit)
// and Secrets Manager's retries follow within the hour.
const DefaultStuckAfter = 2 * time.Hour

// AuditorOptions configure an Auditor. Secrets, Functions, Topic and
// TopicARN are required.
type AuditorOptions struct {
	Secrets   AuditorSecretsAPI
	Functions FunctionsAPI
	Topic     TopicAPI
	TopicARN  string
	// Metrics receives the per-run counts; nil writes none.
	Metrics MetricWriter
	// FunctionName is the DimensionFunctionName value.
	FunctionName string
	// StuckAfter defaults to DefaultStuckAfter.
	StuckAfter time.Duration
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
	// Region and Account label alerts (optional).
	Region, Account string
	// PageSize is ListSecrets' MaxResults (1–100, default 100).
	PageSize int32
}

// Auditor checks every secret with rotation enabled.
type Auditor struct {
	opts AuditorOptions
}

// NewAuditor checks opts and returns an Auditor.
func NewAuditor(opts AuditorOptions) (*Auditor, error) {
	switch {
	case opts.Secrets == nil:
		return nil, errors.New("alerting: no Secrets Manager client")
	case opts.Functions == nil:
		return nil, errors.New("alerting: no Lambda client")
	case opts.Topic == nil:
		return nil, errors.New("alerting: no SNS client")
	case opts.TopicARN == "":
		return nil, errors.New("alerting: no SNS topic ARN")
	}
	if opts.StuckAfter <= 0 {
		opts.StuckAfter = DefaultStuckAfter
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.PageSize <= 0 || opts.PageSize > 100 {
		opts.PageSize = 100
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Auditor{opts: opts}, nil
}

// Report is the outcome of one audit run.
type Report struct {
	// Audited counts secrets with rotation enabled.
	Audited int
	// Findings holds one alert per finding, in ListSecrets order.
	Findings []events.Alert
	// Published counts findings sent to SNS.
	Published int
	// Errors counts checks that could not be made and alerts that could
	// not be published.
	Errors int
}

// Count returns the number of findings of kind k.
func (r Report) Count(k events.AlertKind) int {
	n := 0
	for _, f := range r.Findings {
		if f.Kind == k {
			n++
		}
	}
	return n
}

// Run audits every secret once, publishes one alert per finding and writes
// the run's metrics. A check that cannot be made (a Lambda or Secrets
// Manager error other than "not found") is logged and counted in
// AuditErrors; the run goes on with the other secrets and checks. Run
// returns an error when listing failed or anything was counted in
// AuditErrors, after writing the metrics, so the function's Errors metric
// shows an incomplete audit.
func (a *Auditor) Run(ctx context.Context) (Report, error) {
	now := a.opts.Now().UTC()
	var rep Report
	fn := map[string]functionState{}
	var listErr error
	p := secretsmanager.NewListSecretsPaginator(a.opts.Secrets, &secretsmanager.ListSecretsInput{MaxResults: aws.Int32(a.opts.PageSize)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			listErr = fmt.Errorf("list secrets: %w", err)
			rep.Errors++
			break
		}
		for _, s := range page.SecretList {
			if !aws.ToBool(s.RotationEnabled) {
				continue
			}
			rep.Audited++
			found, errs := a.check(ctx, now, s, fn)
			rep.Errors += errs
			for _, f := range found {
				f.Actions = actions(f)
				rep.Findings = append(rep.Findings, f)
				if err := Publish(ctx, a.opts.Topic, a.opts.TopicARN, f); err != nil {
					a.opts.Logger.Error("alert not published", "secret", f.SecretARN, "kind", string(f.Kind), "error", err.Error())
					rep.Errors++
					continue
				}
				rep.Published++
				a.opts.Logger.Info("finding", "alert", f)
			}
		}
	}
	a.writeMetrics(rep)
	a.opts.Logger.Info("audit done", "audited", rep.Audited, "findings", len(rep.Findings), "published", rep.Published, "errors", rep.Errors)
	if listErr != nil {
		return rep, listErr
	}
	if rep.Errors > 0 {
		return rep, fmt.Errorf("audit incomplete: %d checks or alerts failed (see the log)", rep.Errors)
	}
	return rep, nil
}

func (a *Auditor) writeMetrics(rep Report) {
	if a.opts.Metrics == nil {
		return
	}
	values := map[string]float64{
		MetricOverdueSecrets:   float64(rep.Count(events.AlertOverdue)),
		MetricStuckRotations:   float64(rep.Count(events.AlertStuck)),
		MetricFailedRotations:  float64(rep.Count(events.AlertLastRotationFailed)),
		MetricMissingFunctions: float64(rep.Count(events.AlertFunctionMissing)),
		MetricSecretsAudited:   float64(rep.Audited),
		MetricAuditErrors:      float64(rep.Errors),
	}
	units := make(map[string]string, len(values))
	for k := range values {
		units[k] = "Count"
	}
	if err := a.opts.Metrics.Write(map[string]string{DimensionFunctionName: a.opts.FunctionName}, values, units); err != nil {
		a.opts.Logger.Error("write metrics", "error", err.Error())
	}
}

// check returns the findings for one secret and the number of checks that
// could not be made.
func (a *Auditor) check(ctx context.Context, now time.Time, s smtypes.SecretListEntry, fn map[string]functionState) ([]events.Alert, int) {
	base := events.Alert{
		SecretARN:    aws.ToString(s.ARN),
		SecretName:   aws.ToString(s.Name),
		Region:       a.opts.Region,
		Account:      a.opts.Account,
		DetectedAt:   now,
		LastRotated:  utc(s.LastRotatedDate),
		NextRotation: utc(s.NextRotationDate),
		FunctionARN:  aws.ToString(s.RotationLambdaARN),
	}
	log := a.opts.Logger.With("secret", base.SecretARN)
	var out []events.Alert
	errs := 0

	// Overdue: the window after the due date has closed, by either reading
	// of the due date (see overdue).
	if due, deadline, late, err := overdue(now, s); err != nil {
		log.Error("overdue check", "error", err.Error())
		errs++
	} else if late {
		f := base
		f.Kind = events.AlertOverdue
		f.NextRotation = &due
		f.Deadline = &deadline
		out = append(out, f)
	}

	// Stuck: AWSPENDING on a non-current version for too long.
	if v := events.StrandedPending(s.SecretVersionsToStages); v != "" {
		created, err := a.versionCreated(ctx, base.SecretARN, v)
		switch {
		case err != nil:
			log.Error("stuck check", "version", v, "error", err.Error())
			errs++
		case !created.IsZero() && now.Sub(created) >= a.opts.StuckAfter:
			// A version without a CreatedDate (not listed any more) is
			// not called stuck: the rotation may have just finished.
			f := base
			f.Kind = events.AlertStuck
			f.VersionID = v
			f.Reason = fmt.Sprintf("AWSPENDING on version %s since %s", v, created.UTC().Format(time.RFC3339))
			out = append(out, f)
		}
	}

	// Last outcome failed, as rotor recorded it.
	if events.TagOf(s.Tags, events.TagLastRotation) == events.OutcomeFailed {
		f := base
		f.Kind = events.AlertLastRotationFailed
		f.FailedStep = events.Step(events.TagOf(s.Tags, events.TagLastErrorStep))
		if !f.FailedStep.Valid() {
			f.FailedStep = ""
		}
		f.Reason = events.TagOf(s.Tags, events.TagLastError)
		f.VersionID = events.TagOf(s.Tags, events.TagLastVersion)
		out = append(out, f)
	}

	// Rotation function missing or not invokable.
	st, ok := fn[base.FunctionARN]
	if !ok {
		st = a.functionState(ctx, base.FunctionARN)
		fn[base.FunctionARN] = st
	}
	switch {
	case st.err != nil:
		log.Error("function check", "function", base.FunctionARN, "error", st.err.Error())
		errs++
	case st.problem != "":
		f := base
		f.Kind = events.AlertFunctionMissing
		f.Reason = st.problem
		out = append(out, f)
	}
	return out, errs
}

// functionState is the result of checking one rotation function: a
// problem that makes it not invokable, or an error that prevented the
// check.
type functionState struct {
	problem string
	err     error
}

// invokable lists the function states Lambda runs invocations in; an
// Inactive function is reactivated by its next invocation.
var invokable = map[lambdatypes.State]bool{
	lambdatypes.StateActive:   true,
	lambdatypes.StateInactive: true,
	lambdatypes.StatePending:  true,
	"":                        true, // not reported: assume invokable
}

func (a *Auditor) functionState(ctx context.Context, arn string) functionState {
	if arn == "" {
		return functionState{problem: "rotation is enabled but no RotationLambdaARN is set"}
	}
	out, err := a.opts.Functions.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(arn)})
	if err != nil {
		var nf *lambdatypes.ResourceNotFoundException
		if errors.As(err, &nf) {
			return functionState{problem: "function " + arn + " does not exist"}
		}
		return functionState{err: fmt.Errorf("get function configuration %s: %w", arn, err)}
	}
	if !invokable[out.State] {
		p := fmt.Sprintf("function %s is in state %s", arn, out.State)
		if r := aws.ToString(out.StateReason); r != "" {
			p += ": " + clip(r, 300)
		}
		return functionState{problem: p}
	}
	return functionState{}
}

// versionCreated returns the CreatedDate of one version (zero when the
// service does not report it).
func (a *Auditor) versionCreated(ctx context.Context, secretARN, versionID string) (time.Time, error) {
	p := secretsmanager.NewListSecretVersionIdsPaginator(a.opts.Secrets, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String(secretARN), MaxResults: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return time.Time{}, fmt.Errorf("list versions of %s: %w", secretARN, err)
		}
		for _, v := range page.Versions {
			if aws.ToString(v.VersionId) == versionID {
				return aws.ToTime(v.CreatedDate), nil
			}
		}
	}
	return time.Time{}, nil
}
