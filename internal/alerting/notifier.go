package alerting

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/rotorhq/rotor/events"
)

// TagLastAlert is the tag the notifier writes on a secret after alerting
// on it. Its value is "<event time RFC 3339>/<event id>/<step or kind>/<version>"
// (see alertMark); it holds no secret value. Terraform that manages the
// secret's tags must ignore it, as it ignores rotor's outcome tags.
const TagLastAlert = "rotor:last-alert"

// NotifierSecretsAPI is the part of the Secrets Manager client the notifier
// uses; *secretsmanager.Client satisfies it.
type NotifierSecretsAPI interface {
	DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	TagResource(ctx context.Context, in *secretsmanager.TagResourceInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.TagResourceOutput, error)
}

// NotifierOptions configure a Notifier. Secrets, Topic and TopicARN are
// required.
type NotifierOptions struct {
	Secrets  NotifierSecretsAPI
	Topic    TopicAPI
	TopicARN string
	Logger   *slog.Logger
}

// Notifier turns Secrets Manager rotation events into alerts.
type Notifier struct {
	opts NotifierOptions
}

// NewNotifier checks opts and returns a Notifier.
func NewNotifier(opts NotifierOptions) (*Notifier, error) {
	switch {
	case opts.Secrets == nil:
		return nil, errors.New("alerting: no Secrets Manager client")
	case opts.Topic == nil:
		return nil, errors.New("alerting: no SNS client")
	case opts.TopicARN == "":
		return nil, errors.New("alerting: no SNS topic ARN")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Notifier{opts: opts}, nil
}

// NotifyResult says what Handle did with an event.
type NotifyResult struct {
	// Published is true when an alert was sent.
	Published bool
	// Skipped says why no alert was sent ("not a failure",
	// "already alerted", "secret deleted"), when none was.
	Skipped string
	// Alert is the alert sent, or that would have been sent.
	Alert *events.Alert
}

// Handle alerts on one EventBridge event. Events that are not rotation
// failures (RotationStarted, RotationSucceeded, API calls) are ignored.
//
// Idempotency: Handle sends nothing for an event whose id the secret's
// rotor:last-alert tag already holds, for an event older than the one that
// tag records, and for a repeat failure of the same rotation version at the
// same step (Secrets Manager retrying it). Two deliveries of one event
// handled at the same instant may both alert: the tag is read, then written
// after the publish.
//
// It returns an error (so Lambda retries the event) when the secret cannot
// be described or the alert cannot be published; a failure to write the tag
// after publishing is logged, not returned, so a retry does not alert twice
// for that reason.
func (n *Notifier) Handle(ctx context.Context, ev events.SecretsManagerEvent) (NotifyResult, error) {
	if err := ev.Validate(); err != nil {
		return NotifyResult{}, fmt.Errorf("notifier: %w", err)
	}
	log := n.opts.Logger.With("event_id", ev.ID, "event_name", string(ev.Detail.EventName), "secret_id", ev.SecretID())
	if !ev.Detail.EventName.Failure() {
		log.Info("not a rotation failure; nothing to send")
		return NotifyResult{Skipped: "not a failure"}, nil
	}
	desc, err := n.opts.Secrets.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(ev.SecretID())})
	if err != nil {
		var nf *smtypes.ResourceNotFoundException
		if errors.As(err, &nf) {
			log.Warn("secret no longer exists; nothing to send")
			return NotifyResult{Skipped: "secret deleted"}, nil
		}
		return NotifyResult{}, fmt.Errorf("describe secret %s: %w", ev.SecretID(), err)
	}
	a := n.alertFor(ev, desc)
	mark := alertMark(ev.OccurredAt(), ev.ID, markStep(a), a.VersionID)
	if prev := events.TagOf(desc.Tags, TagLastAlert); prev != "" && alreadyAlerted(prev, mark) {
		log.Info("already alerted", "last_alert", prev)
		return NotifyResult{Skipped: "already alerted", Alert: &a}, nil
	}
	if err := Publish(ctx, n.opts.Topic, n.opts.TopicARN, a); err != nil {
		return NotifyResult{Alert: &a}, err
	}
	log.Info("alert sent", "alert", a)
	_, err = n.opts.Secrets.TagResource(ctx, &secretsmanager.TagResourceInput{
		SecretId: desc.ARN,
		Tags:     []smtypes.Tag{{Key: aws.String(TagLastAlert), Value: aws.String(mark.String())}},
	})
	if err != nil {
		log.Error("alert sent but not recorded; a redelivery of this event will alert again", "error", err.Error())
	}
	return NotifyResult{Published: true, Alert: &a}, nil
}

// alertFor builds the alert from the event and the secret's metadata. The
// failed step and reason come from rotor's outcome tags when they describe
// this rotation (their version is the one still AWSPENDING, or no version
// is pending); otherwise from Secrets Manager's errorMessage, which covers
// failures rotor could not record (function missing, timed out, denied).
func (n *Notifier) alertFor(ev events.SecretsManagerEvent, desc *secretsmanager.DescribeSecretOutput) events.Alert {
	a := events.Alert{
		Kind:        events.AlertRotationFailed,
		SecretARN:   aws.ToString(desc.ARN),
		SecretName:  aws.ToString(desc.Name),
		Region:      ev.Region,
		Account:     ev.Account,
		DetectedAt:  ev.OccurredAt().UTC(),
		EventID:     ev.ID,
		LastRotated: utc(desc.LastRotatedDate),
		FunctionARN: aws.ToString(desc.RotationLambdaARN),
	}
	if a.SecretARN == "" {
		a.SecretARN = ev.SecretID()
	}
	if aws.ToBool(desc.RotationEnabled) {
		a.NextRotation = utc(desc.NextRotationDate)
	}
	if ev.Detail.EventName == events.RotationAbandoned {
		a.Kind = events.AlertRotationAbandoned
	}
	pending := events.StrandedPending(desc.VersionIdsToStages)
	tagVersion := events.TagOf(desc.Tags, events.TagLastVersion)
	tagsFailed := events.TagOf(desc.Tags, events.TagLastRotation) == events.OutcomeFailed
	switch {
	case a.Kind == events.AlertRotationAbandoned:
		a.VersionID = tagVersion
		if tagsFailed {
			a.FailedStep = events.Step(events.TagOf(desc.Tags, events.TagLastErrorStep))
			a.Reason = events.TagOf(desc.Tags, events.TagLastError)
		}
	case tagsFailed && (pending == "" || pending == tagVersion):
		a.VersionID = tagVersion
		a.FailedStep = events.Step(events.TagOf(desc.Tags, events.TagLastErrorStep))
		a.Reason = events.TagOf(desc.Tags, events.TagLastError)
	default:
		a.VersionID = pending
		a.FailedStep = ev.ReportedStep()
		if ev.Detail.ErrorMessage != "" {
			a.Reason = "Secrets Manager: " + clip(ev.Detail.ErrorMessage, maxReason)
		}
	}
	if !a.FailedStep.Valid() {
		a.FailedStep = ""
	}
	a.Actions = actions(a)
	return a
}

// mark is what rotor:last-alert records.
type mark struct {
	Time    time.Time
	EventID string
	Step    string
	Version string
}

func alertMark(t time.Time, id, step, version string) mark {
	return mark{Time: t.UTC().Truncate(time.Second), EventID: events.TagValue(id), Step: events.TagValue(step), Version: events.TagValue(version)}
}

// String is the tag value. The version goes last: it is the only part that
// could hold a "/".
func (m mark) String() string {
	return events.TagValue(m.Time.Format(time.RFC3339) + "/" + m.EventID + "/" + m.Step + "/" + m.Version)
}

func parseMark(s string) (mark, bool) {
	parts := strings.SplitN(s, "/", 4)
	if len(parts) != 4 {
		return mark{}, false
	}
	t, err := time.Parse(time.RFC3339, parts[0])
	if err != nil {
		return mark{}, false
	}
	return mark{Time: t, EventID: parts[1], Step: parts[2], Version: parts[3]}, true
}

// alreadyAlerted reports whether the recorded mark prev covers the event
// described by next.
func alreadyAlerted(prev string, next mark) bool {
	p, ok := parseMark(prev)
	if !ok {
		return false
	}
	switch {
	case p.EventID == next.EventID:
		return true
	case p.Time.After(next.Time):
		// A late redelivery of an event older than the one alerted.
		return true
	case next.Version != "" && p.Version == next.Version && p.Step == next.Step:
		// The same rotation failing again at the same step.
		return true
	}
	return false
}

func markStep(a events.Alert) string {
	if a.Kind == events.AlertRotationAbandoned {
		return "abandoned"
	}
	if a.FailedStep != "" {
		return string(a.FailedStep)
	}
	return "unknown"
}

// pendingVersion returns the version that holds AWSPENDING without
// AWSCURRENT, or "".

func utc(t *time.Time) *time.Time {
	if t == nil || t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}
