package rotation

import (
	"slices"

	"github.com/rotorhq/rotor/events"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// The outcome tags and their values; see the events package, which owns the
// wire names so that readers of the tags need not import the rotator.
const (
	TagLastRotation  = events.TagLastRotation
	TagLastErrorStep = events.TagLastErrorStep
	TagLastError     = events.TagLastError
	TagLastVersion   = events.TagLastVersion
	TagStrategy      = events.TagStrategy
	OutcomeSucceeded = events.OutcomeSucceeded
	OutcomeFailed    = events.OutcomeFailed
)

// OutcomeTagKeys lists the outcome tags rotor writes.
var OutcomeTagKeys = []string{TagLastRotation, TagLastErrorStep, TagLastError, TagLastVersion}

// RotatorTagKeys lists every tag the rotator writes: the outcome tags and
// the base-user pin. IAM's TagResource conditions allow exactly these.
var RotatorTagKeys = append(slices.Clone(OutcomeTagKeys), TagBaseUser)

func outcomeTags(outcome, step, reason, version string) []types.Tag {
	return []types.Tag{
		{Key: aws.String(TagLastRotation), Value: aws.String(outcome)},
		{Key: aws.String(TagLastErrorStep), Value: aws.String(step)},
		{Key: aws.String(TagLastError), Value: aws.String(events.TagValue(reason))},
		{Key: aws.String(TagLastVersion), Value: aws.String(version)},
	}
}

// tagsMatch reports whether have already holds every tag in want.
func tagsMatch(have []types.Tag, want []types.Tag) bool {
	m := make(map[string]string, len(have))
	for _, t := range have {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	for _, t := range want {
		v, ok := m[aws.ToString(t.Key)]
		if !ok || v != aws.ToString(t.Value) {
			return false
		}
	}
	return true
}
