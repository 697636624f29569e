package rotation

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// Outcome tags rotor writes on a rotated secret after finishSecret succeeds
// or any step fails. Operators, the rotor CLI and rotate-now read them to
// tell whether the last rotation worked and which step failed.
const (
	TagLastRotation  = "rotor:last-rotation"   // "succeeded" or "failed"
	TagLastErrorStep = "rotor:last-error-step" // the failed step, or ""
	TagLastError     = "rotor:last-error"      // redacted reason, or ""
	TagLastVersion   = "rotor:last-version"    // the rotation's token
	// TagStrategy, set by the operator, overrides ROTATION_STRATEGY for
	// one secret.
	TagStrategy = "rotor:strategy"
)

// Outcome values of TagLastRotation.
const (
	OutcomeSucceeded = "succeeded"
	OutcomeFailed    = "failed"
)

// OutcomeTagKeys lists the tags rotor writes, for IAM conditions.
var OutcomeTagKeys = []string{TagLastRotation, TagLastErrorStep, TagLastError, TagLastVersion}

// maxTagValue is Secrets Manager's limit on a tag value, in characters.
const maxTagValue = 256

// TagValue makes s fit Secrets Manager's tag value rules: letters, digits,
// white space and _ . : / = + - @, at most 256 characters. Other characters
// become spaces; runs of spaces collapse.
func TagValue(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		ok := unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("_.:/=+-@", r)
		if !ok {
			if !space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		space = false
		b.WriteRune(r)
	}
	out := strings.TrimSpace(b.String())
	if utf8.RuneCountInString(out) > maxTagValue {
		r := []rune(out)
		out = string(r[:maxTagValue-3]) + "..."
	}
	return out
}

func outcomeTags(outcome, step, reason, version string) []types.Tag {
	return []types.Tag{
		{Key: aws.String(TagLastRotation), Value: aws.String(outcome)},
		{Key: aws.String(TagLastErrorStep), Value: aws.String(step)},
		{Key: aws.String(TagLastError), Value: aws.String(TagValue(reason))},
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

func tagValue(tags []types.Tag, key string) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value)
		}
	}
	return ""
}
