package awslocal

import (
	"fmt"
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

// mergeTags adds tags to the secret; a tag with an existing key replaces
// its value.
func (sec *secret) mergeTags(tags []Tag) {
	for _, t := range tags {
		replaced := false
		for i := range sec.Tags {
			if sec.Tags[i].Key == t.Key {
				sec.Tags[i].Value, replaced = t.Value, true
			}
		}
		if !replaced {
			sec.Tags = append(sec.Tags, t)
		}
	}
	sec.Tagged = true
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

// SetServiceTags tags a secret as an AWS service does for the secrets it
// manages (RDS sets aws:rds:primarydbinstancearn on a master-user
// secret): the aws: prefix, which TagResource refuses to callers, is
// allowed; lengths and the 50-tag quota still apply. A tag with an existing
// key replaces its value. Tests use it to make an RDS-managed secret.
func (s *Server) SetServiceTags(secretID string, tags ...Tag) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec := s.find(secretID)
	if sec == nil {
		return fmt.Errorf("awslocal: no secret %s", secretID)
	}
	for i, t := range tags {
		if len(t.Key) < 1 || len(t.Key) > maxTagKeyLen || len(t.Value) > maxTagValueLen {
			return fmt.Errorf("awslocal: service tag %d: key must be 1-%d characters, value at most %d", i+1, maxTagKeyLen, maxTagValueLen)
		}
	}
	if mergedTagCount(sec, tags) > maxTagsPerSecret {
		return fmt.Errorf("awslocal: a secret can have at most %d tags", maxTagsPerSecret)
	}
	sec.mergeTags(tags)
	s.secretsChanged(sec)
	return nil
}
