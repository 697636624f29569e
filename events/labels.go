package events

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// Staging labels with a meaning in the rotation protocol.
const (
	LabelCurrent  = "AWSCURRENT"
	LabelPending  = "AWSPENDING"
	LabelPrevious = "AWSPREVIOUS"
)

// Tags rotor reads and writes on a rotated secret. They are wire names like
// the JSON keys above: the rotator writes the outcome tags after every
// rotation, rotate-now, the CLI, the notifier and the auditor read them, and
// the Terraform modules grant and ignore exactly these keys (checked by a
// test).
const (
	TagLastRotation  = "rotor:last-rotation"   // "succeeded" or "failed"
	TagLastErrorStep = "rotor:last-error-step" // the failed step, or ""
	TagLastError     = "rotor:last-error"      // redacted reason, or ""
	TagLastVersion   = "rotor:last-version"    // the rotation's token
	// TagStrategy, set by the operator, overrides ROTATION_STRATEGY for
	// one secret.
	TagStrategy = "rotor:strategy"
	// TagBaseUser pins the base user an alternating-users secret may
	// rotate (BaseUserPin). The rotator writes it at the secret's first
	// alternating rotation unless Terraform preset it, and refuses a
	// document that later names another user or server; docs/security.md
	// says who may write it.
	TagBaseUser = "rotor:base-user"
)

// Values of TagLastRotation.
const (
	OutcomeSucceeded = "succeeded"
	OutcomeFailed    = "failed"
)

// Tags Secrets Manager puts on an RDS-managed master secret, lower-cased
// (TagOf compares aws: keys without regard to case).
const (
	TagRDSInstanceARN = "aws:rds:primarydbinstancearn"
	TagRDSClusterARN  = "aws:rds:primarydbclusterarn"
)

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

// VersionWith returns the version that carries label in stages (a
// secret's VersionIdsToStages or SecretVersionsToStages), or "". A label
// sits on at most one version.
func VersionWith(stages map[string][]string, label string) string {
	for id, st := range stages {
		for _, l := range st {
			if l == label {
				return id
			}
		}
	}
	return ""
}

// StrandedPending returns the version holding AWSPENDING when it is not also
// AWSCURRENT: an unfinished rotation, which blocks the next RotateSecret.
// "" when there is none.
func StrandedPending(stages map[string][]string) string {
	id := VersionWith(stages, LabelPending)
	if id == "" || id == VersionWith(stages, LabelCurrent) {
		return ""
	}
	return id
}

// TagOf returns the value of the tag key, or "" when the secret has none.
// Keys are compared exactly, except keys in AWS's reserved aws: namespace,
// which are compared without regard to case: AWS writes its own in mixed
// case (aws:rds:primaryDBInstanceArn), AWS's templates compare them lowered,
// and no caller can create an aws: key, in any case. rotor's own keys stay
// exact, so a look-alike key in other case (which IAM conditions on
// aws:TagKeys would not match) is never read as one of them.
func TagOf(tags []types.Tag, key string) string {
	fold := strings.HasPrefix(strings.ToLower(key), "aws:")
	for _, t := range tags {
		if t.Key == nil || t.Value == nil {
			continue
		}
		if *t.Key == key || fold && strings.EqualFold(*t.Key, key) {
			return *t.Value
		}
	}
	return ""
}

// BaseUserPin is the value of TagBaseUser for the base user user on the
// database server the admin logs in to (host and port, as the admin's login
// resolves them): "user@host:port" with the host lower-cased. The pin must
// be both a tag value and a ListSecrets filter value (the rotator finds
// other secrets carrying it), so when the text holds anything but ASCII
// letters, digits and _.:/=+-@, or is longer than a tag value may be, the
// pin is "sha256:" and the hex digest of the text instead: still one value
// per user and server, compared the same way.
func BaseUserPin(user, host string, port int) string {
	id := user + "@" + strings.ToLower(host) + ":" + strconv.Itoa(port)
	if pinSafe(id) && len(id) <= maxTagValue && !strings.HasPrefix(id, pinDigestPrefix) {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return pinDigestPrefix + hex.EncodeToString(sum[:])
}

const pinDigestPrefix = "sha256:"

// pinSafe reports whether s uses only characters that both a tag value and
// a ListSecrets filter value accept.
func pinSafe(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_.:/=+-@", r)) {
			return false
		}
	}
	return true
}
