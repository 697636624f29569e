package rotation_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/local/dbtest"
	"github.com/rotorhq/rotor/strategies"
	"github.com/rotorhq/rotor/strategies/mariadb"
)

// dbProxy stands between the rotator and a database server, on a port of
// its own, and fails connections on demand:
//   - "pass" forwards them;
//   - "down" closes the port, so connections are refused;
//   - "drop" accepts and closes at once (a server that crashes or sheds
//     load);
//   - "stall" accepts and never answers (a black-holed route, a hung
//     server): only the rotator's connect timeout ends the wait.
//
// Changing the mode cuts every connection it holds.
type dbProxy struct {
	t      testing.TB
	target string
	addr   string
	mu     sync.Mutex
	mode   string
	ln     net.Listener
	conns  map[net.Conn]bool
	wg     sync.WaitGroup
}

func newDBProxy(t testing.TB, target string) *dbProxy {
	t.Helper()
	p := &dbProxy{t: t, target: target, mode: "pass", conns: map[net.Conn]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err, "proxy listen")
	p.addr = ln.Addr().String()
	p.listen(ln)
	t.Cleanup(func() {
		p.set("down")
		p.wg.Wait()
	})
	return p
}

// port is the port the secret documents name.
func (p *dbProxy) port() int {
	_, port, _ := net.SplitHostPort(p.addr)
	n, _ := strconv.Atoi(port)
	return n
}

func (p *dbProxy) listen(ln net.Listener) {
	p.ln = ln
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.serve(c)
		}
	}()
}

// set changes the mode, cutting every connection held.
func (p *dbProxy) set(mode string) {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
	switch {
	case mode == "down" && p.ln != nil:
		p.ln.Close()
		p.ln = nil
	case mode != "down" && p.ln == nil:
		ln, err := net.Listen("tcp", p.addr) // the same port again
		if err != nil {
			p.t.Errorf("proxy: listen again on %s: %v", p.addr, err)
			return
		}
		p.listen(ln)
	}
	p.mode = mode
}

func (p *dbProxy) serve(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch p.mode {
	case "drop":
		c.Close()
		return
	case "stall":
		p.conns[c] = true
		return
	}
	s, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		c.Close()
		return
	}
	p.conns[c], p.conns[s] = true, true
	for _, pair := range [][2]net.Conn{{c, s}, {s, c}} {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			io.Copy(pair[0], pair[1]) //nolint:errcheck // either side closing ends the pair
			pair[0].Close()
			pair[1].Close()
		}()
	}
}

// dbSteps are the steps that reach the database.
var dbSteps = []events.Step{events.StepSetSecret, events.StepTestSecret}

// checkStepError requires err to name the step and where it could not go,
// and to hold none of the secret's passwords.
func checkStepError(t *testing.T, w *faultWorld, arn string, err error, step events.Step, where string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: the step did not fail", step)
		return
	}
	msg := err.Error()
	if !strings.Contains(msg, string(step)) || !strings.Contains(msg, where) {
		t.Errorf("%s: the error does not name the step and %s: %s", step, where, msg)
	}
	for _, v := range w.e.srv.Versions(arn) {
		if !v.HasValue {
			continue
		}
		out, err := w.e.sm.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: &arn, VersionId: &v.VersionID})
		must(t, err, "read version")
		if d, perr := events.ParseSecretDocument(aws.ToString(out.SecretString)); perr == nil && d.Password != "" && strings.Contains(msg, d.Password) {
			t.Errorf("%s: the error holds a password", step)
		}
	}
	// The leak sweep when the test ends also searches every error the
	// stand-in recorded and rotor's logs for every password.
}

// TestDatabaseUnreachableDuringEachStep: for each step that reaches the
// database, both strategies and both engines, the database becomes
// unreachable as the step starts, in each way a network can fail it (the
// port refuses connections, the connection is dropped at once, it is
// accepted and never answered); the step fails with an error naming the
// step and the host:port, and no password; once the database is back, the
// service's retry completes the rotation with the usual invariants.
func TestDatabaseUnreachableDuringEachStep(t *testing.T) {
	t.Parallel()
	for _, engineName := range []string{"postgres", mariadb.EngineMariaDB} {
		t.Run(engineName, func(t *testing.T) {
			t.Parallel()
			// A third pass and a 1 s connect timeout: on a loaded machine a
			// login through the proxy can take longer than the stall test
			// needs to wait.
			w := newFaultWorld(t, engineName, envOptions{attempts: 3, backoff: -1, connectTimeout: time.Second})
			proxy := newDBProxy(t, w.addr)
			w.e.docPort = proxy.port()
			n := 0
			for _, strategy := range []string{strategies.NameSingleUser, strategies.NameAlternatingUsers} {
				for _, step := range dbSteps {
					for _, mode := range []string{"down", "drop", "stall"} {
						arn := w.secret(t, strategy)
						var stepErr error
						failed := false
						w.e.hook = func(ctx context.Context, ev events.RotationEvent, next func() error) error {
							if events.Step(ev.Step) != step || failed {
								return next()
							}
							failed = true
							proxy.set(mode)
							stepErr = next()
							proxy.set("pass")
							return stepErr
						}
						res := w.e.rotate(arn)
						w.e.hook = nil
						checkStepError(t, w, arn, stepErr, step, proxy.addr)
						if mode == "stall" && (stepErr == nil || !strings.Contains(stepErr.Error(), "no answer within the connect timeout (1s)")) {
							t.Errorf("%s %s, database stalled: the error does not say the connect timeout ran out: %v", strategy, step, stepErr)
						}
						if why := w.check(arn, res, strategy); why != "" || res.Attempts < 2 {
							t.Errorf("%s %s with the database %s: %s (passes %d)", strategy, step, mode, why, res.Attempts)
						}
						n++
						t.Logf("%s %s, database %s: %v", strategy, step, mode, stepErr)
					}
				}
			}
			fmt.Printf("database unreachable: %s: %d rotations, each failed its step with a clear error and completed on retry\n", engineName, n)
		})
	}
}

// TestDatabaseRestartMidRotation runs against a server of its own, which it
// halts and restarts: (1) the server restarts as each step starts, so every
// step opens its sessions on a freshly started server, and the rotation
// completes in one pass; (2) the server is down for the whole of setSecret,
// then of testSecret, which fails with an error naming the step and the
// server's address and no password, and the service's retry completes the
// rotation once it is back. Both strategies, both engines.
func TestDatabaseRestartMidRotation(t *testing.T) {
	t.Parallel()
	for _, engineName := range []string{"postgres", mariadb.EngineMariaDB} {
		t.Run(engineName, func(t *testing.T) {
			t.Parallel()
			o := envOptions{attempts: 3, backoff: -1}
			if engineName == "postgres" {
				o.pg = dbtest.PrivatePostgres(t)
			} else {
				o.maria = dbtest.PrivateMariaDB(t)
			}
			w := newFaultWorld(t, engineName, o)
			restarts := 0
			for _, strategy := range []string{strategies.NameSingleUser, strategies.NameAlternatingUsers} {
				arn := w.secret(t, strategy)
				w.e.hook = func(ctx context.Context, ev events.RotationEvent, next func() error) error {
					must(t, errors.Join(w.server.Halt(), w.server.Resume(ctx)), "restart the server")
					restarts++
					return next()
				}
				res := w.e.rotate(arn)
				w.e.hook = nil
				if why := w.check(arn, res, strategy); why != "" || res.Attempts != 1 {
					t.Errorf("%s, server restarted as each step starts: %s (passes %d)", strategy, why, res.Attempts)
				}
				for _, step := range dbSteps {
					arn := w.secret(t, strategy)
					var stepErr error
					failed := false
					w.e.hook = func(ctx context.Context, ev events.RotationEvent, next func() error) error {
						if events.Step(ev.Step) != step || failed {
							return next()
						}
						failed = true
						must(t, w.server.Halt(), "halt the server")
						stepErr = next()
						must(t, w.server.Resume(ctx), "resume the server")
						restarts++
						return stepErr
					}
					res := w.e.rotate(arn)
					w.e.hook = nil
					checkStepError(t, w, arn, stepErr, step, w.addr)
					if why := w.check(arn, res, strategy); why != "" || res.Attempts < 2 {
						t.Errorf("%s, server down during %s: %s (passes %d)", strategy, step, why, res.Attempts)
					}
					t.Logf("%s, server down during %s: %v", strategy, step, stepErr)
				}
			}
			fmt.Printf("database restarts: %s: %d restarts, every rotation completed\n", engineName, restarts)
		})
	}
}
