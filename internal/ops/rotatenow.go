package ops

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/rotation"
)

// Defaults of RotateNowOptions.
const (
	DefaultTimeout            = 5 * time.Minute
	DefaultConcurrency        = 10
	DefaultRotationsPerSecond = 10.0
	DefaultPollInterval       = time.Second
	DefaultMaxPollInterval    = 10 * time.Second
	DefaultStartJitter        = 500 * time.Millisecond
)

// RotateNowOptions configure RotateNow. Secrets is required; zero values
// mean the defaults above.
type RotateNowOptions struct {
	Secrets SecretsAPI
	// Wait follows each rotation to its outcome; without it a secret's
	// result is "started" once RotateSecret accepted the request.
	Wait bool
	// Timeout bounds the whole call, waiting included. Secrets whose
	// rotation was not requested by then are timed_out with no version.
	Timeout time.Duration
	// Concurrency bounds the secrets handled at once.
	Concurrency int
	// RotationsPerSecond paces RotateSecret calls. Each rotation makes one
	// PutSecretValue and one UpdateSecretVersionStage, which share a 50
	// requests/s account quota with UpdateSecret: above ~25/s rotations
	// are throttled.
	RotationsPerSecond float64
	// PollInterval is the first delay between DescribeSecret polls while
	// waiting; it doubles up to MaxPollInterval. Each delay is jittered.
	PollInterval, MaxPollInterval time.Duration
	// StartJitter is the longest random delay before a secret's first call,
	// spreading a fleet's database logins. Negative means none; zero means
	// DefaultStartJitter, or none for a single secret.
	StartJitter time.Duration
	// Progress, when set, is called as each rotation moves along. It may be
	// called from several goroutines at once.
	Progress func(Progress)
	// NewToken makes ClientRequestTokens; nil means random UUIDs.
	NewToken func() string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// ProgressKind names a Progress event.
type ProgressKind string

// Progress events.
const (
	// ProgressRequested: RotateSecret accepted the rotation.
	ProgressRequested ProgressKind = "requested"
	// ProgressWaiting: a poll found the rotation still running.
	ProgressWaiting ProgressKind = "waiting"
	// ProgressDone: the secret has its result.
	ProgressDone ProgressKind = "done"
)

// Progress reports one secret's rotation moving along.
type Progress struct {
	Kind      ProgressKind
	SecretID  string
	VersionID string
	// Stages are the version's labels at the last poll (waiting).
	Stages  []string
	Elapsed time.Duration
	// Result is set on ProgressDone.
	Result *events.RotateNowResult
}

func (o *RotateNowOptions) defaults() {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.RotationsPerSecond <= 0 {
		o.RotationsPerSecond = DefaultRotationsPerSecond
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.MaxPollInterval < o.PollInterval {
		o.MaxPollInterval = max(DefaultMaxPollInterval, o.PollInterval)
	}
	if o.StartJitter == 0 {
		o.StartJitter = DefaultStartJitter
	}
	if o.NewToken == nil {
		o.NewToken = NewToken
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Progress == nil {
		o.Progress = func(Progress) {}
	}
}

// NewToken returns a random (version 4) UUID, the form SDKs use for
// ClientRequestToken.
func NewToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// RotateNow starts a rotation of each secret and, with Wait, follows it to
// its outcome. It returns one result per secret, in the order given; it never
// fails as a whole. Each rotation gets a ClientRequestToken made here, which
// becomes its version id, so the SDK's retries of one RotateSecret call
// cannot start two rotations. Calling RotateNow again starts new rotations.
//
// A secret is refused, without any call that changes it, when it does not
// exist, is scheduled for deletion, has no rotation function, or still
// holds AWSPENDING on a version that is not AWSCURRENT (an unfinished
// rotation, which Secrets Manager would refuse too).
func RotateNow(ctx context.Context, opts RotateNowOptions, secretIDs []string) []events.RotateNowResult {
	if opts.StartJitter == 0 && len(secretIDs) == 1 {
		opts.StartJitter = -1 // nothing to spread
	}
	opts.defaults()
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	r := &rotateNow{opts: opts, pace: newPacer(opts.RotationsPerSecond, opts.Now, sleepCtx)}

	results := make([]events.RotateNowResult, len(secretIDs))
	seen := map[string]bool{}
	sem := make(chan struct{}, opts.Concurrency)
	var wg sync.WaitGroup
	for i, id := range secretIDs {
		results[i].SecretID = id
		switch {
		case strings.TrimSpace(id) == "":
			results[i].Status, results[i].Reason = events.StatusRefused, "empty secret id"
			continue
		case seen[id]:
			results[i].Status, results[i].Reason = events.StatusRefused, "secret named twice in one request; rotated once"
			continue
		}
		seen[id] = true
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			// The pool is full until the deadline: what is left never started.
			results[i].Status, results[i].Reason = events.StatusTimedOut, "not requested before the deadline"
			opts.Progress(Progress{Kind: ProgressDone, SecretID: id, Result: &results[i]})
			continue
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			results[i] = r.one(ctx, id)
			opts.Progress(Progress{Kind: ProgressDone, SecretID: id, VersionID: results[i].VersionID, Result: &results[i]})
		}()
	}
	wg.Wait()
	return results
}

type rotateNow struct {
	opts RotateNowOptions
	pace *pacer
}

func (r *rotateNow) one(ctx context.Context, id string) events.RotateNowResult {
	res := events.RotateNowResult{SecretID: id}
	if r.opts.StartJitter > 0 {
		if err := sleepCtx(ctx, mrand.N(r.opts.StartJitter)); err != nil {
			return timedOut(res, "not requested before the deadline")
		}
	}
	d, err := describe(ctx, r.opts.Secrets, id)
	if err != nil {
		if ctx.Err() != nil {
			return timedOut(res, "not requested before the deadline")
		}
		return refuse(res, err)
	}
	res.ARN = aws.ToString(d.ARN)
	switch {
	case d.DeletedDate != nil:
		return refuse(res, refusedf("restore it with aws secretsmanager restore-secret first", "secret is scheduled for deletion"))
	case aws.ToString(d.RotationLambdaARN) == "":
		return refuse(res, refusedf("attach the rotator with the rotated-secret Terraform module or aws secretsmanager rotate-secret --rotation-lambda-arn", "rotation is not configured on this secret (no rotation function)"))
	}
	if v := strandedPending(d.VersionIdsToStages); v != "" {
		advice := uncheckedPending(res.ARN, v, versionWith(d.VersionIdsToStages, rotation.LabelCurrent)).Advice
		return refuse(res, refusedf(advice, "an earlier rotation is unfinished: version %s holds AWSPENDING", v))
	}
	if err := r.pace.wait(ctx); err != nil {
		return timedOut(res, "not requested before the deadline")
	}
	token := r.opts.NewToken()
	start := r.opts.Now()
	out, err := r.opts.Secrets.RotateSecret(ctx, &secretsmanager.RotateSecretInput{
		SecretId:           aws.String(res.ARN),
		ClientRequestToken: aws.String(token),
	})
	if err != nil {
		if ctx.Err() != nil {
			res.VersionID = token
			return timedOut(res, "RotateSecret did not answer before the deadline; the rotation may have started")
		}
		return refuse(res, fmt.Errorf("rotate secret: %s", serviceMessage(err)))
	}
	res.VersionID = token
	if v := aws.ToString(out.VersionId); v != "" {
		res.VersionID = v
	}
	r.opts.Progress(Progress{Kind: ProgressRequested, SecretID: id, VersionID: res.VersionID})
	if !r.opts.Wait {
		res.Status = events.StatusStarted
		res.DurationMs = r.opts.Now().Sub(start).Milliseconds()
		return res
	}
	res = r.follow(ctx, res, start)
	res.DurationMs = r.opts.Now().Sub(start).Milliseconds()
	return res
}

// follow polls DescribeSecret until the rotation's version is AWSCURRENT
// (succeeded), rotor recorded a failure for it (failed), it lost AWSPENDING
// without becoming current (abandoned: failed), or ctx ends (timed out).
func (r *rotateNow) follow(ctx context.Context, res events.RotateNowResult, start time.Time) events.RotateNowResult {
	b := backoff{cur: r.opts.PollInterval, max: r.opts.MaxPollInterval}
	var lastErr error
	for {
		if err := sleepCtx(ctx, b.next()); err != nil {
			reason := fmt.Sprintf("no outcome within the timeout; the rotation may still finish (follow it with: rotor status %s)", res.ARN)
			if lastErr != nil {
				reason += "; last poll failed: " + serviceMessage(lastErr)
			}
			return timedOut(res, reason)
		}
		d, err := r.opts.Secrets.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(res.ARN)})
		if err != nil {
			// A poll failing is not the rotation failing: keep polling
			// until the deadline and report the last error then.
			lastErr = err
			continue
		}
		stages, listed := d.VersionIdsToStages[res.VersionID]
		if slices.Contains(stages, rotation.LabelCurrent) {
			res.Status = events.StatusSucceeded
			return res
		}
		tags := tagMap(d.Tags)
		if tags[rotation.TagLastVersion] == res.VersionID && tags[rotation.TagLastRotation] == rotation.OutcomeFailed {
			res.Status = events.StatusFailed
			res.FailedStep = tags[rotation.TagLastErrorStep]
			res.Reason = tags[rotation.TagLastError] + " (Secrets Manager retries failed rotations; rotor status shows the latest outcome)"
			return res
		}
		if !listed || !slices.Contains(stages, rotation.LabelPending) {
			res.Status = events.StatusFailed
			res.Reason = fmt.Sprintf("rotation abandoned: version %s lost AWSPENDING without becoming AWSCURRENT (a new value was put or the rotation was cancelled)", res.VersionID)
			return res
		}
		r.opts.Progress(Progress{Kind: ProgressWaiting, SecretID: res.SecretID, VersionID: res.VersionID, Stages: sortedStages(stages), Elapsed: r.opts.Now().Sub(start)})
	}
}

func refuse(res events.RotateNowResult, err error) events.RotateNowResult {
	res.Status = events.StatusRefused
	var re *RefusedError
	if errors.As(err, &re) {
		res.Reason = re.Message()
	} else {
		res.Reason = err.Error()
	}
	return res
}

func timedOut(res events.RotateNowResult, reason string) events.RotateNowResult {
	res.Status = events.StatusTimedOut
	res.Reason = reason
	return res
}

// serviceMessage is an SDK error's code and message without the request
// metadata the SDK adds (operation name, request id, HTTP status).
func serviceMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	return err.Error()
}

// ListSecretIDs returns the ARNs of the secrets every filter matches, in
// ListSecrets order, reading every page. Secrets scheduled for deletion are
// left out, as ListSecrets does by default.
func ListSecretIDs(ctx context.Context, api SecretsAPI, filters []events.SecretFilter) ([]string, error) {
	in := &secretsmanager.ListSecretsInput{MaxResults: aws.Int32(100)}
	for _, f := range filters {
		in.Filters = append(in.Filters, types.Filter{Key: types.FilterNameStringType(f.Key), Values: f.Values})
	}
	var ids []string
	for {
		out, err := api.ListSecrets(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list secrets: %w", err)
		}
		for _, s := range out.SecretList {
			ids = append(ids, aws.ToString(s.ARN))
		}
		if aws.ToString(out.NextToken) == "" {
			return ids, nil
		}
		in.NextToken = out.NextToken
	}
}

// RotateNowError is returned by the rotatenow function when any result is
// not OK, so a caller that only sees errors (Terraform's
// aws_lambda_invocation) fails. Its message lists every such result.
type RotateNowError struct {
	Response events.RotateNowResponse
}

// maxErrorLines bounds the results listed in a RotateNowError's message; the
// function's log holds the full response.
const maxErrorLines = 50

func (e *RotateNowError) Error() string {
	var bad []events.RotateNowResult
	for _, r := range e.Response.Results {
		if !r.Status.OK() {
			bad = append(bad, r)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "rotate-now: %d of %d secrets not rotated (%s)", len(bad), len(e.Response.Results), countsText(e.Response.Counts))
	for i, r := range bad {
		if i == maxErrorLines {
			fmt.Fprintf(&b, "\n... and %d more (the function's log has the full response)", len(bad)-i)
			break
		}
		b.WriteString("\n")
		b.WriteString(ResultLine(r))
	}
	return b.String()
}

// ErrorType is the errorType Lambda reports.
func (e *RotateNowError) ErrorType() string { return "RotateNowFailed" }

func countsText(c map[events.RotateNowStatus]int) string {
	var parts []string
	for _, s := range []events.RotateNowStatus{events.StatusSucceeded, events.StatusStarted, events.StatusFailed, events.StatusTimedOut, events.StatusRefused} {
		if c[s] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", s, c[s]))
		}
	}
	return strings.Join(parts, ", ")
}

// ResultLine describes one result on one line, for people.
func ResultLine(r events.RotateNowResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", r.SecretID, r.Status)
	if r.FailedStep != "" {
		fmt.Fprintf(&b, " at %s", r.FailedStep)
	}
	if r.VersionID != "" {
		fmt.Fprintf(&b, " (version %s", r.VersionID)
		if r.Status != events.StatusStarted && r.DurationMs > 0 {
			fmt.Fprintf(&b, ", %s", (time.Duration(r.DurationMs) * time.Millisecond).Round(time.Millisecond))
		}
		b.WriteString(")")
	}
	if r.Reason != "" {
		fmt.Fprintf(&b, ": %s", r.Reason)
	}
	return b.String()
}
