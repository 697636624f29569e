package dbtest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rotorhq/rotor/internal/local/dbserver"
)

// startTimeout bounds starting one shared server.
const startTimeout = 2 * time.Minute

// shared is one lazily started server shared by the tests of a binary.
type shared[S interface{ Stop() error }] struct {
	mu      sync.Mutex
	started bool
	server  S
	err     error
}

// get starts the server on first use; later calls return the same server or
// the same error.
func (s *shared[S]) get(start func(context.Context) (S, error)) (S, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started {
		ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
		s.server, s.err = start(ctx)
		cancel()
		s.started = true
	}
	return s.server, s.err
}

// stop stops the server if it was started.
func (s *shared[S]) stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started || s.err != nil {
		return nil
	}
	return s.server.Stop()
}

var (
	sharedPostgres shared[*dbserver.Postgres]
	sharedMariaDB  shared[*dbserver.MariaDB]
)

// Main runs the tests of a package and then stops the shared servers. Call it
// from TestMain in every package that uses Postgres or MariaDB:
//
//	func TestMain(m *testing.M) { dbtest.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	if err := errors.Join(sharedPostgres.stop(), sharedMariaDB.stop()); err != nil {
		fmt.Fprintf(os.Stderr, "testdb: stop shared servers: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// startFailed fails t for a server that could not start, with the install
// command when the server program is missing.
func startFailed(t testing.TB, kind, depsArg string, err error) {
	t.Helper()
	var missing *dbserver.MissingBinaryError
	if errors.As(err, &missing) {
		t.Fatalf("testdb: %s is not installed, so this test cannot run. Install it with:\n\t%s\n(or run scripts/ensure-deps.sh %s)\n%v",
			kind, missing.InstallCommand(), depsArg, err)
	}
	t.Fatalf("testdb: shared %s server: %v", kind, err)
}

var nameCounter atomic.Uint64

// UniqueName returns a lower-case name that starts with prefix and is unique
// within the test binary and across test runs, at most 63 bytes (the
// PostgreSQL identifier limit). Roles, users and databases are visible to all
// tests sharing a server, so tests running in parallel must not share names.
func UniqueName(prefix string) string {
	prefix = strings.ToLower(prefix)
	var b strings.Builder
	for _, r := range prefix {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	suffix := fmt.Sprintf("_%d_%s", nameCounter.Add(1), strings.ToLower(rand.Text()[:6]))
	p := b.String()
	if max := 63 - len(suffix); len(p) > max {
		p = p[:max]
	}
	return p + suffix
}

// testName turns t's name into a prefix for UniqueName.
func testName(t testing.TB) string {
	name := strings.ToLower(t.Name())
	name = strings.TrimPrefix(name, "test")
	if len(name) > 30 {
		name = name[:30]
	}
	return "t_" + name
}

// logSince reads a server log from offset off, failing t on error.
func logSince(t testing.TB, read func(int64) (string, error), off int64) string {
	t.Helper()
	s, err := read(off)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	return s
}

// private starts a server for t alone, stopped when t ends.
func private[S interface{ Stop() error }](t testing.TB, kind, depsArg string, start func(context.Context) (S, error)) S {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	srv, err := start(ctx)
	if err != nil {
		startFailed(t, kind, depsArg, err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Errorf("testdb: %v", err)
		}
	})
	return srv
}
