package awslocal

import (
	"bytes"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Staging labels with a meaning to the service.
const (
	LabelCurrent  = "AWSCURRENT"
	LabelPrevious = "AWSPREVIOUS"
	LabelPending  = "AWSPENDING"
)

// Limits from the service's quotas and API model.
const (
	maxVersions         = 100
	maxLabelsPerVersion = 20
	prunableAge         = 24 * time.Hour
)

// epoch is a time that marshals as a JSON number of epoch seconds with
// millisecond fractions, the only timestamp form the Go SDK accepts from an
// awsJson1.1 service.
type epoch time.Time

func (e epoch) MarshalJSON() ([]byte, error) {
	t := time.Time(e)
	return []byte(strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)), nil
}

func (e *epoch) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return err
	}
	*e = epoch(time.UnixMilli(int64(f * 1000)).UTC())
	return nil
}

func ep(t time.Time) *epoch {
	if t.IsZero() {
		return nil
	}
	e := epoch(t)
	return &e
}

// Tag is one key/value tag of a secret.
type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// RotationRules is a secret's rotation schedule as the API carries it.
type RotationRules struct {
	AutomaticallyAfterDays *int64 `json:"AutomaticallyAfterDays,omitempty"`
	Duration               string `json:"Duration,omitempty"`
	ScheduleExpression     string `json:"ScheduleExpression,omitempty"`
}

// version is one stored secret version. HasValue false marks the value-less
// AWSPENDING placeholder RotateSecret creates.
type version struct {
	ID             string    `json:"id"`
	String         *string   `json:"string,omitempty"`
	Binary         []byte    `json:"binary,omitempty"`
	HasValue       bool      `json:"hasValue"`
	Stages         []string  `json:"stages"`
	Created        time.Time `json:"created"`
	LastAccessed   time.Time `json:"lastAccessed,omitzero"`
	RotationToken  string    `json:"rotationToken,omitempty"`
	KmsKeyIDs      []string  `json:"kmsKeyIds,omitempty"`
	temporaryCheck bool
}

func (v *version) hasStage(l string) bool {
	for _, s := range v.Stages {
		if s == l {
			return true
		}
	}
	return false
}

func (v *version) addStage(l string) {
	if !v.hasStage(l) {
		v.Stages = append(v.Stages, l)
	}
}

func (v *version) removeStage(l string) {
	out := v.Stages[:0]
	for _, s := range v.Stages {
		if s != l {
			out = append(out, s)
		}
	}
	v.Stages = out
}

func (v *version) sameValue(str *string, bin []byte) bool {
	if !v.HasValue {
		return false
	}
	if (v.String == nil) != (str == nil) {
		return false
	}
	if str != nil && *str != *v.String {
		return false
	}
	return bytes.Equal(v.Binary, bin)
}

// secret is one stored secret.
type secret struct {
	ARN         string  `json:"arn"`
	Name        string  `json:"name"`
	Description *string `json:"description,omitempty"`
	KmsKeyID    string  `json:"kmsKeyId,omitempty"`
	Tags        []Tag   `json:"tags,omitempty"`
	Tagged      bool    `json:"tagged"`
	// OwningService is the AWS service that manages the secret ("rds" for
	// an RDS-managed master password), "" for a secret made with
	// CreateSecret.
	OwningService   string         `json:"owningService,omitempty"`
	Created         time.Time      `json:"created"`
	LastChanged     time.Time      `json:"lastChanged"`
	LastAccessed    time.Time      `json:"lastAccessed,omitzero"`
	LastRotated     time.Time      `json:"lastRotated,omitzero"`
	Deleted         time.Time      `json:"deleted,omitzero"`
	DeletionDate    time.Time      `json:"deletionDate,omitzero"`
	RotationSet     bool           `json:"rotationSet"`
	RotationEnabled bool           `json:"rotationEnabled"`
	RotationLambda  string         `json:"rotationLambda,omitempty"`
	Rules           *RotationRules `json:"rules,omitempty"`
	// Policy is the resource policy document, as PutResourcePolicy got it.
	Policy string `json:"policy,omitempty"`
	// ScheduleBase is when the schedule counts from: the last rotation, the
	// last manual value change, or when rotation was configured.
	ScheduleBase time.Time `json:"scheduleBase,omitzero"`
	NextRotation time.Time `json:"nextRotation,omitzero"`
	// NextAttempt is when a scheduled rotation that failed is tried again
	// (the next window after the failure). NextRotation, what
	// DescribeSecret reports, stays in the past meanwhile, as the service's
	// does after an unsuccessful rotation.
	NextAttempt time.Time  `json:"nextAttempt,omitzero"`
	Versions    []*version `json:"versions"`
	// ord is the creation order (Server.addSecret), the key of ListSecrets
	// cursors. Not persisted: load renumbers in creation order.
	ord int64
}

func (s *secret) version(id string) *version {
	for _, v := range s.Versions {
		if v.ID == id {
			return v
		}
	}
	return nil
}

func (s *secret) withStage(l string) *version {
	for _, v := range s.Versions {
		if v.hasStage(l) {
			return v
		}
	}
	return nil
}

func (s *secret) deleted() bool { return !s.Deleted.IsZero() }

// takeStage removes label l from every version.
func (s *secret) takeStage(l string) {
	for _, v := range s.Versions {
		v.removeStage(l)
	}
}

// moveCurrent makes nv the AWSCURRENT version: the former current gets
// AWSPREVIOUS, which leaves its former holder.
func (s *secret) moveCurrent(nv *version) {
	old := s.withStage(LabelCurrent)
	if old == nv {
		return
	}
	if old != nil {
		old.removeStage(LabelCurrent)
		s.takeStage(LabelPrevious)
		old.addStage(LabelPrevious)
	}
	nv.addStage(LabelCurrent)
}

// stagesMap is VersionIdsToStages: labelled versions only.
func (s *secret) stagesMap() map[string][]string {
	m := map[string][]string{}
	for _, v := range s.Versions {
		if len(v.Stages) > 0 {
			m[v.ID] = append([]string(nil), v.Stages...)
		}
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// prune makes room for one more version. The service keeps at most 100
// versions and removes unlabeled ones older than 24 hours. Choice (not
// recorded): the oldest eligible versions are removed, only as many as needed
// to make room; when none is eligible the write fails with
// LimitExceededException.
func (s *secret) prune(now time.Time) *apiError {
	if len(s.Versions) < maxVersions {
		return nil
	}
	cand := []*version{}
	for _, v := range s.Versions {
		if len(v.Stages) == 0 && now.Sub(v.Created) >= prunableAge {
			cand = append(cand, v)
		}
	}
	sort.SliceStable(cand, func(i, j int) bool { return cand[i].Created.Before(cand[j].Created) })
	need := len(s.Versions) - maxVersions + 1
	if len(cand) < need {
		return errf(codeLimitExceeded, "You can't create more than %d versions of a secret; versions without a staging label are removed only after 24 hours.", maxVersions)
	}
	drop := map[*version]bool{}
	for _, v := range cand[:need] {
		drop[v] = true
	}
	out := s.Versions[:0]
	for _, v := range s.Versions {
		if !drop[v] {
			out = append(out, v)
		}
	}
	s.Versions = out
	return nil
}

func (s *secret) removeVersion(id string) {
	out := s.Versions[:0]
	for _, v := range s.Versions {
		if v.ID != id {
			out = append(out, v)
		}
	}
	s.Versions = out
}

// partialARN is the ARN without the "-XXXXXX" random suffix.
func (s *secret) partialARN() string {
	return s.ARN[:strings.LastIndex(s.ARN, "-")]
}
