package agent_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/rotorhq/rotor/internal/agent"
	"github.com/rotorhq/rotor/internal/local/awslocal"
	"github.com/rotorhq/rotor/internal/local/awslocal/awslocaltest"
)

const doc1 = `{"engine":"postgres","host":"db.example","port":5432,"username":"app","password":"first-pass'word"}`

type world struct {
	sm  *secretsmanager.Client
	out *awslocaltest.Outage
	id  string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	_, cfg, out := awslocaltest.NewWithOutage(t, awslocal.Options{})
	sm := secretsmanager.NewFromConfig(cfg)
	o, err := sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String("app/db"), SecretString: aws.String(doc1)})
	if err != nil {
		t.Fatal(err)
	}
	return &world{sm: sm, out: out, id: aws.ToString(o.ARN)}
}

func (w *world) put(t *testing.T, value string) {
	t.Helper()
	if _, err := w.sm.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{SecretId: aws.String(w.id), SecretString: aws.String(value)}); err != nil {
		t.Fatal(err)
	}
}

// syncBuf is a log sink safe for the agent's goroutine and the test.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs an agent until the test ends and waits for its first file.
func start(t *testing.T, w *world, cfg agent.Config) (*syncBuf, string) {
	t.Helper()
	logs := &syncBuf{}
	cfg.SecretID = w.id
	if cfg.Path == "" {
		cfg.Path = filepath.Join(t.TempDir(), "secret")
	}
	cfg.Interval = 10 * time.Millisecond
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	a, err := agent.New(w.sm, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		if strings.Contains(logs.String(), "pass'word") {
			t.Errorf("a password reached the log:\n%s", logs.String())
		}
	})
	waitFor(t, "the first file", func() bool { _, err := os.Stat(cfg.Path); return err == nil })
	return logs, cfg.Path
}

// waitFor polls cond until it holds, failing the test after 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFormats(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	cases := map[string]struct {
		cfg  agent.Config
		want string
	}{
		"json": {agent.Config{}, doc1 + "\n"},
		"env": {agent.Config{Format: agent.FormatEnv, EnvPrefix: "db_"},
			"DB_ENGINE='postgres'\nDB_HOST='db.example'\nDB_PASSWORD='first-pass'\\''word'\nDB_PORT='5432'\nDB_USERNAME='app'\n"},
		"template": {agent.Config{Format: agent.FormatTemplate, Template: "postgres://{{.username}}@{{.host}}:{{.port}}\n"},
			"postgres://app@db.example:5432\n"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, path := start(t, w, tc.cfg)
			if got := read(t, path); got != tc.want {
				t.Fatalf("file:\n%s\nwant:\n%s", got, tc.want)
			}
			st, _ := os.Stat(path)
			if st.Mode().Perm() != 0o600 {
				t.Fatalf("mode %v, want 0600", st.Mode())
			}
		})
	}
	// The mode is the one asked for.
	_, path := start(t, w, agent.Config{Mode: 0o640})
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o640 {
		t.Fatalf("mode %v, want 0640", st.Mode())
	}
}

// TestChangeSignalsAndRunsTheCommand: a new AWSCURRENT rewrites the file,
// signals the process and runs the command, once per change.
func TestChangeSignalsAndRunsTheCommand(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGUSR1)
	t.Cleanup(func() { signal.Stop(sigs) })
	marker := filepath.Join(t.TempDir(), "ran")
	_, path := start(t, w, agent.Config{
		Format: agent.FormatTemplate, Template: "{{.password}}",
		Signal: syscall.SIGUSR1, PID: os.Getpid(),
		Command: []string{"sh", "-c", "echo run >> " + marker},
	})
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the command ran for the first write")
	}
	for i, pw := range []string{"second", "third"} {
		w.put(t, strings.Replace(doc1, "first-pass'word", pw, 1))
		waitFor(t, "the file to change", func() bool { return read(t, path) == pw })
		select {
		case <-sigs:
		case <-time.After(20 * time.Second):
			t.Fatalf("change %d: no SIGUSR1", i+1)
		}
		waitFor(t, "the command", func() bool {
			b, _ := os.ReadFile(marker)
			return strings.Count(string(b), "run") == i+1
		})
	}
}

// TestOutage: with Secrets Manager down the file stays as it was and the
// agent says so once; when it returns, the agent picks up the version
// written meanwhile.
func TestOutage(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	logs, path := start(t, w, agent.Config{})
	before := read(t, path)

	w.out.Stop(t)
	waitFor(t, "the outage to be logged", func() bool { return strings.Contains(logs.String(), "keeping the last good file") })
	if got := read(t, path); got != before {
		t.Fatalf("the file changed during the outage:\n%s", got)
	}
	// Several more polls fail; the warning is not repeated.
	time.Sleep(100 * time.Millisecond)
	if n := strings.Count(logs.String(), "keeping the last good file"); n != 1 {
		t.Fatalf("%d outage warnings, want 1", n)
	}

	w.out.Start(t)
	w.put(t, strings.Replace(doc1, "first-pass'word", "after-outage", 1))
	waitFor(t, "the file to follow the secret after the outage", func() bool { return strings.Contains(read(t, path), "after-outage") })
	if !strings.Contains(logs.String(), "secret readable again") {
		t.Fatalf("no recovery line:\n%s", logs.String())
	}
}

// TestStartFailures: a secret that cannot be read or rendered at start is
// an error, and no file is written.
func TestStartFailures(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	dir := t.TempDir()
	cases := map[string]struct {
		cfg  agent.Config
		down bool
		want string
	}{
		"no such secret": {cfg: agent.Config{SecretID: "nope"}, want: "cannot read the secret"},
		"stand-in down":  {down: true, want: "cannot read the secret"},
		"template key":   {cfg: agent.Config{Format: agent.FormatTemplate, Template: "{{.pasword}}"}, want: "template"},
		"missing dir":    {cfg: agent.Config{Path: filepath.Join(dir, "no", "such", "dir")}, want: "write"},
	}
	for name, tc := range cases {
		cfg := tc.cfg
		if cfg.SecretID == "" {
			cfg.SecretID = w.id
		}
		if cfg.Path == "" {
			cfg.Path = filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
		}
		a, err := agent.New(w.sm, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if tc.down {
			w.out.Stop(t)
		}
		err = a.Run(context.Background())
		if tc.down {
			w.out.Start(t)
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Run: %v, want an error with %q", name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "pass'word") {
			t.Errorf("%s: the error carries the password: %v", name, err)
		}
		if _, err := os.Stat(cfg.Path); err == nil {
			t.Errorf("%s: a file was written", name)
		}
	}
}

func TestConfigErrorsNameTheSetting(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	base := agent.Config{SecretID: "s", Path: "/tmp/x"}
	cases := map[string]struct {
		tweak func(*agent.Config)
		want  string
	}{
		"no secret":          {func(c *agent.Config) { c.SecretID = "" }, "secret"},
		"no path":            {func(c *agent.Config) { c.Path = "" }, "output file"},
		"bad format":         {func(c *agent.Config) { c.Format = "yaml" }, "format"},
		"template for json":  {func(c *agent.Config) { c.Template = "x" }, "template"},
		"no template":        {func(c *agent.Config) { c.Format = agent.FormatTemplate }, "template"},
		"bad template":       {func(c *agent.Config) { c.Format, c.Template = agent.FormatTemplate, "{{" }, "template"},
		"negative interval":  {func(c *agent.Config) { c.Interval = -time.Second }, "interval"},
		"jitter":             {func(c *agent.Config) { c.Jitter = 2 }, "jitter"},
		"signal without pid": {func(c *agent.Config) { c.Signal = syscall.SIGHUP }, "signal"},
		"pid and pid file":   {func(c *agent.Config) { c.PID, c.PIDFile = 1, "/run/x.pid" }, "pid"},
		"mode":               {func(c *agent.Config) { c.Mode = os.ModeDir | 0o600 }, "mode"},
	}
	for name, tc := range cases {
		cfg := base
		tc.tweak(&cfg)
		if _, err := agent.New(w.sm, cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error naming %q", name, err, tc.want)
		}
	}
	if _, err := agent.New(w.sm, base); err != nil {
		t.Fatalf("baseline: %v", err)
	}
}
