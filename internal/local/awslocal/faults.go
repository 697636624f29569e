package awslocal

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Faults on demand. A test (or `rotor local serve --fault`, or POST
// /_awslocal/faults) tells the stand-in to answer some Secrets Manager calls
// (or, when the fault names one, an RDS or SNS call: DescribeDBInstances,
// ModifyDBCluster, Publish, ...) the way the real service does when it is
// busy or broken, so the SDK's
// retries, rotate-now's pacing and the rotator's repeat safety meet the
// answers they get in production:
//
//   - throttle: HTTP 400 ThrottlingException "Rate exceeded." (the SDKs
//     retry it with backoff);
//   - error: HTTP 5xx (500 by default) InternalServiceError (retried too);
//   - delay: the call waits, then is answered normally;
//   - deny: HTTP 400 AccessDeniedException, as when the caller's IAM policy
//     (or the secret's resource or KMS key policy) does not allow the call.
//
// A fault applies to one operation (or all) and one secret (or all), to the
// next Count matching calls (0: no limit) and to a Fraction of them (0 or 1:
// every one). The fraction is deterministic, so tests can count on it: with
// Fraction f the k-th matching call is hit when ⌊k·f⌋ > ⌊(k−1)·f⌋ (0.5 hits
// calls 2, 4, 6, …; 0.25 hits 4, 8, …). When several faults match a call the
// oldest one that fires wins; a delay fault that fires still lets a later
// error fault answer the same call.

// FaultAnswer is what a fault makes the stand-in do.
type FaultAnswer string

// The answers a Fault can give.
const (
	FaultThrottle FaultAnswer = "throttle"
	FaultError    FaultAnswer = "error"
	FaultDelay    FaultAnswer = "delay"
	FaultDeny     FaultAnswer = "deny"
)

// Fault makes the stand-in answer matching Secrets Manager calls with
// ThrottlingException, a 5xx, AccessDeniedException, or after a delay. See
// AddFault.
type Fault struct {
	// Operation is a Secrets Manager operation name ("PutSecretValue") or
	// an RDS or SNS action ("DescribeDBInstances"); empty matches every
	// Secrets Manager operation. RDS and SNS answer faults in their Query
	// protocol: Throttling (SNS: Throttled, HTTP 429), InternalFailure, AccessDenied.
	Operation string `json:"operation,omitempty"`
	// SecretID is a name, full or partial ARN; empty matches every call.
	// A call matches when it names the same secret (SecretId, or Name for
	// CreateSecret), however either is spelt.
	SecretID string      `json:"secretId,omitempty"`
	Answer   FaultAnswer `json:"answer"`
	// Status is the HTTP status of an error answer, 500–599 (default 500).
	Status int `json:"status,omitempty"`
	// Delay is how long a delay answer waits before the call runs.
	Delay time.Duration `json:"-"`
	// Count is how many calls the fault answers before it is spent; 0
	// means no limit.
	Count int `json:"count,omitempty"`
	// Fraction of the matching calls the fault answers, 0–1 (0 means all).
	Fraction float64 `json:"fraction,omitempty"`
}

// MarshalJSON writes Delay as a duration string.
func (f Fault) MarshalJSON() ([]byte, error) {
	type plain Fault
	out := struct {
		plain
		Delay string `json:"delay,omitempty"`
	}{plain: plain(f)}
	if f.Delay > 0 {
		out.Delay = f.Delay.String()
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads Delay as a duration string.
func (f *Fault) UnmarshalJSON(b []byte) error {
	type plain Fault
	var in struct {
		plain
		Delay string `json:"delay,omitempty"`
	}
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*f = Fault(in.plain)
	if in.Delay != "" {
		d, err := time.ParseDuration(in.Delay)
		if err != nil {
			return fmt.Errorf("fault delay: %w", err)
		}
		f.Delay = d
	}
	return nil
}

// Validate checks a fault, naming the field that is wrong.
func (f Fault) Validate() error {
	if f.Operation != "" {
		if _, ok := operations[f.Operation]; !ok && !queryActions[f.Operation] {
			return fmt.Errorf("fault operation: %q is not a Secrets Manager, RDS or SNS operation the stand-in answers", f.Operation)
		}
	}
	switch f.Answer {
	case FaultThrottle, FaultDeny:
	case FaultError:
		if f.Status != 0 && (f.Status < 500 || f.Status > 599) {
			return fmt.Errorf("fault status: %d is not a 5xx status", f.Status)
		}
	case FaultDelay:
		if f.Delay <= 0 {
			return fmt.Errorf("fault delay: a delay answer needs a positive delay")
		}
	default:
		return fmt.Errorf("fault answer: %q is not one of throttle, error, delay, deny", f.Answer)
	}
	if f.Count < 0 {
		return fmt.Errorf("fault count: %d is negative", f.Count)
	}
	if f.Fraction < 0 || f.Fraction > 1 || math.IsNaN(f.Fraction) {
		return fmt.Errorf("fault fraction: %g is outside 0..1", f.Fraction)
	}
	return nil
}

// ParseFault reads the one-line form `rotor local serve --fault` takes:
// comma-separated key=value pairs with keys op, secret, answer, status,
// delay, count and fraction, e.g.
//
//	op=PutSecretValue,answer=throttle,count=2
//	op=GetSecretValue,secret=app/db,answer=delay,delay=2s,fraction=0.5
func ParseFault(spec string) (Fault, error) {
	var f Fault
	for _, kv := range strings.Split(spec, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return f, fmt.Errorf("fault %q: want key=value, got %q", spec, kv)
		}
		var err error
		switch k {
		case "op":
			f.Operation = v
		case "secret":
			f.SecretID = v
		case "answer":
			f.Answer = FaultAnswer(v)
		case "status":
			f.Status, err = strconv.Atoi(v)
		case "delay":
			f.Delay, err = time.ParseDuration(v)
		case "count":
			f.Count, err = strconv.Atoi(v)
		case "fraction":
			f.Fraction, err = strconv.ParseFloat(v, 64)
		default:
			return f, fmt.Errorf("fault %q: unknown key %q (keys: op, secret, answer, status, delay, count, fraction)", spec, k)
		}
		if err != nil {
			return f, fmt.Errorf("fault %q: %s: %w", spec, k, err)
		}
	}
	return f, f.Validate()
}

// FaultState is an installed fault with its counters.
type FaultState struct {
	ID    int   `json:"id"`
	Fault Fault `json:"fault"`
	// Matched counts the calls the fault matched, Fired those it answered.
	Matched int `json:"matched"`
	Fired   int `json:"fired"`
}

type activeFault struct {
	FaultState
}

// spent reports whether a counted fault has answered all its calls.
func (a *activeFault) spent() bool { return a.Fault.Count > 0 && a.Fired >= a.Fault.Count }

// AddFault installs a fault and returns its id. Faults apply from the next
// call on, in the order they were added.
func (s *Server) AddFault(f Fault) (int, error) {
	if err := f.Validate(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faultSeq++
	s.faults = append(s.faults, &activeFault{FaultState{ID: s.faultSeq, Fault: f}})
	return s.faultSeq, nil
}

// RemoveFault removes one fault; removing an unknown id is not an error.
func (s *Server) RemoveFault(id int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.faults[:0]
	for _, a := range s.faults {
		if a.ID != id {
			out = append(out, a)
		}
	}
	s.faults = out
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

// Faults lists the installed faults (spent ones included) with their
// counters, oldest first.
func (s *Server) Faults() []FaultState {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]FaultState, 0, len(s.faults))
	for _, a := range s.faults {
		out = append(out, a.FaultState)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// matches reports whether a fault applies to a call of op naming secretID.
// Caller holds s.mu.
func (s *Server) faultMatches(f Fault, op, secretID string) bool {
	if f.Operation != op && (f.Operation != "" || !isSecretsManagerOp(op)) {
		return false
	}
	if f.SecretID == "" || f.SecretID == secretID {
		return true
	}
	want := s.find(f.SecretID)
	return want != nil && want == s.find(secretID)
}

// isSecretsManagerOp reports whether op is a Secrets Manager operation (a
// fault without an operation matches only those; RDS and SNS calls must be
// named).
func isSecretsManagerOp(op string) bool {
	_, ok := operations[op]
	return ok
}

// fire counts a matching call and reports whether the fault answers it.
func (a *activeFault) fire() bool {
	a.Matched++
	fr := a.Fault.Fraction
	if fr > 0 && fr < 1 {
		k := float64(a.Matched)
		if math.Floor(k*fr) <= math.Floor((k-1)*fr) {
			return false
		}
	}
	a.Fired++
	return true
}

// injectedFault decides a call's faults: the total delay to wait and the
// error to answer instead of running it (nil: run it). Caller holds s.mu.
func (s *Server) injectedFault(op, secretID string) (time.Duration, *apiError) {
	var delay time.Duration
	for _, a := range s.faults {
		if a.spent() || !s.faultMatches(a.Fault, op, secretID) || !a.fire() {
			continue
		}
		switch a.Fault.Answer {
		case FaultDelay:
			delay += a.Fault.Delay
		case FaultThrottle:
			return delay, &apiError{Code: codeThrottling, Message: "Rate exceeded.", Status: http.StatusBadRequest}
		case FaultDeny:
			return delay, errf(codeAccessDenied, "User: arn:aws:sts::%s:assumed-role/awslocal/caller is not authorized to perform: secretsmanager:%s on resource: %s because no identity-based policy allows the secretsmanager:%s action", s.opts.Account, op, secretID, op)
		case FaultError:
			st := a.Fault.Status
			if st == 0 {
				st = http.StatusInternalServerError
			}
			return delay, &apiError{Code: codeInternal, Message: "An error occurred on the server side.", Status: st}
		}
	}
	return delay, nil
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// serveFaults is the control endpoint: GET /_awslocal/faults lists the
// faults, POST adds one (a Fault as JSON, delay as a duration string;
// answers {"id": n}), DELETE removes all, or one with ?id=n.
func (s *Server) serveFaults(w http.ResponseWriter, r *http.Request) (any, bool) {
	switch r.Method {
	case http.MethodGet:
		return s.Faults(), true
	case http.MethodPost:
		var f Fault
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			http.Error(w, "decode fault: "+err.Error(), http.StatusBadRequest)
			return nil, false
		}
		id, err := s.AddFault(f)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return nil, false
		}
		return map[string]int{"id": id}, true
	case http.MethodDelete:
		if v := r.URL.Query().Get("id"); v != "" {
			id, err := strconv.Atoi(v)
			if err != nil {
				http.Error(w, "fault id: "+err.Error(), http.StatusBadRequest)
				return nil, false
			}
			s.RemoveFault(id)
		} else {
			s.ClearFaults()
		}
		return map[string]any{}, true
	}
	http.Error(w, "use GET, POST or DELETE", http.StatusMethodNotAllowed)
	return nil, false
}
