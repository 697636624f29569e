package client

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/rotorhq/rotor/events"
)

// Secret is one version of a secret. Its value is reachable only through
// Value, Binary and Document: formatting a Secret (fmt's verbs, slog)
// prints the version and stages, never the value.
type Secret struct {
	VersionID   string
	Stages      []string
	CreatedDate time.Time

	value  string
	binary []byte
}

func secretFrom(out *secretsmanager.GetSecretValueOutput) Secret {
	return Secret{
		VersionID:   aws.ToString(out.VersionId),
		Stages:      append([]string(nil), out.VersionStages...),
		CreatedDate: aws.ToTime(out.CreatedDate),
		value:       aws.ToString(out.SecretString),
		binary:      append([]byte(nil), out.SecretBinary...),
	}
}

// Value returns the SecretString.
func (s Secret) Value() string { return s.value }

// Binary returns the SecretBinary (nil for a string secret).
func (s Secret) Binary() []byte { return s.binary }

// Document parses the SecretString as rotor's secret document (the JSON
// AWS's rotation templates use) and checks that it has a username and a
// password. Errors name the key, never the value.
func (s Secret) Document() (*events.SecretDocument, error) {
	if s.value == "" {
		return nil, fmt.Errorf("secret version %s: no SecretString", s.VersionID)
	}
	d, err := events.ParseSecretDocument(s.value)
	if err != nil {
		return nil, fmt.Errorf("secret version %s: %w", s.VersionID, err)
	}
	if err := d.Validate(events.NeedCredentials); err != nil {
		return nil, fmt.Errorf("secret version %s: %w", s.VersionID, err)
	}
	return d, nil
}

// String describes the version without its value.
func (s Secret) String() string {
	return fmt.Sprintf("secret version %s %v (value redacted)", s.VersionID, s.Stages)
}

// GoString is String, so %#v does not print the value either.
func (s Secret) GoString() string { return s.String() }

// Format prints String for every verb.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// LogValue keeps the value out of slog records.
func (s Secret) LogValue() slog.Value {
	return slog.GroupValue(slog.String("version", s.VersionID), slog.Any("stages", s.Stages))
}
