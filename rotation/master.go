package rotation

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/rotorhq/rotor/events"
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
func LoadMaster(ctx context.Context, sm AdminSecretsAPI, endpoints EndpointResolver, masterARN string, log *slog.Logger) (*events.SecretDocument, error) {
	out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(masterARN)})
	if err != nil {
		return nil, fmt.Errorf("read admin secret (masterarn): %w", err)
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
