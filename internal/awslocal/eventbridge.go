package awslocal

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/rotorhq/rotor/events"
)

// This file adds what the alerting tests need and the rest of the stand-in
// does not have: EventBridge delivery of the rotation events, and Lambda's
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
// Delivery mechanism. EventBridge delivers at least once and
// asynchronously; a Bus here delivers when the test calls Deliver, in
// recording order, each event once, and Redeliver sends an event again with
// the same id, as EventBridge's retries do.

// EventBridgeEvent converts a recorded rotation event into the envelope
// EventBridge delivers. seq is the event's index in Events(); the event id
// and CloudTrail eventID are derived from it, so they are stable.
func (s *Server) EventBridgeEvent(e Event, seq int) events.SecretsManagerEvent {
	s.mu.Lock()
	fn := ""
	if sec := s.find(e.SecretARN); sec != nil {
		fn = sec.RotationLambda
	}
	s.mu.Unlock()
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
	if e.Name == string(events.RotationFailed) {
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

// FunctionStates answers Lambda's GetFunctionConfiguration (GET
// /2015-03-31/functions/<name-or-arn>/configuration) for the functions
// registered with SetFunction, and passes every other request to the
// server. A registered function is Active unless SetState says otherwise;
// an unknown one is ResourceNotFoundException (HTTP 404), as Lambda answers.
// Serve it in front of the server and point the Lambda client at it.
type FunctionStates struct {
	srv *Server

	mu     sync.Mutex
	states map[string][2]string // ARN → state, reason
}

// NewFunctionStates wraps s.
func (s *Server) NewFunctionStates() *FunctionStates {
	return &FunctionStates{srv: s, states: map[string][2]string{}}
}

// SetState sets a registered function's State ("Failed", "Inactive", ...)
// and StateReason.
func (f *FunctionStates) SetState(arn, state, reason string) {
	f.mu.Lock()
	f.states[arn] = [2]string{state, reason}
	f.mu.Unlock()
}

// ServeHTTP answers GetFunctionConfiguration and delegates the rest.
func (f *FunctionStates) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, isFn := strings.CutPrefix(r.URL.EscapedPath(), "/2015-03-31/functions/")
	name, isConfig := strings.CutSuffix(rest, "/configuration")
	if !isFn || !isConfig || r.Method != http.MethodGet {
		f.srv.ServeHTTP(w, r)
		return
	}
	name, _ = url.PathUnescape(name)
	f.srv.mu.Lock()
	f.srv.stats["GetFunctionConfiguration"]++
	inv, arn := f.srv.function(name)
	f.srv.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if inv == nil {
		w.Header().Set("X-Amzn-ErrorType", "ResourceNotFoundException")
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(map[string]string{"Type": "User", "Message": "Function not found: " + name})
		return
	}
	f.mu.Lock()
	st, ok := f.states[arn]
	f.mu.Unlock()
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
