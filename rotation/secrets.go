package rotation

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/rotorhq/rotor/events"
)

// Staging labels with a meaning in the rotation protocol (events owns the
// names).
const (
	LabelCurrent  = events.LabelCurrent
	LabelPending  = events.LabelPending
	LabelPrevious = events.LabelPrevious
)

// SecretsAPI is the part of the Secrets Manager client a rotation uses. Its
// methods have the SDK client's own signatures, so *secretsmanager.Client
// satisfies it.
type SecretsAPI interface {
	DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
	UpdateSecretVersionStage(ctx context.Context, in *secretsmanager.UpdateSecretVersionStageInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretVersionStageOutput, error)
	TagResource(ctx context.Context, in *secretsmanager.TagResourceInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.TagResourceOutput, error)
	// ListSecrets finds other secrets pinned to the same base user
	// (alternating-users' setSecret).
	ListSecrets(ctx context.Context, in *secretsmanager.ListSecretsInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.ListSecretsOutput, error)
}

// Endpoint is where a database answers, as RDS describes it.
type Endpoint struct {
	Host   string
	Port   int
	Engine string
}

// EndpointResolver finds the database behind an RDS-managed master secret,
// whose document holds only a user name and a password. arn is the value of
// the secret's aws:rds:primarydbinstancearn or aws:rds:primarydbclusterarn
// tag.
type EndpointResolver interface {
	ResolveEndpoint(ctx context.Context, arn string) (Endpoint, error)
}

// VersionReader is what ReadVersion needs from Secrets Manager.
type VersionReader interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// ErrNoValue is wrapped by ReadVersion's error when the version exists but
// holds no value (the placeholder RotateSecret makes before createSecret).
var ErrNoValue = errors.New("it has no value")

// ReadVersion reads one version's SecretString: by versionID, by label, or
// both (the service then checks that the version carries the label). The
// error names the version and never quotes a value; a value-less version
// wraps ErrNoValue, a SecretBinary version is refused (rotor rotates JSON
// documents). Every caller that reads a version (the rotator, the CLI's
// day-2 commands, rotate-now) reads it here.
func ReadVersion(ctx context.Context, api VersionReader, secretID, versionID, label string) (string, error) {
	in := &secretsmanager.GetSecretValueInput{SecretId: aws.String(secretID)}
	what := "AWSCURRENT"
	if label != "" {
		in.VersionStage, what = aws.String(label), label
	}
	if versionID != "" {
		in.VersionId = aws.String(versionID)
		what = fmt.Sprintf("%s version %s", what, versionID)
	}
	out, err := api.GetSecretValue(ctx, in)
	if err != nil {
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) && label == LabelPending {
			return "", fmt.Errorf("%s: %w yet (createSecret has not stored it)", what, ErrNoValue)
		}
		if errors.As(err, &nf) {
			return "", fmt.Errorf("%s: %w (%s)", what, ErrNoValue, nf.ErrorMessage())
		}
		return "", fmt.Errorf("%s: %w", what, err)
	}
	if out.SecretString == nil {
		return "", fmt.Errorf("%s: it holds SecretBinary; rotor rotates JSON SecretString documents", what)
	}
	return aws.ToString(out.SecretString), nil
}
