package awslocal

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/atomicfile"
)

// Defaults for Options fields left zero.
const (
	DefaultRegion  = "us-east-1"
	DefaultAccount = "123456789012"
	DefaultAddr    = "127.0.0.1:0"
	// DefaultRotationAttempts is how many times a failed rotation pass is
	// run in all. AWS documents only that it "retries the entire rotation
	// process multiple times"; three is this stand-in's choice.
	DefaultRotationAttempts = 3
	// DefaultRotationBackoff is the wait before the second pass; it doubles
	// before each later pass. Real time, not the Clock.
	DefaultRotationBackoff = 2 * time.Second
	// DefaultTickInterval is how often a server on the real clock looks for
	// due rotations and expired deletion windows.
	DefaultTickInterval = time.Minute
)

// Options configure a Server. The zero value is usable.
type Options struct {
	Region  string // default DefaultRegion
	Account string // default DefaultAccount
	// Clock drives timestamps, schedules and deletion windows. Nil means the
	// real clock, with a ticker every TickInterval; with any other clock the
	// caller drives Tick or Advance.
	Clock Clock
	// TickInterval applies to the real clock only. Default DefaultTickInterval;
	// negative disables the ticker.
	TickInterval time.Duration
	// RotationAttempts is the number of passes a rotation gets (default
	// DefaultRotationAttempts).
	RotationAttempts int
	// RotationBackoff is the real-time wait before the second pass, doubled
	// for each later one (default DefaultRotationBackoff; negative means no
	// wait).
	RotationBackoff time.Duration
	// StateFile, when set, is loaded at New and kept up to date: a request
	// that changed something is answered only once the change is on disk
	// (a journal next to the file, StateFile+".journal", group-committed;
	// see store.go). It holds secret values: keep it local.
	StateFile string
	// CommitDelay is how long the state writer waits for more changes
	// before it syncs a group (default 0: a group is what arrived while the
	// previous sync ran). It bounds the extra latency of a write.
	CommitDelay time.Duration
	// Logger receives one line per request (operation, secret identifier,
	// outcome) and rotation progress. Never a secret value. Nil discards.
	Logger *slog.Logger
	// EventTarget, when set, receives the rotation events named in
	// EventNames (all when empty) as EventBridge delivers them; see
	// SetEventTarget.
	EventTarget Invoker
	EventNames  []events.RotationEventName
}

// Server is the local Secrets Manager (with Lambda Invoke, an RDS describe
// subset and SNS Publish). It is an http.Handler; Start listens on its own.
type Server struct {
	opts  Options
	clock Clock
	log   *slog.Logger

	mu        sync.Mutex
	secrets   []*secret // in creation order (ord)
	byName    map[string]*secret
	byARN     map[string]*secret
	byPartial map[string]*secret // ARN without the random suffix
	nextOrd   int64
	store     *store // nil without a state file
	functions map[string]Invoker
	events    []Event
	stats     map[string]int
	instances []*DBInstance
	clusters  []*DBCluster
	topics    []string
	published []SNSMessage
	running   map[string]*rotationRun // by secret ARN, in flight
	lastRun   map[string]*rotationRun // by secret ARN, most recent
	fnStates  map[string][2]string    // function ARN → State, StateReason
	push      *eventPush
	faults    []*activeFault
	faultSeq  int
	callLog   *CallLog // LogCalls; nil: not recording

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	httpSrv *http.Server
	url     string
}

// New returns a server. It loads Options.StateFile when that file exists.
func New(opts Options) (*Server, error) {
	if opts.Region == "" {
		opts.Region = DefaultRegion
	}
	if opts.Account == "" {
		opts.Account = DefaultAccount
	}
	if opts.RotationAttempts <= 0 {
		opts.RotationAttempts = DefaultRotationAttempts
	}
	if opts.RotationBackoff == 0 {
		opts.RotationBackoff = DefaultRotationBackoff
	}
	if opts.TickInterval == 0 {
		opts.TickInterval = DefaultTickInterval
	}
	s := &Server{
		opts:      opts,
		clock:     opts.Clock,
		log:       opts.Logger,
		functions: map[string]Invoker{},
		stats:     map[string]int{},
		running:   map[string]*rotationRun{},
		lastRun:   map[string]*rotationRun{},
		fnStates:  map[string][2]string{},
		push:      newEventPush(),
		byName:    map[string]*secret{},
		byARN:     map[string]*secret{},
		byPartial: map[string]*secret{},
	}
	if s.clock == nil {
		s.clock = realClock{}
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if opts.StateFile != "" {
		if err := s.removeStaleTemps(); err != nil {
			return nil, err
		}
		s.store = newStore(opts.StateFile, opts.CommitDelay)
		if err := s.load(); err != nil {
			return nil, err
		}
		// A fresh snapshot: it drops a torn journal tail before anything
		// is appended after it.
		s.store.gen++
		data, err := json.Marshal(persistedState{Gen: s.store.gen, Secrets: s.secrets, Instances: s.instances, Clusters: s.clusters, Topics: s.topics})
		if err != nil {
			return nil, fmt.Errorf("encode state: %w", err)
		}
		if err := s.store.writeSnapshot(data, s.store.gen); err != nil {
			return nil, err
		}
		s.store.snapSize = len(data)
		go s.writeLoop()
	}
	if opts.EventTarget != nil {
		s.SetEventTarget(opts.EventTarget, opts.EventNames...)
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.deliverEvents()
	}()
	if _, real := s.clock.(realClock); real && opts.TickInterval > 0 {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			t := time.NewTicker(opts.TickInterval)
			defer t.Stop()
			for {
				select {
				case <-s.ctx.Done():
					return
				case <-t.C:
					s.Tick()
				}
			}
		}()
	}
	return s, nil
}

// Region and Account return the configured defaults used in new ARNs.
func (s *Server) Region() string  { return s.opts.Region }
func (s *Server) Account() string { return s.opts.Account }

// Clock returns the server's clock.
func (s *Server) Clock() Clock { return s.clock }

// Start listens on addr (DefaultAddr when empty: loopback, a free port) and
// serves in the background. It returns the base URL, e.g.
// "http://127.0.0.1:4566".
func (s *Server) Start(addr string) (string, error) {
	if addr == "" {
		addr = DefaultAddr
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("listen %s: %w", addr, err)
	}
	s.httpSrv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.url = "http://" + l.Addr().String()
	go func() { _ = s.httpSrv.Serve(l) }()
	return s.url, nil
}

// URL is the base URL Start listens on, or "" before Start.
func (s *Server) URL() string { return s.url }

// Close stops the listener (when Start was used), cancels rotations in
// flight and waits for them.
func (s *Server) Close() error {
	var err error
	if s.httpSrv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = s.httpSrv.Shutdown(ctx)
		cancel()
	}
	s.cancel()
	s.wg.Wait()
	if s.store != nil {
		s.store.close()
	}
	return err
}

// SetFunction registers a rotation function under its ARN. A
// RotationLambdaARN that is not registered cannot be invoked: RotateSecret
// answers AccessDeniedException, as AWS does without invoke permission.
// inv nil removes the function.
func (s *Server) SetFunction(arn string, inv Invoker) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if inv == nil {
		delete(s.functions, arn)
		return
	}
	s.functions[arn] = inv
}

// FunctionARN returns the ARN of a Lambda function with this name in the
// server's region and account.
func (s *Server) FunctionARN(name string) string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", s.opts.Region, s.opts.Account, name)
}

func (s *Server) function(arnOrName string) (Invoker, string) {
	if inv, ok := s.functions[arnOrName]; ok {
		return inv, arnOrName
	}
	for arn, inv := range s.functions {
		parts := strings.Split(arn, ":")
		if len(parts) >= 7 && parts[6] == arnOrName {
			return inv, arn
		}
	}
	return nil, ""
}

// Stats returns the number of calls per operation name ("DescribeSecret",
// "DescribeDBInstances", "Publish", "Invoke", ...) since the last reset.
func (s *Server) Stats() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.stats))
	for k, v := range s.stats {
		out[k] = v
	}
	return out
}

// ResetStats zeroes the call counters.
func (s *Server) ResetStats() {
	s.mu.Lock()
	s.stats = map[string]int{}
	s.mu.Unlock()
}

// Event is a CloudTrail-style rotation event.
type Event struct {
	Time      time.Time `json:"eventTime"`
	Name      string    `json:"eventName"` // RotationStarted, RotationSucceeded, RotationFailed, RotationAbandoned; TestRotationStarted, TestRotationSucceeded, TestRotationFailed for RotateImmediately=false
	SecretARN string    `json:"secretArn"`
	VersionID string    `json:"versionId,omitempty"`
	// Attempt numbers the pass, from 1.
	Attempt int `json:"attempt,omitempty"`
	// Step, ErrorType and ErrorMessage say why a pass failed.
	Step         string `json:"step,omitempty"`
	ErrorType    string `json:"errorType,omitempty"`
	ErrorMessage string `json:"errorMessage,omitempty"`
	// CheckOnly marks the testSecret-only run of RotateImmediately=false.
	CheckOnly bool `json:"checkOnly,omitempty"`
	// Scheduled marks a rotation the schedule started.
	Scheduled bool `json:"scheduled,omitempty"`
}

// Events returns the rotation events recorded so far, oldest first.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Event(nil), s.events...)
}

// record appends a rotation event and hands it to the event target, if
// any (pushEvent). Caller holds s.mu.
func (s *Server) record(e Event) {
	e.Time = s.clock.Now()
	s.events = append(s.events, e)
	s.log.Info("rotation event", "event", e.Name, "secret", e.SecretARN, "version", e.VersionID, "attempt", e.Attempt, "step", e.Step)
	s.pushEvent(e, len(s.events)-1)
}

// ServeHTTP dispatches: awsJson1.1 Secrets Manager calls on "POST /" by
// X-Amz-Target; form-encoded bodies with Action= to the awsQuery handler
// (RDS, SNS); Lambda Invoke (POST /2015-03-31/functions/<fn>/invocations)
// and GetFunctionConfiguration (GET …/<fn>/configuration); and the
// /_awslocal/ inspection endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasPrefix(r.URL.Path, "/_awslocal/"):
		s.serveInspect(w, r)
		return
	case strings.HasPrefix(r.URL.Path, "/2015-03-31/functions/"):
		s.serveInvoke(w, r)
		return
	}
	if r.Method != http.MethodPost {
		writeJSONError(w, errf(codeUnknownOperation, "Only POST is supported."))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		writeJSONError(w, errf(codeSerialization, "Could not read the request body."))
		return
	}
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		s.serveJSON(w, r, target, body)
		return
	}
	if form, err := url.ParseQuery(string(body)); err == nil && form.Get("Action") != "" {
		s.serveQuery(w, r, form)
		return
	}
	writeJSONError(w, errf(codeUnknownOperation, "Missing X-Amz-Target header or Action parameter."))
}

func (s *Server) serveInspect(w http.ResponseWriter, r *http.Request) {
	var v any
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/_awslocal/events":
		v = s.Events()
	case r.Method == http.MethodGet && r.URL.Path == "/_awslocal/stats":
		v = s.Stats()
	case r.Method == http.MethodPost && r.URL.Path == "/_awslocal/stats/reset":
		s.ResetStats()
		v = map[string]any{}
	case r.Method == http.MethodGet && r.URL.Path == "/_awslocal/sns":
		v = s.Published()
	case r.Method == http.MethodPost && r.URL.Path == "/_awslocal/tick":
		v = map[string]any{"started": s.Tick()}
	case r.URL.Path == "/_awslocal/faults":
		var ok bool
		if v, ok = s.serveFaults(w, r); !ok {
			return
		}
	default:
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// call is one Secrets Manager request.
type call struct {
	op     string
	body   []byte
	region string
}

func (c *call) decode(v any) *apiError {
	if len(bytes.TrimSpace(c.body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		return errf(codeSerialization, "The request body could not be parsed as %s input.", c.op)
	}
	return nil
}

type handler struct {
	fn     func(*Server, *call) (any, *apiError)
	mutate bool
}

var operations = map[string]handler{
	"CreateSecret":             {(*Server).createSecret, true},
	"DescribeSecret":           {(*Server).describeSecret, false},
	"GetSecretValue":           {(*Server).getSecretValue, false}, // LastAccessedDate: touch marks it
	"PutSecretValue":           {(*Server).putSecretValue, true},
	"UpdateSecretVersionStage": {(*Server).updateSecretVersionStage, true},
	"RotateSecret":             {(*Server).rotateSecret, true},
	"CancelRotateSecret":       {(*Server).cancelRotateSecret, true},
	"ListSecretVersionIds":     {(*Server).listSecretVersionIDs, false},
	"ListSecrets":              {(*Server).listSecrets, false},
	"DeleteSecret":             {(*Server).deleteSecret, true},
	"RestoreSecret":            {(*Server).restoreSecret, true},
	"UpdateSecret":             {(*Server).updateSecret, true},
	"TagResource":              {(*Server).tagResource, true},
	"UntagResource":            {(*Server).untagResource, true},
	"BatchGetSecretValue":      {(*Server).batchGetSecretValue, false},
	"GetRandomPassword":        {(*Server).getRandomPassword, false},
	"PutResourcePolicy":        {(*Server).putResourcePolicy, true},
	"GetResourcePolicy":        {(*Server).getResourcePolicy, false},
	"DeleteResourcePolicy":     {(*Server).deleteResourcePolicy, true},
	"ValidateResourcePolicy":   {(*Server).validateResourcePolicy, false},
}

func (s *Server) serveJSON(w http.ResponseWriter, r *http.Request, target string, body []byte) {
	svc, op, _ := strings.Cut(target, ".")
	h, ok := operations[op]
	if svc != "secretsmanager" || !ok {
		writeJSONError(w, errf(codeUnknownOperation, "Operation %s is not supported by the local stand-in.", target))
		return
	}
	c := &call{op: op, body: body, region: regionOf(r, s.opts.Region)}
	id := secretIDOf(body)
	s.mu.Lock()
	s.stats[op]++
	delay, aerr := s.injectedFault(op, id)
	if delay > 0 {
		s.mu.Unlock()
		sleepCtx(r.Context(), delay)
		s.mu.Lock()
	}
	var out any
	if aerr == nil {
		out, aerr = h.fn(s, c)
	}
	if aerr == nil && h.mutate && s.store != nil {
		// The request's changes are those of the secret it names (the
		// handlers change no other secret; reads mark what they touch;
		// removeSecret marks a removal).
		// A removed secret was marked by removeSecret.
		if post := s.find(id); post != nil {
			s.markDirty(post)
		}
	}
	seq := s.commitChanges()
	calls := s.callLog
	s.mu.Unlock()
	if err := s.store.wait(seq); err != nil && aerr == nil {
		// Never acknowledge what is not on disk.
		aerr = errf(codeInternal, "The change could not be written to the state file.")
	}
	calls.add(op, time.Now(), errCode(aerr))
	s.log.Info("secretsmanager", "op", op, "secret", id, "error", errCode(aerr))
	if aerr != nil {
		writeJSONError(w, aerr)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if out == nil {
		out = struct{}{}
	}
	_ = json.NewEncoder(w).Encode(out)
}

func errCode(e *apiError) string {
	if e == nil {
		return ""
	}
	return e.Code
}

// secretIDOf pulls SecretId or Name out of a request for logging: the
// identifier only, never the body.
func secretIDOf(body []byte) string {
	var v struct{ SecretId, Name string }
	_ = json.Unmarshal(body, &v)
	if v.SecretId != "" {
		return v.SecretId
	}
	return v.Name
}

var credScope = regexp.MustCompile(`Credential=[^/]+/\d{8}/([a-z0-9-]+)/`)

// regionOf reads the region from the SigV4 credential scope. Signatures are
// not verified.
func regionOf(r *http.Request, def string) string {
	if m := credScope.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		return m[1]
	}
	return def
}

// find resolves a SecretId: full ARN, partial ARN (without the 6-character
// suffix) or name.
func (s *Server) find(id string) *secret {
	if id == "" {
		return nil
	}
	if strings.HasPrefix(id, "arn:") {
		if sec := s.byARN[id]; sec != nil {
			return sec
		}
		return s.byPartial[id]
	}
	return s.byName[id]
}

// addSecret appends sec in creation order and indexes it. Caller holds
// s.mu.
func (s *Server) addSecret(sec *secret) {
	s.nextOrd++
	sec.ord = s.nextOrd
	s.secrets = append(s.secrets, sec)
	s.byName[sec.Name] = sec
	s.byARN[sec.ARN] = sec
	s.byPartial[sec.partialARN()] = sec
}

// removeSecret drops sec from the list and the indexes. Caller holds s.mu.
func (s *Server) removeSecret(sec *secret) {
	i := sort.Search(len(s.secrets), func(i int) bool { return s.secrets[i].ord >= sec.ord })
	if i < len(s.secrets) && s.secrets[i] == sec {
		s.secrets = append(s.secrets[:i], s.secrets[i+1:]...)
	}
	delete(s.byName, sec.Name)
	delete(s.byARN, sec.ARN)
	delete(s.byPartial, sec.partialARN())
	s.markRemoved(sec.ARN)
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func randomString(n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[randIntn(len(alphabet))]
	}
	return string(b)
}

func randIntn(n int) int {
	var b [8]byte
	_, _ = rand.Read(b[:])
	var x uint64
	for _, c := range b {
		x = x<<8 | uint64(c)
	}
	return int(x % uint64(n))
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// persistedState is the state file's content.
type persistedState struct {
	// Gen is the generation of the journal that extends this snapshot.
	Gen       uint64        `json:"journalGen,omitempty"`
	Secrets   []*secret     `json:"secrets"`
	Instances []*DBInstance `json:"dbInstances,omitempty"`
	Clusters  []*DBCluster  `json:"dbClusters,omitempty"`
	Topics    []string      `json:"topics,omitempty"`
}

// tempStatePrefix is the name prefix of persist's temporary files for a
// state file (atomicfile's): per state file, so servers with different
// state files in one directory never touch each other's.
func tempStatePrefix(stateFile string) string {
	return atomicfile.TempPrefix(stateFile)
}

// legacyTempState matches the temporary files of earlier versions,
// ".awslocal-state-" and the digits os.CreateTemp adds.
var legacyTempState = regexp.MustCompile(`^\.awslocal-state-[0-9]+$`)

// removeStaleTemps deletes temporary state files a server killed during a
// write left next to the state file (this state file's, and the older
// unqualified ones). It runs before load, when no write of this server can
// be in flight.
func (s *Server) removeStaleTemps() error {
	dir := filepath.Dir(s.opts.StateFile)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read state directory: %w", err)
	}
	prefix := tempStatePrefix(s.opts.StateFile)
	jprefix := tempStatePrefix(s.opts.StateFile + journalSuffix)
	for _, e := range entries {
		if !e.Type().IsRegular() || !(strings.HasPrefix(e.Name(), prefix) || strings.HasPrefix(e.Name(), jprefix) || legacyTempState.MatchString(e.Name())) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove stale state file %s: %w", e.Name(), err)
		}
		s.log.Info("removed a temporary state file left by an interrupted write", "file", e.Name())
	}
	return nil
}

// mutated persists after a change made outside a request to what the
// journal does not record per secret (RDS instances and clusters, topics):
// a whole snapshot, on disk when it returns. Caller holds s.mu (the writer
// never takes it). Changes to secrets alone go through secretsChanged.
func (s *Server) mutated() {
	if s.store != nil {
		_ = s.store.wait(s.commitSnapshot()) // the writer logged a failure
	}
}

// secretsChanged persists a change made outside a request (the clock's
// Tick, the Go API) that touched only the given secrets and those removed
// with removeSecret: their journal records, on disk when it returns, not a
// snapshot of every secret. Caller holds s.mu.
func (s *Server) secretsChanged(secs ...*secret) {
	if s.store == nil {
		return
	}
	for _, sec := range secs {
		s.markDirty(sec)
	}
	_ = s.store.wait(s.commitChanges()) // the writer logged a failure
}
