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
	"sync/atomic"
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
	DefaultTimeout         = 5 * time.Minute
	DefaultConcurrency     = 10
	DefaultPollInterval    = time.Second
	DefaultMaxPollInterval = 10 * time.Second
	DefaultStartJitter     = 500 * time.Millisecond
	// DefaultFailureGrace is how long a follower keeps waiting after the
	// rotator recorded a failed attempt, for Secrets Manager's own retry of
	// the whole rotation to succeed.
	DefaultFailureGrace = 2 * time.Minute
	// finalLookTimeout bounds the DescribeSecret made when the deadline
	// comes, so the answer still says where each rotation stands.
	finalLookTimeout = 2 * time.Second
)

// RotateNowOptions configure RotateNow. Secrets is required; zero values
// mean the defaults above.
type RotateNowOptions struct {
	Secrets SecretsAPI
	// Wait follows each rotation to its outcome; without it a secret's
	// result is "started" once RotateSecret accepted the request (RotateNow
	// still watches it while other secrets wait for the write budget).
	Wait bool
	// Timeout bounds the whole call, waiting included. Secrets whose
	// rotation was not requested by then are timed_out with no version.
	Timeout time.Duration
	// Concurrency bounds the secrets handled at once.
	Concurrency int
	// WritesPerSecond is the write budget: the PutSecretValue and
	// UpdateSecretVersionStage calls the rotations cause, which share
	// Secrets Manager's 50 requests/s per-region quota, stay within it in
	// every rolling second. Rotations start no faster than
	// WritesPerSecond/events.WritesPerRotation per second, evenly spaced,
	// and only while the rotations running or ended within the last second
	// leave room for one more (see pacer); without Wait, RotateNow watches the
	// rotations it started while other secrets wait for room. A
	// ThrottlingException seen on any call (rotate-now's own, or recorded by
	// the rotator as a rotation's failure) halves the pace; it then recovers
	// by 5% of the budget per second, never above the budget. Zero means
	// events.DefaultWritesPerSecond. Each RotateNow call has its own budget:
	// two running at once in one region share the quota, not the budget
	// (docs/scale.md).
	WritesPerSecond float64
	// PollInterval is the first delay between DescribeSecret polls while
	// waiting; it doubles up to MaxPollInterval. Each delay is jittered.
	PollInterval, MaxPollInterval time.Duration
	// FailureGrace is how long to keep following a rotation after the
	// rotator recorded a failed attempt of it: Secrets Manager retries the
	// whole rotation a few times, so a transient failure can still end in
	// success. The result is failed only when the grace ends (or the
	// deadline comes) without the version becoming AWSCURRENT. Zero means
	// DefaultFailureGrace; negative means none (the first recorded failure
	// is the result).
	FailureGrace time.Duration
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
	// ProgressAttemptFailed: the rotator recorded a failed attempt (Step,
	// Reason); the follower waits up to the failure grace for a retry.
	// Reported once per rotation, when the failure is first seen.
	ProgressAttemptFailed ProgressKind = "attempt-failed"
	// ProgressDone: the secret has its result.
	ProgressDone ProgressKind = "done"
	// ProgressThrottled: Secrets Manager throttled a call and the pace
	// was halved; WritesPerSecond is the pace now. Reported once per cut.
	ProgressThrottled ProgressKind = "throttled"
	// ProgressNoOutcomeTags: the secret carries no rotor outcome tag, so
	// its rotation function may not be rotor's: a success is still seen
	// (AWSCURRENT moves to the version) but a failure only as a timeout.
	ProgressNoOutcomeTags ProgressKind = "no-outcome-tags"
)

// Progress reports one secret's rotation moving along.
type Progress struct {
	Kind      ProgressKind
	SecretID  string
	VersionID string
	// Stages are the version's labels at the last poll (waiting).
	Stages  []string
	Elapsed time.Duration
	// Step and Reason are the failed attempt's (attempt-failed).
	Step, Reason string
	// Result is set on ProgressDone.
	Result *events.RotateNowResult
	// WritesPerSecond is the pace after a throttle (throttled).
	WritesPerSecond float64
}

func (o *RotateNowOptions) defaults() {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.WritesPerSecond <= 0 {
		o.WritesPerSecond = events.DefaultWritesPerSecond
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
	if o.FailureGrace == 0 {
		o.FailureGrace = DefaultFailureGrace
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
// holds AWSPENDING on a version that is not AWSCURRENT (a rotation in
// progress or unfinished, which Secrets Manager would refuse too). When a
// rotation starts between that check and rotate-now's RotateSecret (the
// schedule's, or another caller's), rotate-now starts none: with Wait it
// follows that rotation to its outcome, saying so in the reason; without,
// it refuses, naming that rotation's version.
func RotateNow(ctx context.Context, opts RotateNowOptions, secretIDs []string) []events.RotateNowResult {
	if opts.StartJitter == 0 && len(secretIDs) == 1 {
		opts.StartJitter = -1 // nothing to spread
	}
	opts.defaults()
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	r := &rotateNow{opts: opts, pace: newPacer(opts.WritesPerSecond, events.WritesPerRotation, opts.Now, sleepCtx), allStarted: make(chan struct{})}
	r.api = watchedAPI{SecretsAPI: opts.Secrets, seen: r.throttled}
	// Refusals first, so that the count of secrets that will ask for a
	// turn is known before any does.
	results := make([]events.RotateNowResult, len(secretIDs))
	seen := map[string]bool{}
	starts := 0
	for i, id := range secretIDs {
		results[i].SecretID = id
		switch {
		case strings.TrimSpace(id) == "":
			results[i].Status, results[i].Reason = events.StatusRefused, "empty secret id"
		case seen[id]:
			results[i].Status, results[i].Reason = events.StatusRefused, "secret named twice in one request; rotated once"
		default:
			seen[id] = true
			starts++
		}
	}
	r.startsLeft.Store(int64(starts))
	if starts == 0 {
		close(r.allStarted)
	}

	sem := make(chan struct{}, opts.Concurrency)
	var wg sync.WaitGroup
	for i, id := range secretIDs {
		if results[i].Status != "" {
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			// The pool is full until the deadline: what is left never started.
			results[i].Status, results[i].Reason = events.StatusTimedOut, "not requested before the deadline"
			opts.Progress(Progress{Kind: ProgressDone, SecretID: id, Result: &results[i]})
			r.startDone()
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
	// api is opts.Secrets reporting throttles to the pacer.
	api SecretsAPI
	// startsLeft counts the secrets that may still ask the pacer for a
	// turn; allStarted is closed when it reaches zero: from then on no
	// rotation needs the write budget that running ones hold.
	startsLeft atomic.Int64
	allStarted chan struct{}
}

// startDone records that one secret will ask the pacer for no more turns
// (it has its turn, or never will). Called once per startable secret.
func (r *rotateNow) startDone() {
	if r.startsLeft.Add(-1) == 0 {
		close(r.allStarted)
	}
}

// throttled halves the pace on a throttle and says so.
func (r *rotateNow) throttled() {
	if cut, rate := r.pace.throttled(); cut {
		r.opts.Progress(Progress{Kind: ProgressThrottled, WritesPerSecond: rate})
	}
}

func (r *rotateNow) one(ctx context.Context, id string) events.RotateNowResult {
	startDone := sync.OnceFunc(r.startDone)
	defer startDone()
	res := events.RotateNowResult{SecretID: id}
	if r.opts.StartJitter > 0 {
		if err := sleepCtx(ctx, mrand.N(r.opts.StartJitter)); err != nil {
			return timedOut(res, "not requested before the deadline")
		}
	}
	d, err := describe(ctx, r.api, id)
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
	if v := events.StrandedPending(d.VersionIdsToStages); v != "" {
		advice := uncheckedPending(res.ARN, v, events.VersionWith(d.VersionIdsToStages, rotation.LabelCurrent)).Advice
		return refuse(res, refusedf(advice, "a rotation is in progress or unfinished: version %s holds AWSPENDING (Secrets Manager starts no other until it ends)", v))
	}
	if err := r.pace.wait(ctx); err != nil {
		return timedOut(res, "not requested before the deadline")
	}
	startDone()
	// The turn holds a share of the write budget until the rotation's end
	// is seen (or nothing more can start): see pacer.
	defer r.pace.end()
	token := r.opts.NewToken()
	start := r.opts.Now()
	out, err := r.api.RotateSecret(ctx, &secretsmanager.RotateSecretInput{
		SecretId:           aws.String(res.ARN),
		ClientRequestToken: aws.String(token),
	})
	if err != nil {
		if ctx.Err() != nil {
			res.VersionID = token
			return timedOut(res, "RotateSecret did not answer before the deadline; the rotation may have started")
		}
		if v := r.startedMeanwhile(ctx, res.ARN, err); v != "" {
			return r.followOthers(ctx, res, v, start)
		}
		return refuse(res, fmt.Errorf("rotate secret: %s", serviceMessage(err)))
	}
	res.VersionID = token
	if v := aws.ToString(out.VersionId); v != "" {
		res.VersionID = v
	}
	r.opts.Progress(Progress{Kind: ProgressRequested, SecretID: id, VersionID: res.VersionID})
	if r.opts.Wait && events.TagOf(d.Tags, rotation.TagLastRotation) == "" {
		r.opts.Progress(Progress{Kind: ProgressNoOutcomeTags, SecretID: id, VersionID: res.VersionID})
	}
	if !r.opts.Wait {
		res.Status = events.StatusStarted
		res.DurationMs = r.opts.Now().Sub(start).Milliseconds()
		r.watch(ctx, res)
		return res
	}
	res = r.follow(ctx, res, start)
	res.DurationMs = r.opts.Now().Sub(start).Milliseconds()
	return res
}

// watch, without Wait, polls a rotation rotate-now started until it ends
// (its version is AWSCURRENT, has lost AWSPENDING, or the rotator recorded
// a failed attempt of it) or no secret is left to start, whichever comes
// first: until then the rotation's writes may still come and count against
// the budget the next starts share (pacer). A single secret, or the last
// ones of a fleet, are not watched at all. Polls back off from
// PollInterval up to MaxPollInterval, at most a second, so a budget share
// is given back within a second of the end.
func (r *rotateNow) watch(ctx context.Context, res events.RotateNowResult) {
	b := backoff{cur: r.opts.PollInterval, max: min(r.opts.MaxPollInterval, time.Second)}
	for {
		t := time.NewTimer(b.next())
		select {
		case <-r.allStarted:
			t.Stop()
			return
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		d, err := r.api.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(res.ARN)})
		if err != nil {
			continue // a failed poll is not an end; ctx ends the loop
		}
		if o := observe(d, res.VersionID); o.current || !o.pending || o.failed {
			if o.failed && mentionsThrottle(o.reason) {
				r.throttled()
			}
			return
		}
	}
}

// startedMeanwhile returns the version of a rotation that started between
// rotate-now's check of the secret (no AWSPENDING then) and its
// RotateSecret, which the service refused for it (InvalidRequestException:
// "A previous rotation isn't complete"): the schedule's, or another
// caller's. "" when err is another refusal.
func (r *rotateNow) startedMeanwhile(ctx context.Context, arn string, err error) string {
	var ir *types.InvalidRequestException
	if !errors.As(err, &ir) {
		return ""
	}
	d, derr := r.opts.Secrets.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(arn)})
	if derr != nil {
		return ""
	}
	return events.StrandedPending(d.VersionIdsToStages)
}

// followOthers answers for a rotation rotate-now did not start (version):
// it says so and, with Wait, follows that rotation to its outcome.
func (r *rotateNow) followOthers(ctx context.Context, res events.RotateNowResult, version string, start time.Time) events.RotateNowResult {
	note := fmt.Sprintf("a rotation of this secret was already in progress (version %s, started by its schedule or another caller after rotate-now checked it); rotate-now started none", version)
	res.VersionID = version
	if !r.opts.Wait {
		res.Status, res.Reason = events.StatusRefused, note
		return res
	}
	note += " and followed that one"
	r.opts.Progress(Progress{Kind: ProgressRequested, SecretID: res.SecretID, VersionID: version})
	res = r.follow(ctx, res, start)
	res.DurationMs = r.opts.Now().Sub(start).Milliseconds()
	if res.Reason == "" {
		res.Reason = note
	} else {
		res.Reason = note + ": " + res.Reason
	}
	return res
}

// observation is what one DescribeSecret says about a rotation's version.
type observation struct {
	stages []string
	// current: the version is AWSCURRENT; pending: it still holds
	// AWSPENDING.
	current, pending bool
	// failed: the outcome tags record a failed attempt of this version
	// (step, reason); tagged: the tags name this version at all.
	failed, tagged bool
	step, reason   string
}

func observe(d *secretsmanager.DescribeSecretOutput, version string) observation {
	stages := d.VersionIdsToStages[version]
	tags := tagMap(d.Tags)
	o := observation{
		stages:  sortedStages(stages),
		current: slices.Contains(stages, rotation.LabelCurrent),
		pending: slices.Contains(stages, rotation.LabelPending),
		tagged:  tags[rotation.TagLastVersion] == version,
	}
	if o.tagged && tags[rotation.TagLastRotation] == rotation.OutcomeFailed {
		o.failed, o.step, o.reason = true, tags[rotation.TagLastErrorStep], tags[rotation.TagLastError]
	}
	return o
}

// follower follows one rotation to its outcome.
type follower struct {
	r     *rotateNow
	res   events.RotateNowResult
	start time.Time
	// last is the latest successful poll, nil before the first.
	last    *observation
	lastErr error
	// failedAt is when a failed attempt was first seen (zero: never);
	// step and reason are the latest failure recorded.
	failedAt     time.Time
	step, reason string
}

// follow polls DescribeSecret until the rotation's version is AWSCURRENT
// (succeeded, noting any failed attempt Secrets Manager retried), the
// rotator recorded a failure for it and FailureGrace passed without a
// successful retry (failed, with the step and reason), it lost AWSPENDING
// without becoming current (abandoned: failed), or ctx ends (see
// atDeadline).
func (r *rotateNow) follow(ctx context.Context, res events.RotateNowResult, start time.Time) events.RotateNowResult {
	f := &follower{r: r, res: res, start: start}
	b := backoff{cur: r.opts.PollInterval, max: r.opts.MaxPollInterval}
	for {
		// While other secrets wait to start, the end of this rotation gives
		// its budget share back (pacer): poll at least every second.
		b.max = r.opts.MaxPollInterval
		select {
		case <-r.allStarted:
		default:
			b.max = min(b.max, time.Second)
			b.cur = min(b.cur, b.max)
		}
		if err := sleepCtx(ctx, b.next()); err != nil {
			return f.atDeadline(ctx)
		}
		d, err := r.api.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(res.ARN)})
		if err != nil {
			// A poll failing is not the rotation failing: keep polling
			// until the deadline and report the last error then.
			if ctx.Err() == nil {
				f.lastErr = err
			}
			continue
		}
		o := observe(d, res.VersionID)
		f.last = &o
		if done, out := f.judge(o, whilePolling); done {
			return out
		}
		r.opts.Progress(Progress{Kind: ProgressWaiting, SecretID: res.SecretID, VersionID: res.VersionID, Stages: o.stages, Elapsed: r.opts.Now().Sub(start)})
	}
}

// moment says when an observation was made.
type moment int

const (
	whilePolling moment = iota
	// atTheDeadline is the last look after the deadline: a recorded
	// failure is then the outcome whatever the grace left.
	atTheDeadline
)

// judge decides from one observation whether the rotation has an outcome.
func (f *follower) judge(o observation, when moment) (bool, events.RotateNowResult) {
	res := f.res
	if o.current {
		res.Status = events.StatusSucceeded
		if !f.failedAt.IsZero() {
			res.Reason = fmt.Sprintf("succeeded after Secrets Manager retried the rotation: an earlier attempt failed at %s: %s", f.step, f.reason)
		}
		return true, res
	}
	if o.failed {
		f.step, f.reason = o.step, o.reason
		if f.failedAt.IsZero() {
			if mentionsThrottle(o.reason) {
				f.r.throttled()
			}
			f.failedAt = f.r.opts.Now()
			f.r.opts.Progress(Progress{Kind: ProgressAttemptFailed, SecretID: res.SecretID, VersionID: res.VersionID, Stages: o.stages, Elapsed: f.failedAt.Sub(f.start), Step: o.step, Reason: o.reason})
		}
	}
	if !o.pending {
		res.Status = events.StatusFailed
		res.FailedStep = f.step
		res.Reason = fmt.Sprintf("rotation abandoned: version %s lost AWSPENDING without becoming AWSCURRENT (a new value was put or the rotation was cancelled)", res.VersionID)
		if f.reason != "" {
			res.Reason += "; the last recorded failure was: " + f.reason
		}
		return true, res
	}
	if f.failedAt.IsZero() {
		return false, res
	}
	grace := max(f.r.opts.FailureGrace, 0)
	switch {
	case when == atTheDeadline:
		res.Status, res.FailedStep = events.StatusFailed, f.step
		res.Reason = fmt.Sprintf("%s (the deadline came %s after this failure was recorded, within the %s retry grace: Secrets Manager may still retry; rotor status %s shows the latest outcome)", f.reason, f.r.opts.Now().Sub(f.failedAt).Round(time.Second), grace, f.res.ARN)
		return true, res
	case f.r.opts.Now().Sub(f.failedAt) >= grace:
		res.Status, res.FailedStep = events.StatusFailed, f.step
		res.Reason = fmt.Sprintf("%s (no successful retry within the %s grace after this failure was recorded; rotor status %s shows the latest outcome)", f.reason, grace, f.res.ARN)
		return true, res
	}
	return false, res
}

// atDeadline reports a rotation still unresolved when ctx ended. One last
// DescribeSecret, bounded by finalLookTimeout and made even though ctx is
// done, says where it stands: succeeded, failed (a recorded failure within
// the grace), or timed out. A version still AWSPENDING that the rotator
// recorded nothing for may be running still, or the rotator may have
// stopped before it could record anything: the reason says to read the
// function's logs.
func (f *follower) atDeadline(ctx context.Context) events.RotateNowResult {
	lookCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finalLookTimeout)
	defer cancel()
	if d, err := f.r.opts.Secrets.DescribeSecret(lookCtx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(f.res.ARN)}); err == nil {
		o := observe(d, f.res.VersionID)
		f.last = &o
	} else if f.lastErr == nil {
		f.lastErr = err
	}
	if f.last != nil {
		if done, out := f.judge(*f.last, atTheDeadline); done {
			return out
		}
	}
	reason := fmt.Sprintf("no outcome within the timeout; the rotation may still finish (follow it with: rotor status %s)", f.res.ARN)
	if f.last != nil && f.last.pending && !f.last.tagged {
		reason = fmt.Sprintf("no outcome within the timeout: version %s still holds AWSPENDING and the rotator recorded nothing for it. "+
			"The rotation may still be running, or the rotation function may have stopped before it could record anything "+
			"(an initialisation error, the Lambda timeout, TagResource denied): check the rotation function's logs, and follow it with: rotor status %s", f.res.VersionID, f.res.ARN)
	}
	if f.lastErr != nil {
		reason += "; last poll failed: " + serviceMessage(f.lastErr)
	}
	return timedOut(f.res, reason)
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
