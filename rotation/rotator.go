package rotation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/strategies"
)

// RDS tags Secrets Manager puts on an RDS-managed master secret.
const (
	TagRDSInstanceARN = events.TagRDSInstanceARN
	TagRDSClusterARN  = events.TagRDSClusterARN
)

// StepReport describes one finished step, for metrics.
type StepReport struct {
	SecretARN string
	// Token is the rotation's ClientRequestToken.
	Token    string
	Step     events.Step
	Strategy string
	Duration time.Duration
	// Err is nil on success. It is a *StepError otherwise.
	Err error
}

// Options configure a Rotator. Secrets and Strategies are required.
type Options struct {
	Secrets SecretsAPI
	// Strategies returns the strategy for a name; DefaultStrategy names the
	// one used when the secret has no rotor:strategy tag.
	Strategies      func(name string) (strategies.Strategy, error)
	DefaultStrategy string
	// Password is the policy for new passwords; the strategy adds its
	// engine's excluded characters when the policy names none.
	Password PasswordPolicy
	// Endpoints resolves RDS-managed master secrets (no host in their
	// document); nil means such an admin secret cannot be used.
	Endpoints EndpointResolver
	// AdminSecretARNs are the admin secrets a rotated secret's masterarn
	// may name (ADMIN_SECRET_ARNS); empty allows none, so alternating-users
	// needs it.
	AdminSecretARNs []string
	Logger          *slog.Logger
	// OnStep, when set, is called after every step (metrics).
	OnStep func(StepReport)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Rotator runs rotation steps. One Rotator serves every invocation of a warm
// Lambda container; it is safe for concurrent use.
type Rotator struct {
	opts  Options
	cache *versionCache
}

// New checks opts and returns a Rotator.
func New(opts Options) (*Rotator, error) {
	if opts.Secrets == nil {
		return nil, errors.New("rotation: no Secrets Manager client")
	}
	if opts.Strategies == nil {
		return nil, errors.New("rotation: no strategies")
	}
	if name, _, err := strategies.Choose("", opts.DefaultStrategy); err != nil {
		return nil, fmt.Errorf("rotation: default strategy: %w", err)
	} else if _, err := opts.Strategies(name); err != nil {
		return nil, fmt.Errorf("rotation: default strategy: %w", err)
	}
	if opts.Password.Length == 0 {
		opts.Password = DefaultPasswordPolicy()
	}
	if err := opts.Password.Validate(); err != nil {
		return nil, fmt.Errorf("rotation: %w", err)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Rotator{opts: opts, cache: newVersionCache()}, nil
}

// invocation is the state of one step.
type invocation struct {
	r        *Rotator
	ev       events.RotationEvent
	step     events.Step
	log      *slog.Logger
	secrets  []string
	arn      string
	desc     *secretsmanager.DescribeSecretOutput
	strategy strategies.Strategy
	// inRotation is set once the token is known to be AWSPENDING on the
	// secret: only failures after that are recorded on the secret, so a
	// malformed or stray event changes nothing.
	inRotation bool
}

// Handle runs one step. It returns nil when the step is done (or was done by
// an earlier attempt) and a *StepError otherwise.
func (r *Rotator) Handle(ctx context.Context, ev events.RotationEvent) error {
	start := r.opts.Now()
	inv := &invocation{r: r, ev: ev, step: events.Step(ev.Step), arn: ev.SecretID}
	inv.log = r.opts.Logger.With("secret_id", ev.SecretID, "step", ev.Step, "token", ev.ClientRequestToken)
	inv.log.Info("step started")

	err := inv.run(ctx)
	dur := r.opts.Now().Sub(start)
	strategyName := ""
	if inv.strategy != nil {
		strategyName = inv.strategy.Name()
	}
	if err != nil {
		var se *StepError
		if !errors.As(err, &se) {
			se = &StepError{Op: "run step", Err: err}
		}
		se.SecretID, se.Step, se.secrets = ev.SecretID, inv.step, inv.secrets
		if !inv.step.Valid() {
			se.Step = ""
		}
		inv.recordFailure(ctx, se)
		inv.log.Error("step failed", "error", se.Error(), "error_type", se.ErrorType(), "duration_ms", dur.Milliseconds(), "strategy", strategyName)
		err = se
	} else {
		inv.log.Info("step finished", "duration_ms", dur.Milliseconds(), "strategy", strategyName)
	}
	if r.opts.OnStep != nil && inv.step.Valid() {
		r.opts.OnStep(StepReport{SecretARN: inv.arn, Token: ev.ClientRequestToken, Step: inv.step, Strategy: strategyName, Duration: dur, Err: err})
	}
	return err
}

// HandleEvent runs one step from an invocation's JSON payload, as the
// Lambda runtime hands it to the rotator function. A payload that is not a
// rotation event (malformed JSON, a key given twice, a field of the wrong
// type) fails with a *StepError naming the field, as a bad event does in
// Handle, before any call is made.
func (r *Rotator) HandleEvent(ctx context.Context, payload []byte) error {
	ev, err := events.DecodeRotationEvent(payload)
	if err != nil {
		se := &StepError{Op: "decode event", Err: err}
		r.opts.Logger.Error("step failed", "error", se.Error(), "error_type", se.ErrorType(), "payload_bytes", len(payload))
		return se
	}
	return r.Handle(ctx, ev)
}

func fail(op string, err error) error { return &StepError{Op: op, Err: err} }

func (inv *invocation) run(ctx context.Context) error {
	if err := events.ValidateRotationEvent(inv.ev); err != nil {
		return fail("validate event", err)
	}
	desc, err := inv.r.opts.Secrets.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(inv.ev.SecretID)})
	if err != nil {
		return fail("describe secret", err)
	}
	inv.desc, inv.arn = desc, aws.ToString(desc.ARN)
	inv.log = inv.log.With("secret_arn", inv.arn)
	if !aws.ToBool(desc.RotationEnabled) {
		return fail("check secret", errors.New("rotation is not enabled on this secret"))
	}
	token := inv.ev.ClientRequestToken
	stages, ok := desc.VersionIdsToStages[token]
	if !ok {
		return fail("check token", fmt.Errorf("version %s has no staging label on this secret: it is not part of a rotation (a PutSecretValue without VersionStages or a CancelRotateSecret abandons a rotation in progress by taking AWSPENDING away)", token))
	}
	if slices.Contains(stages, LabelCurrent) {
		inv.log.Info("version is already AWSCURRENT; nothing to do")
		if inv.step == events.StepFinishSecret {
			return inv.recordSuccess(ctx)
		}
		return nil
	}
	if !slices.Contains(stages, LabelPending) {
		return fail("check token", fmt.Errorf("version %s is not AWSPENDING (labels %v)", token, stages))
	}
	inv.inRotation = true
	currentID := events.VersionWith(desc.VersionIdsToStages, LabelCurrent)
	if currentID == "" {
		return fail("check secret", errors.New("no version is AWSCURRENT"))
	}
	name, _, err := strategies.Choose(events.TagOf(desc.Tags, TagStrategy), inv.r.opts.DefaultStrategy)
	if err == nil {
		inv.strategy, err = inv.r.opts.Strategies(name)
	}
	if err != nil {
		return fail("choose strategy", err)
	}
	inv.log = inv.log.With("strategy", inv.strategy.Name())

	switch inv.step {
	case events.StepCreateSecret:
		return inv.create(ctx, currentID)
	case events.StepSetSecret:
		return inv.set(ctx, currentID)
	case events.StepTestSecret:
		return inv.test(ctx)
	case events.StepFinishSecret:
		return inv.finish(ctx, currentID)
	}
	return fail("dispatch", fmt.Errorf("unknown step %q", inv.step))
}

func (inv *invocation) create(ctx context.Context, currentID string) error {
	cur, err := inv.document(ctx, currentID, LabelCurrent, events.NeedConnection)
	if err != nil {
		return err
	}
	newPassword := func(exclude string) (string, error) {
		password, err := inv.r.opts.Password.Generate(exclude)
		if err != nil {
			return "", fmt.Errorf("generate password: %w", err)
		}
		inv.secrets = append(inv.secrets, password)
		return password, nil
	}
	resp, err := inv.strategy.Create(ctx, strategies.CreateRequest{Current: cur, NewPassword: newPassword, Master: inv.masterLoader(cur, checkMaster)})
	if err != nil {
		return fail("build pending version", err)
	}
	body, err := resp.Pending.MarshalJSON()
	if err != nil {
		return fail("encode pending version", err)
	}
	in := &secretsmanager.PutSecretValueInput{
		SecretId:           aws.String(inv.arn),
		ClientRequestToken: aws.String(inv.ev.ClientRequestToken),
		SecretString:       aws.String(string(body)),
		VersionStages:      []string{LabelPending},
	}
	if inv.ev.RotationToken != "" {
		in.RotationToken = aws.String(inv.ev.RotationToken)
	}
	_, err = inv.r.opts.Secrets.PutSecretValue(ctx, in)
	var exists *types.ResourceExistsException
	if errors.As(err, &exists) {
		// An earlier attempt already stored this version's value. Check it
		// is usable instead of trusting it blindly.
		inv.log.Info("pending version already holds a value from an earlier attempt")
		_, err := inv.document(ctx, inv.ev.ClientRequestToken, LabelPending, events.NeedConnection)
		return err
	}
	if err != nil {
		return fail("put pending version", err)
	}
	inv.r.cache.put(inv.arn, inv.ev.ClientRequestToken, string(body))
	inv.log.Info("pending version stored", "user", resp.Pending.Username)
	return nil
}

func (inv *invocation) set(ctx context.Context, currentID string) error {
	cur, err := inv.document(ctx, currentID, LabelCurrent, events.NeedConnection)
	if err != nil {
		return err
	}
	pend, err := inv.document(ctx, inv.ev.ClientRequestToken, LabelPending, events.NeedConnection)
	if err != nil {
		return err
	}
	resp, err := inv.strategy.Set(ctx, strategies.SetRequest{
		Current:       cur,
		Pending:       pend,
		Previous:      inv.previousLoader(),
		Master:        inv.masterLoader(cur, LoadMaster),
		MasterPending: inv.masterLoader(cur, LoadMasterPending),
		PinBase:       inv.pinBase,
		Logger:        inv.log,
	})
	if err != nil {
		return fail("set pending credential in the database", err)
	}
	if resp.AlreadySet {
		inv.log.Info("pending credential was already set by an earlier attempt")
	}
	return nil
}

func (inv *invocation) test(ctx context.Context) error {
	pend, err := inv.document(ctx, inv.ev.ClientRequestToken, LabelPending, events.NeedConnection)
	if err != nil {
		return err
	}
	if _, err := inv.strategy.Test(ctx, strategies.TestRequest{Pending: pend, Logger: inv.log}); err != nil {
		return fail("log in with pending credential", err)
	}
	return nil
}

func (inv *invocation) finish(ctx context.Context, currentID string) error {
	// Never promote a version that does not hold a usable document: a
	// stray or out-of-order finishSecret on the value-less placeholder
	// would leave AWSCURRENT unreadable. On the normal path this is a
	// cache hit and costs no call.
	if _, err := inv.document(ctx, inv.ev.ClientRequestToken, LabelPending, events.NeedConnection); err != nil {
		return err
	}
	_, err := inv.r.opts.Secrets.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
		SecretId:            aws.String(inv.arn),
		VersionStage:        aws.String(LabelCurrent),
		MoveToVersionId:     aws.String(inv.ev.ClientRequestToken),
		RemoveFromVersionId: aws.String(currentID),
	})
	if err != nil {
		return fail("move AWSCURRENT to the pending version", err)
	}
	inv.log.Info("AWSCURRENT moved", "from_version", currentID, "to_version", inv.ev.ClientRequestToken)
	return inv.recordSuccess(ctx)
}

// document returns a version's parsed document, from the warm cache or
// Secrets Manager. label is the label the version is expected to carry; it is
// sent with the request so the service checks it too.
func (inv *invocation) document(ctx context.Context, versionID, label string, req events.Requirement) (*events.SecretDocument, error) {
	value, ok := inv.r.cache.get(inv.arn, versionID)
	if !ok {
		var err error
		if value, err = ReadVersion(ctx, inv.r.opts.Secrets, inv.arn, versionID, label); err != nil {
			return nil, fail("read version", err)
		}
	}
	doc, err := events.ParseSecretDocument(value)
	if err == nil {
		inv.secrets = append(inv.secrets, doc.Password)
		err = doc.Validate(req)
	}
	if err != nil {
		inv.r.cache.drop(inv.arn, versionID)
		return nil, fail(fmt.Sprintf("check %s version %s", label, versionID), err)
	}
	inv.r.cache.put(inv.arn, versionID, value)
	return doc, nil
}

func (inv *invocation) previousLoader() strategies.DocLoader {
	return func(ctx context.Context) (*events.SecretDocument, error) {
		prevID := events.VersionWith(inv.desc.VersionIdsToStages, LabelPrevious)
		if prevID == "" {
			return nil, nil
		}
		return inv.document(ctx, prevID, LabelPrevious, events.NeedConnection)
	}
}

// masterLoader reads the admin secret named by the current document's
// masterarn with load (LoadMaster, LoadMasterPending) and registers its
// password for redaction.
func (inv *invocation) masterLoader(cur *events.SecretDocument, load func(context.Context, AdminSecretsAPI, EndpointResolver, string, []string, *slog.Logger) (*events.SecretDocument, error)) strategies.DocLoader {
	return func(ctx context.Context) (*events.SecretDocument, error) {
		if err := strategies.RequireMasterARN(cur); err != nil {
			return nil, err
		}
		if cur.MasterARN == inv.arn || strings.HasPrefix(inv.arn, cur.MasterARN+"-") && strings.HasPrefix(cur.MasterARN, "arn:") {
			return nil, &events.FieldError{Field: "masterarn", Reason: "names this secret itself; it must name a separate admin secret"}
		}
		doc, err := load(ctx, inv.r.opts.Secrets, inv.r.opts.Endpoints, cur.MasterARN, inv.r.opts.AdminSecretARNs, inv.log)
		if doc != nil {
			inv.secrets = append(inv.secrets, doc.Password)
		}
		return doc, err
	}
}

// recordSuccess writes the success outcome tags unless they are already
// there. Unlike a failure's, a success that cannot be recorded fails
// finishSecret: rotate-now, the notifier and the auditor judge a rotation by
// these tags, so Secrets Manager's retry of finishSecret (which finds the
// version already AWSCURRENT and records again) is the way to make them
// tell the truth. AWSCURRENT has moved either way.
func (inv *invocation) recordSuccess(ctx context.Context) error {
	if err := inv.writeOutcome(ctx, outcomeTags(OutcomeSucceeded, "", "", inv.ev.ClientRequestToken)); err != nil {
		return fail("record the rotation's success in the outcome tags (AWSCURRENT has moved)", err)
	}
	return nil
}

// recordFailure writes the failure outcome tags. It is best effort: a
// failure to tag is logged, never returned in place of the step's error.
func (inv *invocation) recordFailure(ctx context.Context, se *StepError) {
	if !inv.inRotation {
		return
	}
	if err := inv.writeOutcome(ctx, outcomeTags(OutcomeFailed, string(se.Step), se.Reason(), inv.ev.ClientRequestToken)); err != nil {
		inv.log.Warn("could not record the rotation outcome on the secret", "error", redact(err.Error(), inv.secrets))
	}
}

// writeOutcome writes tags unless the secret already carries them.
func (inv *invocation) writeOutcome(ctx context.Context, tags []types.Tag) error {
	if inv.desc != nil && tagsMatch(inv.desc.Tags, tags) {
		return nil
	}
	// The step's own context may be nearly spent; the tag still matters.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_, err := inv.r.opts.Secrets.TagResource(ctx, &secretsmanager.TagResourceInput{SecretId: aws.String(inv.arn), Tags: tags})
	return err
}
