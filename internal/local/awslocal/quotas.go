package awslocal

import (
	"strconv"
	"strings"
)

// Quotas from the service's quotas page and API model that the stand-in
// enforces besides the 100-version limit (model.go). Where the service's
// exact text is not recorded the messages are the stand-in's; the error
// types are the documented ones: the API model's length constraints answer
// ValidationException in the awsJson validation shape, a quota
// LimitExceededException, a reserved prefix InvalidParameterException.
const (
	// maxLabelsPerSecret: "staging labels attached across all versions
	// of a secret: 20" (quotas page). A label sits on one version at a
	// time, so this counts distinct labels.
	maxLabelsPerSecret = 20
	maxTagsPerSecret   = 50
	maxTagKeyLen       = 128
	maxTagValueLen     = 256
	reservedTagPrefix  = "aws:"
)

// checkLabelQuota refuses a change that would leave more than 20 distinct
// staging labels on the secret. adding are the labels the change attaches;
// labels already on some version do not count again.
func checkLabelQuota(sec *secret, adding ...string) *apiError {
	have := map[string]bool{}
	for _, v := range sec.Versions {
		for _, l := range v.Stages {
			have[l] = true
		}
	}
	for _, l := range adding {
		have[l] = true
	}
	if len(have) > maxLabelsPerSecret {
		return errf(codeLimitExceeded, "A secret can have at most %d staging labels across all its versions; remove a label from a version before attaching %d more.", maxLabelsPerSecret, len(have)-maxLabelsPerSecret)
	}
	return nil
}

// checkTags validates tags as given in a request (field is "tags" for
// CreateSecret and TagResource): the API model's key and value lengths,
// and the reserved aws: prefix.
func checkTags(tags []Tag) *apiError {
	for i, t := range tags {
		if e := checkTagKey(t.Key, "tags", i); e != nil {
			return e
		}
		if len(t.Value) > maxTagValueLen {
			return errf(codeValidation, "1 validation error detected: Value at 'tags.%d.member.value' failed to satisfy constraint: Member must have length less than or equal to %d", i+1, maxTagValueLen)
		}
	}
	return nil
}

// checkTagKey validates one tag key; field and i name it in the message
// ("tags.1.member.key", "tagKeys.1.member").
func checkTagKey(k, field string, i int) *apiError {
	at := field + "." + strconv.Itoa(i+1) + ".member.key"
	if field == "tagKeys" {
		at = field + "." + strconv.Itoa(i+1) + ".member"
	}
	switch {
	case len(k) < 1:
		return errf(codeValidation, "1 validation error detected: Value at '%s' failed to satisfy constraint: Member must have length greater than or equal to 1", at)
	case len(k) > maxTagKeyLen:
		return errf(codeValidation, "1 validation error detected: Value at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", at, maxTagKeyLen)
	case strings.HasPrefix(strings.ToLower(k), reservedTagPrefix):
		return errf(codeInvalidParameter, "You can't use the tag key %q: the aws: prefix is reserved for AWS use.", k)
	}
	return nil
}

// mergedTagCount is how many tags the secret would have after adding tags.
func mergedTagCount(sec *secret, tags []Tag) int {
	keys := map[string]bool{}
	for _, t := range sec.Tags {
		keys[t.Key] = true
	}
	for _, t := range tags {
		keys[t.Key] = true
	}
	return len(keys)
}

func errTooManyTags() *apiError {
	return errf(codeLimitExceeded, "A secret can have at most %d tags.", maxTagsPerSecret)
}
