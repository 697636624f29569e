package awslocal

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rotorhq/rotor/events"
)

// This file connects the stand-in to rotor's alerting the way AWS does:
// EventBridge delivery of the rotation events, and Lambda's
// GetFunctionConfiguration.
//
// Delivery shape. Real Secrets Manager rotation events reach EventBridge
// through CloudTrail as service events: detail-type "AWS Service Event via
// CloudTrail", source "aws.secretsmanager", an empty "resources", and the
// secret's ARN in detail.additionalEventData.SecretId; a RotationFailed
// record's errorMessage names the function and the step only ("Error when
// executing lambda <ARN> during <step> step"), never the function's own
// error text. EventBridgeEvent builds exactly that (see events/eventbridge.go
// for the recorded example), so a notifier tested here reads no more than it
// would in AWS: rotor's reason must come from the outcome tags.
//
// Delivery mechanisms. The server pushes: with an event target set
// (Options.EventTarget, SetEventTarget), every matching event is queued as
// it is recorded and sent by one background sender, in recording order,
// asynchronously as EventBridge does; a failed send is retried
// (eventDeliveryAttempts in all, waiting RotationBackoff, doubled, between
// them), then logged and dropped. WaitEventDeliveries waits for the queue.
// Tests that need to drive delivery step by step pull instead: a Bus
// delivers when the test calls Deliver, each event once, and Redeliver sends
// an event again with the same id, as EventBridge's retries do. Both give an
// event the same id (derived from its index in Events()).

// EventBridgeEvent converts a recorded rotation event into the envelope
// EventBridge delivers. seq is the event's index in Events(); the event id
// and CloudTrail eventID are derived from it, so they are stable.
func (s *Server) EventBridgeEvent(e Event, seq int) events.SecretsManagerEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.eventBridgeEvent(e, seq)
}

// eventBridgeEvent is EventBridgeEvent for a caller holding s.mu.
func (s *Server) eventBridgeEvent(e Event, seq int) events.SecretsManagerEvent {
	fn := ""
	if sec := s.find(e.SecretARN); sec != nil {
		fn = sec.RotationLambda
	}
	region, account := s.opts.Region, s.opts.Account
	if parts := strings.Split(e.SecretARN, ":"); len(parts) >= 6 {
		region, account = parts[3], parts[4]
	}
	t := e.Time.UTC()
	d := events.CloudTrailDetail{
		EventVersion:        "1.08",
		UserIdentity:        &events.UserIdentity{AccountID: account, InvokedBy: events.EventSourceSecretsManager},
		EventTime:           t,
		EventSource:         events.EventSourceSecretsManager,
		EventName:           events.RotationEventName(e.Name),
		AWSRegion:           region,
		SourceIPAddress:     events.EventSourceSecretsManager,
		UserAgent:           events.EventSourceSecretsManager,
		RequestParameters:   json.RawMessage("null"),
		ResponseElements:    json.RawMessage("null"),
		AdditionalEventData: &events.AdditionalData{SecretID: e.SecretARN},
		RequestID:           "Rotation-" + e.SecretARN + "-" + e.VersionID,
		EventID:             stableUUID("cloudtrail", e.SecretARN, fmt.Sprint(seq)),
		EventType:           "AwsServiceEvent",
		ManagementEvent:     true,
		RecipientAccountID:  account,
		EventCategory:       "Management",
	}
	if e.Name == string(events.RotationFailed) || e.Name == string(events.TestRotationFailed) {
		switch {
		case e.Step != "":
			d.ErrorMessage = fmt.Sprintf("Error when executing lambda %s during %s step", fn, e.Step)
		default:
			d.ErrorMessage = e.ErrorMessage
		}
	}
	return events.SecretsManagerEvent{
		Version:    "0",
		ID:         stableUUID("eventbridge", e.SecretARN, fmt.Sprint(seq)),
		DetailType: events.DetailTypeServiceEvent,
		Source:     events.SourceSecretsManager,
		Account:    account,
		Time:       t,
		Region:     region,
		Resources:  []string{},
		Detail:     d,
	}
}

// stableUUID derives a version-4-shaped UUID from parts.
func stableUUID(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	b := h[:16]
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Bus is an EventBridge rule on the server's rotation events: events whose
// name is in Names (all rotation events when empty) go to Target as the
// JSON envelope, as Lambda's asynchronous invocation would pass them.
type Bus struct {
	srv    *Server
	names  []string
	target Invoker

	mu        sync.Mutex
	next      int
	delivered []events.SecretsManagerEvent
}

// NewBus returns a rule that delivers the named rotation events to target.
func (s *Server) NewBus(target Invoker, names ...events.RotationEventName) *Bus {
	b := &Bus{srv: s, target: target}
	for _, n := range names {
		b.names = append(b.names, string(n))
	}
	return b
}

// Deliver sends every matching event recorded since the last call, oldest
// first, and returns how many it sent. It stops at the first target error
// (that event counts as delivered: EventBridge's retry is Redeliver).
func (b *Bus) Deliver(ctx context.Context) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	all := b.srv.Events()
	sent := 0
	for ; b.next < len(all); b.next++ {
		e := all[b.next]
		if len(b.names) > 0 && !slices.Contains(b.names, e.Name) {
			continue
		}
		env := b.srv.EventBridgeEvent(e, b.next)
		b.delivered = append(b.delivered, env)
		sent++
		if err := b.send(ctx, env); err != nil {
			b.next++
			return sent, err
		}
	}
	return sent, nil
}

// Delivered returns the envelopes sent so far, in order.
func (b *Bus) Delivered() []events.SecretsManagerEvent {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.delivered)
}

// Redeliver sends an already delivered event again, same id and content.
func (b *Bus) Redeliver(ctx context.Context, id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, env := range b.delivered {
		if env.ID == id {
			return b.send(ctx, env)
		}
	}
	return fmt.Errorf("awslocal: no delivered event %s", id)
}

func (b *Bus) send(ctx context.Context, env events.SecretsManagerEvent) error {
	payload, err := json.Marshal(env)
	if err != nil {
		return err
	}
	_, err = b.target.Invoke(ctx, payload)
	return err
}

// eventDeliveryAttempts is how many times the server sends one event to its
// target before giving up on it. EventBridge retries for up to 24 hours;
// the stand-in's choice is three sends.
const eventDeliveryAttempts = 3

// eventPush is the server's pushed delivery: a target, the names it wants
// and a queue drained by one sender goroutine.
type eventPush struct {
	mu      sync.Mutex
	target  Invoker
	names   []string
	queue   []events.SecretsManagerEvent
	pending int           // queued or being sent
	drained chan struct{} // closed while pending == 0
	wake    chan struct{} // capacity 1
}

func newEventPush() *eventPush {
	p := &eventPush{drained: make(chan struct{}), wake: make(chan struct{}, 1)}
	close(p.drained)
	return p
}

// SetEventTarget makes the server push its rotation events to target in
// EventBridge's envelope, as an EventBridge rule with a Lambda target does:
// only events named in names (all when none), each once, in recording
// order, asynchronously. nil stops pushing; events already queued are still
// sent. Point it at the notifier (an HTTPInvoker on its invoke URL) to run
// rotor's alerting against the stand-in.
func (s *Server) SetEventTarget(target Invoker, names ...events.RotationEventName) {
	p := s.push
	p.mu.Lock()
	defer p.mu.Unlock()
	p.target = target
	p.names = p.names[:0]
	for _, n := range names {
		p.names = append(p.names, string(n))
	}
}

// pushEvent queues a just-recorded event for the target. seq is its index
// in s.events. Caller holds s.mu (the envelope reads the secret).
func (s *Server) pushEvent(e Event, seq int) {
	p := s.push
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.target == nil || (len(p.names) > 0 && !slices.Contains(p.names, e.Name)) {
		return
	}
	p.queue = append(p.queue, s.eventBridgeEvent(e, seq))
	if p.pending == 0 {
		p.drained = make(chan struct{})
	}
	p.pending++
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// deliverEvents is the sender goroutine; it ends with the server.
func (s *Server) deliverEvents() {
	p := s.push
	for {
		p.mu.Lock()
		var env events.SecretsManagerEvent
		var target Invoker
		have := len(p.queue) > 0
		if have {
			env, p.queue = p.queue[0], p.queue[1:]
			target = p.target
		}
		p.mu.Unlock()
		if !have {
			select {
			case <-p.wake:
				continue
			case <-s.ctx.Done():
				return
			}
		}
		s.sendEvent(target, env)
		p.mu.Lock()
		p.pending--
		if p.pending == 0 {
			close(p.drained)
		}
		p.mu.Unlock()
	}
}

func (s *Server) sendEvent(target Invoker, env events.SecretsManagerEvent) {
	if target == nil {
		return
	}
	payload, err := json.Marshal(env)
	if err != nil {
		s.log.Error("event delivery", "event", env.ID, "error", err.Error())
		return
	}
	backoff := s.opts.RotationBackoff
	for attempt := 1; attempt <= eventDeliveryAttempts; attempt++ {
		_, err = target.Invoke(s.ctx, payload)
		if err == nil {
			s.log.Info("event delivered", "event", env.ID, "name", string(env.Detail.EventName), "secret", env.SecretID())
			return
		}
		// The target's own error text may quote what it was sent; log the
		// kind of failure only.
		s.log.Warn("event delivery failed", "event", env.ID, "name", string(env.Detail.EventName), "attempt", attempt, "error", deliveryErrorKind(err))
		if attempt == eventDeliveryAttempts || s.ctx.Err() != nil {
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

func deliveryErrorKind(err error) string {
	var fe *FunctionError
	if errors.As(err, &fe) {
		return "function error " + fe.Type
	}
	return "target unreachable"
}

// WaitEventDeliveries blocks until every event queued for the target has
// been sent (or given up on).
func (s *Server) WaitEventDeliveries(ctx context.Context) error {
	s.push.mu.Lock()
	ch := s.push.drained
	s.push.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// SetFunctionState sets a registered function's State ("Failed",
// "Inactive", ...) and StateReason as GetFunctionConfiguration reports
// them; state "" resets it to Active.
func (s *Server) SetFunctionState(arn, state, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if state == "" {
		delete(s.fnStates, arn)
		return
	}
	s.fnStates[arn] = [2]string{state, reason}
}

// serveFunctionConfiguration answers Lambda's GetFunctionConfiguration
// (GET /2015-03-31/functions/<name-or-arn>/configuration) for the functions
// registered with SetFunction. A registered function is Active unless
// SetFunctionState says otherwise; an unknown one is
// ResourceNotFoundException (HTTP 404), as Lambda answers.
func (s *Server) serveFunctionConfiguration(w http.ResponseWriter, name string) {
	name, _ = url.PathUnescape(name)
	s.mu.Lock()
	s.stats["GetFunctionConfiguration"]++
	inv, arn := s.function(name)
	st, ok := s.fnStates[arn]
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if inv == nil {
		w.Header().Set("X-Amzn-ErrorType", "ResourceNotFoundException")
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(map[string]string{"Type": "User", "Message": "Function not found: " + name})
		return
	}
	if !ok {
		st = [2]string{"Active", ""}
	}
	parts := strings.Split(arn, ":")
	out := map[string]any{
		"FunctionName":     parts[len(parts)-1],
		"FunctionArn":      arn,
		"Runtime":          "provided.al2023",
		"Handler":          "bootstrap",
		"State":            st[0],
		"LastUpdateStatus": "Successful",
		"Version":          "$LATEST",
	}
	if st[1] != "" {
		out["StateReason"] = st[1]
	}
	_ = json.NewEncoder(w).Encode(out)
}
