package rotation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/config"
)

// AdminSecretsAPI is what LoadMaster needs from Secrets Manager.
type AdminSecretsAPI interface {
	DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// LoadMaster reads the admin secret masterARN (AWSCURRENT) and makes sure it
// says where to log in. A document with a host is returned as it is. An
// RDS-managed master secret holds only username and password: its endpoint
// then comes from RDS, through the instance or cluster its
// aws:rds:primarydbinstancearn / aws:rds:primarydbclusterarn tag names
// (one DescribeSecret and one RDS call).
//
// An admin secret with neither a host nor such a tag is an error: the admin
// credential is never sent to a host taken from the rotated secret, which
// whoever may write that secret controls. The returned document's password
// is a secret; errors never contain it. log may be nil.
//
// masterARN comes from the rotated secret, so it is held to allowed, the
// ARNs of the admin secrets the function may use (ADMIN_SECRET_ARNS): a full
// ARN is checked before it is read, a name or partial ARN by the ARN the
// read returns. An empty list allows nothing.
func LoadMaster(ctx context.Context, sm AdminSecretsAPI, endpoints EndpointResolver, masterARN string, allowed []string, log *slog.Logger) (*events.SecretDocument, error) {
	return loadMaster(ctx, sm, endpoints, masterARN, LabelCurrent, allowed, log, true)
}

// checkMaster is LoadMaster without the RDS lookup: an RDS-managed admin
// secret (no host, an aws:rds tag) is returned without a host. createSecret
// uses it to refuse a bad masterarn before writing anything, leaving the
// one RDS call of a rotation to setSecret.
func checkMaster(ctx context.Context, sm AdminSecretsAPI, endpoints EndpointResolver, masterARN string, allowed []string, log *slog.Logger) (*events.SecretDocument, error) {
	return loadMaster(ctx, sm, endpoints, masterARN, LabelCurrent, allowed, log, false)
}

// LoadMasterPending is LoadMaster for the admin secret's AWSPENDING
// version: the password an admin secret in mid-rotation is changing to. It
// returns (nil, nil) when the admin secret has no AWSPENDING value (no
// rotation in flight, or one whose createSecret has not run).
func LoadMasterPending(ctx context.Context, sm AdminSecretsAPI, endpoints EndpointResolver, masterARN string, allowed []string, log *slog.Logger) (*events.SecretDocument, error) {
	doc, err := loadMaster(ctx, sm, endpoints, masterARN, LabelPending, allowed, log, true)
	if errors.Is(err, ErrNoValue) {
		return nil, nil
	}
	return doc, err
}

func loadMaster(ctx context.Context, sm AdminSecretsAPI, endpoints EndpointResolver, masterARN, stage string, allowed []string, log *slog.Logger, resolve bool) (*events.SecretDocument, error) {
	if strings.HasPrefix(masterARN, "arn:") && !isSecretARN(masterARN) {
		return nil, &events.FieldError{Field: "masterarn", Reason: fmt.Sprintf("names %q, which is not a Secrets Manager secret ARN (arn:<partition>:secretsmanager:<region>:<account>:secret:<name>)", masterARN)}
	}
	if strings.HasPrefix(masterARN, "arn:") && !partialOfAllowed(masterARN, allowed) {
		if err := checkAllowed(masterARN, allowed); err != nil {
			return nil, err
		}
	}
	out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(masterARN), VersionStage: aws.String(stage)})
	if err != nil {
		var nf *types.ResourceNotFoundException
		if stage == LabelPending && errors.As(err, &nf) {
			return nil, fmt.Errorf("read admin secret (masterarn) %s: %w", stage, ErrNoValue)
		}
		return nil, fmt.Errorf("read admin secret (masterarn): %w", err)
	}
	if err := checkAllowed(aws.ToString(out.ARN), allowed); err != nil {
		return nil, err
	}
	doc, err := events.ParseSecretDocument(aws.ToString(out.SecretString))
	if err == nil {
		err = doc.Validate(events.NeedCredentials)
	}
	if err != nil {
		// The document is returned so the caller can redact what it holds.
		return doc, fmt.Errorf("admin secret (masterarn): %w", err)
	}
	if doc.Host != "" {
		return doc, nil
	}
	noHost := &events.FieldError{Field: "host", Reason: "the admin secret (masterarn) has no host and no aws:rds:primarydbinstancearn or aws:rds:primarydbclusterarn tag naming its database"}
	if endpoints == nil {
		return doc, noHost
	}
	d, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(masterARN)})
	if err != nil {
		return doc, fmt.Errorf("describe admin secret: %w", err)
	}
	rdsARN := events.TagOf(d.Tags, events.TagRDSInstanceARN)
	if rdsARN == "" {
		rdsARN = events.TagOf(d.Tags, events.TagRDSClusterARN)
	}
	if rdsARN == "" {
		return doc, noHost
	}
	if !resolve {
		return doc, nil
	}
	ep, err := endpoints.ResolveEndpoint(ctx, rdsARN)
	if err != nil {
		return doc, fmt.Errorf("find the database of the RDS-managed admin secret: %w", err)
	}
	doc.Host, doc.Port = ep.Host, ep.Port
	if doc.Engine == "" {
		doc.Engine = ep.Engine
	}
	if log != nil {
		log.Info("admin endpoint resolved through RDS", "rds_arn", rdsARN, "host", ep.Host, "port", ep.Port)
	}
	return doc, nil
}

// checkAllowed refuses an admin secret ARN that is not in allowed.
func checkAllowed(arn string, allowed []string) error {
	if slices.Contains(allowed, arn) {
		return nil
	}
	if len(allowed) == 0 {
		return &events.FieldError{Field: "masterarn", Reason: fmt.Sprintf("names %q, but this function may use no admin secret: set %s to the ARNs of the admin secrets it may use (Terraform: master_secret_arns)", arn, config.EnvAdminSecretARNs)}
	}
	return &events.FieldError{Field: "masterarn", Reason: fmt.Sprintf("names %q, which is not one of the admin secrets this function may use (%s); whoever may write the rotated secret cannot choose its admin", arn, config.EnvAdminSecretARNs)}
}

// partialOfAllowed reports whether arn is a partial ARN (without the
// random suffix Secrets Manager adds to a secret's name) of an allowed one:
// only the ARN the read returns can tell.
func partialOfAllowed(arn string, allowed []string) bool {
	for _, a := range allowed {
		if strings.HasPrefix(a, arn+"-") {
			return true
		}
	}
	return false
}

// isSecretARN reports whether arn has the shape of a Secrets Manager secret's
// ARN, full or partial.
func isSecretARN(arn string) bool {
	parts := strings.SplitN(arn, ":", 7)
	return len(parts) == 7 && parts[2] == "secretsmanager" && parts[5] == "secret" && parts[6] != ""
}
