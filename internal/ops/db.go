package ops

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/rotation"
	"github.com/rotorhq/rotor/strategies"
)

// StrategySource says where a secret's strategy came from.
type StrategySource string

// Strategy sources, strongest first.
const (
	FromTag     StrategySource = "tag " + rotation.TagStrategy
	FromFlag    StrategySource = "option"
	FromDefault StrategySource = "default"
)

// chooseStrategy applies the rule: the rotor:strategy tag, else fallback,
// else single-user.
func chooseStrategy(d *secretsmanager.DescribeSecretOutput, fallback string) (string, StrategySource, error) {
	name, src := tagMap(d.Tags)[rotation.TagStrategy], FromTag
	if name == "" {
		name, src = fallback, FromFlag
	}
	if name == "" {
		name, src = strategies.NameSingleUser, FromDefault
	}
	if name != strategies.NameSingleUser && name != strategies.NameAlternatingUsers {
		return name, src, fmt.Errorf("strategy %q (from %s) is not %s or %s", name, src, strategies.NameSingleUser, strategies.NameAlternatingUsers)
	}
	return name, src, nil
}

// db logs in to databases exactly as the rotator does (strategies.Options:
// the document's "ssl" key if present, else the configured TLS mode, and
// never a fallback).
type db struct{ strategies.Options }

func newDB(o strategies.Options) db { return db{o.WithDefaults()} }

// readDocument reads and parses one version of a secret. Errors name the
// version and never quote the value.
func readDocument(ctx context.Context, api SecretsAPI, secretID, versionID, label string, req events.Requirement) (*events.SecretDocument, error) {
	in := &secretsmanager.GetSecretValueInput{SecretId: aws.String(secretID)}
	if versionID != "" {
		in.VersionId = aws.String(versionID)
	}
	if label != "" {
		in.VersionStage = aws.String(label)
	}
	what := label
	if versionID != "" {
		what = fmt.Sprintf("%s version %s", label, versionID)
	}
	out, err := api.GetSecretValue(ctx, in)
	if err != nil {
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) {
			return nil, fmt.Errorf("read %s of %q: it has no value", what, secretID)
		}
		return nil, fmt.Errorf("read %s of %q: %s", what, secretID, serviceMessage(err))
	}
	if out.SecretString == nil {
		return nil, fmt.Errorf("read %s of %q: it holds SecretBinary; rotor reads JSON SecretString documents", what, secretID)
	}
	doc, err := events.ParseSecretDocument(aws.ToString(out.SecretString))
	if err == nil {
		err = doc.Validate(req)
	}
	if err != nil {
		return nil, fmt.Errorf("%s of %q: %w", what, secretID, err)
	}
	return doc, nil
}
