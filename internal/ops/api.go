package ops

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/rotorhq/rotor/rotation"
)

// SecretsAPI is the part of the Secrets Manager client the operations use.
// Its methods have the SDK client's own signatures, so *secretsmanager.Client
// satisfies it.
type SecretsAPI interface {
	DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	ListSecrets(ctx context.Context, in *secretsmanager.ListSecretsInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.ListSecretsOutput, error)
	ListSecretVersionIds(ctx context.Context, in *secretsmanager.ListSecretVersionIdsInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.ListSecretVersionIdsOutput, error)
	RotateSecret(ctx context.Context, in *secretsmanager.RotateSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.RotateSecretOutput, error)
	UpdateSecretVersionStage(ctx context.Context, in *secretsmanager.UpdateSecretVersionStageInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretVersionStageOutput, error)
}

// RefusedError is an operation that did not start, and changed nothing.
type RefusedError struct {
	// Reason says why, naming the secret or version concerned.
	Reason string
	// Hint says what to do about it, when there is something to do.
	Hint string
}

func (e *RefusedError) Error() string { return "refused: " + e.Message() }

// Message is the reason and the hint, without the "refused" prefix.
func (e *RefusedError) Message() string {
	if e.Hint == "" {
		return e.Reason
	}
	return e.Reason + " (" + e.Hint + ")"
}

// refusedf builds a *RefusedError; hint may be "".
func refusedf(hint, format string, args ...any) *RefusedError {
	return &RefusedError{Reason: fmt.Sprintf(format, args...), Hint: hint}
}

// describe reads a secret's description. An unknown secret is a
// *RefusedError.
func describe(ctx context.Context, api SecretsAPI, id string) (*secretsmanager.DescribeSecretOutput, error) {
	d, err := api.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)})
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return nil, refusedf("check the name or ARN, and the region", "secret %q not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("describe secret %q: %w", id, err)
	}
	return d, nil
}

func shellQuote(s string) string {
	safe := true
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '/' || r == '_' || r == '-' || r == '.' || r == ':' || r == '+' || r == '=' || r == '@') {
			safe = false
		}
	}
	if safe && s != "" {
		return s
	}
	out := "'"
	for _, r := range s {
		if r == '\'' {
			out += `'\''`
		} else {
			out += string(r)
		}
	}
	return out + "'"
}

func tagMap(tags []types.Tag) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// sortedStages returns a copy of labels in a stable order: AWSCURRENT,
// AWSPENDING, AWSPREVIOUS, then the rest alphabetically.
func sortedStages(labels []string) []string {
	rank := map[string]int{rotation.LabelCurrent: 0, rotation.LabelPending: 1, rotation.LabelPrevious: 2}
	out := slices.Clone(labels)
	sort.SliceStable(out, func(i, j int) bool {
		ri, ok := rank[out[i]]
		if !ok {
			ri = 3
		}
		rj, ok := rank[out[j]]
		if !ok {
			rj = 3
		}
		if ri != rj {
			return ri < rj
		}
		return out[i] < out[j]
	})
	return out
}
