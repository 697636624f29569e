package ops

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/rotation"
	"github.com/rotorhq/rotor/strategies"
)

// Status is where a secret stands. It holds no secret value.
type Status struct {
	ARN      string `json:"arn"`
	Name     string `json:"name"`
	Rotation struct {
		Enabled     bool   `json:"enabled"`
		FunctionARN string `json:"functionArn,omitempty"`
		// AutomaticallyAfterDays, ScheduleExpression and Duration are the
		// rotation rules as stored.
		AutomaticallyAfterDays int64      `json:"automaticallyAfterDays,omitempty"`
		ScheduleExpression     string     `json:"scheduleExpression,omitempty"`
		Duration               string     `json:"duration,omitempty"`
		LastRotated            *time.Time `json:"lastRotated,omitempty"`
		NextRotation           *time.Time `json:"nextRotation,omitempty"`
	} `json:"rotation"`
	LastChanged *time.Time `json:"lastChanged,omitempty"`
	DeletedDate *time.Time `json:"deletedDate,omitempty"`
	// Strategy is the rotor:strategy tag, "" when unset.
	Strategy string `json:"strategy,omitempty"`
	// LastOutcome is what rotor recorded after its last rotation, nil when
	// it recorded nothing.
	LastOutcome *Outcome `json:"lastOutcome,omitempty"`
	// Versions are the labelled versions, newest first.
	Versions []Version `json:"versions"`
	// LeftBehind lists what blocks or confuses the next rotation.
	LeftBehind []Leftover `json:"leftBehind,omitempty"`
}

// Outcome is the last rotation as rotor's outcome tags record it.
type Outcome struct {
	Result    string `json:"result"`
	VersionID string `json:"versionId,omitempty"`
	Step      string `json:"failedStep,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// Version is one labelled version.
type Version struct {
	ID      string     `json:"versionId"`
	Stages  []string   `json:"stages"`
	Created *time.Time `json:"created,omitempty"`
}

// Leftover is state a failed or interrupted rotation left behind: a
// version holding AWSPENDING that is not AWSCURRENT. The embedded
// PendingCheck says what to do; GetStatus cannot log in, so its verdict is
// PendingUnchecked (Fix empty, Advice pointing to rotor check) until
// CheckLeftovers logs in.
type Leftover struct {
	VersionID string `json:"versionId"`
	Problem   string `json:"problem"`
	PendingCheck
}

// GetStatus reads a secret's status with DescribeSecret and
// ListSecretVersionIds. It changes nothing. An unknown secret is a
// *RefusedError.
func GetStatus(ctx context.Context, api SecretsAPI, secretID string) (Status, error) {
	var st Status
	d, err := describe(ctx, api, secretID)
	if err != nil {
		return st, err
	}
	st.ARN, st.Name = aws.ToString(d.ARN), aws.ToString(d.Name)
	st.Rotation.Enabled = aws.ToBool(d.RotationEnabled)
	st.Rotation.FunctionARN = aws.ToString(d.RotationLambdaARN)
	if r := d.RotationRules; r != nil {
		st.Rotation.AutomaticallyAfterDays = aws.ToInt64(r.AutomaticallyAfterDays)
		st.Rotation.ScheduleExpression = aws.ToString(r.ScheduleExpression)
		st.Rotation.Duration = aws.ToString(r.Duration)
	}
	st.Rotation.LastRotated, st.Rotation.NextRotation = d.LastRotatedDate, d.NextRotationDate
	st.LastChanged, st.DeletedDate = d.LastChangedDate, d.DeletedDate

	tags := tagMap(d.Tags)
	st.Strategy = tags[rotation.TagStrategy]
	if res := tags[rotation.TagLastRotation]; res != "" {
		st.LastOutcome = &Outcome{Result: res, VersionID: tags[rotation.TagLastVersion], Step: tags[rotation.TagLastErrorStep], Reason: tags[rotation.TagLastError]}
	}

	in := &secretsmanager.ListSecretVersionIdsInput{SecretId: d.ARN, MaxResults: aws.Int32(100)}
	for {
		out, err := api.ListSecretVersionIds(ctx, in)
		if err != nil {
			return st, fmt.Errorf("list versions of %q: %w", st.ARN, err)
		}
		for _, v := range out.Versions {
			st.Versions = append(st.Versions, Version{ID: aws.ToString(v.VersionId), Stages: sortedStages(v.VersionStages), Created: v.CreatedDate})
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	sort.SliceStable(st.Versions, func(i, j int) bool {
		a, b := st.Versions[i].Created, st.Versions[j].Created
		return a != nil && b != nil && a.After(*b)
	})

	if v := events.StrandedPending(d.VersionIdsToStages); v != "" {
		st.LeftBehind = append(st.LeftBehind, Leftover{
			VersionID:    v,
			Problem:      fmt.Sprintf("version %s holds AWSPENDING but is not AWSCURRENT: a rotation is running or was left unfinished, and the next RotateSecret is refused until it is finished or cleared", v),
			PendingCheck: uncheckedPending(st.ARN, v, events.VersionWith(d.VersionIdsToStages, rotation.LabelCurrent)),
		})
	}
	return st, nil
}

// CheckLeftovers logs in with the credentials of each unfinished rotation
// in st.LeftBehind (see CheckPending) and replaces its advice with what the
// logins found. It changes nothing anywhere; it logs in at most twice per
// leftover.
func CheckLeftovers(ctx context.Context, api SecretsAPI, dbOpts strategies.Options, st *Status) {
	b := newDB(dbOpts)
	for i := range st.LeftBehind {
		l := &st.LeftBehind[i]
		l.PendingCheck = checkPending(ctx, api, b, st.ARN, l.CurrentVersion, l.PendingVersion)
	}
}
