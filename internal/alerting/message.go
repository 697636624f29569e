package alerting

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/rotorhq/rotor/events"
)

// TopicAPI is the one SNS call alerts need; *sns.Client satisfies it.
type TopicAPI interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// NewTopic returns the SNS client alerts are published with: the SDK's,
// whose retryer also retries SNS's own throttling error, Throttled (HTTP
// 429), which is not among the SDK's throttle codes, so a throttled
// alert is retried like any other throttled call instead of failing.
func NewTopic(cfg aws.Config) *sns.Client {
	return sns.NewFromConfig(cfg, func(o *sns.Options) {
		o.Retryer = retry.AddWithErrorCodes(o.Retryer, snsThrottled)
	})
}

// snsThrottled is SNS's throttling error code.
const snsThrottled = "Throttled"

// SNS message attributes on every alert, for subscription filter policies.
const (
	AttrKind   = "kind"   // an events.AlertKind
	AttrSecret = "secret" // the secret's name
	AttrStep   = "step"   // the failed step, when known
)

// Message is an alert as SNS carries it.
type Message struct {
	// Subject is the e-mail subject: at most 100 printable ASCII
	// characters, one line (SNS's rule).
	Subject string
	// Body is the readable alert.
	Body string
	// Attributes are string message attributes (AttrKind, AttrSecret,
	// AttrStep).
	Attributes map[string]string
}

// maxSubject is SNS's limit on Subject.
const maxSubject = 100

// maxReason bounds the reason quoted in an alert.
const maxReason = 1000

// Render builds the message for an alert. It uses the alert's fields only,
// which never hold a secret value.
func Render(a events.Alert) Message {
	name := a.SecretName
	if name == "" {
		name = secretNameFromARN(a.SecretARN)
	}
	var headline string
	switch a.Kind {
	case events.AlertRotationFailed:
		headline = "rotation failed"
		if a.FailedStep != "" {
			headline += " at " + string(a.FailedStep)
		}
	case events.AlertRotationAbandoned:
		headline = "rotation abandoned"
	case events.AlertOverdue:
		headline = "rotation overdue"
	case events.AlertStuck:
		headline = "rotation stuck (AWSPENDING left behind)"
	case events.AlertLastRotationFailed:
		headline = "last rotation failed"
		if a.FailedStep != "" {
			headline += " at " + string(a.FailedStep)
		}
	case events.AlertFunctionMissing:
		headline = "rotation function missing or not invokable"
	default:
		headline = string(a.Kind)
	}

	var b strings.Builder
	fmt.Fprintf(&b, "rotor: %s for secret %s.\n\n", headline, name)
	b.WriteString(explain(a))
	b.WriteString("\n\n")
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%-14s %s\n", k+":", v)
		}
	}
	row("Secret", a.SecretARN)
	where := a.Region
	if a.Account != "" {
		where = strings.TrimSpace(where + " (account " + a.Account + ")")
	}
	row("Region", where)
	row("Detected", stamp(&a.DetectedAt, a.DetectedAt))
	row("Event", a.EventID)
	row("Failed step", string(a.FailedStep))
	row("Reason", clip(a.Reason, maxReason))
	row("Version", a.VersionID)
	if a.LastRotated != nil {
		row("Last success", stamp(a.LastRotated, a.DetectedAt))
	} else {
		row("Last success", "never (no LastRotatedDate)")
	}
	row("Next rotation", stamp(a.NextRotation, a.DetectedAt))
	row("Window closed", stamp(a.Deadline, a.DetectedAt))
	row("Function", a.FunctionARN)
	if len(a.Actions) > 0 {
		b.WriteString("\nWhat to do:\n")
		for i, act := range a.Actions {
			fmt.Fprintf(&b, "  %d. %s\n", i+1, act)
		}
	}
	b.WriteString("\nThis alert holds no secret value. docs/alerting.md explains each alert.\n")

	attrs := map[string]string{AttrKind: string(a.Kind), AttrSecret: name}
	if a.FailedStep != "" {
		attrs[AttrStep] = string(a.FailedStep)
	}
	return Message{
		Subject:    subject("rotor: "+headline+": "+name, maxSubject),
		Body:       b.String(),
		Attributes: attrs,
	}
}

// explain is the paragraph that says what the alert means for the
// applications using the secret.
func explain(a events.Alert) string {
	switch a.Kind {
	case events.AlertRotationFailed, events.AlertLastRotationFailed:
		s := "AWSCURRENT still holds the last working credential and Secrets Manager retries the rotation on its own; until one succeeds the credential is not being rotated."
		switch a.FailedStep {
		case events.StepCreateSecret:
			s += " createSecret failed: no new credential was made; check the secret document and the function's Secrets Manager permissions."
		case events.StepSetSecret:
			s += " setSecret failed: the database refused the new credential or could not be reached; check connectivity, TLS and privileges."
		case events.StepTestSecret:
			s += " testSecret failed: the new credential was set but does not log in. For a single-user secret the database may already hold the pending password while clients use AWSCURRENT: finish or retry the rotation soon."
		case events.StepFinishSecret:
			s += " finishSecret failed: the new credential works but is not AWSCURRENT yet. For a single-user secret clients using AWSCURRENT may already be refused: retry the rotation now."
		}
		return s
	case events.AlertRotationAbandoned:
		return "A new value was written to the secret (PutSecretValue or UpdateSecret without staging labels) while a rotation was in progress, so Secrets Manager removed AWSPENDING and abandoned it. If nobody meant to write the value (for example Terraform managing secret_string without ignore_changes), find the writer in CloudTrail."
	case events.AlertOverdue:
		return "The secret's rotation window has closed without a successful rotation: the credential is older than its schedule allows."
	case events.AlertStuck:
		return "A rotation left AWSPENDING on a version that is not AWSCURRENT. Secrets Manager refuses to start a new rotation until that one completes or the label is removed."
	case events.AlertFunctionMissing:
		return "Secrets Manager cannot run the secret's rotation function, so every scheduled rotation of this secret will fail."
	}
	return ""
}

// actions lists what the operator should do for an alert, in order.
func actions(a events.Alert) []string {
	name := a.SecretName
	if name == "" {
		name = a.SecretARN
	}
	status := "rotor status " + name + "   (outcome tags, versions and labels)"
	check := "rotor check " + name + "   (preflight: database reachable, TLS verifies, privileges, clone name)"
	rotate := "rotor rotate " + name + "   (rotate now and wait for the outcome)"
	switch a.Kind {
	case events.AlertRotationFailed, events.AlertLastRotationFailed:
		return []string{status, check, "Fix the cause named above, then: " + rotate}
	case events.AlertRotationAbandoned:
		return []string{status, "Look up PutSecretValue/UpdateSecret calls on the secret in CloudTrail around the detection time.", "If the written value is wrong: rotor rollback " + name}
	case events.AlertOverdue:
		return []string{status, "Read the rotation function's log for the secret's last attempts.", check, rotate}
	case events.AlertStuck:
		// Never advise clearing AWSPENDING blindly: after a single-user
		// setSecret the pending version holds the only password the
		// database accepts. rotor check logs in with both and says
		// whether to clear the label or finish the rotation.
		return []string{
			"rotor check " + name + "   (logs in with AWSCURRENT and the stranded AWSPENDING, and says which is safe: clear the label or finish the rotation)",
			"If it says finish: rotor finish " + name + "; if it says clear: run the command it prints, then " + rotate,
			"Do not remove AWSPENDING before that check: for a single-user secret it may hold the only working password.",
		}
	case events.AlertFunctionMissing:
		return []string{"Redeploy the rotator (terraform apply of the rotor module) or point the secret at a working function with aws secretsmanager rotate-secret --rotation-lambda-arn <arn>.", check}
	}
	return []string{status}
}

// Publish renders a and publishes it to topicARN.
func Publish(ctx context.Context, topic TopicAPI, topicARN string, a events.Alert) error {
	m := Render(a)
	attrs := make(map[string]snstypes.MessageAttributeValue, len(m.Attributes))
	for k, v := range m.Attributes {
		attrs[k] = snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	_, err := topic.Publish(ctx, &sns.PublishInput{
		TopicArn:          aws.String(topicARN),
		Subject:           aws.String(m.Subject),
		Message:           aws.String(m.Body),
		MessageAttributes: attrs,
	})
	if err != nil {
		return fmt.Errorf("publish %s alert for %s: %w", a.Kind, a.SecretARN, err)
	}
	return nil
}

// stamp formats t in UTC with its age relative to now.
func stamp(t *time.Time, now time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	s := t.UTC().Format(time.RFC3339)
	if now.IsZero() || t.Equal(now) {
		return s
	}
	d := now.Sub(*t)
	switch {
	case d > 0:
		return s + " (" + human(d) + " ago)"
	default:
		return s + " (in " + human(-d) + ")"
	}
}

func human(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	case d >= 2*time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	default:
		return fmt.Sprintf("%d minutes", int(d.Minutes()))
	}
}

// subject makes s a valid SNS subject: printable ASCII, one line, at most
// n characters.
func subject(s string, n int) string {
	var b strings.Builder
	for _, r := range s {
		if r < 0x20 || r > 0x7e {
			r = '?'
		}
		b.WriteRune(r)
	}
	out := b.String()
	if len(out) > n {
		out = out[:n-3] + "..."
	}
	return out
}

// clip bounds s to n runes and keeps it on one line.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) > n {
		return string(r[:n-3]) + "..."
	}
	return s
}

// secretNameFromARN returns the name inside a secret ARN, without the
// 6-character suffix Secrets Manager adds; anything else is returned as is.
func secretNameFromARN(id string) string {
	const marker = ":secret:"
	i := strings.Index(id, marker)
	if !strings.HasPrefix(id, "arn:") || i < 0 {
		return id
	}
	name := id[i+len(marker):]
	if j := strings.LastIndexByte(name, '-'); j > 0 && len(name)-j == 7 {
		name = name[:j]
	}
	return name
}
