package ops

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/rotation"
	"github.com/rotorhq/rotor/strategies"
)

// Strategy sources, as the JSON of a rollback reports them (the rule is
// strategies.Choose).
const (
	FromTag     = strategies.FromTag
	FromFlag    = strategies.FromSetting
	FromDefault = strategies.FromDefault
)

// chooseStrategy applies the rotator's rule (strategies.Choose): the
// rotor:strategy tag, else the command's setting, else single-user.
func chooseStrategy(d *secretsmanager.DescribeSecretOutput, setting string) (string, strategies.Source, error) {
	return strategies.Choose(events.TagOf(d.Tags, rotation.TagStrategy), setting)
}

// db logs in to databases exactly as the rotator does (strategies.Options:
// the document's "ssl" key if present, else the configured TLS mode, and
// never a fallback).
type db struct{ strategies.Options }

func newDB(o strategies.Options) db { return db{o.WithDefaults()} }

// readDocument reads (rotation.ReadVersion, as the rotator does) and parses
// one version of a secret. Errors name the secret and the version and never
// quote the value.
func readDocument(ctx context.Context, api SecretsAPI, secretID, versionID, label string, req events.Requirement) (*events.SecretDocument, error) {
	value, err := rotation.ReadVersion(ctx, api, secretID, versionID, label)
	if err != nil {
		return nil, fmt.Errorf("read %q: %w", secretID, err)
	}
	doc, err := events.ParseSecretDocument(value)
	if err == nil {
		err = doc.Validate(req)
	}
	if err != nil {
		return nil, fmt.Errorf("%s version %s of %q: %w", label, versionID, secretID, err)
	}
	return doc, nil
}
