package awslocal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rotorhq/rotor/events"
)

// RotationResult is the outcome of one rotation: every pass it took.
type RotationResult struct {
	SecretARN string
	VersionID string
	Succeeded bool
	// Attempts is the number of passes run.
	Attempts int
	// Step is where the last failed pass stopped; Err why (a *FunctionError
	// when the function itself failed). Both empty on success.
	Step events.Step
	Err  error
	// CheckOnly marks the testSecret-only run of RotateImmediately=false.
	CheckOnly bool
	// Scheduled marks a rotation the schedule started.
	Scheduled bool
}

type rotationRun struct {
	secretARN string
	token     string
	rotToken  string
	function  string
	steps     []events.Step
	checkOnly bool
	scheduled bool
	done      chan struct{}
	result    RotationResult
}

// ErrNoRotation is returned by WaitRotation for a secret that never rotated.
var ErrNoRotation = errors.New("awslocal: no rotation has run for this secret")

func (s *Server) rotateSecret(c *call) (any, *apiError) {
	var in struct {
		SecretId           string
		ClientRequestToken string
		RotationLambdaARN  string
		RotationRules      *RotationRules
		RotateImmediately  *bool
	}
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	sec, e := s.live(in.SecretId)
	if e != nil {
		return nil, e
	}
	if e := checkToken(in.ClientRequestToken); e != nil {
		return nil, e
	}
	fn, e := s.rotationFunction(sec, in.RotationLambdaARN)
	if e != nil {
		return nil, e
	}
	rules := sec.Rules
	if in.RotationRules != nil {
		rules = in.RotationRules
	}
	if rules != nil {
		if _, e = parseRules(rules); e != nil {
			return nil, e
		}
	}
	now := s.clock.Now()
	if again, e := s.checkRotatable(sec, in.ClientRequestToken, now); again != nil || e != nil {
		return again, e
	}
	s.storeRotationConfig(sec, fn, rules, in.RotationRules != nil, now)
	immediate := in.RotateImmediately == nil || *in.RotateImmediately
	run := s.placePending(sec, fn, in.ClientRequestToken, immediate, now)
	s.startRun(run)
	return versionOut{ARN: sec.ARN, Name: sec.Name, VersionId: run.token}, nil
}

// rotationFunction is the function a RotateSecret call rotates with: the
// one it names, else the secret's; it must be one the server can invoke.
func (s *Server) rotationFunction(sec *secret, named string) (string, *apiError) {
	fn := named
	if fn == "" {
		fn = sec.RotationLambda
	}
	if fn == "" {
		return "", errf(codeInvalidRequest, msgNoFunction)
	}
	if _, ok := s.functions[fn]; !ok {
		return "", errf(codeAccessDenied, "Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com.")
	}
	return fn, nil
}

// checkRotatable refuses a RotateSecret while another rotation is
// unfinished, with a token a version already has, or when the new
// AWSPENDING would break a quota. An SDK retry of the call that started the
// rotation in flight gets that rotation's answer again (again != nil).
func (s *Server) checkRotatable(sec *secret, token string, now time.Time) (again any, e *apiError) {
	cur := sec.withStage(LabelCurrent)
	if p := sec.withStage(LabelPending); p != nil && p != cur {
		// Choice: repeating RotateSecret with the token of the rotation in
		// flight (an SDK retry) answers that rotation again.
		if r := s.running[sec.ARN]; r != nil && r.token == token && p.ID == r.token {
			return versionOut{ARN: sec.ARN, Name: sec.Name, VersionId: r.token}, nil
		}
		return nil, errf(codeInvalidRequest, msgRotationPending)
	}
	if s.running[sec.ARN] != nil {
		return nil, errf(codeInvalidRequest, msgRotationPending)
	}
	if sec.version(token) != nil {
		// Choice (not recorded).
		return nil, errf(codeExists, "A version with this ClientRequestToken already exists for this secret.")
	}
	if e := sec.prune(now); e != nil {
		return nil, e
	}
	return nil, checkLabelQuota(sec, LabelPending)
}

// storeRotationConfig records what RotateSecret configures: rotation on,
// the function, and the rules when given (or at the first configuration),
// with the schedule's base.
func (s *Server) storeRotationConfig(sec *secret, fn string, rules *RotationRules, rulesGiven bool, now time.Time) {
	first := !sec.RotationSet
	sec.RotationSet, sec.RotationEnabled, sec.RotationLambda = true, true, fn
	if rulesGiven || first {
		sec.Rules = rules
		if sec.LastRotated.IsZero() {
			sec.ScheduleBase = now
		} else {
			sec.ScheduleBase = sec.LastRotated
		}
	}
	s.reschedule(sec)
	sec.LastChanged = now
}

// placePending puts AWSPENDING on the rotation's version and returns the
// run: for an immediate rotation the value-less placeholder createSecret
// fills, for RotateImmediately=false a temporary version holding the
// current value, for testSecret alone.
func (s *Server) placePending(sec *secret, fn, token string, immediate bool, now time.Time) *rotationRun {
	cur := sec.withStage(LabelCurrent)
	run := &rotationRun{secretARN: sec.ARN, token: token, rotToken: randomString(64, alnum), function: fn}
	sec.takeStage(LabelPending) // only ever on the current version here
	if immediate {
		// The value-less placeholder: listed in VersionIdsToStages, not
		// readable until createSecret stores a value.
		sec.Versions = append(sec.Versions, &version{ID: run.token, Stages: []string{LabelPending}, Created: now})
		run.steps = events.Steps
		return run
	}
	v := &version{ID: run.token, Stages: []string{LabelPending}, Created: now, temporaryCheck: true}
	if cur != nil && cur.HasValue {
		v.String, v.Binary, v.HasValue = cur.String, cur.Binary, true
	}
	sec.Versions = append(sec.Versions, v)
	run.steps = []events.Step{events.StepTestSecret}
	run.checkOnly = true
	return run
}

// reschedule recomputes NextRotationDate from the schedule base. Caller
// holds s.mu.
func (s *Server) reschedule(sec *secret) {
	sec.NextRotation, sec.NextAttempt = time.Time{}, time.Time{}
	if !sec.RotationEnabled || sec.Rules == nil {
		return
	}
	sc, e := parseRules(sec.Rules)
	if e != nil {
		return
	}
	base := sec.ScheduleBase
	if base.IsZero() {
		base = s.clock.Now()
	}
	sec.NextRotation = sc.Next(base)
}

// startRun registers and launches a rotation. Caller holds s.mu.
func (s *Server) startRun(run *rotationRun) {
	run.done = make(chan struct{})
	run.result = RotationResult{SecretARN: run.secretARN, VersionID: run.token, CheckOnly: run.checkOnly, Scheduled: run.scheduled}
	s.running[run.secretARN] = run
	s.lastRun[run.secretARN] = run
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.rotate(run)
	}()
}

// rotate runs the passes of one rotation. Each pass invokes the function
// once per step, in order, synchronously; a failed step ends the pass. A
// failed pass is retried after a backoff until RotationAttempts passes ran.
func (s *Server) rotate(run *rotationRun) {
	defer func() {
		s.mu.Lock()
		delete(s.running, run.secretARN)
		sec := s.find(run.secretARN)
		if run.checkOnly && sec != nil {
			if v := sec.version(run.token); v != nil && v.temporaryCheck {
				sec.removeVersion(run.token)
			}
		}
		// The rotation's bookkeeping changed this secret only: its journal
		// record, not a whole snapshot.
		if sec != nil {
			s.markDirty(sec)
		}
		seq := s.commitChanges()
		s.mu.Unlock()
		_ = s.store.wait(seq) // the writer logged a failure
		close(run.done)
	}()
	attempts := s.opts.RotationAttempts
	if run.checkOnly {
		// Choice: the check of RotateImmediately=false runs once.
		attempts = 1
	}
	backoff := s.opts.RotationBackoff
	started, succeeded, failed := "RotationStarted", "RotationSucceeded", "RotationFailed"
	if run.checkOnly {
		// The service's CloudTrail names for the testSecret-only check.
		started, succeeded, failed = "TestRotationStarted", "TestRotationSucceeded", string(events.TestRotationFailed)
	}
	for attempt := 1; attempt <= attempts; attempt++ {
		s.mu.Lock()
		s.record(Event{Name: started, SecretARN: run.secretARN, VersionID: run.token, Attempt: attempt, CheckOnly: run.checkOnly, Scheduled: run.scheduled})
		s.mu.Unlock()
		step, err := s.pass(run)
		s.mu.Lock()
		run.result.Attempts = attempt
		if err == nil {
			run.result.Succeeded, run.result.Step, run.result.Err = true, "", nil
			if sec := s.find(run.secretARN); sec != nil && !run.checkOnly {
				now := s.clock.Now()
				sec.LastRotated, sec.ScheduleBase = now, now
				if v := sec.version(run.token); v != nil && v.hasStage(LabelCurrent) {
					v.removeStage(LabelPending)
				}
				s.reschedule(sec)
			}
			s.record(Event{Name: succeeded, SecretARN: run.secretARN, VersionID: run.token, Attempt: attempt, CheckOnly: run.checkOnly, Scheduled: run.scheduled})
			s.mu.Unlock()
			return
		}
		run.result.Step, run.result.Err = step, err
		ev := Event{Name: failed, SecretARN: run.secretARN, VersionID: run.token, Attempt: attempt, Step: string(step), ErrorMessage: err.Error(), CheckOnly: run.checkOnly, Scheduled: run.scheduled}
		var fe *FunctionError
		if errors.As(err, &fe) {
			ev.ErrorType, ev.ErrorMessage = fe.Type, fe.Message
		}
		s.record(ev)
		s.mu.Unlock()
		if attempt == attempts || s.ctx.Err() != nil {
			return
		}
		if backoff > 0 {
			select {
			case <-time.After(backoff):
			case <-s.ctx.Done():
				return
			}
			backoff *= 2
		}
	}
}

// pass runs the steps once. Choice (strict, so tests catch a rotator that
// never promotes): a full pass whose steps all returned without error but
// left the new version without AWSCURRENT fails at finishSecret.
func (s *Server) pass(run *rotationRun) (events.Step, error) {
	for _, step := range run.steps {
		s.mu.Lock()
		inv := s.functions[run.function]
		s.mu.Unlock()
		if inv == nil {
			return step, fmt.Errorf("function %s can't be invoked: not registered", run.function)
		}
		payload, _ := json.Marshal(events.RotationEvent{Step: string(step), SecretID: run.secretARN, ClientRequestToken: run.token, RotationToken: run.rotToken})
		if _, err := inv.Invoke(s.ctx, payload); err != nil {
			return step, err
		}
	}
	if run.checkOnly {
		return "", nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sec := s.find(run.secretARN)
	if sec == nil {
		return events.StepFinishSecret, errors.New("the secret no longer exists")
	}
	if v := sec.version(run.token); v == nil || !v.hasStage(LabelCurrent) {
		return events.StepFinishSecret, fmt.Errorf("finishSecret returned but version %s is not AWSCURRENT", run.token)
	}
	return "", nil
}

// Tick does what time makes due: it removes secrets whose recovery window
// has ended and starts every rotation whose window has started (secrets
// with rotation enabled and no rotation in flight). It returns the ARNs of
// the rotations it started. A due secret whose AWSPENDING version is
// unfinished has that rotation reattempted with the same token.
func (s *Server) Tick() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	var started []string
	var touched []*secret
	for _, sec := range append([]*secret(nil), s.secrets...) {
		if sec.deleted() {
			if !now.Before(sec.DeletionDate) {
				s.removeSecret(sec) // journalled as a removal
			}
			continue
		}
		if !sec.RotationEnabled || sec.NextRotation.IsZero() || now.Before(sec.NextRotation) || now.Before(sec.NextAttempt) || s.running[sec.ARN] != nil {
			continue
		}
		touched = append(touched, sec)
		// A failed rotation waits for the next window (NextAttempt) while
		// NextRotationDate stays in the past, as the service reports it;
		// success recomputes both from LastRotatedDate.
		if sc, e := parseRules(sec.Rules); e == nil {
			sec.NextAttempt = sc.Next(now)
		}
		run := &rotationRun{secretARN: sec.ARN, rotToken: randomString(64, alnum), function: sec.RotationLambda, steps: events.Steps, scheduled: true}
		cur := sec.withStage(LabelCurrent)
		if p := sec.withStage(LabelPending); p != nil && p != cur {
			run.token = p.ID
		} else {
			if sec.prune(now) != nil {
				s.record(Event{Name: "RotationFailed", SecretARN: sec.ARN, Scheduled: true, ErrorMessage: "version limit reached"})
				continue
			}
			sec.takeStage(LabelPending)
			run.token = newUUID()
			sec.Versions = append(sec.Versions, &version{ID: run.token, Stages: []string{LabelPending}, Created: now})
		}
		s.startRun(run)
		started = append(started, sec.ARN)
	}
	s.secretsChanged(touched...)
	return started
}

// Advance moves a FakeClock forward by d and runs Tick. It panics when the
// server's clock is not a *FakeClock.
func (s *Server) Advance(d time.Duration) []string {
	fc, ok := s.clock.(*FakeClock)
	if !ok {
		panic("awslocal: Advance needs Options.Clock to be a *FakeClock")
	}
	fc.Advance(d)
	return s.Tick()
}

// WaitRotations blocks until no rotation is in flight on any secret.
func (s *Server) WaitRotations(ctx context.Context) error {
	for {
		s.mu.Lock()
		var run *rotationRun
		for _, r := range s.running {
			run = r
			break
		}
		s.mu.Unlock()
		if run == nil {
			return nil
		}
		select {
		case <-run.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// WaitRotation waits for the rotation in flight on the secret (name or ARN)
// and returns the outcome of its latest rotation; ErrNoRotation when it
// never rotated.
func (s *Server) WaitRotation(ctx context.Context, secretID string) (RotationResult, error) {
	s.mu.Lock()
	sec := s.find(secretID)
	var run *rotationRun
	if sec != nil {
		run = s.lastRun[sec.ARN]
	}
	s.mu.Unlock()
	if run == nil {
		return RotationResult{}, ErrNoRotation
	}
	select {
	case <-run.done:
	case <-ctx.Done():
		return RotationResult{}, ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return run.result, nil
}

// VersionInfo describes a stored version for tests: labels, whether it holds
// a value, and the RotationToken its PutSecretValue carried.
type VersionInfo struct {
	VersionID     string
	Stages        []string
	Created       time.Time
	HasValue      bool
	RotationToken string
}

// Versions lists a secret's versions (deprecated ones included), oldest
// first; nil for an unknown secret.
func (s *Server) Versions(secretID string) []VersionInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec := s.find(secretID)
	if sec == nil {
		return nil
	}
	var out []VersionInfo
	for _, v := range sec.Versions {
		out = append(out, VersionInfo{VersionID: v.ID, Stages: append([]string{}, v.Stages...), Created: v.Created, HasValue: v.HasValue, RotationToken: v.RotationToken})
	}
	return out
}

// LastRotationToken returns the RotationToken sent in the events of the
// secret's latest rotation, so tests can check the rotator passed it on.
func (s *Server) LastRotationToken(secretID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sec := s.find(secretID); sec != nil {
		if r := s.lastRun[sec.ARN]; r != nil {
			return r.rotToken
		}
	}
	return ""
}
