// Package agent is rotor agent: it keeps a file holding a secret's
// AWSCURRENT value in step with Secrets Manager, for applications that read
// their credentials from a file (a sidecar or a daemon next to them), as
// Vault Agent does for Vault.
//
// Run reads the secret and writes the file (JSON, env lines, or a Go
// text/template), atomically (temporary file, fsync, rename) with mode 0600
// unless told otherwise. Then it asks DescribeSecret every Interval (with
// jitter, so many agents do not call in step) which version carries the
// stage and reads the value only when that version changed; after each
// change it rewrites the file and, if configured, signals a process and
// runs a command.
//
// On failure: if the secret cannot be read or rendered at start, Run
// returns the error (the command exits non-zero) and writes nothing. Later
// failures (Secrets Manager unreachable, a value that no longer renders, a
// file that cannot be written) are logged and the last good file stays; the
// agent keeps polling and recovers by itself. No secret value reaches a log
// line or an error.
package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/template"
	"time"

	"github.com/rotorhq/rotor/client"
	"github.com/rotorhq/rotor/internal/atomicfile"
)

// Formats of the rendered file.
const (
	FormatJSON     = "json"     // the SecretString as stored
	FormatEnv      = "env"      // KEY='value' lines, one per top-level key
	FormatTemplate = "template" // a Go text/template over the JSON object
)

// Defaults for Config fields left zero.
const (
	DefaultInterval       = 30 * time.Second
	DefaultJitter         = 0.1
	DefaultMode           = os.FileMode(0o600)
	DefaultCommandTimeout = time.Minute
)

// Config configures an Agent.
type Config struct {
	SecretID string // required
	Stage    string // default AWSCURRENT
	Path     string // the file to write; required
	Format   string // FormatJSON (default), FormatEnv or FormatTemplate
	// Template is the template text for FormatTemplate. Its data is the
	// secret's JSON object ({{.username}}, {{.password}}); a key it names
	// that the secret lacks is an error, not an empty string.
	Template string
	// EnvPrefix is put before every name in FormatEnv (e.g. "DB_").
	EnvPrefix string
	// Mode is the file's permission bits (default 0600).
	Mode os.FileMode
	// Interval between DescribeSecret checks (default DefaultInterval), each
	// moved by up to ±Jitter of it (default DefaultJitter; negative: none).
	Interval time.Duration
	Jitter   float64
	// Signal is sent after each change to the process PID, or to the
	// process whose id PIDFile holds (read at each change). Zero: none.
	Signal  syscall.Signal
	PID     int
	PIDFile string
	// Command is run (no shell) after each change, with CommandTimeout
	// (default DefaultCommandTimeout). Its failure is logged.
	Command        []string
	CommandTimeout time.Duration
	// Logger gets one line per change, outage and recovery. Nil discards.
	Logger *slog.Logger
}

// Agent keeps one file in step with one secret.
type Agent struct {
	cfg   Config
	cache *client.Cache
	tmpl  *template.Template
	log   *slog.Logger
	rand  func() float64
}

// New checks cfg and returns an agent; it makes no call yet. Errors name
// the setting that is wrong.
func New(sm client.SecretsManager, cfg Config) (*Agent, error) {
	if cfg.SecretID == "" {
		return nil, errors.New("secret: missing")
	}
	if cfg.Path == "" {
		return nil, errors.New("output file: missing")
	}
	if cfg.Format == "" {
		cfg.Format = FormatJSON
	}
	a := &Agent{cfg: cfg, log: cfg.Logger, rand: rand.Float64}
	switch cfg.Format {
	case FormatJSON, FormatEnv:
		if cfg.Template != "" {
			return nil, fmt.Errorf("template: given with format %q; use format %q", cfg.Format, FormatTemplate)
		}
	case FormatTemplate:
		if cfg.Template == "" {
			return nil, errors.New("template: missing for format template")
		}
		t, err := template.New("secret").Option("missingkey=error").Parse(cfg.Template)
		if err != nil {
			return nil, fmt.Errorf("template: %w", err)
		}
		a.tmpl = t
	default:
		return nil, fmt.Errorf("format: %q is not json, env or template", cfg.Format)
	}
	if cfg.Mode == 0 {
		a.cfg.Mode = DefaultMode
	}
	if cfg.Mode&^os.ModePerm != 0 {
		return nil, fmt.Errorf("mode: %v is not permission bits", cfg.Mode)
	}
	if cfg.Interval == 0 {
		a.cfg.Interval = DefaultInterval
	}
	if a.cfg.Interval < 0 {
		return nil, fmt.Errorf("interval: %v is negative", cfg.Interval)
	}
	if cfg.Jitter == 0 {
		a.cfg.Jitter = DefaultJitter
	}
	if a.cfg.Jitter > 1 {
		return nil, fmt.Errorf("jitter: %v is more than 1 (a fraction of the interval)", cfg.Jitter)
	}
	if cfg.PID != 0 && cfg.PIDFile != "" {
		return nil, errors.New("pid and pid-file: give one")
	}
	if cfg.Signal != 0 && cfg.PID == 0 && cfg.PIDFile == "" {
		return nil, errors.New("signal: given without a pid or a pid-file")
	}
	if cfg.CommandTimeout <= 0 {
		a.cfg.CommandTimeout = DefaultCommandTimeout
	}
	if a.log == nil {
		a.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	a.log = a.log.With("secret", cfg.SecretID, "file", cfg.Path)
	cache, err := client.New(sm, client.Options{SecretID: cfg.SecretID, Stage: cfg.Stage, TTL: -1, MaxStale: -1, Logger: a.log})
	if err != nil {
		return nil, err
	}
	a.cache = cache
	return a, nil
}

// Run writes the file once and then keeps it in step until ctx is done. It
// returns an error only when the first read, render or write fails (the
// file is then not written); cancelling ctx returns nil.
func (a *Agent) Run(ctx context.Context) error {
	s, err := a.cache.Refresh(ctx)
	if err != nil {
		return fmt.Errorf("cannot read the secret: %w", err)
	}
	if err := a.write(s); err != nil {
		return err
	}
	a.log.Info("file written", "version", s.VersionID)
	last, down := s.VersionID, false
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(a.next()):
		}
		s, err := a.cache.Get(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if !down {
				a.log.Warn("cannot read the secret; keeping the last good file", "version", last, "error", err)
			}
			down = true
			continue
		}
		if down {
			a.log.Info("secret readable again", "version", s.VersionID)
			down = false
		}
		if s.VersionID == last {
			continue
		}
		if err := a.write(s); err != nil {
			a.log.Error("cannot update the file; keeping the last good one", "version", last, "new_version", s.VersionID, "error", err)
			continue
		}
		a.log.Info("file updated", "from", last, "to", s.VersionID)
		last = s.VersionID
		a.afterChange(ctx)
	}
}

// next is the wait before the next check: Interval moved by up to ±Jitter.
func (a *Agent) next() time.Duration {
	j := a.cfg.Jitter
	if j <= 0 {
		return a.cfg.Interval
	}
	return time.Duration(float64(a.cfg.Interval) * (1 + j*(2*a.rand()-1)))
}

func (a *Agent) write(s client.Secret) error {
	data, err := a.render(s)
	if err != nil {
		return fmt.Errorf("render secret version %s as %s: %w", s.VersionID, a.cfg.Format, err)
	}
	return atomicfile.Write(a.cfg.Path, data, a.cfg.Mode)
}

// render turns the value into the file's content. Errors never quote it.
func (a *Agent) render(s client.Secret) ([]byte, error) {
	v := s.Value()
	if v == "" {
		return nil, errors.New("the version has no SecretString")
	}
	if a.cfg.Format == FormatJSON {
		if !json.Valid([]byte(v)) {
			return nil, errors.New("the SecretString is not JSON")
		}
		if !strings.HasSuffix(v, "\n") {
			v += "\n"
		}
		return []byte(v), nil
	}
	var obj map[string]any
	dec := json.NewDecoder(strings.NewReader(v))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil {
		return nil, errors.New("the SecretString is not a JSON object")
	}
	if a.cfg.Format == FormatTemplate {
		var buf bytes.Buffer
		if err := a.tmpl.Execute(&buf, obj); err != nil {
			return nil, fmt.Errorf("template: %w", err)
		}
		return buf.Bytes(), nil
	}
	return envLines(a.cfg.EnvPrefix, obj)
}

// envLines writes one NAME='value' line per key, sorted, the name upper
// case with every character outside [A-Z0-9_] made '_', the value in single
// quotes (each single quote inside closed, escaped and reopened), which both POSIX shells and dotenv
// readers take literally.
func envLines(prefix string, obj map[string]any) ([]byte, error) {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var buf bytes.Buffer
	seen := map[string]string{}
	for _, k := range keys {
		var val string
		switch x := obj[k].(type) {
		case string:
			val = x
		case json.Number:
			val = x.String()
		case bool:
			val = strconv.FormatBool(x)
		case nil:
			val = ""
		default:
			return nil, fmt.Errorf("key %q: an object or a list has no env form; use format template", k)
		}
		name := envName(prefix + k)
		if other, dup := seen[name]; dup {
			return nil, fmt.Errorf("keys %q and %q both become %s", other, k, name)
		}
		seen[name] = k
		fmt.Fprintf(&buf, "%s='%s'\n", name, strings.ReplaceAll(val, "'", `'\''`))
	}
	return buf.Bytes(), nil
}

func envName(s string) string {
	b := []byte(strings.ToUpper(s))
	for i, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			b[i] = '_'
		}
	}
	if len(b) > 0 && b[0] >= '0' && b[0] <= '9' {
		return "_" + string(b)
	}
	return string(b)
}

// afterChange signals the process and runs the command; failures are
// logged, never fatal.
func (a *Agent) afterChange(ctx context.Context) {
	if a.cfg.Signal != 0 {
		if err := a.signal(); err != nil {
			a.log.Warn("cannot signal the process", "signal", a.cfg.Signal.String(), "error", err)
		} else {
			a.log.Info("process signalled", "signal", a.cfg.Signal.String())
		}
	}
	if len(a.cfg.Command) > 0 {
		cctx, cancel := context.WithTimeout(ctx, a.cfg.CommandTimeout)
		defer cancel()
		out, err := exec.CommandContext(cctx, a.cfg.Command[0], a.cfg.Command[1:]...).CombinedOutput()
		if err != nil {
			a.log.Warn("command failed", "command", a.cfg.Command[0], "error", err, "output_bytes", len(out))
		} else {
			a.log.Info("command ran", "command", a.cfg.Command[0])
		}
	}
}

func (a *Agent) signal() error {
	pid := a.cfg.PID
	if a.cfg.PIDFile != "" {
		b, err := os.ReadFile(a.cfg.PIDFile)
		if err != nil {
			return err
		}
		if pid, err = strconv.Atoi(strings.TrimSpace(string(b))); err != nil || pid <= 0 {
			return fmt.Errorf("pid file %s: not a process id", a.cfg.PIDFile)
		}
	}
	return syscall.Kill(pid, a.cfg.Signal)
}
