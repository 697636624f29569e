package rotation

import (
	"context"

	"github.com/rotorhq/rotor/events"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
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
